package org.apache.catalina.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Stand-in for Tomcat's ManagerBase: live sessions in a ConcurrentHashMap. */
public abstract class ManagerBase {
    protected Map<String, StandardSession> sessions = new ConcurrentHashMap<>();
    protected int maxInactiveInterval = 1800;

    public StandardSession createSession(String id, long accessedAt) {
        StandardSession s = new StandardSession(this, id, accessedAt, maxInactiveInterval);
        sessions.put(id, s);
        return s;
    }

    /** Like Tomcat's processExpires: invalid or timed-out sessions leave the map. */
    public int processExpires(long now) {
        int expired = 0;
        for (StandardSession s : sessions.values().toArray(new StandardSession[0])) {
            if (!s.isValid(now)) {
                expired++;
            }
        }
        return expired;
    }

    void remove(StandardSession s) {
        sessions.remove(s.id);
    }
}

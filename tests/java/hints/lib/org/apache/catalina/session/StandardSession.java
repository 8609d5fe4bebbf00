package org.apache.catalina.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Stand-in for Tomcat's StandardSession, with Tomcat's field names. */
public class StandardSession {
    protected Map<String, Object> attributes = new ConcurrentHashMap<>();
    protected long creationTime;
    protected volatile long lastAccessedTime;
    protected volatile long thisAccessedTime;
    protected volatile int maxInactiveInterval;
    protected volatile boolean isValid = true;
    protected transient ManagerBase manager;
    protected String id;

    StandardSession(ManagerBase manager, String id, long accessedAt, int maxInactiveInterval) {
        this.manager = manager;
        this.id = id;
        this.creationTime = accessedAt;
        this.lastAccessedTime = accessedAt;
        this.thisAccessedTime = accessedAt;
        this.maxInactiveInterval = maxInactiveInterval;
    }

    public void setAttribute(String name, Object value) {
        attributes.put(name, value);
    }

    /** Tomcat's isValid(): expires the session when idle longer than maxInactiveInterval. */
    public boolean isValid(long now) {
        if (!isValid) {
            return false;
        }
        if (maxInactiveInterval > 0 && (now - thisAccessedTime) / 1000L >= maxInactiveInterval) {
            expire();
        }
        return isValid;
    }

    public void expire() {
        isValid = false;
        manager.remove(this);
        // Tomcat keeps the attributes until the object is collected; so do we.
    }
}

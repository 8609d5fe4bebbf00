package com.aliyun.oss.common.comm;

import java.util.ArrayList;
import org.apache.http.conn.HttpClientConnectionManager;

/** Stand-in for the OSS SDK's reaper: a static list of every client's connection manager. */
public final class IdleConnectionReaper extends Thread {
    private static final ArrayList<HttpClientConnectionManager> connectionManagers =
            new ArrayList<>();
    private static IdleConnectionReaper instance;

    private IdleConnectionReaper() {
        super("idle_connection_reaper");
        setDaemon(true);
    }

    public static synchronized boolean registerConnectionManager(HttpClientConnectionManager m) {
        if (instance == null) {
            instance = new IdleConnectionReaper();
            instance.start();
        }
        return connectionManagers.add(m);
    }

    public static synchronized boolean removeConnectionManager(HttpClientConnectionManager m) {
        return connectionManagers.remove(m);
    }

    @Override
    public void run() {
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}

package com.aliyun.oss.common.comm;

import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;

/** Stand-in: each service client owns a connection manager and registers it with the reaper. */
public class DefaultServiceClient {
    final PoolingHttpClientConnectionManager connectionManager;

    public DefaultServiceClient() {
        connectionManager = new PoolingHttpClientConnectionManager(4, 16 * 1024);
        IdleConnectionReaper.registerConnectionManager(connectionManager);
    }

    public void shutdown() {
        IdleConnectionReaper.removeConnectionManager(connectionManager);
        connectionManager.shutdown();
    }
}

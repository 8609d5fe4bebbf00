package org.apache.http.impl.conn;

import org.apache.http.conn.HttpClientConnectionManager;

/** Stand-in for HttpClient's pooling connection manager: per-route buffers. */
public class PoolingHttpClientConnectionManager implements HttpClientConnectionManager {
    private final byte[][] routeBuffers;
    private boolean shutdown;

    public PoolingHttpClientConnectionManager(int routes, int bufferBytes) {
        routeBuffers = new byte[routes][];
        for (int i = 0; i < routes; i++) {
            routeBuffers[i] = new byte[bufferBytes];
        }
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }
}

package org.apache.http.conn;

/** Stand-in for Apache HttpClient's connection manager interface. */
public interface HttpClientConnectionManager {
    void shutdown();
}

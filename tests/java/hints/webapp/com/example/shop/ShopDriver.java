package com.example.shop;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.util.Properties;
import java.util.logging.Logger;

/** A JDBC driver bundled in the web application (registered, never deregistered). */
public class ShopDriver implements Driver {
    @Override public Connection connect(String url, Properties info) { return null; }
    @Override public boolean acceptsURL(String url) { return url.startsWith("jdbc:shop:"); }
    @Override public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }
    @Override public int getMajorVersion() { return 1; }
    @Override public int getMinorVersion() { return 0; }
    @Override public boolean jdbcCompliant() { return false; }
    @Override public Logger getParentLogger() { return Logger.getGlobal(); }
}

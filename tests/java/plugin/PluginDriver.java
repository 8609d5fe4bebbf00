package plugin;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Properties;
import java.util.Timer;
import java.util.TimerTask;
import java.util.logging.Logger;

/** A JDBC driver plugin that leaks its class loader in three ways. */
public class PluginDriver implements Driver {
    /** Static state: lives as long as the loader does. */
    static final byte[] STATIC_CACHE = new byte[256 * 1024];
    static final ThreadLocal<PluginDriver> CURRENT = new ThreadLocal<>();
    private static Timer timer;

    private final String name;

    public PluginDriver(String name) {
        this.name = name;
    }

    /** Registers the driver and starts a housekeeping timer; nothing ever undoes either. */
    public static PluginDriver deploy() throws SQLException {
        PluginDriver driver = new PluginDriver("plugin-driver");
        DriverManager.registerDriver(driver);
        timer = new Timer("plugin-housekeeping", true);
        timer.schedule(new Housekeeping(driver), 3_600_000L, 3_600_000L);
        return driver;
    }

    /** Binds this driver to the calling (long-lived) thread and never removes it. */
    public void bindToCurrentThread() {
        CURRENT.set(this);
    }

    static final class Housekeeping extends TimerTask {
        private final PluginDriver driver;

        Housekeeping(PluginDriver driver) {
            this.driver = driver;
        }

        @Override
        public void run() {
            STATIC_CACHE[0] = (byte) driver.name.length();
        }
    }

    @Override
    public Connection connect(String url, Properties info) {
        return null;
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith("jdbc:plugin:");
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }
}

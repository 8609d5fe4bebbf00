package com.example.shop;

import java.sql.DriverManager;
import java.util.Timer;

/** The web application: started by WebappRedeploy in its own loader, never cleaned up. */
public class ShopApp {
    static final ThreadLocal<ShopContext> CONTEXT = new ThreadLocal<>();
    static final byte[] CATALOG = new byte[512 * 1024];
    static Timer cancelTimer;

    /** contextInitialized: registers a JDBC driver, starts a Timer and a worker thread. */
    public static void start() throws Exception {
        DriverManager.registerDriver(new ShopDriver());
        cancelTimer = new Timer("shop-cancel-timer", true);
        cancelTimer.schedule(new ShopTimerTask(), 3_600_000L, 3_600_000L);
        ShopStatsThread t = new ShopStatsThread();
        t.start();
    }

    /** Called on a container pool thread: leaves a ThreadLocal value behind. */
    public static void bindToCurrentThread() {
        CONTEXT.set(new ShopContext());
    }
}

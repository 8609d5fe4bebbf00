package com.example.shop;

/** A thread the application starts and never stops. */
public class ShopStatsThread extends Thread {
    public ShopStatsThread() {
        super("shop-stats-collector");
        setDaemon(true);
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

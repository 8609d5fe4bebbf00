package com.example.shop;

import java.util.TimerTask;

/** A periodic task of the application (like MySQL's cancellation timer). */
public class ShopTimerTask extends TimerTask {
    @Override
    public void run() {
    }
}

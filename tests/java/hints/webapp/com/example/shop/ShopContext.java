package com.example.shop;

/** A per-request context the application forgets to remove from its ThreadLocal. */
public class ShopContext {
    final byte[] scratch = new byte[64 * 1024];
}

package com.example.shop;

import java.util.ArrayList;
import java.util.List;

/** An order cache of the web application that only ever grows (a static list). */
public class ShopCache {
    static final List<byte[]> ORDERS = new ArrayList<>();

    /** Caches {@code n} orders of {@code bytes} bytes each. */
    public static void fill(int n, int bytes) {
        for (int i = 0; i < n; i++) {
            ORDERS.add(new byte[bytes]);
        }
    }
}

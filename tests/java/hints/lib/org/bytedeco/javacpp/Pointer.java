package org.bytedeco.javacpp;

/** Stand-in for javacpp's Pointer: an address, a capacity and a deallocator. */
public class Pointer {
    static final long maxBytes = 512L * 1024 * 1024;
    static final long maxPhysicalBytes = 1024L * 1024 * 1024;
    protected long address;
    protected long capacity;
    private Object deallocator;

    protected Pointer(long address, long capacity) {
        this.address = address;
        this.capacity = capacity;
        this.deallocator = new Object();
    }
}

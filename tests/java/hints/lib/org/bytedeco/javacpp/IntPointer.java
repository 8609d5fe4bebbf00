package org.bytedeco.javacpp;

/** Stand-in for javacpp's IntPointer. */
public class IntPointer extends Pointer {
    public IntPointer(long size) {
        super(0x7f0000000000L + System.identityHashCode(new Object()) * 16L, size);
    }
}

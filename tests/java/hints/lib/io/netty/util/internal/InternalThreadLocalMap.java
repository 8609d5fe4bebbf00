package io.netty.util.internal;

/** Stand-in for Netty's per-thread map, kept in a plain ThreadLocal on non-Netty threads. */
public final class InternalThreadLocalMap {
    private static final ThreadLocal<InternalThreadLocalMap> slowThreadLocalMap =
            new ThreadLocal<>();
    private Object[] indexedVariables = new Object[32];

    public static InternalThreadLocalMap get() {
        InternalThreadLocalMap m = slowThreadLocalMap.get();
        if (m == null) {
            m = new InternalThreadLocalMap();
            slowThreadLocalMap.set(m);
        }
        return m;
    }

    public void setIndexedVariable(int index, Object value) {
        indexedVariables[index] = value;
    }
}

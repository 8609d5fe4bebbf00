import java.lang.ref.SoftReference;
import java.lang.ref.WeakReference;
import java.util.WeakHashMap;

/**
 * Scenario: objects that only {@code java.lang.ref} references reach.
 *
 * <p>A sleeping thread {@code ref-holder} (a {@code RefHolder}, so a GC root) holds:
 *
 * <ul>
 *   <li>a {@code WeakReference} to a {@code WeakTarget}: nothing else refers to the target;
 *   <li>a {@code SoftReference} to a {@code SoftTarget}: nothing else refers to the target;
 *   <li>a {@code WeakHashMap} whose only key is a {@code WeakKey} (the entry's referent) mapped to
 *       a {@code WeakValue} (a strong field of the entry);
 *   <li>a {@code StrongTarget} in a plain field, and a {@code WeakReference} to it as well.
 * </ul>
 *
 * <p>Every target owns a {@code byte[]} payload so retained sizes show who holds it. No GC may
 * run before the dump (it would clear the weak references): run with a young generation far
 * larger than what the program allocates, e.g. {@code -Xms256m -Xmx256m -Xmn200m}.
 *
 * <p>Usage: {@code java WeakOnly [payloadBytes=65536]}. Prints {@code READY <pid>} once the
 * holder thread sleeps, then idles forever without allocating.
 */
public class WeakOnly {
    public static void main(String[] args) throws InterruptedException {
        int payload = args.length > 0 ? Integer.parseInt(args[0]) : 64 * 1024;
        RefHolder holder = new RefHolder(payload);
        holder.start();
        while (holder.getState() != Thread.State.TIMED_WAITING) {
            Thread.sleep(10);
        }
        if (!holder.referentsAlive()) {
            System.err.println("a GC cleared the weak references: the scenario shows nothing");
            System.exit(3);
        }
        ready();
    }

    /** Prints the READY line, then sleeps forever without allocating. */
    private static void ready() throws InterruptedException {
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

/** A long-lived thread (a GC root) that holds the references. */
class RefHolder extends Thread {
    private final WeakReference<WeakTarget> weak;
    private final SoftReference<SoftTarget> soft;
    private final WeakHashMap<WeakKey, WeakValue> weakMap = new WeakHashMap<>();
    private final StrongTarget strong;
    private final WeakReference<StrongTarget> weakToStrong;

    RefHolder(int payload) {
        super("ref-holder");
        setDaemon(true);
        // The targets are created here and never stored in a local that outlives this constructor.
        weak = new WeakReference<>(new WeakTarget(payload));
        soft = new SoftReference<>(new SoftTarget(payload));
        weakMap.put(new WeakKey(payload), new WeakValue(payload));
        strong = new StrongTarget(payload);
        weakToStrong = new WeakReference<>(strong);
    }

    /** True while no GC has cleared a referent (does not allocate). */
    boolean referentsAlive() {
        return weak.get() != null
                && soft.get() != null
                && weakMap.size() == 1
                && weakToStrong.get() == strong;
    }

    @Override
    public void run() {
        try {
            while (true) {
                Thread.sleep(Long.MAX_VALUE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

/** Reachable only as the referent of a WeakReference. */
class WeakTarget {
    private final byte[] payload;

    WeakTarget(int bytes) {
        payload = new byte[bytes];
    }
}

/** Reachable only as the referent of a SoftReference. */
class SoftTarget {
    private final byte[] payload;

    SoftTarget(int bytes) {
        payload = new byte[bytes];
    }
}

/** The only key of a WeakHashMap: reachable only as its entry's referent. */
class WeakKey {
    private final byte[] payload;

    WeakKey(int bytes) {
        payload = new byte[bytes];
    }

    @Override
    public int hashCode() {
        return 42;
    }

    @Override
    public boolean equals(Object other) {
        return other == this;
    }
}

/** The value of that WeakHashMap entry: strongly held by the entry. */
class WeakValue {
    private final byte[] payload;

    WeakValue(int bytes) {
        payload = new byte[bytes];
    }
}

/** Held by a plain field and by a WeakReference. */
class StrongTarget {
    private final byte[] payload;

    StrongTarget(int bytes) {
        payload = new byte[bytes];
    }
}

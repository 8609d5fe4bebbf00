import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Scenario: objects whose shallow sizes depend on the VM's field layout rules.
 *
 * <p>Class hierarchies that pack differently before and after JDK 15 (each class's fields as a
 * block grouped by size, versus packing with back-filling across class boundaries), classes
 * with only small fields, threads and thread subclasses ({@code @Contended} fields), a loader
 * subclass (injected fields), method handles and lambdas ({@code MemberName},
 * {@code ResolvedMethodName}), a fork-join pool, and garbage for G1 to fill around.
 *
 * <p>Compiled with {@code javac --release 11} so that JDK 11 to 25 can run it. Usage:
 * {@code java LayoutZoo [scale=200]}; prints {@code READY <pid>}, then idles without allocating.
 */
public class LayoutZoo {
    static final List<Object> KEEP = new ArrayList<>();

    /** One long after the header: a 4-byte hole with 12-byte headers. */
    static class L1 {
        long a = 1;
    }

    /** An int after a long block: pre-15 starts a new block, 15+ fills the hole. */
    static class L1I extends L1 {
        int b = 2;
    }

    /** A long and a byte below an int-only class. */
    static class I1 {
        int a = 1;
    }

    static class I1LB extends I1 {
        long b = 2;
        byte c = 3;
    }

    static class I1LBS extends I1LB {
        short d = 4;
        Object e = "e";
    }

    /** Bytes only, three levels. */
    static class B1 {
        byte a;
    }

    static class B2 extends B1 {
        byte b;
        boolean c;
    }

    static class B3 extends B2 {
        char d;
    }

    /** References and primitives mixed in one class. */
    static class Mixed {
        Object a = "a";
        long b;
        boolean c;
        Object d;
        int e;
        double f;
        short g;
        Object h;
    }

    static class MixedSub extends Mixed {
        byte i;
        Object j;
        float k;
    }

    /** No fields at all, and a subclass of it with one reference. */
    static class Empty {}

    static class EmptySub extends Empty {
        Object x;
    }

    /** A thread subclass with its own fields (laid out after Thread's, padding and all). */
    static class Worker extends Thread {
        long jobs;
        int id;
        Object task;

        Worker(int id) {
            super("worker-" + id);
            this.id = id;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // exit
            }
        }
    }

    /** A class loader subclass: ClassLoader has injected fields. */
    static class PluginLoader extends ClassLoader {
        final String name;

        PluginLoader(String name) {
            super(LayoutZoo.class.getClassLoader());
            this.name = name;
        }
    }

    static int twice(int x) {
        return 2 * x;
    }

    public static void main(String[] args) throws Throwable {
        int scale = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        for (int i = 0; i < scale; i++) {
            KEEP.add(new L1());
            KEEP.add(new L1I());
            KEEP.add(new I1());
            KEEP.add(new I1LB());
            KEEP.add(new I1LBS());
            KEEP.add(new B1());
            KEEP.add(new B2());
            KEEP.add(new B3());
            KEEP.add(new Mixed());
            KEEP.add(new MixedSub());
            KEEP.add(new Empty());
            KEEP.add(new EmptySub());
        }
        for (int i = 0; i < 4; i++) {
            Worker w = new Worker(i);
            w.start();
            KEEP.add(w);
        }
        for (int i = 0; i < 3; i++) {
            KEEP.add(new PluginLoader("plugin-" + i));
        }

        // Method handles, lambdas and an indy call site: MemberName, ResolvedMethodName, ...
        MethodHandle mh = MethodHandles.lookup()
                .findStatic(LayoutZoo.class, "twice", MethodType.methodType(int.class, int.class));
        KEEP.add(mh);
        KEEP.add((int) mh.invokeExact(21));
        Supplier<String> lambda = () -> "lambda";
        KEEP.add(lambda);
        KEEP.add(lambda.get() + scale);

        // Fork-join pool work and a contended adder.
        ForkJoinPool pool = new ForkJoinPool(2);
        KEEP.add(pool);
        KEEP.add(pool.submit(() -> 42).get());
        LongAdder adder = new LongAdder();
        CountDownLatch done = new CountDownLatch(2);
        for (int t = 0; t < 2; t++) {
            pool.execute(() -> {
                for (int i = 0; i < 100_000; i++) {
                    adder.increment();
                }
                done.countDown();
            });
        }
        done.await(10, TimeUnit.SECONDS);
        KEEP.add(adder);
        Map<String, Integer> counts = new ConcurrentHashMap<>();
        for (int i = 0; i < scale; i++) {
            counts.merge("k" + (i % 17), 1, Integer::sum);
        }
        KEEP.add(counts);

        // Garbage: objects nobody holds, so G1 has regions to fill around.
        Map<Integer, byte[]> garbage = new HashMap<>();
        for (int i = 0; i < scale * 20; i++) {
            garbage.put(i, new byte[(i % 50) * 8]);
        }
        garbage = null;

        Thread.sleep(200); // let the pool's workers go idle
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * Scenario: a ThreadLocal cache on pooled threads that is never removed.
 *
 * <p>A fixed pool of four threads ({@code pool-worker-1..4}) runs one task each; every task puts
 * a large {@code CachedBuffer} (1 MiB byte[] by default) into a ThreadLocal and returns without
 * calling {@code remove()}. The pooled threads live on, so each keeps its buffer reachable through
 * {@code Thread.threadLocals}.
 *
 * <p>Usage: {@code java ThreadLocalOnPool [bufferBytes=1048576]}. Prints {@code READY <pid>} once
 * all workers are idle, then idles forever without allocating.
 */
public class ThreadLocalOnPool {
    static final int WORKERS = 4;
    static final ThreadLocal<CachedBuffer> BUFFER = new ThreadLocal<>();

    public static void main(String[] args) throws InterruptedException {
        int bufferBytes = args.length > 0 ? Integer.parseInt(args[0]) : 1024 * 1024;

        List<Thread> workers = new ArrayList<>();
        ThreadFactory factory = new ThreadFactory() {
            private int next = 1;

            @Override
            public synchronized Thread newThread(Runnable r) {
                Thread t = new Thread(r, "pool-worker-" + next++);
                workers.add(t);
                return t;
            }
        };
        ExecutorService pool = Executors.newFixedThreadPool(WORKERS, factory);

        // All tasks meet at the latch, so each of the four workers runs exactly one.
        CountDownLatch started = new CountDownLatch(WORKERS);
        CountDownLatch done = new CountDownLatch(WORKERS);
        for (int i = 0; i < WORKERS; i++) {
            pool.execute(new CacheTask(bufferBytes, started, done));
        }
        done.await();

        // Wait until every worker is parked in the queue again (no allocation after READY).
        boolean idle = false;
        while (!idle) {
            Thread.sleep(20);
            idle = true;
            synchronized (factory) {
                for (Thread t : workers) {
                    idle &= t.getState() == Thread.State.WAITING;
                }
            }
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

/** A task that caches a buffer per thread and forgets to remove it. */
class CacheTask implements Runnable {
    private final int bufferBytes;
    private final CountDownLatch started;
    private final CountDownLatch done;

    CacheTask(int bufferBytes, CountDownLatch started, CountDownLatch done) {
        this.bufferBytes = bufferBytes;
        this.started = started;
        this.done = done;
    }

    @Override
    public void run() {
        started.countDown();
        try {
            started.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        CachedBuffer buffer = ThreadLocalOnPool.BUFFER.get();
        if (buffer == null) {
            buffer = new CachedBuffer(Thread.currentThread().getName(), bufferBytes);
            ThreadLocalOnPool.BUFFER.set(buffer); // never ThreadLocalOnPool.BUFFER.remove()
        }
        buffer.use();
        done.countDown();
    }
}

/** The cached value: a large byte[] plus a little bookkeeping. */
class CachedBuffer {
    private final String owner;
    private final byte[] data;
    private int uses;

    CachedBuffer(String owner, int bytes) {
        this.owner = owner;
        this.data = new byte[bytes];
    }

    void use() {
        uses++;
        data[uses % data.length] = (byte) owner.length();
    }
}

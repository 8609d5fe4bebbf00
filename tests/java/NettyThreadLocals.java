import io.netty.util.internal.InternalThreadLocalMap;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.IntPointer;

/**
 * Scenario (incident 003): an old Elasticsearch client's pool of {@code [_client_][generic][T#n]}
 * threads, each with a Netty InternalThreadLocalMap holding a 256 KB buffer in a plain
 * ThreadLocal, plus javacpp IntPointers.
 *
 * <p>Usage: {@code java NettyThreadLocals [threads=40] [bufferBytes=262144]}. Prints
 * {@code READY <pid>} once every pool thread is idle, then idles.
 */
public class NettyThreadLocals {
    static ExecutorService pool;
    static IntPointer[] pointers;

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        int bufferBytes = args.length > 1 ? Integer.parseInt(args[1]) : 256 * 1024;
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        AtomicInteger next = new AtomicInteger(1);
        pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "[_client_][generic][T#" + next.getAndIncrement() + "]");
            t.setDaemon(true);
            return t;
        });
        CountDownLatch started = new CountDownLatch(threads);
        CountDownLatch done = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            pool.execute(() -> {
                InternalThreadLocalMap.get().setIndexedVariable(1, new byte[bufferBytes]);
                started.countDown();
                try {
                    started.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                done.countDown();
            });
        }
        done.await();
        pointers = new IntPointer[16];
        for (int i = 0; i < pointers.length; i++) {
            pointers[i] = new IntPointer(1 << 20);
        }
        Thread.sleep(200);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

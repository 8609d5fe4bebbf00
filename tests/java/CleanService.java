import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Scenario: a tidy service, no leak. A bounded LRU cache (1000 entries of 1 KB), a small
 * worker pool (8 threads), configuration maps, a ThreadLocal removed after use. A full GC runs
 * before READY, so the dump holds little garbage.
 *
 * <p>Usage: {@code java -Xms256m -Xmx256m CleanService}. Prints {@code READY <pid>}, then idles.
 */
public class CleanService {
    static final Map<String, byte[]> CACHE = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > 1000;
        }
    };
    static final Map<String, String> CONFIG = new HashMap<>();
    static final ThreadLocal<StringBuilder> SCRATCH = new ThreadLocal<>();
    static ExecutorService workers;
    static final List<String> ROUTES = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        System.getenv();
        for (int i = 0; i < 200; i++) {
            CONFIG.put("service.option." + i, "value-" + i);
            ROUTES.add("/api/v1/resource/" + i);
        }
        for (int i = 0; i < 5000; i++) {
            CACHE.put("key-" + i, new byte[1024]);
        }
        workers = Executors.newFixedThreadPool(8);
        CountDownLatch done = new CountDownLatch(8);
        for (int i = 0; i < 8; i++) {
            workers.execute(() -> {
                SCRATCH.set(new StringBuilder(4096));
                try {
                    SCRATCH.get().append("work");
                } finally {
                    SCRATCH.remove();
                }
                done.countDown();
            });
        }
        done.await();
        System.gc();
        Thread.sleep(200);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

import com.aliyun.oss.OSSClient;
import io.netty.util.internal.InternalThreadLocalMap;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import org.apache.catalina.loader.ParallelWebappClassLoader;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.session.StandardSession;

/**
 * Scenario: the seed incidents together in one JVM, each sized by an argument (0 leaves it
 * out), so that pairs of very different sizes can be made.
 *
 * <ul>
 *   <li>{@code oss=N}: N OSSClients created per request and never shut down (incident 000);
 *   <li>{@code live=N expired=M attr=B}: a StandardManager kept in the static
 *       {@code MixedIncidents.MANAGERS} list with N live sessions, and M sessions expired and
 *       removed but not collected (incident 001), each with a B-byte attribute;
 *   <li>{@code webapp=DIR}: a web application loaded from DIR, undeployed and redeployed; the
 *       old loader stays pinned (incident 002);
 *   <li>{@code es=N netty=B}: an old Elasticsearch client's pool of N
 *       {@code elasticsearch[_client_][generic][T#n]} threads, each with a Netty
 *       InternalThreadLocalMap holding B bytes (incident 003);
 *   <li>{@code inflaters=N}: N Inflaters used and kept without end(), N more dropped without
 *       end() (incident 004);
 *   <li>{@code cache=N}: the running web application (needs {@code webapp=DIR}) caches N orders
 *       of 4 KB in its static list {@code ShopCache.ORDERS}: a plain leak below the web app's
 *       class loader, no seed pattern.
 * </ul>
 *
 * <p>Runs on JDK 11 and later. Run with a young generation large enough that no collection
 * happens after setup (e.g. {@code -Xms768m -Xmx768m -Xmn400m}). Prints {@code READY <pid>},
 * then idles.
 */
public class MixedIncidents {
    /** The container's session managers (the owner a leak hint must name). */
    static final List<StandardManager> MANAGERS = new ArrayList<>();
    static final List<Inflater> INFLATERS = new ArrayList<>();
    static ParallelWebappClassLoader currentWebapp;
    static ExecutorService connectorPool;
    static ExecutorService esClientPool;
    /** Keeps each dropped object escaping so the JIT cannot scalar-replace it. */
    static volatile Object sink;

    public static void main(String[] args) throws Exception {
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        System.getenv();
        int oss = intArg(args, "oss", 0);
        int live = intArg(args, "live", 0);
        int expired = intArg(args, "expired", 0);
        int attr = intArg(args, "attr", 1024);
        int es = intArg(args, "es", 0);
        int netty = intArg(args, "netty", 64 * 1024);
        int inflaters = intArg(args, "inflaters", 0);
        int cache = intArg(args, "cache", 0);
        String webapp = stringArg(args, "webapp");

        if (webapp != null) {
            redeploy(webapp);
            if (cache > 0) {
                currentWebapp
                        .loadClass("com.example.shop.ShopCache")
                        .getMethod("fill", int.class, int.class)
                        .invoke(null, cache, 4096);
            }
        }
        if (live + expired > 0) {
            sessions(live, expired, attr);
        }
        // From here on nothing is collected: the young generation holds the garbage.
        for (int i = 0; i < oss; i++) {
            OSSClient client = new OSSClient("https://oss-cn-hangzhou.aliyuncs.com");
            sink = client;
        }
        if (es > 0) {
            esClient(es, netty);
        }
        if (inflaters > 0) {
            inflaters(inflaters);
        }
        sink = null;
        Thread.sleep(200);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    static int intArg(String[] args, String key, int fallback) {
        String v = stringArg(args, key);
        return v == null ? fallback : Integer.parseInt(v);
    }

    static String stringArg(String[] args, String key) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return null;
    }

    /** Sessions: all promoted by a full GC, then the expired ones leave the manager's map. */
    static void sessions(int live, int expired, int attr) {
        StandardManager manager = new StandardManager();
        MANAGERS.add(manager);
        long now = System.currentTimeMillis();
        for (int i = 0; i < expired; i++) {
            StandardSession s = manager.createSession("old-" + i, now - 2 * 3600 * 1000L);
            s.setAttribute("cart", new byte[attr]);
        }
        for (int i = 0; i < live; i++) {
            StandardSession s = manager.createSession("live-" + i, now);
            s.setAttribute("cart", new byte[attr]);
        }
        System.gc();
        int n = manager.processExpires(System.currentTimeMillis());
        if (n != expired) {
            System.err.println("expected " + expired + " expired sessions, got " + n);
            System.exit(3);
        }
    }

    /** A web app deployed, stopped (its loader stays pinned), and deployed again. */
    static void redeploy(String dir) throws Exception {
        AtomicInteger next = new AtomicInteger(1);
        connectorPool = Executors.newFixedThreadPool(1, r -> {
            Thread t = new Thread(r, "http-nio-8080-exec-" + next.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        URL[] urls = {Paths.get(dir).toUri().toURL()};
        WeakReference<ClassLoader> ref = deployLeaky(urls);
        currentWebapp = new ParallelWebappClassLoader(urls, MixedIncidents.class.getClassLoader());
        currentWebapp.start();
        currentWebapp.loadClass("com.example.shop.ShopApp");
        System.gc();
        if (ref.get() == null) {
            System.err.println("the old web app loader was collected: nothing leaks");
            System.exit(3);
        }
    }

    /** The first deployment: leaves a driver, a Timer, a thread and a ThreadLocal behind. */
    static WeakReference<ClassLoader> deployLeaky(URL[] urls) throws Exception {
        ParallelWebappClassLoader old =
                new ParallelWebappClassLoader(urls, MixedIncidents.class.getClassLoader());
        old.start();
        Class<?> app = old.loadClass("com.example.shop.ShopApp");
        Thread me = Thread.currentThread();
        ClassLoader previous = me.getContextClassLoader();
        me.setContextClassLoader(old);
        try {
            app.getMethod("start").invoke(null);
            connectorPool.submit(() -> {
                app.getMethod("bindToCurrentThread").invoke(null);
                return null;
            }).get();
        } finally {
            me.setContextClassLoader(previous);
        }
        old.stop();
        return new WeakReference<>(old);
    }

    /** The Elasticsearch 5.x transport client's generic pool with Netty per-thread maps. */
    static void esClient(int threads, int bytes) throws InterruptedException {
        AtomicInteger next = new AtomicInteger(1);
        esClientPool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(
                    r, "elasticsearch[_client_][generic][T#" + next.getAndIncrement() + "]");
            t.setDaemon(true);
            return t;
        });
        CountDownLatch started = new CountDownLatch(threads);
        CountDownLatch done = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            esClientPool.execute(() -> {
                InternalThreadLocalMap.get().setIndexedVariable(1, new byte[bytes]);
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
    }

    /** Jar scanning that never calls end(): half kept, half dropped. */
    static void inflaters(int n) {
        Deflater d = new Deflater();
        d.setInput(new byte[4096]);
        d.finish();
        byte[] buf = new byte[8192];
        int len = d.deflate(buf);
        d.end();
        byte[] out = new byte[4096];
        for (int i = 0; i < 2 * n; i++) {
            Inflater inf = new Inflater();
            inf.setInput(buf, 0, len);
            try {
                inf.inflate(out);
            } catch (java.util.zip.DataFormatException e) {
                throw new IllegalStateException(e);
            }
            if (i < n) {
                INFLATERS.add(inf);
            } else {
                sink = inf;
            }
        }
    }
}

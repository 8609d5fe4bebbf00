import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.catalina.loader.ParallelWebappClassLoader;

/**
 * Scenario (incident 002): a web application redeployed once. Each deployment gets its own
 * {@code org.apache.catalina.loader.ParallelWebappClassLoader} loading {@code com.example.shop.*}
 * from the directory given as argument. The first deployment registers a JDBC driver in
 * DriverManager, starts a {@code java.util.Timer} and a thread of its own, and leaves a
 * ThreadLocal value on a container pool thread ({@code http-nio-8080-exec-1}); then it is
 * stopped ({@code state = STOPPED}) and the container drops it, but it stays reachable through
 * all of these. The second deployment runs normally.
 *
 * <p>Usage: {@code java WebappRedeploy <webappClassesDir>}. Prints {@code READY <pid>}, then
 * idles.
 */
public class WebappRedeploy {
    static ParallelWebappClassLoader current;
    static ExecutorService connectorPool;

    public static void main(String[] args) throws Exception {
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        AtomicInteger next = new AtomicInteger(1);
        connectorPool = Executors.newFixedThreadPool(1, r -> {
            Thread t = new Thread(r, "http-nio-8080-exec-" + next.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        URL[] urls = {Path.of(args[0]).toUri().toURL()};

        WeakReference<ClassLoader> old = deploy(urls, true);
        ((ParallelWebappClassLoader) old.get()).stop(); // undeploy
        deploy(urls, false);
        System.gc();
        if (old.get() == null) {
            System.err.println("the old web app loader was collected: nothing leaks");
            System.exit(3);
        }
        Thread.sleep(200);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    static WeakReference<ClassLoader> deploy(URL[] urls, boolean leaky) throws Exception {
        ParallelWebappClassLoader loader =
                new ParallelWebappClassLoader(urls, WebappRedeploy.class.getClassLoader());
        loader.start();
        Thread me = Thread.currentThread();
        ClassLoader previous = me.getContextClassLoader();
        me.setContextClassLoader(loader);
        try {
            Class<?> app = loader.loadClass("com.example.shop.ShopApp");
            if (leaky) {
                app.getMethod("start").invoke(null);
                connectorPool.submit(() -> {
                    app.getMethod("bindToCurrentThread").invoke(null);
                    return null;
                }).get();
            } else {
                loader.loadClass("com.example.shop.ShopContext");
                loader.loadClass("com.example.shop.ShopDriver");
                loader.loadClass("com.example.shop.ShopTimerTask");
                loader.loadClass("com.example.shop.ShopStatsThread");
                current = loader;
            }
        } finally {
            me.setContextClassLoader(previous);
        }
        return new WeakReference<>(loader);
    }
}

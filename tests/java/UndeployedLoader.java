import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;

/**
 * Scenario: a plugin class loader that survives its undeploy.
 *
 * <p>A {@code URLClassLoader} (child of the application loader) loads {@code plugin.PluginDriver}
 * from the directory given as the first argument. Deploying the plugin:
 *
 * <ul>
 *   <li>registers a {@code java.sql.Driver} from that loader in {@code java.sql.DriverManager},
 *   <li>starts a {@code java.util.Timer} thread ({@code plugin-housekeeping}) whose context class
 *       loader is the plugin loader and whose queue holds a plugin {@code TimerTask},
 *   <li>stores the plugin instance in a ThreadLocal on a long-lived container thread
 *       ({@code container-worker}).
 * </ul>
 *
 * <p>Then the program "undeploys": it closes the loader and drops every direct reference to it.
 * A full GC follows, and a WeakReference checks that the loader is still alive (it is leaked).
 *
 * <p>{@code plugin/PluginDriver.java} is written and compiled by the Rust test (see
 * {@code PLUGIN_DRIVER_SOURCE} in {@code tests/jvm_scenarios.rs}); it must have a static
 * {@code deploy()} method returning the driver and an instance method
 * {@code bindToCurrentThread()}.
 *
 * <p>Usage: {@code java UndeployedLoader <pluginClassesDir>}. Prints {@code READY <pid>}, then
 * idles forever without allocating.
 */
public class UndeployedLoader {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java UndeployedLoader <pluginClassesDir>");
            System.exit(2);
        }
        ContainerThread worker = new ContainerThread("container-worker");
        worker.start();

        WeakReference<ClassLoader> loaderRef = deployAndUndeploy(Path.of(args[0]), worker);

        waitForTimerThread();

        // Everything left of the plugin must now be reachable only through the leaks.
        System.gc();
        if (loaderRef.get() == null) {
            System.err.println("plugin loader was collected: the scenario leaks nothing");
            System.exit(3);
        }
        ready();
    }

    /** Deploys the plugin, then forgets the loader, its class and its instance. */
    private static WeakReference<ClassLoader> deployAndUndeploy(Path dir, ContainerThread worker)
            throws Exception {
        URLClassLoader loader =
                new URLClassLoader(
                        "plugin-loader",
                        new URL[] {dir.toUri().toURL()},
                        UndeployedLoader.class.getClassLoader());
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        current.setContextClassLoader(loader); // as a container does while deploying
        try {
            Class<?> driverClass = loader.loadClass("plugin.PluginDriver");
            Object driver = driverClass.getMethod("deploy").invoke(null);
            worker.submit(
                    () -> {
                        try {
                            driverClass.getMethod("bindToCurrentThread").invoke(driver);
                        } catch (ReflectiveOperationException e) {
                            throw new IllegalStateException(e);
                        }
                    });
        } finally {
            current.setContextClassLoader(previous);
        }
        while (!worker.isIdle()) {
            Thread.sleep(10);
        }
        loader.close(); // "undeploy"
        return new WeakReference<>(loader);
    }

    /** Waits until the plugin's Timer thread is waiting for its next task. */
    private static void waitForTimerThread() throws InterruptedException {
        while (true) {
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("plugin-housekeeping")
                        && t.getState() == Thread.State.TIMED_WAITING) {
                    return;
                }
            }
            Thread.sleep(10);
        }
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

/** A long-lived container thread: runs one submitted task, then stays alive forever. */
class ContainerThread extends Thread {
    private volatile Runnable pending;
    private volatile boolean done;

    ContainerThread(String name) {
        super(name);
        setDaemon(true);
    }

    void submit(Runnable task) {
        pending = task;
    }

    /** True once the task has run and the thread sleeps for good. */
    boolean isIdle() {
        return done && getState() == Thread.State.TIMED_WAITING;
    }

    @Override
    public void run() {
        try {
            while (pending == null) {
                Thread.sleep(5);
            }
            pending.run();
            pending = null;
            done = true;
            while (true) {
                Thread.sleep(Long.MAX_VALUE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

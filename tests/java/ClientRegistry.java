import java.util.ArrayList;
import java.util.List;

/**
 * Scenario: the Aliyun OSS {@code IdleConnectionReaper} leak.
 *
 * <p>Every {@code OssClient} creates a {@code ConnectionManager} (holding a byte[] buffer) and
 * registers it in the static list of the {@code IdleConnectionReaper} thread. Clients are used
 * once and dropped without {@code shutdown()}, so their connection managers stay reachable from
 * the running reaper thread ({@code idle_connection_reaper}) forever. The dropped clients
 * themselves are unreachable garbage that is still in the heap (no GC runs).
 *
 * <p>Usage: {@code java ClientRegistry [clients=200] [bufferBytes=65536] [keptClients=10]}.
 * Prints {@code READY <pid>} once the heap is built, then idles forever without allocating.
 */
public class ClientRegistry {
    /** The few clients the application still uses. */
    static final List<OssClient> ACTIVE = new ArrayList<>();

    public static void main(String[] args) throws InterruptedException {
        int clients = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int bufferBytes = args.length > 1 ? Integer.parseInt(args[1]) : 64 * 1024;
        int kept = args.length > 2 ? Integer.parseInt(args[2]) : 10;

        for (int i = 0; i < clients; i++) {
            OssClient client = new OssClient("https://bucket-" + i + ".oss.example.com", bufferBytes);
            client.putObject("key-" + i);
            if (i < kept) {
                ACTIVE.add(client);
            }
            // Otherwise the client is dropped without shutdown(): its connection manager leaks.
        }

        // Wait until the reaper thread has started and is sleeping.
        while (IdleConnectionReaper.reaperState() != Thread.State.TIMED_WAITING) {
            Thread.sleep(10);
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

/** A storage client; each one owns a connection manager. */
class OssClient {
    private final String endpoint;
    private final ConnectionManager connectionManager;
    private long requests;

    OssClient(String endpoint, int bufferBytes) {
        this.endpoint = endpoint;
        this.connectionManager = new ConnectionManager(endpoint, bufferBytes);
        IdleConnectionReaper.registerConnectionManager(connectionManager);
    }

    void putObject(String key) {
        requests++;
        connectionManager.send(key.length());
    }

    /** Never called by the application: this is the bug. */
    void shutdown() {
        IdleConnectionReaper.removeConnectionManager(connectionManager);
        connectionManager.shutdown();
    }

    long requests() {
        return requests + endpoint.length();
    }
}

/** A pooled-connection manager with an I/O buffer. */
class ConnectionManager {
    private final String route;
    private final byte[] buffer;
    private int openConnections;
    private boolean shutdown;

    ConnectionManager(String route, int bufferBytes) {
        this.route = route;
        this.buffer = new byte[bufferBytes];
    }

    void send(int bytes) {
        openConnections = 1;
        buffer[bytes % buffer.length] = 1;
    }

    /** Does not allocate: the reaper calls it while the heap must stay still. */
    void closeExpiredConnections() {
        if (!shutdown && openConnections > 0 && route != null) {
            openConnections = 0;
        }
    }

    void shutdown() {
        shutdown = true;
    }
}

/** The reaper thread; its static list is the GC-root path that keeps every manager alive. */
class IdleConnectionReaper extends Thread {
    private static final int REAP_INTERVAL_MILLISECONDS = 60_000;
    private static final ArrayList<ConnectionManager> connectionManagers = new ArrayList<>();
    private static IdleConnectionReaper instance;

    private volatile boolean shuttingDown;

    private IdleConnectionReaper() {
        super("idle_connection_reaper");
        setDaemon(true);
    }

    static synchronized boolean registerConnectionManager(ConnectionManager manager) {
        if (instance == null) {
            instance = new IdleConnectionReaper();
            instance.start();
        }
        return connectionManagers.add(manager);
    }

    static synchronized boolean removeConnectionManager(ConnectionManager manager) {
        return connectionManagers.remove(manager);
    }

    static synchronized Thread.State reaperState() {
        return instance == null ? Thread.State.NEW : instance.getState();
    }

    @Override
    public void run() {
        while (!shuttingDown) {
            try {
                Thread.sleep(REAP_INTERVAL_MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (IdleConnectionReaper.class) {
                // Indexed loop: no iterator allocation while the heap is being inspected.
                for (int i = 0; i < connectionManagers.size(); i++) {
                    connectionManagers.get(i).closeExpiredConnections();
                }
            }
        }
    }
}

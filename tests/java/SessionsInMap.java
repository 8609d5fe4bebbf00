import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scenario: an HTTP-session store that only ever grows.
 *
 * <p>A {@code SessionManager} keeps every {@code Session} in a static {@code ConcurrentHashMap}
 * (sessions are never expired). After filling it, the program creates a batch of sessions and
 * drops them at once: they are unreachable garbage that stays in the heap because no GC runs
 * afterwards (run with a large young generation, e.g. {@code -Xms512m -Xmx512m -Xmn400m}).
 *
 * <p>Usage: {@code java SessionsInMap [liveSessions=20000] [garbageSessions=5000]}. Prints
 * {@code READY <pid>} once the heap is built, then idles forever without allocating.
 */
public class SessionsInMap {
    /** Keeps each garbage session escaping so the JIT cannot scalar-replace it. */
    static volatile Session sink;

    public static void main(String[] args) throws InterruptedException {
        int live = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int garbage = args.length > 1 ? Integer.parseInt(args[1]) : 5_000;

        SessionManager manager = SessionManager.getInstance();
        for (int i = 0; i < live; i++) {
            Session s = manager.createSession("live-" + i);
            s.setAttribute("user", "user" + (i % 1000));
            s.setAttribute("locale", i % 2 == 0 ? "en_US" : "de_DE");
            if (i % 10 == 0) {
                List<String> cart = new ArrayList<>();
                cart.add("item-" + i);
                s.setAttribute("cart", cart);
            }
        }

        // Garbage last: nothing allocates after this loop, so nothing collects these.
        for (int i = 0; i < garbage; i++) {
            Session s = new Session("expired-" + i);
            s.setAttribute("user", "gone" + i);
            s.invalidate();
            sink = s;
        }
        sink = null;

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

/** A servlet-style session: the fields a real container keeps per user. */
class Session {
    private final String id;
    private final HashMap<String, Object> attributes = new HashMap<>();
    private long lastAccessedTime;
    private int maxInactiveInterval = 1800;
    private boolean isValid = true;

    Session(String id) {
        this.id = id;
        this.lastAccessedTime = System.currentTimeMillis();
    }

    String getId() {
        return id;
    }

    void setAttribute(String name, Object value) {
        attributes.put(name, value);
        lastAccessedTime = System.currentTimeMillis();
    }

    void invalidate() {
        isValid = false;
        maxInactiveInterval = 0;
    }

    boolean isValid() {
        return isValid && maxInactiveInterval >= 0 && lastAccessedTime > 0;
    }
}

/** Holds every session ever created in a static map: the leak. */
class SessionManager {
    private static final SessionManager INSTANCE = new SessionManager();
    private static final ConcurrentHashMap<String, Session> SESSIONS = new ConcurrentHashMap<>();

    static SessionManager getInstance() {
        return INSTANCE;
    }

    Session createSession(String id) {
        Session s = new Session(id);
        SESSIONS.put(id, s);
        return s;
    }
}

import java.lang.management.ManagementFactory;
import org.apache.catalina.session.StandardManager;
import org.apache.catalina.session.StandardSession;

/**
 * Scenario (incident 001): many expired Tomcat sessions that are garbage, not a leak.
 *
 * <p>A StandardManager creates {@code expired} sessions last accessed two hours ago (30-minute
 * timeout), each with a 2 KB attribute, and {@code live} sessions accessed now. A full GC
 * promotes them all to the old generation; then the manager's expiry pass marks the old ones
 * invalid and removes them from its map. They stay in the old generation as unreachable garbage
 * because no old-generation collection runs again before the dump.
 *
 * <p>Usage: {@code java -Xms64m -Xmx1g -XX:MaxHeapFreeRatio=100 -XX:MinHeapFreeRatio=0
 * TomcatSessions [expired=20000] [live=300]}. Prints {@code READY <pid>}, then idles.
 */
public class TomcatSessions {
    static StandardManager manager;

    public static void main(String[] args) throws Exception {
        int expired = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        int live = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        // As Tomcat's VersionLoggerListener does at startup.
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        ManagementFactory.getGarbageCollectorMXBeans();
        System.getenv();

        manager = new StandardManager();
        long now = System.currentTimeMillis();
        for (int i = 0; i < expired; i++) {
            StandardSession s = manager.createSession("old-" + i, now - 2 * 3600 * 1000L);
            s.setAttribute("cart", new byte[2048]);
        }
        for (int i = 0; i < live; i++) {
            StandardSession s = manager.createSession("live-" + i, now);
            s.setAttribute("cart", new byte[2048]);
        }
        System.gc(); // everything is live now: promoted to the old generation
        int n = manager.processExpires(System.currentTimeMillis());
        if (n != expired) {
            System.err.println("expected " + expired + " expired sessions, got " + n);
            System.exit(3);
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

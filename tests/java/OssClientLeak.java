import com.aliyun.oss.OSSClient;
import java.lang.management.ManagementFactory;

/**
 * Scenario (incident 000): a new OSSClient per request, never shutdown(). Each client registers
 * its connection manager with the static list of the {@code idle_connection_reaper} thread,
 * which keeps them all; the clients themselves become garbage.
 *
 * <p>Usage: {@code java OssClientLeak [requests=300]}. One extra client is shut down properly.
 * Prints {@code READY <pid>}, then idles.
 */
public class OssClientLeak {
    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < requests; i++) {
            handleRequest(i);
        }
        OSSClient good = new OSSClient("https://oss-cn-hangzhou.aliyuncs.com");
        good.shutdown();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    /** The bug: a client per request, dropped without shutdown(). */
    static void handleRequest(int i) {
        OSSClient client = new OSSClient("https://oss-cn-hangzhou.aliyuncs.com");
        if (client.hashCode() == i) {
            System.err.print("");
        }
    }
}

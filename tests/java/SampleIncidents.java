import com.aliyun.oss.OSSClient;

/**
 * The bundled sample dump (assets/sample.hprof.gz, made by scripts/make-sample.sh): two seed
 * incidents beside the {@link SessionsInMap} session store the sample always had.
 *
 * <ul>
 *   <li>a web application undeployed while its loader stays pinned by a ThreadLocal value, a
 *       JDBC driver, a Timer and a thread of its own (incident 002,
 *       {@code MixedIncidents.redeploy});
 *   <li>{@code clients} OSSClients created per request and never shut down: the static list of
 *       the {@code idle_connection_reaper} thread keeps their connection managers (incident
 *       000);
 *   <li>then {@code SessionsInMap}: {@code live} sessions in a static map, {@code garbage}
 *       dropped ones not yet collected.
 * </ul>
 *
 * <p>Usage: {@code java -Xms64m -Xmx64m -Xmn48m SampleIncidents <webappClassesDir> [clients=100]
 * [live=300] [garbage=100]}. Compile with MixedIncidents.java, SessionsInMap.java and the
 * stand-in library. Prints {@code READY <pid>}, then idles.
 */
public class SampleIncidents {
    public static void main(String[] args) throws Exception {
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        String live = args.length > 2 ? args[2] : "300";
        String garbage = args.length > 3 ? args[3] : "100";
        MixedIncidents.redeploy(args[0]);
        for (int i = 0; i < clients; i++) {
            MixedIncidents.sink = new OSSClient("https://oss-cn-hangzhou.aliyuncs.com");
        }
        MixedIncidents.sink = null;
        SessionsInMap.main(new String[] {live, garbage});
    }
}

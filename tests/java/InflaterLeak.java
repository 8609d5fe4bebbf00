import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * Scenario (incident 004): off-heap pressure visible from the heap. {@code kept} Inflaters are
 * used and kept without end(), {@code dropped} more are used and dropped without end()
 * (garbage still owning native memory), 200 are ended properly. 48 direct buffers of 1 MiB are
 * kept, each with a slice (a view that owns no memory).
 *
 * <p>Usage: {@code java -Xms512m -Xmx512m -Xmn400m InflaterLeak [kept=1000] [dropped=1000]}.
 * Reads the environment (MALLOC_ARENA_MAX). Prints {@code READY <pid>}, then idles.
 */
public class InflaterLeak {
    static final List<Inflater> INFLATERS = new ArrayList<>();
    static final List<ByteBuffer> BUFFERS = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int kept = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int dropped = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        ManagementFactory.getRuntimeMXBean().getInputArguments();
        System.getenv();
        byte[] compressed = compress(new byte[4096]);
        byte[] out = new byte[4096];
        for (int i = 0; i < kept + dropped + 200; i++) {
            Inflater inf = new Inflater();
            inf.setInput(compressed);
            inf.inflate(out);
            if (i < kept) {
                INFLATERS.add(inf);
            } else if (i >= kept + dropped) {
                inf.end();
            }
        }
        for (int i = 0; i < 48; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            BUFFERS.add(b);
            BUFFERS.add(b.slice());
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    static byte[] compress(byte[] data) {
        Deflater d = new Deflater();
        d.setInput(data);
        d.finish();
        byte[] buf = new byte[8192];
        int n = d.deflate(buf);
        d.end();
        byte[] r = new byte[n];
        System.arraycopy(buf, 0, r, 0, n);
        return r;
    }
}

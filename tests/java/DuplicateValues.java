import java.util.ArrayList;
import java.util.List;

/**
 * Scenario: the same few strings held in many copies, as a cache of parsed rows would keep
 * them. 20 values, each in 15,000 separate {@code String}s with their own {@code byte[]}; and,
 * not strings, 100,000 {@code byte[]} of one content (duplicated arrays, but no string waste).
 *
 * <p>Usage: {@code java -Xms256m -Xmx256m DuplicateValues}. Prints {@code READY <pid>}, then
 * idles.
 */
public class DuplicateValues {
    static final int VALUES = 20;
    static final int COPIES = 15_000;
    static final List<String> ROWS = new ArrayList<>();
    static final List<byte[]> BUFFERS = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        for (int c = 0; c < COPIES; c++) {
            for (int v = 0; v < VALUES; v++) {
                // 18 Latin-1 characters, a new String and a new byte[] each time.
                ROWS.add(new String(String.format("duplicate-value-%02d", v).toCharArray()));
            }
        }
        for (int i = 0; i < 100_000; i++) {
            BUFFERS.add("not-a-string-value".getBytes());
        }
        System.gc();
        Thread.sleep(200);
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}

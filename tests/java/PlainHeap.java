import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Scenario: a clean baseline with no leak.
 *
 * <p>A handful of ordinary data structures, each held by a static field of {@code PlainHeap}:
 * lists, maps, a linked chain of inner-class nodes, records, an enum map, and arrays of every
 * primitive type plus multi-dimensional and object arrays, so that all kinds of class names
 * ({@code int[]}, {@code long[][]}, {@code Point[]}, {@code PlainHeap$Node}) appear in the
 * histogram.
 *
 * <p>Usage: {@code java PlainHeap [scale=1000]}. Creates {@code scale} points and {@code scale}
 * nodes, prints {@code READY <pid>}, then idles forever without allocating.
 */
public class PlainHeap {
    static List<Integer> numbers;
    static Map<String, Long> counters;
    static TreeMap<Integer, String> sorted;
    static LinkedList<String> queue;
    static ArrayDeque<Point> deque;
    static EnumMap<Color, List<Point>> byColor;
    static Node chain;
    static Point[] points;
    static long[][] matrix;
    static Object[] mixed;
    static boolean[] flags;
    static char[] chars;
    static short[] shorts;
    static float[] floats;
    static double[] doubles;
    static int[] ints;
    static byte[][] chunks;

    public static void main(String[] args) throws InterruptedException {
        int scale = args.length > 0 ? Integer.parseInt(args[0]) : 1000;

        numbers = new ArrayList<>();
        for (int i = 0; i < scale; i++) {
            numbers.add(i * 1000); // mostly outside the Integer cache
        }
        counters = new HashMap<>();
        sorted = new TreeMap<>();
        queue = new LinkedList<>();
        for (int i = 0; i < scale / 10; i++) {
            counters.put("counter-" + i, (long) i * 100_000L);
            sorted.put(i, "value-" + i);
            queue.add("job-" + i);
        }

        points = new Point[scale];
        deque = new ArrayDeque<>();
        byColor = new EnumMap<>(Color.class);
        for (Color c : Color.values()) {
            byColor.put(c, new ArrayList<>());
        }
        for (int i = 0; i < scale; i++) {
            Point p = new Point(i, -i, Color.values()[i % 3]);
            points[i] = p;
            byColor.get(p.color()).add(p);
            if (i % 4 == 0) {
                deque.add(p);
            }
        }

        for (int i = 0; i < scale; i++) {
            chain = new Node(i, "node-" + i, chain);
        }

        matrix = new long[8][16];
        mixed = new Object[] {"text", 42, 3.5d, Color.GREEN, new int[3], new Point(1, 2, Color.RED)};
        flags = new boolean[33];
        chars = "hello, heap".toCharArray();
        shorts = new short[7];
        floats = new float[9];
        doubles = new double[5];
        ints = new int[100];
        chunks = new byte[4][];
        for (int i = 0; i < chunks.length; i++) {
            chunks[i] = new byte[1 << (i + 4)];
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

    /** A singly linked chain: exercises an inner-class name ({@code PlainHeap$Node}). */
    static final class Node {
        final int index;
        final String label;
        final Node next;

        Node(int index, String label, Node next) {
            this.index = index;
            this.label = label;
            this.next = next;
        }
    }
}

/** A record with two ints and a reference. */
record Point(int x, int y, Color color) {}

/** A three-constant enum. */
enum Color {
    RED,
    GREEN,
    BLUE
}

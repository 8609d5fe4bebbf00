// BigHeap: builds a large, varied Java heap for benchmarking HPROF readers,
// then prints "READY <pid>" and sleeps until killed, so that the heap can be
// dumped with:   jmap -dump:format=b,file=big.hprof <pid>     (NOT :live)
//
// Usage:  java -XX:+UseSerialGC -XX:MarkSweepDeadRatio=0 -XX:-ResizeTLAB -XX:TLABSize=512k \
//              -Xms6g -Xmx6g -Xmn2g BigHeap.java [full|medium|<scale>]
//
//   The flags matter: Serial GC with MarkSweepDeadRatio=0 makes the full GC below
//   compact completely (no dead "filler" int[]s left in the old generation), a small
//   fixed TLAB keeps the filler int[] that closes each thread's TLAB at dump time
//   small (with default TLAB sizing it is ~90 MB), and the 2 GB young generation
//   (1.6 GB eden) takes all the garbage without triggering another GC.
//
//   full   (default) ~1.4 GB dump, ~26 M objects
//   4                ~5.5 GB dump, ~103 M objects (needs -Xms12g -Xmx12g -Xmn4g)
//   medium           ~150 MB dump, ~3 M objects (the deep chain stays 1 M long)
//   <scale>          any positive decimal, e.g. 0.5; "full" is 1.0
//
// What the heap holds (counts at scale 1.0; see benches/README.md):
//   * 4 complete binary trees of TreeNode, 2^20-1 nodes each          (~4.2 M objects)
//   * 12 HashMap<String,String>, 1.0 M entries in total               (~4.0 M objects)
//   * 8 ConcurrentHashMap<String,String>, 0.8 M entries in total      (~3.2 M objects)
//     (keys unique; values: half from a shared pool of 1000 Strings, half unique)
//   * a String[] of 2 M Strings: 1 M distinct + 1 M duplicates with their own byte[] (~4 M)
//   * int[], long[], byte[] (small and 2 MB ones), Object[] arrays    (~0.7 M objects)
//   * 300 k two-object cycles (A->B->A) and 300 rings of 1000 nodes   (~0.9 M objects)
//   * an ArrayList of 1.5 M Employee records                          (~1.5 M objects)
//   * deep chains: one singly linked list of 1.5 M nodes (dominator tree 1.5 M deep)
//     and a java.util.LinkedList of 500 k Integers                    (~2.5 M objects)
//   * a mesh of 2 M nodes with 1 to 3 references to random other nodes (several
//     referrers each, cross edges, cycles), held by MeshNode[65536] arrays (~2 M objects)
//   * unreachable garbage allocated LAST, after a full GC, into an eden big enough
//     that no further GC runs: Strings, nodes, Object[]s and unreachable rings
//     (~3 M objects, ~12 % of the dump's objects)
// Part of the live data is rooted in static fields, part only in a local variable
// of main() (a Java frame GC root).

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

public class BigHeap {

    // ---- data types -------------------------------------------------------

    static final class TreeNode {
        TreeNode left, right;
        int key;
        long payload;
        TreeNode(int key) { this.key = key; this.payload = (long) key * 31L; }
    }

    /** Two of these point at each other: A -> B -> A. */
    static final class Pair {
        Pair other;
        int id;
        Pair(int id) { this.id = id; }
    }

    /** Node of a ring: n0 -> n1 -> ... -> n999 -> n0. */
    static final class RingNode {
        RingNode next;
        int id;
        RingNode(int id) { this.id = id; }
    }

    /** Node of the deep chain: head -> n1 -> ... -> n1_499_999. */
    static final class ChainNode {
        ChainNode next;
        int index;
        ChainNode(int index) { this.index = index; }
    }

    /** Node of the mesh: three references to random other nodes (several referrers each,
     *  cross edges and cycles everywhere: the worst case for dominator algorithms). */
    static final class MeshNode {
        MeshNode a, b, c;
        int id;
        MeshNode(int id) { this.id = id; }
    }

    static final class GarbageNode {
        GarbageNode next;
        Object payload;
        long stamp;
    }

    record Employee(long id, int age, String name, String department, double salary) {}

    // ---- GC roots (static fields) ------------------------------------------

    static TreeNode[] trees;
    static List<Map<String, String>> hashMaps;
    static String[] strings;
    static int[][] intArrays;
    static long[][] longArrays;
    static byte[][] smallByteArrays;
    static byte[][] bigByteArrays;
    static Object[][] objectArrays;
    static Pair[] pairs;
    static RingNode[] rings;
    static ArrayList<Employee> employees;
    static ChainNode deepChain;
    static LinkedList<Integer> linkedList;
    static MeshNode[][] mesh;

    // ---- helpers -------------------------------------------------------------

    static int scaled(double scale, int n) {
        return Math.max(1, (int) Math.round(n * scale));
    }

    static TreeNode buildTree(int depth, int[] counter) {
        TreeNode n = new TreeNode(counter[0]++);
        if (depth > 1) {
            n.left = buildTree(depth - 1, counter);
            n.right = buildTree(depth - 1, counter);
        }
        return n;
    }

    /** A fresh String with its own byte[] (what reading text from I/O produces). */
    static String copyOf(String s) {
        return new String(s.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.ISO_8859_1);
    }

    static long gcCount() {
        long total = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionCount());
        }
        return total;
    }

    // ---- main ----------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "full";
        double scale = switch (mode) {
            case "full" -> 1.0;
            case "medium" -> 0.085;
            default -> Double.parseDouble(mode);
        };
        long t0 = System.nanoTime();

        // Value pool shared by many map entries and records (same String objects).
        String[] pool = new String[1000];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = "pooled-value-" + i;
        }
        String[] departments = {"engineering", "sales", "marketing", "support", "finance",
                                "legal", "operations", "research", "hr", "it"};
        String[] names = new String[5000];
        for (int i = 0; i < names.length; i++) {
            names[i] = "Employee Name " + i;
        }

        // 1. Binary trees: complete trees, 2^depth - 1 nodes each.
        int treeDepth = Math.max(2, 20 + (int) Math.round(Math.log(scale) / Math.log(2)));
        trees = new TreeNode[4];
        int[] counter = {0};
        for (int t = 0; t < trees.length; t++) {
            trees[t] = buildTree(treeDepth, counter);
        }

        // 2. HashMaps with String keys and values.
        int hmEntries = scaled(scale, 1_000_000);
        hashMaps = new ArrayList<>();
        for (int m = 0; m < 12; m++) {
            hashMaps.add(new HashMap<>());
        }
        for (int i = 0; i < hmEntries; i++) {
            String value = (i & 1) == 0 ? pool[i % pool.length] : "unique-value-" + i;
            hashMaps.get(i % 12).put("hm-key-" + i, value);
        }

        // 3. ConcurrentHashMaps, rooted ONLY in a local variable of main().
        int chmEntries = scaled(scale, 800_000);
        List<ConcurrentHashMap<String, String>> localRooted = new ArrayList<>();
        for (int m = 0; m < 8; m++) {
            localRooted.add(new ConcurrentHashMap<>());
        }
        for (int i = 0; i < chmEntries; i++) {
            String value = (i & 1) == 0 ? pool[(i * 7) % pool.length] : "chm-value-" + i;
            localRooted.get(i % 8).put("chm-key-" + i, value);
        }

        // 4. Many Strings: half distinct, half duplicates (own String + own byte[]).
        int nStrings = scaled(scale, 2_000_000);
        strings = new String[nStrings];
        int distinct = nStrings / 2;
        for (int i = 0; i < distinct; i++) {
            strings[i] = "string-" + i;
        }
        for (int i = distinct; i < nStrings; i++) {
            // 1000 contents duplicated ~1000 times each (at full scale).
            strings[i] = copyOf(strings[(i - distinct) % Math.min(1000, distinct)]);
        }

        // 5. Arrays.
        intArrays = new int[scaled(scale, 300_000)][];
        for (int i = 0; i < intArrays.length; i++) {
            int[] a = new int[32];
            for (int j = 0; j < a.length; j++) a[j] = i + j;
            intArrays[i] = a;
        }
        longArrays = new long[scaled(scale, 100)][];
        for (int i = 0; i < longArrays.length; i++) {
            long[] a = new long[16_384];
            a[0] = i;
            longArrays[i] = a;
        }
        smallByteArrays = new byte[scaled(scale, 200_000)][];
        for (int i = 0; i < smallByteArrays.length; i++) {
            byte[] a = new byte[256];
            a[i % 256] = (byte) i;
            smallByteArrays[i] = a;
        }
        bigByteArrays = new byte[scaled(scale, 32)][];
        for (int i = 0; i < bigByteArrays.length; i++) {
            byte[] a = new byte[2 * 1024 * 1024];
            for (int j = 0; j < a.length; j += 4096) a[j] = (byte) (i + j);
            bigByteArrays[i] = a;
        }
        objectArrays = new Object[scaled(scale, 200_000)][];
        for (int i = 0; i < objectArrays.length; i++) {
            Object[] a = new Object[8];
            // Point at already existing objects (shared references, no new objects).
            a[0] = strings[i % strings.length];
            a[1] = intArrays[i % intArrays.length];
            a[2] = pool[i % pool.length];
            if (i > 0) a[3] = objectArrays[i - 1]; // chain of Object[]s
            objectArrays[i] = a;
        }

        // 6. Cycles: A -> B -> A pairs and rings of 1000.
        int nPairs = scaled(scale, 300_000);
        pairs = new Pair[nPairs];
        for (int i = 0; i < nPairs; i++) {
            Pair a = new Pair(2 * i);
            Pair b = new Pair(2 * i + 1);
            a.other = b;
            b.other = a;
            pairs[i] = a;
        }
        rings = new RingNode[scaled(scale, 300)];
        for (int r = 0; r < rings.length; r++) {
            RingNode first = new RingNode(r * 1000);
            RingNode cur = first;
            for (int k = 1; k < 1000; k++) {
                RingNode n = new RingNode(r * 1000 + k);
                cur.next = n;
                cur = n;
            }
            cur.next = first;
            rings[r] = first;
        }

        // 7. ArrayList of records.
        int nEmployees = scaled(scale, 1_500_000);
        employees = new ArrayList<>(nEmployees);
        for (int i = 0; i < nEmployees; i++) {
            employees.add(new Employee(i, 20 + i % 45, names[i % names.length],
                                       departments[i % departments.length], 30_000.0 + i % 90_000));
        }

        // 8. Deep chains (tools that recurse over references overflow their stack).
        int chainLength = Math.max(1_000_000, scaled(scale, 1_500_000));
        ChainNode head = new ChainNode(0);
        ChainNode cur = head;
        for (int i = 1; i < chainLength; i++) {
            ChainNode n = new ChainNode(i);
            cur.next = n;
            cur = n;
        }
        deepChain = head;
        linkedList = new LinkedList<>();
        int nLinked = scaled(scale, 500_000);
        for (int i = 0; i < nLinked; i++) {
            linkedList.add(i + 1_000_000); // outside the Integer cache: one Integer each
        }

        // 9. Mesh: random cross edges and cycles, nodes with several referrers, held by big
        //    Object arrays of 65536 references (only some nodes are in an array).
        int nMesh = scaled(scale, 2_000_000);
        java.util.Random rnd = new java.util.Random(42);
        MeshNode[] nodes = new MeshNode[nMesh];
        for (int i = 0; i < nMesh; i++) nodes[i] = new MeshNode(i);
        for (int i = 0; i < nMesh; i++) {
            MeshNode n = nodes[i];
            n.a = nodes[rnd.nextInt(nMesh)];
            if (rnd.nextInt(3) > 0) n.b = nodes[rnd.nextInt(nMesh)];
            if (rnd.nextInt(3) == 0) n.c = nodes[Math.max(0, i - 1 - rnd.nextInt(16))];
        }
        mesh = new MeshNode[Math.max(1, nMesh / 8 / 65536)][];
        for (int k = 0; k < mesh.length; k++) {
            mesh[k] = new MeshNode[65536];
            for (int j = 0; j < 65536; j++) mesh[k][j] = nodes[rnd.nextInt(nMesh)];
        }
        nodes = null;

        // Compact: everything above is live and now sits in the old generation;
        // the (big, empty) eden takes the garbage below without another GC.
        System.gc();
        long gcBefore = gcCount();

        // 10. Unreachable garbage, allocated last and dropped.
        int nGarbage = scaled(scale, 1_000_000);
        List<Object> garbage = new ArrayList<>(nGarbage);
        GarbageNode prev = null;
        for (int i = 0; i < nGarbage; i++) {
            garbage.add("garbage-string-" + i);       // String + byte[]
            GarbageNode g = new GarbageNode();
            g.stamp = i;
            g.next = prev;                              // a 1 M long garbage chain
            prev = g;
        }
        garbage.add(prev);
        for (int r = 0; r < scaled(scale, 100); r++) { // unreachable rings
            RingNode first = new RingNode(-r);
            RingNode c = first;
            for (int k = 1; k < 1000; k++) {
                RingNode n = new RingNode(-r * 1000 - k);
                c.next = n;
                c = n;
            }
            c.next = first;
            garbage.add(first);
        }
        for (int i = 0; i < scaled(scale, 20_000); i++) {
            garbage.add(new Object[16]);
        }
        // Strings + their byte[]s + GarbageNodes + ring nodes + Object[]s + the list + its array.
        long garbageObjects = 3L * nGarbage + scaled(scale, 100) * 1000L + scaled(scale, 20_000) + 2;
        garbage = null;
        prev = null;
        long gcAfter = gcCount();

        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("BigHeap mode=%s scale=%.3f built in %.1f s; garbage objects ~%d; "
                          + "GCs during garbage phase: %d%n",
                          mode, scale, secs, garbageObjects, gcAfter - gcBefore);
        if (gcAfter != gcBefore) {
            System.out.println("WARNING: a GC ran after the garbage was allocated; "
                               + "part of it may be gone. Use a bigger -Xmn.");
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();

        while (true) {
            Thread.sleep(60_000);
            Reference.reachabilityFence(localRooted);
        }
    }
}

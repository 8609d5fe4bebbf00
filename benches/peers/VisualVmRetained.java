// Peer harness for benches/compare.sh: loads an HPROF file with VisualVM's heap
// library (org-graalvm-visualvm-lib-jfluid-heap.jar, Debian package "visualvm"),
// prints the class-histogram total and the 10 biggest objects by retained size
// (which makes the library compute the dominator tree / retained sizes).
//
// Build:  javac -cp <jfluid-heap.jar> -d target/bench/peer-classes benches/peers/VisualVmRetained.java
// Run:    java -Xmx16g -cp <jfluid-heap.jar>:target/bench/peer-classes VisualVmRetained FILE.hprof
//
// Note: the library keeps its index files in FILE.hprof.hwcache/ next to the dump;
// compare.sh deletes that directory before every run so each run indexes from scratch.

import java.io.File;
import java.util.List;

import org.graalvm.visualvm.lib.jfluid.heap.Heap;
import org.graalvm.visualvm.lib.jfluid.heap.HeapFactory;
import org.graalvm.visualvm.lib.jfluid.heap.Instance;
import org.graalvm.visualvm.lib.jfluid.heap.JavaClass;

public class VisualVmRetained {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: VisualVmRetained FILE.hprof");
            System.exit(2);
        }
        long t0 = System.nanoTime();
        Heap heap = HeapFactory.createHeap(new File(args[0]));
        long t1 = System.nanoTime();

        long instances = 0, bytes = 0;
        List<JavaClass> classes = heap.getAllClasses();
        for (JavaClass c : classes) {
            instances += c.getInstancesCount();
            bytes += c.getAllInstancesSize();
        }
        long t2 = System.nanoTime();
        System.out.printf("histogram total: %d classes, %d instances, %d bytes (shallow)%n",
                          classes.size(), instances, bytes);
        // Printed now, so a run killed during the retained-size phase still tells these.
        System.out.printf("timings: load %.1f s, histogram %.1f s; computing retained sizes...%n",
                          (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        System.out.flush();

        List<Instance> biggest = heap.getBiggestObjectsByRetainedSize(10);
        long t3 = System.nanoTime();
        System.out.println("biggest objects by retained size:");
        for (Instance i : biggest) {
            System.out.printf("  %-60s id=0x%x shallow=%d retained=%d%n",
                              i.getJavaClass().getName(), i.getInstanceId(), i.getSize(),
                              i.getRetainedSize());
        }
        System.out.printf("timings: retained sizes (dominator tree) %.1f s%n", (t3 - t2) / 1e9);
    }
}

/**
 * Scenario for the window's layout: a thread whose name and fields hold very long strings
 * (as Elasticsearch's transport threads do), so views that show them must cut or wrap them.
 *
 * <p>Usage: {@code java LongNames}. Starts the thread, prints {@code READY <pid>}, then idles
 * forever without allocating.
 */
public class LongNames {
    /** A task with a long description, held by the worker thread. */
    static final class Task implements Runnable {
        final String description;
        final String owner;

        Task(String description, String owner) {
            this.description = description;
            this.owner = owner;
        }

        @Override
        public void run() {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static Thread worker;

    public static void main(String[] args) throws InterruptedException {
        StringBuilder name = new StringBuilder("elasticsearch[_client_][transport_worker][T#1]");
        StringBuilder description = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            name.append("[node-").append(i).append("-with-a-rather-long-qualifier]");
            description.append("step-").append(i).append("-of-a-very-long-task-description-");
        }
        Task task = new Task(description.toString(), name.toString());
        worker = new Thread(task, name.toString());
        worker.setDaemon(true);
        worker.start();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

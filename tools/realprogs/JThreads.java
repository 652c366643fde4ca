// JThreads.java -- a JVM's threads as green threads: an executor, a
// ConcurrentHashMap, monitors with wait/notify, and garbage collection,
// run from source (the launcher compiles it in the JVM first).  The
// output is the same natively and under greenrun.
import java.util.*;
import java.util.concurrent.*;

public class JThreads {
	public static void main(String[] a) throws Exception {
		int n = 6;
		ExecutorService ex = Executors.newFixedThreadPool(n);
		List<Future<Long>> fs = new ArrayList<>();
		for (int i = 0; i < 48; i++) {
			final int k = i;
			fs.add(ex.submit(() -> {
				long s = 0;
				for (int j = 0; j < 100000; j++) {
					int[] x = new int[16 + (j & 63)];
					x[j & 15] = j;
					s += x[j & 15] % (k + 3);
				}
				return s;
			}));
		}
		long tot = 0;
		for (Future<Long> f : fs)
			tot += f.get();
		ex.shutdown();
		ex.awaitTermination(30, TimeUnit.SECONDS);
		ConcurrentHashMap<Integer, Integer> m = new ConcurrentHashMap<>();
		final Object lock = new Object();
		final int[] turn = { 0 };
		Thread[] ts = new Thread[n];
		for (int i = 0; i < n; i++) {
			final int id = i;
			ts[i] = new Thread(() -> {
				for (int j = 0; j < 50000; j++)
					m.merge(j % 1000, 1, Integer::sum);
				// Take turns in id order through one monitor.
				synchronized (lock) {
					while (turn[0] != id) {
						try { lock.wait(); }
						catch (InterruptedException e) { return; }
					}
					turn[0]++;
					lock.notifyAll();
				}
			});
			ts[i].start();
		}
		for (Thread t : ts)
			t.join();
		long c = 0;
		for (int v : m.values())
			c += v;
		System.gc();
		System.out.println("sum " + tot + " merges " + c + " turns " + turn[0]);
	}
}

package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.json.ProfileJson;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Refill speed of the engine alone (the engine's share of target P5): N Profile JSON documents (20
 * attributes and event series, about 480 bytes each, as {@code whack dump} writes them) put into an
 * empty engine with 50 segments defined, from T threads. Documents are generated before the clock
 * starts.
 *
 * <pre>java -Xmx6g -cp node/target/whack-node-benchmarks.jar \
 *     dev.whack.node.engine.bench.BulkLoad 4000000 2</pre>
 */
public final class BulkLoad {
  private BulkLoad() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    long now = System.currentTimeMillis();
    SplittableRandom r = new SplittableRandom(42);
    byte[][] docs = new byte[n][];
    long bytes = 0;
    for (int i = 0; i < n; i++) {
      docs[i] = ProfileJson.write(BenchData.profile(r, now));
      bytes += docs[i].length;
    }
    for (int round = 0; round < 2; round++) {
      ProfileEngine engine = new ProfileEngine(new EngineConfig());
      List<String> segments = BenchData.segments();
      for (int i = 0; i < segments.size(); i++) {
        engine.define("seg" + i, segments.get(i));
      }
      BenchProfiles keyed = new BenchProfiles(engine, n);
      System.gc();
      long start = System.nanoTime();
      List<Thread> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int from = (int) ((long) n * t / threads);
        int to = (int) ((long) n * (t + 1) / threads);
        Thread w =
            new Thread(
                () -> {
                  for (int i = from; i < to; i++) {
                    keyed.putJson(i, docs[i]);
                  }
                });
        workers.add(w);
        w.start();
      }
      for (Thread w : workers) {
        w.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "round=%d profiles=%d threads=%d avg_doc_bytes=%d seconds=%.2f"
              + " puts_per_second=%.0f%n",
          round, n, threads, bytes / n, seconds, n / seconds);
    }
  }
}

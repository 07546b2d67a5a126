package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.proto.Update;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * CPU time and allocation per update on one thread, for the same workload as {@link
 * UpdateBenchmark}. Thread CPU time does not count the time the thread waits for a core, so on a
 * machine shared with other work this compares two builds far more steadily than throughput does
 * (cache pollution by the neighbours still shows).
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.UpdateCost [profiles] [rounds]
 * </pre>
 *
 * <p>It uses only the engine's public API, {@link BenchData} and {@link BenchProfiles} (which plays
 * the node's key index), so it can run against an older build of the same API by putting that
 * build's jar first on the class path.
 */
public final class UpdateCost {
  private UpdateCost() {}

  public static void main(String[] args) {
    int profiles = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    ProfileEngine engine = new ProfileEngine(new EngineConfig());
    long now = System.currentTimeMillis();
    List<String> segments = BenchData.segments();
    for (int i = 0; i < segments.size(); i++) {
      engine.define("seg" + i, segments.get(i));
    }
    BenchProfiles keyed = new BenchProfiles(engine, profiles);
    SplittableRandom r = new SplittableRandom(42);
    for (int i = 0; i < profiles; i++) {
      keyed.put(i, BenchData.profile(r, now));
    }
    Update[] updates = BenchData.updates(now);
    byte[][] json = BenchData.jsonUpdates(new SplittableRandom(7), now, 64);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (String path : new String[] {"protobuf", "json"}) {
      boolean isJson = path.equals("json");
      SplittableRandom c = new SplittableRandom(1);
      double[] cpu = new double[rounds];
      double[] alloc = new double[rounds];
      for (int round = -3; round < rounds; round++) { // three warm-up rounds
        int n = 2_000_000;
        long cpu0 = threads.getCurrentThreadCpuTime();
        long alloc0 = threads.getCurrentThreadAllocatedBytes();
        long sink = 0;
        for (int i = 0; i < n; i++) {
          int k = BenchData.skewedKey(c, profiles);
          if (isJson) {
            sink += keyed.updateJson(k, json[c.nextInt(json.length)]).footprintBytes();
          } else {
            sink += keyed.update(k, updates[c.nextInt(updates.length)]).footprintBytes();
          }
        }
        if (round >= 0) {
          cpu[round] = (threads.getCurrentThreadCpuTime() - cpu0) / (double) n;
          alloc[round] = (threads.getCurrentThreadAllocatedBytes() - alloc0) / (double) n;
        }
        if (sink == 42) {
          System.out.print("");
        }
      }
      Arrays.sort(cpu);
      Arrays.sort(alloc);
      System.out.printf(
          "update-cost %s profiles=%d cpu_ns_per_update=%.0f (min %.0f, max %.0f)"
              + " alloc_bytes_per_update=%.0f%n",
          path, profiles, cpu[rounds / 2], cpu[0], cpu[rounds - 1], alloc[rounds / 2]);
    }
  }
}

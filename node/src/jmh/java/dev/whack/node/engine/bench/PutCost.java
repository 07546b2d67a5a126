package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.json.ProfileJson;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * CPU time and allocation per {@code putJson} on one thread, for the documents of {@link BulkLoad}
 * (dumped profiles of 20 attributes and event series, about 470 bytes each): the per-profile cost
 * of a refill (target P5) without the noise of a throughput run on shared cores. Each round puts
 * every document again over the profiles the first round created, once into an engine with the 50
 * segments of {@link BenchData} (the whole put: parse, encode, publish, evaluate every segment) and
 * once into an engine without segments (parse, encode and publish only). Then the same for new
 * profiles, the shape of a refill (target P5): each round puts every document into a new engine
 * ({@code json-new} lines; allocation then includes the engine's tables and bitmaps growing).
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.PutCost [profiles] [rounds]
 * </pre>
 *
 * <p>It uses only the engine's public API, {@link BenchData} and {@link BenchProfiles} (which plays
 * the node's key index), so it can run against an older build of the same API by putting that
 * build's jar first on the class path.
 */
public final class PutCost {
  private PutCost() {}

  public static void main(String[] args) {
    int profiles = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    long now = System.currentTimeMillis();
    SplittableRandom r = new SplittableRandom(42);
    byte[][] docs = new byte[profiles][];
    long bytes = 0;
    for (int i = 0; i < profiles; i++) {
      docs[i] = ProfileJson.write(BenchData.profile(r, now));
      bytes += docs[i].length;
    }
    for (int segmentCount : new int[] {50, 0}) {
      measure("json", false, segmentCount, docs, bytes, rounds);
    }
    for (int segmentCount : new int[] {50, 0}) {
      measure("json-new", true, segmentCount, docs, bytes, rounds);
    }
  }

  /**
   * Prints the median CPU and allocation per put over {@code rounds} rounds (after three warm-up
   * rounds) of putting every document: into a fresh engine each round ({@code fresh}, a refill's
   * shape), or over the profiles the same documents made before (a replacing put).
   */
  private static void measure(
      String label, boolean fresh, int segmentCount, byte[][] docs, long bytes, int rounds) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int profiles = docs.length;
    double[] cpu = new double[rounds];
    double[] alloc = new double[rounds];
    BenchProfiles keyed = null;
    for (int round = -3; round < rounds; round++) { // three warm-up rounds
      if (fresh || keyed == null) {
        ProfileEngine engine = new ProfileEngine(new EngineConfig());
        List<String> segments = BenchData.segments().subList(0, segmentCount);
        for (int i = 0; i < segments.size(); i++) {
          engine.define("seg" + i, segments.get(i));
        }
        keyed = new BenchProfiles(engine, profiles);
        if (!fresh) {
          for (int i = 0; i < profiles; i++) {
            keyed.putJson(i, docs[i]);
          }
        }
      }
      long cpu0 = threads.getCurrentThreadCpuTime();
      long alloc0 = threads.getCurrentThreadAllocatedBytes();
      long sink = 0;
      for (int i = 0; i < profiles; i++) {
        sink += keyed.putJson(i, docs[i]).footprintBytes();
      }
      if (round >= 0) {
        cpu[round] = (threads.getCurrentThreadCpuTime() - cpu0) / (double) profiles;
        alloc[round] = (threads.getCurrentThreadAllocatedBytes() - alloc0) / (double) profiles;
      }
      if (sink == 42) {
        System.out.print("");
      }
    }
    Arrays.sort(cpu);
    Arrays.sort(alloc);
    System.out.printf(
        "put-cost %s segments=%d profiles=%d avg_doc_bytes=%d cpu_ns_per_put=%.0f"
            + " (min %.0f, max %.0f) alloc_bytes_per_put=%.0f%n",
        label,
        segmentCount,
        profiles,
        bytes / profiles,
        cpu[rounds / 2],
        cpu[0],
        cpu[rounds - 1],
        alloc[rounds / 2]);
  }
}

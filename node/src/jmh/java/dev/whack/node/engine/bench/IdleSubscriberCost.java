package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.segment.Subscription;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What change subscribers that never read cost the update path (issue 13: watchers that stop
 * reading must not slow ingestion): CPU time per Update JSON on one thread, in rounds alternating
 * between no subscriber and {@code subscribers} subscriptions that each watch 23 of the 50 segments
 * (a window moving by 23, so every segment has about 46 of them) and are never read. Thread CPU
 * time leaves out the time the thread waits for a core, so the two compare steadily on a machine
 * shared with other work.
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.IdleSubscriberCost [profiles] [subscribers] [rounds]
 * </pre>
 */
public final class IdleSubscriberCost {
  private IdleSubscriberCost() {}

  public static void main(String[] args) {
    int profiles = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int subscribers = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 7;
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
    byte[][] json = BenchData.jsonUpdates(new SplittableRandom(7), now, 64);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    SplittableRandom c = new SplittableRandom(1);
    double[][] cpu = new double[2][rounds];
    double[] changesPerUpdate = new double[2];
    int n = 1_000_000;
    for (int round = -2; round < rounds; round++) { // two warm-up rounds
      for (int with = 0; with < 2; with++) {
        List<Subscription> idle = new ArrayList<>();
        for (int s = 0; with == 1 && s < subscribers; s++) {
          List<String> names = new ArrayList<>();
          for (int j = 0; j < 23; j++) {
            names.add("seg" + (s * 23 + j) % segments.size());
          }
          idle.add(engine.subscribe(names, null));
        }
        long changes0 = engine.membershipChanges();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
          byte[] doc = json[c.nextInt(json.length)];
          sink += keyed.updateJson(BenchData.skewedKey(c, profiles), doc).footprintBytes();
        }
        long cpuNanos = threads.getCurrentThreadCpuTime() - cpu0;
        if (round >= 0) {
          cpu[with][round] = (double) cpuNanos / n;
          changesPerUpdate[with] = (double) (engine.membershipChanges() - changes0) / n;
        }
        idle.forEach(Subscription::close);
        if (sink == 42) {
          System.out.print("");
        }
      }
    }
    double none = median(cpu[0]);
    double some = median(cpu[1]);
    System.out.printf(
        java.util.Locale.ROOT,
        "idle subscribers 0: %.0f ns CPU per update (rounds %s), %.2f segment changes per update%n",
        none,
        Arrays.toString(round(cpu[0])),
        changesPerUpdate[0]);
    System.out.printf(
        java.util.Locale.ROOT,
        "idle subscribers %d: %.0f ns CPU per update (rounds %s)%n",
        subscribers,
        some,
        Arrays.toString(round(cpu[1])));
    System.out.printf(java.util.Locale.ROOT, "ratio %.3f%n", some / none);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static long[] round(double[] values) {
    long[] out = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Math.round(values[i]);
    }
    return out;
  }
}

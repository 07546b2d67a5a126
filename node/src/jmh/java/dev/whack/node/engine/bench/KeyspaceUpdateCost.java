package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.Status;
import dev.whack.node.keyspace.StoreMode;
import java.lang.management.ManagementFactory;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What the keyspace adds to a profile update (issue 11: one index): CPU time per Update JSON on one
 * thread through a connection's {@link KeyspaceSession} (the item index, its stripe lock, the
 * item's cas and footprint, then the engine) against the engine alone ({@link
 * ProfileEngine#updateJson} handed each profile's ordinal from an array: no index at all), in
 * rounds alternating between the two, each over its own copy of the same profiles and 50 segments
 * (P2's shape: {@link BenchData}). The difference is the cost of the keyspace's index on the update
 * path. Thread CPU time leaves out the time the thread waits for a core, so the two compare
 * steadily on a machine shared with other work.
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.KeyspaceUpdateCost [profiles] [rounds]
 * </pre>
 */
public final class KeyspaceUpdateCost {
  private KeyspaceUpdateCost() {}

  public static void main(String[] args) {
    int profiles = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    long now = System.currentTimeMillis();
    InstantSource clock = InstantSource.system();
    ProfileEngine alone = new ProfileEngine(new EngineConfig().clock(clock));
    ProfileEngine behind = new ProfileEngine(new EngineConfig().clock(clock));
    List<String> segments = BenchData.segments();
    for (int i = 0; i < segments.size(); i++) {
      alone.define("seg" + i, segments.get(i));
      behind.define("seg" + i, segments.get(i));
    }
    Keyspace keyspace = new Keyspace(clock, 64L << 30, 1 << 20, behind);
    KeyspaceSession session = keyspace.session();
    Outcome out = new Outcome();
    BenchProfiles keyed = new BenchProfiles(alone, profiles);
    byte[][] keys = keyed.keys;
    SplittableRandom r = new SplittableRandom(42);
    for (int i = 0; i < profiles; i++) {
      dev.whack.proto.Profile profile = BenchData.profile(r, now);
      keyed.put(i, profile);
      byte[] json = dev.whack.node.engine.json.ProfileJson.write(profile);
      session.store(StoreMode.SET, keys[i], 0, keys[i].length, 0, 0, json, 0, false, false, out);
    }
    byte[][] json = BenchData.jsonUpdates(new SplittableRandom(7), now, 64);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    double[][] cpu = new double[2][rounds];
    int n = 1_000_000;
    long sink = 0;
    for (int round = -2; round < rounds; round++) { // two warm-up rounds
      for (int path = 0; path < 2; path++) {
        SplittableRandom c = new SplittableRandom(round + 100);
        long cpu0 = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          byte[] doc = json[c.nextInt(json.length)];
          int k = BenchData.skewedKey(c, profiles);
          byte[] key = keys[k];
          if (path == 0) {
            sink += keyed.updateJson(k, doc).footprintBytes();
          } else {
            Status status = session.update(key, 0, key.length, doc, 0, doc.length, false, out);
            sink += status == Status.STORED ? out.cas : 0;
          }
        }
        long cpuNanos = threads.getCurrentThreadCpuTime() - cpu0;
        if (round >= 0) {
          cpu[path][round] = (double) cpuNanos / n;
        }
      }
    }
    if (sink == 42) {
      System.out.print("");
    }
    double engine = median(cpu[0]);
    double through = median(cpu[1]);
    System.out.printf(
        java.util.Locale.ROOT,
        "engine alone: %.0f ns CPU per update (rounds %s)%n",
        engine,
        Arrays.toString(round(cpu[0])));
    System.out.printf(
        java.util.Locale.ROOT,
        "through the keyspace: %.0f ns CPU per update (rounds %s)%n",
        through,
        Arrays.toString(round(cpu[1])));
    System.out.printf(
        java.util.Locale.ROOT, "keyspace's own cost: %.0f ns per update%n", through - engine);
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

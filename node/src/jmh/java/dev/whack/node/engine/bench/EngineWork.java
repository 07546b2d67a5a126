package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.proto.Update;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntToLongFunction;

/**
 * One side of {@link AlternatingCost}: an engine with {@link BenchData}'s profiles and 50 segments,
 * and one kind of work on it. {@link #applyAsLong(int)} does that many operations (for {@code
 * put-new}: puts that many profiles into a new engine) and returns the thread CPU nanoseconds they
 * took. It uses only the engine's public API and {@link BenchProfiles}, so it runs against an older
 * build of the same API.
 *
 * <p>Concurrency: one thread at a time.
 */
public final class EngineWork implements IntToLongFunction {
  private final String kind;
  private final int profiles;
  private final byte[][] docs;
  private final Update[] updates;
  private final byte[][] jsonUpdates;
  private final SplittableRandom keys = new SplittableRandom(1);
  private final com.sun.management.ThreadMXBean threads =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
  private BenchProfiles keyed;
  private int nextPut;

  /**
   * @param kind {@code update} (protobuf), {@code update-json}, {@code put} (Profile JSON over the
   *     existing profiles, in turn) or {@code put-new} (Profile JSON into an empty engine)
   */
  public EngineWork(String kind, int profiles) {
    if (!List.of("update", "update-json", "put", "put-new").contains(kind)) {
      throw new IllegalArgumentException("unknown kind of work: " + kind);
    }
    this.kind = kind;
    this.profiles = profiles;
    long now = System.currentTimeMillis();
    SplittableRandom r = new SplittableRandom(42);
    docs = new byte[profiles][];
    for (int i = 0; i < profiles; i++) {
      docs[i] = ProfileJson.write(BenchData.profile(r, now));
    }
    keyed = emptyEngine();
    for (int i = 0; i < profiles; i++) {
      keyed.putJson(i, docs[i]);
    }
    updates = BenchData.updates(now);
    jsonUpdates = BenchData.jsonUpdates(new SplittableRandom(7), now, 64);
  }

  private BenchProfiles emptyEngine() {
    ProfileEngine engine = new ProfileEngine(new EngineConfig());
    List<String> segments = BenchData.segments();
    for (int i = 0; i < segments.size(); i++) {
      engine.define("seg" + i, segments.get(i));
    }
    return new BenchProfiles(engine, profiles);
  }

  @Override
  public long applyAsLong(int operations) {
    if (kind.equals("put-new")) {
      keyed = null; // the old engine may go before the new one fills
      keyed = emptyEngine();
    }
    long sink = 0;
    long cpu0 = threads.getCurrentThreadCpuTime();
    for (int i = 0; i < operations; i++) {
      sink +=
          switch (kind) {
            case "update" ->
                keyed
                    .update(
                        BenchData.skewedKey(keys, profiles), updates[keys.nextInt(updates.length)])
                    .footprintBytes();
            case "update-json" ->
                keyed
                    .updateJson(
                        BenchData.skewedKey(keys, profiles),
                        jsonUpdates[keys.nextInt(jsonUpdates.length)])
                    .footprintBytes();
            case "put" -> {
              int k = nextPut++ % profiles;
              yield keyed.putJson(k, docs[k]).footprintBytes();
            }
            default -> keyed.putJson(i % profiles, docs[i % profiles]).footprintBytes();
          };
    }
    long cpu = threads.getCurrentThreadCpuTime() - cpu0;
    return sink == 42 ? cpu + 1 : cpu; // keeps the results alive
  }
}

package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.proto.Update;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Update-and-reevaluate throughput (target P2): skewed keys over many profiles with 50 mixed
 * segments defined, on both cores.
 *
 * <p>{@code updateAndReevaluate} applies protobuf updates; {@code updateJsonAndReevaluate} applies
 * Update JSON of the shapes the wire benchmark sends ({@code scripts/bench profiles}), through the
 * same call the memcached front end makes. Allocation per update: add {@code -prof gc} and read
 * {@code gc.alloc.rate.norm}.
 *
 * <pre>scripts/bench-engine UpdateBenchmark -p profiles=4000000</pre>
 *
 * <pre>scripts/bench-engine UpdateBenchmark -prof gc</pre>
 *
 * <p>{@code idleSubscribers}: change subscriptions, each to 23 of the 50 segments (a window moving
 * by 23, so every segment has about 46), that never read, as watchers that stop reading leave them
 * (issue 13): what they cost ingestion.
 *
 * <pre>scripts/bench-engine UpdateBenchmark.updateJsonAndReevaluate -p idleSubscribers=0,100</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(
    value = 1,
    jvmArgs = {"-Xms6g", "-Xmx6g", "-XX:+UseParallelGC"})
@Threads(2)
public class UpdateBenchmark {
  @Param({"1000000"})
  int profiles;

  @Param({"0"})
  int idleSubscribers;

  ProfileEngine engine;
  BenchProfiles keyed;
  Update[] updates;
  byte[][] jsonUpdates;

  @State(Scope.Thread)
  public static class Cursor {
    final SplittableRandom random = new SplittableRandom(Thread.currentThread().threadId());
  }

  @Setup(Level.Trial)
  public void load() {
    engine = new ProfileEngine(new EngineConfig());
    long now = System.currentTimeMillis();
    List<String> segments = BenchData.segments();
    for (int i = 0; i < segments.size(); i++) {
      engine.define("seg" + i, segments.get(i));
    }
    keyed = new BenchProfiles(engine, profiles);
    SplittableRandom r = new SplittableRandom(42);
    for (int i = 0; i < profiles; i++) {
      keyed.put(i, BenchData.profile(r, now));
    }
    for (int i = 0; i < idleSubscribers; i++) {
      List<String> names = new java.util.ArrayList<>();
      for (int j = 0; j < 23; j++) {
        names.add("seg" + (i * 23 + j) % segments.size());
      }
      engine.subscribe(names, null);
    }
    updates = BenchData.updates(now);
    jsonUpdates = BenchData.jsonUpdates(new SplittableRandom(7), now, 64);
  }

  @Benchmark
  public Object updateAndReevaluate(Cursor c) {
    int k = BenchData.skewedKey(c.random, profiles);
    return keyed.update(k, updates[c.random.nextInt(updates.length)]);
  }

  @Benchmark
  public Object updateJsonAndReevaluate(Cursor c) {
    int k = BenchData.skewedKey(c.random, profiles);
    byte[] json = jsonUpdates[c.random.nextInt(jsonUpdates.length)];
    return keyed.updateJson(k, json);
  }
}

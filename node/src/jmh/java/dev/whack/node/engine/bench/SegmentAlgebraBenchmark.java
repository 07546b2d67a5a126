package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import dev.whack.proto.Value;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.roaringbitmap.RoaringBitmap;

/**
 * Segment algebra over two segments of about one million members each (target P3: size of A and B
 * under 1 ms), with plain unsynchronized RoaringBitmap and java.util.BitSet as baselines.
 *
 * <pre>scripts/bench-engine SegmentAlgebraBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
    value = 1,
    jvmArgs = {"-Xms3g", "-Xmx3g"})
public class SegmentAlgebraBenchmark {
  static final int PROFILES = 1_500_000;

  ProfileEngine engine;
  RoaringBitmap plainA = new RoaringBitmap();
  RoaringBitmap plainB = new RoaringBitmap();
  BitSet bitsA = new BitSet();
  BitSet bitsB = new BitSet();

  @Setup(Level.Trial)
  public void load() {
    engine = new ProfileEngine(new EngineConfig());
    engine.define("a", "a");
    engine.define("b", "b");
    SplittableRandom r = new SplittableRandom(1);
    BenchProfiles keyed = new BenchProfiles(engine, PROFILES);
    for (int i = 0; i < PROFILES; i++) {
      // Each of a, b holds 2/3 of the profiles (about 1M), overlapping on about 4/9.
      boolean a = r.nextInt(3) != 0;
      boolean b = r.nextInt(3) != 0;
      keyed.put(
          i,
          Profile.newBuilder()
              .addAttributes(
                  Attribute.newBuilder().setName("a").setValue(Value.newBuilder().setBoolValue(a)))
              .addAttributes(
                  Attribute.newBuilder().setName("b").setValue(Value.newBuilder().setBoolValue(b)))
              .build());
      if (a) {
        plainA.add(i);
        bitsA.set(i);
      }
      if (b) {
        plainB.add(i);
        bitsB.set(i);
      }
    }
    if (engine.count("a") < 900_000 || engine.count("b") < 900_000) {
      throw new IllegalStateException("segments too small: " + engine.count("a"));
    }
  }

  @Benchmark
  public long countAandB() {
    return engine.count("a and b");
  }

  @Benchmark
  public long countAandNotB() {
    return engine.count("a and not b");
  }

  @Benchmark
  public long countAxorB() {
    return engine.count("a xor b");
  }

  @Benchmark
  public long sizeOfA() {
    return engine.count("a");
  }

  @Benchmark
  public long baselinePlainRoaringAndCardinality() {
    return RoaringBitmap.andCardinality(plainA, plainB);
  }

  @Benchmark
  public long baselineBitSetAndCardinality() {
    BitSet x = (BitSet) bitsA.clone();
    x.and(bitsB);
    return x.cardinality();
  }
}

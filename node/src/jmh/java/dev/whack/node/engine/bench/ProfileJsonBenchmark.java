package dev.whack.node.engine.bench;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.ProfileJsonReader;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileSink;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading Profile JSON on the put path, the hand-written reader ({@link ProfileJsonReader}) beside
 * the jackson-core reference it stands in for ({@link ProfileJson#parse(byte[], int, int,
 * ProfileSink)}), on the documents of {@link BulkLoad} (dumped profiles of 20 attributes and event
 * series, about 470 bytes): into a sink that only sums what it is given ({@code read*}), and into
 * the compact writer, the array included ({@code write*}). Allocation: add {@code -prof gc}.
 *
 * <pre>scripts/bench-engine ProfileJsonBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xms1g", "-Xmx1g", "-XX:+UseParallelGC"})
public class ProfileJsonBenchmark {
  private static final byte[] KEY = BenchData.key(42);
  private static final StripeNames STRIPE = new StripeNames();

  byte[][] docs;
  int next;
  final ProfileJsonReader reader = new ProfileJsonReader();
  final SummingSink summing = new SummingSink();
  ProfileWriter writer;
  long now;

  @Setup
  public void setup() {
    now = System.currentTimeMillis();
    SplittableRandom r = new SplittableRandom(42);
    docs = new byte[1024][];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = ProfileJson.write(BenchData.profile(r, now));
    }
    writer = new ProfileWriter(Dictionaries.create(1000), 60, ProfileLimits.DEFAULTS);
    for (byte[] d : docs) { // as on a node, other profiles hold the names: each write pins them
      ProfileJson.parse(d, 0, d.length, writer.startPut(now, null, STRIPE));
      writer.finishPut(KEY);
      writer.commit(null);
    }
  }

  private byte[] nextDoc() {
    return docs[next++ & (docs.length - 1)];
  }

  @Benchmark
  public long readFast() {
    byte[] d = nextDoc();
    if (!reader.read(d, 0, d.length, summing)) {
      throw new IllegalStateException("declined a dumped profile");
    }
    return summing.sum;
  }

  @Benchmark
  public long readJackson() {
    byte[] d = nextDoc();
    ProfileJson.parse(d, 0, d.length, summing);
    return summing.sum;
  }

  @Benchmark
  public byte[] writeFast() {
    byte[] d = nextDoc();
    if (!reader.read(d, 0, d.length, writer.startPut(now, null, STRIPE))) {
      throw new IllegalStateException("declined a dumped profile");
    }
    return writer.finishPut(KEY);
  }

  @Benchmark
  public byte[] writeJackson() {
    byte[] d = nextDoc();
    ProfileJson.parse(d, 0, d.length, writer.startPut(now, null, STRIPE));
    return writer.finishPut(KEY);
  }

  /** Sums what it is given, so that nothing read is dead code. */
  static final class SummingSink implements ProfileSink {
    long sum;

    @Override
    public void attribute(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void attribute(String name) {
      sum += name.length();
    }

    @Override
    public void stringValue(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void stringValue(String value) {
      sum += value.length();
    }

    @Override
    public void intValue(long value) {
      sum += value;
    }

    @Override
    public void floatValue(double value) {
      sum += Double.doubleToRawLongBits(value);
    }

    @Override
    public void boolValue(boolean value) {
      sum += value ? 1 : 0;
    }

    @Override
    public void timestampValue(long epochMillis) {
      sum += epochMillis;
    }

    @Override
    public void startSet() {
      sum++;
    }

    @Override
    public void element(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void element(String value) {
      sum += value.length();
    }

    @Override
    public void endSet() {
      sum++;
    }

    @Override
    public void event(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void event(String name) {
      sum += name.length();
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares) {
      this.sum += day + count + Double.doubleToRawLongBits(sum);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares, double min, double max) {
      this.sum += day + count + Double.doubleToRawLongBits(sum) + Double.doubleToRawLongBits(max);
    }

    @Override
    public void times(long firstMillis, long lastMillis) {
      sum += firstMillis + lastMillis;
    }

    @Override
    public void dimensionCount(String dimension, int day, String category, long count) {
      sum += dimension.length() + day + category.length() + count;
    }

    @Override
    public void producer(byte[] utf8, int off, int len, long seq) {
      sum += len + seq;
    }

    @Override
    public void producer(String producer, long seq) {
      sum += producer.length() + seq;
    }
  }
}

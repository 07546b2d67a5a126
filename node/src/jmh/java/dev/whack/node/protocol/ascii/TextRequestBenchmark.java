package dev.whack.node.protocol.ascii;

import dev.whack.node.WhackNode;
import dev.whack.node.cluster.Cluster;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.observability.NodeMetrics;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.StatsReport;
import dev.whack.node.observability.Watchers;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.server.ConnectionTracker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Request parsing in the text protocol, the front of every P1 and P2 request: first the line
 * tokenizer alone ({@link AsciiLine}, memcached's {@code tokenize_command} shape) beside the JDK
 * way of doing it ({@code String.split} and {@code Integer.parseInt}), then whole pipelined batches
 * through the decoder as a connection sees them (framing, command dispatch, the store or the
 * profile engine, reply encoding), per request. The batches are the P1 shapes (get and set of
 * 100-byte values over 100k keys) and the P2 update (Update JSON, no segments defined).
 *
 * <pre>scripts/bench jmh TextRequestBenchmark</pre>
 *
 * <pre>scripts/bench-engine TextRequestBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xms2g", "-Xmx2g"})
public class TextRequestBenchmark {
  static final int KEYS = 100_000;
  static final int BATCH = 16;

  private static final byte[] GET_LINE = "get key:12345\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SET_LINE =
      "set key:12345 0 0 100\r\n".getBytes(StandardCharsets.US_ASCII);

  ByteBuf getLine;
  ByteBuf setLine;
  final AsciiLine line = new AsciiLine();

  NodeMetrics metrics;
  EmbeddedChannel channel;
  ByteBuf[] getBatches;
  ByteBuf[] setBatches;
  ByteBuf[] updateBatches;
  int next;

  @Setup(Level.Trial)
  public void setUp() {
    getLine = Unpooled.wrappedBuffer(GET_LINE);
    setLine = Unpooled.wrappedBuffer(SET_LINE);

    NodeConfig config = new NodeConfig().port(0).metricsPort(0).conclude();
    ProfileEngine engine = new ProfileEngine(new EngineConfig().clock(config.clock()));
    Keyspace cache =
        new Keyspace(config.clock(), config.memoryBytes(), config.maxItemSize(), engine);
    NodeStats stats = new NodeStats(0);
    metrics = new NodeMetrics(stats, cache);
    ProtocolContext context =
        new ProtocolContext(
            cache,
            engine,
            stats,
            metrics,
            new StatsReport(
                config,
                cache,
                stats,
                new ConnectionTracker(stats, 10, 0, () -> 0L),
                WhackNode.VERSION,
                () -> 0),
            new Watchers(config.clock(), config.watchLappedTimeoutMillis()),
            Cluster.single("127.0.0.1:11211"),
            WhackNode.VERSION,
            null,
            null);
    channel = new EmbeddedChannel(new AsciiDecoder(new AsciiCommands(context)));

    byte[] value = new byte[100];
    java.util.Arrays.fill(value, (byte) 'v');
    for (int start = 0; start < KEYS; start += 1000) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int k = start; k < start + 1000; k++) {
        b.writeBytes(("set key:" + k + " 0 0 100 noreply\r\n").getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(value);
        b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      channel.writeInbound(Unpooled.wrappedBuffer(b.toByteArray()));
      drain();
    }

    SplittableRandom r = new SplittableRandom(42);
    getBatches = new ByteBuf[256];
    setBatches = new ByteBuf[256];
    updateBatches = new ByteBuf[256];
    String[] updates = {
      "{\"events\":[{\"name\":\"view\"}],\"set\":{\"last_seen\":\"2026-11-20T10:00:00Z\"}}",
      "{\"events\":[{\"name\":\"purchase\",\"value\":42}],\"incr\":{\"visits\":1}}",
      "{\"set\":{\"country\":\"DK\",\"age\":31}}",
      "{\"add\":{\"tags\":[\"vip\"]},\"remove\":{\"tags\":[\"trial\"]}}",
      "{\"set\":{\"newsletter\":true,\"cart_items\":3}}"
    };
    for (int i = 0; i < getBatches.length; i++) {
      ByteArrayOutputStream gets = new ByteArrayOutputStream();
      ByteArrayOutputStream sets = new ByteArrayOutputStream();
      ByteArrayOutputStream ups = new ByteArrayOutputStream();
      for (int j = 0; j < BATCH; j++) {
        gets.writeBytes(
            ("get key:" + r.nextInt(KEYS) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        sets.writeBytes(
            ("set key:" + r.nextInt(KEYS) + " 0 0 100\r\n").getBytes(StandardCharsets.US_ASCII));
        sets.writeBytes(value);
        sets.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] body = updates[r.nextInt(updates.length)].getBytes(StandardCharsets.US_ASCII);
        ups.writeBytes(
            ("update user:" + r.nextInt(KEYS) + " " + body.length + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        ups.writeBytes(body);
        ups.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      getBatches[i] = Unpooled.wrappedBuffer(gets.toByteArray());
      setBatches[i] = Unpooled.wrappedBuffer(sets.toByteArray());
      updateBatches[i] = Unpooled.wrappedBuffer(ups.toByteArray());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    channel.finishAndReleaseAll();
    metrics.close();
  }

  /** Copies the line out of the buffer and splits it into tokens: what each request line costs. */
  @Benchmark
  public int tokenizeGetLine() {
    line.load(getLine, GET_LINE.length - 1);
    return line.tokenCount;
  }

  @Benchmark
  public int tokenizeSetLine() {
    line.load(setLine, SET_LINE.length - 1);
    return line.tokenCount + line.tokenLength(4);
  }

  /** Baseline: the JDK way, a String per line, split, and the byte count parsed. */
  @Benchmark
  public int jdkSplitSetLine() {
    String s = new String(SET_LINE, 0, SET_LINE.length - 2, StandardCharsets.US_ASCII);
    String[] tokens = s.split(" ");
    return tokens.length + Integer.parseInt(tokens[4]);
  }

  /**
   * 16 pipelined gets, hitting, through the decoder and the store, replies encoded; per request.
   */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int pipelinedGets() {
    return feed(getBatches);
  }

  /** 16 pipelined sets of 100-byte values; per request. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int pipelinedSets() {
    return feed(setBatches);
  }

  /** 16 pipelined profile updates (Update JSON, the P2 shapes, no segments); per request. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int pipelinedUpdates() {
    return feed(updateBatches);
  }

  private int feed(ByteBuf[] batches) {
    ByteBuf batch = batches[next++ & (batches.length - 1)];
    channel.writeInbound(batch.retainedDuplicate());
    return drain();
  }

  private int drain() {
    int bytes = 0;
    Object msg;
    while ((msg = channel.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) msg;
      bytes += buf.readableBytes();
      buf.release();
    }
    return bytes;
  }
}

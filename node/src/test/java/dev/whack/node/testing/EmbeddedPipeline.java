package dev.whack.node.testing;

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
import dev.whack.node.server.WhackServer;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;

/**
 * A node's protocol front end without sockets: a fresh cache, profile engine and statistics on a
 * {@link ManualClock}, and in-memory connections ({@link EmbeddedChannel}) set up exactly as the
 * server sets up an accepted socket ({@link WhackServer#initConnection}). Cheap enough to make one
 * per test case or per fuzzing input, so that a conversation's replies depend on nothing else.
 */
public final class EmbeddedPipeline {
  /**
   * Latency histograms only; no reply reads them, so every pipeline shares one registry instead of
   * building (and leaking the JVM listeners of) one each.
   */
  private static final NodeMetrics METRICS;

  static {
    NodeStats stats = new NodeStats(0);
    METRICS =
        new NodeMetrics(
            stats,
            new Keyspace(
                new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS),
                1 << 22,
                1 << 20,
                new ProfileEngine(new EngineConfig())));
  }

  private final ManualClock clock;
  private final ProfileEngine engine;
  private final Keyspace keyspace;
  private final ConnectionTracker tracker;
  private final ProtocolContext context;

  /** Every buffer the pipeline's connections take, counted so that a leak shows. */
  private final UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(false, true);

  private EmbeddedPipeline(NodeConfig config, ManualClock clock) {
    this.clock = clock;
    this.engine = new ProfileEngine(new EngineConfig().clock(clock));
    this.keyspace = new Keyspace(clock, config.memoryBytes(), config.maxItemSize(), engine);
    NodeStats stats = new NodeStats(clock.millis());
    this.tracker =
        new ConnectionTracker(
            stats, config.maxConnections(), config.idleTimeoutMillis(), clock::millis);
    StatsReport report =
        new StatsReport(config, keyspace, stats, tracker, WhackNode.VERSION, () -> config.port())
            .withEngine(engine);
    this.context =
        new ProtocolContext(
            keyspace,
            engine,
            stats,
            METRICS,
            report,
            new Watchers(config.clock(), config.watchLappedTimeoutMillis()),
            Cluster.single("127.0.0.1:" + config.port()),
            WhackNode.VERSION,
            null,
            null);
  }

  /**
   * A pipeline with the node's default limits, its clock at {@link EmbeddedNode#TEST_EPOCH_MILLIS}.
   */
  public static EmbeddedPipeline start() {
    ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    return new EmbeddedPipeline(new NodeConfig().port(11211).clock(clock).conclude(), clock);
  }

  /**
   * A new connection, active, as the server sets it up. Feed it with {@code writeInbound}; its
   * replies come out of {@code readOutbound}.
   */
  public EmbeddedChannel connect() {
    return new EmbeddedChannel(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.config().setAllocator(allocator);
            WhackServer.initConnection(ch, tracker, context);
          }
        });
  }

  /**
   * A new connection with two observers: {@code front} right after the first handler, so it sees
   * every reply the protocol front end writes and flushes; {@code back} last, so it sees whatever
   * the front end passes on or lets escape (an exception).
   */
  public EmbeddedChannel connect(ChannelOutboundHandler front, ChannelInboundHandler back) {
    return new EmbeddedChannel(
        new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.config().setAllocator(allocator);
            WhackServer.initConnection(ch, tracker, context);
            ch.pipeline().addAfter("tracker", "front", front);
            ch.pipeline().addLast("back", back);
          }
        });
  }

  /**
   * Bytes of the buffers this pipeline's connections have taken and not given back (request
   * cumulations, reply buffers): 0 once every connection is closed, unless one leaked.
   */
  public long bufferBytesInUse() {
    return allocator.metric().usedHeapMemory() + allocator.metric().usedDirectMemory();
  }

  public ManualClock clock() {
    return clock;
  }

  public ProtocolContext context() {
    return context;
  }

  public Keyspace keyspace() {
    return keyspace;
  }

  public ProfileEngine engine() {
    return engine;
  }
}

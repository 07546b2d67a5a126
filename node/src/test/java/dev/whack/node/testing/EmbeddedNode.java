package dev.whack.node.testing;

import dev.whack.node.WhackNode;
import dev.whack.node.config.NodeConfig;
import java.util.function.Consumer;

/**
 * A real node on a free loopback port for tests, with metrics off and two io threads unless a test
 * says otherwise. Close it (try-with-resources or {@code @AfterAll}).
 */
public final class EmbeddedNode implements AutoCloseable {
  /** 2026-11-22T00:00:00Z, a fixed start for tests driven by a {@link ManualClock}. */
  public static final long TEST_EPOCH_MILLIS = 1_795_305_600_000L;

  private final WhackNode node;

  private EmbeddedNode(WhackNode node) {
    this.node = node;
  }

  public static EmbeddedNode start() {
    return start(config -> {});
  }

  public static EmbeddedNode start(Consumer<NodeConfig> customize) {
    NodeConfig config = new NodeConfig().port(0).metricsPort(0).ioThreads(2);
    customize.accept(config);
    try {
      return new EmbeddedNode(WhackNode.start(config));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting a node", e);
    }
  }

  /**
   * A node whose time only moves when the clock is advanced. Its background timer is off, so expiry
   * and time-dependent re-evaluation happen exactly when the test calls {@code node().runTimers()},
   * and are finished when that call returns.
   */
  public static EmbeddedNode startWithClock(ManualClock clock, Consumer<NodeConfig> customize) {
    return start(config -> customize.accept(config.clock(clock).timerPeriodMillis(0)));
  }

  public int port() {
    return node.port();
  }

  public String address() {
    return "127.0.0.1:" + node.port();
  }

  public WhackNode node() {
    return node;
  }

  public RawConnection connect() {
    return new RawConnection("127.0.0.1", node.port());
  }

  @Override
  public void close() {
    node.close();
  }
}

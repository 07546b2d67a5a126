package dev.whack.node.durability;

import java.time.Instant;
import java.time.InstantSource;

/**
 * The engine's clock on a node with a log: the node's clock, except while recovery replays a
 * profile write, when it reads that write's logged time, so that the write's events land on the
 * same days and its timestamps are the same as when it was first applied.
 *
 * <p>Concurrency: recovery replays on several threads (one per group of stripes), each setting its
 * own time ({@link #replayAt} is per thread); {@link #live()} ends replay for good before the
 * node's timers and connections start, published by a volatile write, after which the clock costs
 * one volatile read more than the node's.
 */
public final class ReplayClock implements InstantSource {
  private static final long LIVE = Long.MIN_VALUE;

  private final InstantSource clock;
  private final ThreadLocal<long[]> fixedMillis = ThreadLocal.withInitial(() -> new long[] {LIVE});
  private volatile boolean replaying = true;

  public ReplayClock(InstantSource clock) {
    this.clock = clock;
  }

  /** This thread reads {@code millis} until told otherwise. */
  void replayAt(long millis) {
    fixedMillis.get()[0] = millis;
  }

  /** Back to the node's clock, for good, on every thread. */
  public void live() {
    replaying = false;
  }

  @Override
  public long millis() {
    if (replaying) {
      long fixed = fixedMillis.get()[0];
      if (fixed != LIVE) {
        return fixed;
      }
    }
    return clock.millis();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }
}

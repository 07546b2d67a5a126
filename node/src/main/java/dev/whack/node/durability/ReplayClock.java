package dev.whack.node.durability;

import java.time.Instant;
import java.time.InstantSource;

/**
 * The engine's clock on a node with a log: the node's clock, except while recovery replays a
 * profile write, when it reads that write's logged time, so that the write's events land on the
 * same days and its timestamps are the same as when it was first applied.
 *
 * <p>Concurrency: recovery runs on one thread before the node's timers and connections start;
 * {@link #live()} publishes the switch back with a volatile write.
 */
public final class ReplayClock implements InstantSource {
  private static final long LIVE = Long.MIN_VALUE;

  private final InstantSource clock;
  private volatile long fixedMillis = LIVE;

  public ReplayClock(InstantSource clock) {
    this.clock = clock;
  }

  /** Reads {@code millis} until told otherwise. */
  void replayAt(long millis) {
    fixedMillis = millis;
  }

  /** Back to the node's clock, for good. */
  public void live() {
    fixedMillis = LIVE;
  }

  @Override
  public long millis() {
    long fixed = fixedMillis;
    return fixed == LIVE ? clock.millis() : fixed;
  }

  @Override
  public Instant instant() {
    long fixed = fixedMillis;
    return fixed == LIVE ? clock.instant() : Instant.ofEpochMilli(fixed);
  }
}

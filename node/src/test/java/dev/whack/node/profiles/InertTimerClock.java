package dev.whack.node.profiles;

import dev.whack.node.testing.ManualClock;
import java.time.Instant;
import java.time.InstantSource;

/**
 * A node clock for tests that must decide exactly when expiry and time-dependent re-evaluation
 * happen: every thread sees the {@link ManualClock}, except the node's own background timer
 * ("whack-timers"), which sees the epoch and so never finds anything due. Time-driven work then
 * happens only when the test calls {@code node.node().runTimers()}, and is finished when that
 * call returns.
 *
 * <p>Without it, the background turn (every 100 ms) can take due work off the queue just before
 * the test's own {@code runTimers()} and still be applying it when the test queries, and it can
 * sweep an expired profile before the test has looked at the moment in between.
 *
 * <p>Concurrency: safe from any thread.
 */
final class InertTimerClock implements InstantSource {
  private static final String TIMER_THREAD_PREFIX = "whack-timers";

  private final ManualClock manual;

  InertTimerClock(ManualClock manual) {
    this.manual = manual;
  }

  ManualClock manual() {
    return manual;
  }

  @Override
  public long millis() {
    return Thread.currentThread().getName().startsWith(TIMER_THREAD_PREFIX) ? 0 : manual.millis();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis());
  }
}

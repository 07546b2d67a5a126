package dev.whack.node.time;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when told to, for tests and benchmarks that need repeatable time.
 *
 * <p>Concurrency: safe to read and advance from any thread.
 */
public final class ManualClock implements Clock {
  private final AtomicLong nowMillis;

  public ManualClock(long startMillis) {
    this.nowMillis = new AtomicLong(startMillis);
  }

  @Override
  public long currentTimeMillis() {
    return nowMillis.get();
  }

  public void advanceMillis(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("time only moves forward: " + millis);
    }
    nowMillis.addAndGet(millis);
  }

  public void advanceSeconds(long seconds) {
    advanceMillis(Math.multiplyExact(seconds, 1000L));
  }
}

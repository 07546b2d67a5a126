package dev.whack.node.testing;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A clock that moves only when a test says so, so that expiry and time-dependent segments are
 * tested by advancing time instead of sleeping.
 *
 * <p>Concurrency: safe to read and advance from any thread.
 */
public final class ManualClock implements InstantSource {
  private final AtomicLong nowMillis;

  public ManualClock(long startMillis) {
    this.nowMillis = new AtomicLong(startMillis);
  }

  /** A clock at an ISO-8601 instant, e.g. {@code "2026-11-20T10:00:00Z"}. */
  public static ManualClock at(String instant) {
    return new ManualClock(Instant.parse(instant).toEpochMilli());
  }

  @Override
  public long millis() {
    return nowMillis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(nowMillis.get());
  }

  /** Whole seconds since the epoch, memcached's unit of time. */
  public long seconds() {
    return Math.floorDiv(nowMillis.get(), 1000L);
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

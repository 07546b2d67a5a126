package dev.whack.node.engine;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test says so. Thread-safe. */
public final class FakeClock implements InstantSource {
  private final AtomicLong millis;

  public FakeClock(long startMillis) {
    this.millis = new AtomicLong(startMillis);
  }

  public static FakeClock at(String instant) {
    return new FakeClock(Instant.parse(instant).toEpochMilli());
  }

  public void advance(long deltaMillis) {
    millis.addAndGet(deltaMillis);
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }
}

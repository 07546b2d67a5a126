package dev.whack.node.engine.event;

/** UTC day arithmetic: event buckets are keyed by days since 1970-01-01. */
public final class Days {
  public static final long MILLIS_PER_DAY = 86_400_000L;

  private Days() {}

  public static int dayOf(long epochMillis) {
    return (int) Math.floorDiv(epochMillis, MILLIS_PER_DAY);
  }

  public static long startOf(int day) {
    return day * MILLIS_PER_DAY;
  }
}

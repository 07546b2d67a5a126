package dev.whack.node.engine.event;

/**
 * Output of one window aggregation, reused across evaluations so that reading a window allocates
 * nothing.
 *
 * <p>Concurrency: not thread-safe; owned by one evaluation context.
 */
public final class WindowResult {
  public long count;
  public double sum;
  public double sumSquares;
  public double decayed;

  /**
   * Smallest and largest value of the window's valued events: +inf and -inf when none carried a
   * value, NaN when a day in the window has valued events whose min and max are not known.
   */
  public double min;

  public double max;

  /**
   * First day on which the aggregate can differ, {@link Integer#MAX_VALUE} if never (without
   * updates).
   */
  public int nextChangeDay;

  /** Whether the series has buckets dated after the evaluation day (they enter later). */
  public boolean future;

  /** Oldest day counted by the last aggregation, {@link Integer#MAX_VALUE} if none. */
  public int oldestCounted;

  void reset() {
    count = 0;
    sum = 0;
    sumSquares = 0;
    decayed = 0;
    min = Double.POSITIVE_INFINITY;
    max = Double.NEGATIVE_INFINITY;
    nextChangeDay = Integer.MAX_VALUE;
    future = false;
    oldestCounted = Integer.MAX_VALUE;
  }

  /** Mean of the event values, or NaN when the window is empty. */
  public double average() {
    return count == 0 ? Double.NaN : sum / count;
  }

  /**
   * Whether {@link #min} and {@link #max} are values: some event carried one, and all are known.
   */
  public boolean hasMinMax() {
    return min != Double.POSITIVE_INFINITY && !Double.isNaN(min);
  }

  /** Population variance of the event values, or NaN when the window is empty. */
  public double variance() {
    if (count == 0) {
      return Double.NaN;
    }
    double mean = sum / count;
    return Math.max(0, sumSquares / count - mean * mean);
  }
}

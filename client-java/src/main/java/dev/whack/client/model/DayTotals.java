package dev.whack.client.model;

import java.util.OptionalDouble;

/**
 * One UTC day of an {@link EventHistory}: how many events there were, and the sum, sum of squares,
 * smallest and largest of the values they carried (docs/profiles.md, "$events"). Profile JSON
 * writes it as {@code [count]}, {@code [count, sum, sumSquares]} or {@code [count, sum, sumSquares,
 * min, max]}; this class writes and reads exactly those forms, choosing the shortest that says it
 * as the node does, so a day read back from a node equals the day written.
 *
 * <p>Min and max are known unless the day was written without them with a count above 1 (what a
 * node kept before it recorded them). A day of one valued event written as {@code [1, v, v*v]}
 * reads with min and max {@code v}.
 *
 * <p>Concurrency: immutable.
 */
public final class DayTotals {
  private static final DayTotals[] NO_VALUES = new DayTotals[16];

  static {
    for (int i = 0; i < NO_VALUES.length; i++) {
      NO_VALUES[i] = new DayTotals(i, 0.0, 0.0, Double.NaN, Double.NaN);
    }
  }

  /** The largest count a day holds (2^61 - 1), as the node stores it. */
  public static final long MAX_COUNT = Long.MAX_VALUE >>> 2;

  private final long count;
  private final double sum;
  private final double sumOfSquares;
  private final double min; // NaN when not known
  private final double max; // NaN when not known

  private DayTotals(long count, double sum, double sumOfSquares, double min, double max) {
    this.count = count;
    this.sum = sum;
    this.sumOfSquares = sumOfSquares;
    this.min = min;
    this.max = max;
  }

  /** A day of {@code count} events none of which carried a value: {@code [count]}. */
  public static DayTotals count(long count) {
    checkCount(count);
    return count < NO_VALUES.length
        ? NO_VALUES[(int) count]
        : new DayTotals(count, 0.0, 0.0, Double.NaN, Double.NaN);
  }

  /**
   * A day as {@code [count, sum, sumOfSquares]}: min and max not known, except for a count of 1,
   * where the one value is the sum. Sums both {@code +0.0} mean no event carried a value.
   */
  public static DayTotals of(long count, double sum, double sumOfSquares) {
    checkCount(count);
    finite(sum, "sum");
    finite(sumOfSquares, "sum of squares");
    if (bits(sum) == 0 && bits(sumOfSquares) == 0) {
      return count(count);
    }
    if (count == 1) {
      return new DayTotals(count, sum, sumOfSquares, sum, sum);
    }
    return new DayTotals(count, sum, sumOfSquares, Double.NaN, Double.NaN);
  }

  /** A day as {@code [count, sum, sumOfSquares, min, max]}. */
  public static DayTotals of(long count, double sum, double sumOfSquares, double min, double max) {
    checkCount(count);
    finite(sum, "sum");
    finite(sumOfSquares, "sum of squares");
    finite(min, "min");
    finite(max, "max");
    if (!(min <= max)) {
      throw new IllegalArgumentException("min " + min + " is above max " + max);
    }
    return new DayTotals(count, sum, sumOfSquares, min, max);
  }

  /** The totals of {@code values} as one day's valued events, plus {@code withoutValue} more. */
  public static DayTotals ofValues(long withoutValue, double... values) {
    if (values.length == 0) {
      return count(withoutValue);
    }
    double sum = 0;
    double squares = 0;
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      finite(v, "value");
      sum += v;
      squares += v * v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return of(withoutValue + values.length, sum, squares, min, max);
  }

  private static void checkCount(long count) {
    if (count < 0 || count > MAX_COUNT) {
      throw new IllegalArgumentException(
          "a day's count is 0 to " + MAX_COUNT + " events, got " + count);
    }
  }

  private static void finite(double d, String what) {
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException("a day's " + what + " is finite, got " + d);
    }
  }

  private static long bits(double d) {
    return Double.doubleToRawLongBits(d);
  }

  /** Events on the day. */
  public long count() {
    return count;
  }

  /** The sum of the values the day's events carried ({@code 0.0} when none did). */
  public double sum() {
    return sum;
  }

  /** The sum of the squares of those values. */
  public double sumOfSquares() {
    return sumOfSquares;
  }

  /** Whether some event of the day carried a value. */
  public boolean hasValues() {
    return bits(sum) != 0 || bits(sumOfSquares) != 0 || !Double.isNaN(min);
  }

  /** The smallest value, when known. */
  public OptionalDouble min() {
    return Double.isNaN(min) ? OptionalDouble.empty() : OptionalDouble.of(min);
  }

  /** The largest value, when known. */
  public OptionalDouble max() {
    return Double.isNaN(max) ? OptionalDouble.empty() : OptionalDouble.of(max);
  }

  /**
   * How many numbers the JSON form has: 1, 3 or 5. Min and max are written exactly when the shorter
   * form would not read back as this day (more than one valued event, one among value-less ones, or
   * one of value 0), as the node decides.
   */
  int jsonLength() {
    if (Double.isNaN(min)) {
      return bits(sum) == 0 && bits(sumOfSquares) == 0 ? 1 : 3;
    }
    boolean oneValue = bits(min) == bits(sum) && bits(max) == bits(sum);
    boolean readsAsOne = count == 1 && (bits(sum) != 0 || bits(sumOfSquares) != 0);
    return oneValue && readsAsOne ? 3 : 5;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DayTotals d
        && count == d.count
        && bits(sum) == bits(d.sum)
        && bits(sumOfSquares) == bits(d.sumOfSquares)
        && bits(min) == bits(d.min)
        && bits(max) == bits(d.max);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(count) * 31 + Double.hashCode(sum);
  }

  /** The JSON form, {@code [2, 99.0, 4900.5, 49.5, 49.5]}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("[").append(count);
    int n = jsonLength();
    if (n > 1) {
      b.append(", ").append(sum).append(", ").append(sumOfSquares);
    }
    if (n > 3) {
      b.append(", ").append(min).append(", ").append(max);
    }
    return b.append(']').toString();
  }
}

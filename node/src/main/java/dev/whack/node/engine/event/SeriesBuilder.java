package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * A mutable, decoded event series used while applying an update or loading a profile: sorted days
 * with count, sum, sum of squares and (per {@link SeriesCodec}'s kinds) min and max of the valued
 * events, and the series' first and last event times. Reused across updates.
 *
 * <p>Min and max are of the events that carry a value: an event without one counts (count, and avg
 * as 0, as always) but is neither a min nor a max, so {@code max(purchase, 30d)} is the largest
 * purchase amount whether or not some purchases came without one. A day's kind says how many of its
 * events carried a value (none, one, more), which is all an added event needs to keep min and max
 * exact; a day whose min and max were never kept (UNKNOWN) stays so until it leaves retention.
 *
 * <p>First and last time: the earliest and latest event time the node has applied to the series,
 * kept when the days they fell on are pruned, and forgotten with the series once it has no bucket
 * left. A series given without them (an older snapshot or document) starts from the midnights of
 * its oldest and newest days.
 *
 * <p>Concurrency: not thread-safe; owned by one writer at a time.
 */
public final class SeriesBuilder {
  private int[] days = new int[8];
  private long[] counts = new long[8];
  private byte[] kinds = new byte[8];
  private double[] sums = new double[8];
  private double[] squares = new double[8];
  private double[] mins = new double[8];
  private double[] maxes = new double[8];
  private int size;
  private long firstMillis;
  private long lastMillis;
  private boolean timesKnown;

  public void clear() {
    size = 0;
    timesKnown = false;
  }

  public int size() {
    return size;
  }

  public int day(int i) {
    return days[i];
  }

  public long count(int i) {
    return counts[i];
  }

  public double sum(int i) {
    return sums[i];
  }

  public double sumSquares(int i) {
    return squares[i];
  }

  /** The bucket's {@link SeriesCodec} kind: how many of its events carried a value. */
  public int kind(int i) {
    return kinds[i];
  }

  /** Smallest value of the day's valued events (meaningful for kinds ONE and MANY). */
  public double min(int i) {
    return mins[i];
  }

  /** Largest value of the day's valued events (meaningful for kinds ONE and MANY). */
  public double max(int i) {
    return maxes[i];
  }

  /** Earliest event time, epoch ms (derived from the oldest day when never given). */
  public long firstMillis() {
    return timesKnown ? firstMillis : size == 0 ? 0 : Days.startOf(days[0]);
  }

  /** Latest event time, epoch ms (derived from the newest day when never given). */
  public long lastMillis() {
    return timesKnown ? lastMillis : size == 0 ? 0 : Days.startOf(days[size - 1]);
  }

  /** Sets the first and last event times, as a whole profile gives them. */
  public void times(long first, long last) {
    firstMillis = first;
    lastMillis = last;
    timesKnown = true;
  }

  /**
   * Decodes the series that starts at {@code pos} (either layout); returns the position after it.
   */
  public int load(byte[] b, int pos) {
    clear();
    boolean legacy = SeriesCodec.legacy(b, pos);
    if (!legacy) {
      pos++;
    }
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int day = 0;
    for (int i = 0; i < n; i++) {
      day = i == 0 ? (int) Bytes.zigzag(b, pos) : day + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      long word = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      int kind = legacy ? SeriesCodec.legacyKind(word) : (int) (word & 3);
      long count = legacy ? word >>> 1 : word >>> 2;
      double sum = 0;
      double sq = 0;
      double min = 0;
      double max = 0;
      if (kind != SeriesCodec.NONE) {
        sum = Bytes.float64(b, pos);
        sq = Bytes.float64(b, pos + 8);
        min = sum;
        max = sum;
        if (kind == SeriesCodec.MANY) {
          min = Bytes.float64(b, pos + 16);
          max = Bytes.float64(b, pos + 24);
        }
        pos += SeriesCodec.payloadBytes(kind);
      }
      append(day, count, kind, sum, sq, min, max);
    }
    if (legacy) {
      times(Days.startOf(days[0]), Days.startOf(days[size - 1]));
    } else {
      long first = Days.startOf(days[0]) + Bytes.zigzag(b, pos);
      pos = Bytes.next(b, pos);
      long last = Days.startOf(days[size - 1]) + Bytes.zigzag(b, pos);
      pos = Bytes.next(b, pos);
      times(first, last);
    }
    return pos;
  }

  private void append(
      int day, long count, int kind, double sum, double sq, double min, double max) {
    if (size == days.length) {
      int cap = size * 2;
      days = Arrays.copyOf(days, cap);
      counts = Arrays.copyOf(counts, cap);
      kinds = Arrays.copyOf(kinds, cap);
      sums = Arrays.copyOf(sums, cap);
      squares = Arrays.copyOf(squares, cap);
      mins = Arrays.copyOf(mins, cap);
      maxes = Arrays.copyOf(maxes, cap);
    }
    days[size] = day;
    counts[size] = count;
    kinds[size] = (byte) kind;
    sums[size] = sum;
    squares[size] = sq;
    mins[size] = min;
    maxes[size] = max;
    size++;
  }

  /**
   * Adds one event at {@code timeMillis} (on {@code day}, its UTC day), with {@code value} when
   * {@code hasValue}.
   */
  public void addEvent(int day, long timeMillis, boolean hasValue, double value) {
    if (hasValue) {
      add(day, 1, SeriesCodec.ONE, value, value * value, value, value);
    } else {
      add(day, 1, SeriesCodec.NONE, 0, 0, 0, 0);
    }
    if (!timesKnown) {
      times(timeMillis, timeMillis);
    } else {
      firstMillis = Math.min(firstMillis, timeMillis);
      lastMillis = Math.max(lastMillis, timeMillis);
    }
  }

  /**
   * Adds a bucket's worth to the bucket of {@code day}, creating it in order; buckets stay sorted
   * and unique. {@code kind} says how many of the added events carried a value; {@code min} and
   * {@code max} matter for ONE (where they equal {@code sum}) and MANY.
   */
  public void add(int day, long count, int kind, double sum, double sq, double min, double max) {
    int i = size - 1;
    while (i >= 0 && days[i] > day) {
      i--;
    }
    if (i >= 0 && days[i] == day) {
      counts[i] += count;
      sums[i] += sum;
      squares[i] += sq;
      int had = kinds[i];
      if (kind == SeriesCodec.NONE) {
        return;
      }
      if (had == SeriesCodec.NONE) {
        kinds[i] = (byte) kind;
        mins[i] = min;
        maxes[i] = max;
      } else if (had == SeriesCodec.UNKNOWN || kind == SeriesCodec.UNKNOWN) {
        kinds[i] = SeriesCodec.UNKNOWN;
      } else {
        kinds[i] = SeriesCodec.MANY;
        mins[i] = Math.min(mins[i], min);
        maxes[i] = Math.max(maxes[i], max);
      }
      return;
    }
    append(0, 0, 0, 0, 0, 0, 0);
    int at = i + 1;
    int tail = size - 1 - at;
    System.arraycopy(days, at, days, at + 1, tail);
    System.arraycopy(counts, at, counts, at + 1, tail);
    System.arraycopy(kinds, at, kinds, at + 1, tail);
    System.arraycopy(sums, at, sums, at + 1, tail);
    System.arraycopy(squares, at, squares, at + 1, tail);
    System.arraycopy(mins, at, mins, at + 1, tail);
    System.arraycopy(maxes, at, maxes, at + 1, tail);
    days[at] = day;
    counts[at] = count;
    kinds[at] = (byte) kind;
    sums[at] = sum;
    squares[at] = sq;
    mins[at] = min;
    maxes[at] = max;
  }

  /**
   * Drops buckets before {@code oldestDay} and buckets with a zero count. The first and last times
   * stay: they are the series' own, not a day's.
   */
  public void prune(int oldestDay) {
    int w = 0;
    for (int r = 0; r < size; r++) {
      if (days[r] >= oldestDay && counts[r] > 0) {
        days[w] = days[r];
        counts[w] = counts[r];
        kinds[w] = kinds[r];
        sums[w] = sums[r];
        squares[w] = squares[r];
        mins[w] = mins[r];
        maxes[w] = maxes[r];
        w++;
      }
    }
    size = w;
  }

  /** Bytes {@link #encode} writes (nothing is written for an empty series: it is dropped). */
  public int encodedSize() {
    int n = 1 + ByteSink.varintSize(size);
    for (int i = 0; i < size; i++) {
      long day = days[i];
      n += ByteSink.varintSize(i == 0 ? (day << 1) ^ (day >> 63) : days[i] - days[i - 1]);
      n += ByteSink.varintSize((counts[i] << 2) | kinds[i]) + SeriesCodec.payloadBytes(kinds[i]);
    }
    return n
        + ByteSink.varintSize(zigzag(firstMillis() - Days.startOf(days[0])))
        + ByteSink.varintSize(zigzag(lastMillis() - Days.startOf(days[size - 1])));
  }

  /** Writes the encoded series, in the current layout, of a builder with at least one bucket. */
  public void encode(ByteSink sink) {
    sink.writeByte(SeriesCodec.MARK);
    sink.writeVarint(size);
    for (int i = 0; i < size; i++) {
      if (i == 0) {
        sink.writeZigzag(days[0]);
      } else {
        sink.writeVarint(days[i] - days[i - 1]);
      }
      int kind = kinds[i];
      sink.writeVarint((counts[i] << 2) | kind);
      if (kind != SeriesCodec.NONE) {
        sink.writeDouble(sums[i]);
        sink.writeDouble(squares[i]);
        if (kind == SeriesCodec.MANY) {
          sink.writeDouble(mins[i]);
          sink.writeDouble(maxes[i]);
        }
      }
    }
    sink.writeZigzag(firstMillis() - Days.startOf(days[0]));
    sink.writeZigzag(lastMillis() - Days.startOf(days[size - 1]));
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }
}

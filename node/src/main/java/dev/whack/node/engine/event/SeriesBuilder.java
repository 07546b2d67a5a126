package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * A mutable, decoded event series used while applying an update or loading a profile: sorted days
 * with count, sum and sum of squares. Reused across updates.
 *
 * <p>Concurrency: not thread-safe; owned by one writer at a time.
 */
public final class SeriesBuilder {
  private int[] days = new int[8];
  private long[] counts = new long[8];
  private double[] sums = new double[8];
  private double[] squares = new double[8];
  private int size;

  public void clear() {
    size = 0;
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

  /** Decodes the series whose bucket count is at {@code pos}; returns the position after it. */
  public int load(byte[] b, int pos) {
    clear();
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int day = 0;
    for (int i = 0; i < n; i++) {
      day = i == 0 ? (int) Bytes.zigzag(b, pos) : day + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      long countFlag = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      double sum = 0;
      double sq = 0;
      if ((countFlag & 1) != 0) {
        sum = Bytes.float64(b, pos);
        sq = Bytes.float64(b, pos + 8);
        pos += 16;
      }
      append(day, countFlag >>> 1, sum, sq);
    }
    return pos;
  }

  private void append(int day, long count, double sum, double sq) {
    if (size == days.length) {
      int cap = size * 2;
      days = Arrays.copyOf(days, cap);
      counts = Arrays.copyOf(counts, cap);
      sums = Arrays.copyOf(sums, cap);
      squares = Arrays.copyOf(squares, cap);
    }
    days[size] = day;
    counts[size] = count;
    sums[size] = sum;
    squares[size] = sq;
    size++;
  }

  /** Adds to the bucket of {@code day}, creating it in order; buckets stay sorted and unique. */
  public void add(int day, long count, double sum, double sq) {
    int i = size - 1;
    while (i >= 0 && days[i] > day) {
      i--;
    }
    if (i >= 0 && days[i] == day) {
      counts[i] += count;
      sums[i] += sum;
      squares[i] += sq;
      return;
    }
    append(0, 0, 0, 0);
    int at = i + 1;
    int tail = size - 1 - at;
    System.arraycopy(days, at, days, at + 1, tail);
    System.arraycopy(counts, at, counts, at + 1, tail);
    System.arraycopy(sums, at, sums, at + 1, tail);
    System.arraycopy(squares, at, squares, at + 1, tail);
    days[at] = day;
    counts[at] = count;
    sums[at] = sum;
    squares[at] = sq;
  }

  /** Drops buckets before {@code oldestDay} and buckets with a zero count. */
  public void prune(int oldestDay) {
    int w = 0;
    for (int r = 0; r < size; r++) {
      if (days[r] >= oldestDay && counts[r] > 0) {
        days[w] = days[r];
        counts[w] = counts[r];
        sums[w] = sums[r];
        squares[w] = squares[r];
        w++;
      }
    }
    size = w;
  }

  /** Bytes {@link #encode} writes. */
  public int encodedSize() {
    int n = ByteSink.varintSize(size);
    for (int i = 0; i < size; i++) {
      long day = days[i];
      n += ByteSink.varintSize(i == 0 ? (day << 1) ^ (day >> 63) : days[i] - days[i - 1]);
      boolean valued =
          Double.doubleToRawLongBits(sums[i]) != 0 || Double.doubleToRawLongBits(squares[i]) != 0;
      n += ByteSink.varintSize((counts[i] << 1) | (valued ? 1 : 0)) + (valued ? 16 : 0);
    }
    return n;
  }

  /** Writes the encoded series (bucket count first). */
  public void encode(ByteSink sink) {
    sink.writeVarint(size);
    for (int i = 0; i < size; i++) {
      if (i == 0) {
        sink.writeZigzag(days[0]);
      } else {
        sink.writeVarint(days[i] - days[i - 1]);
      }
      boolean valued =
          Double.doubleToRawLongBits(sums[i]) != 0 || Double.doubleToRawLongBits(squares[i]) != 0;
      sink.writeVarint((counts[i] << 1) | (valued ? 1 : 0));
      if (valued) {
        sink.writeDouble(sums[i]);
        sink.writeDouble(squares[i]);
      }
    }
  }
}

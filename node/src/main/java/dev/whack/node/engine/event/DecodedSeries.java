package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * The event series of one profile, decoded from their varints into flat primitive arrays on first
 * use, and the window and decay functions over them.
 *
 * <p>Why: one profile's evaluation reads the same series many times. BenchData's 50 segments read
 * {@code view} in eight window and decay predicates and {@code buy} in nine, and a window
 * comparison that works out until when its answer holds reads its series again for every future day
 * on which the window's content changes. Decoding the varints was a third of an update's engine CPU
 * (JFR on UpdateCost: {@code Bytes.varint} under {@code SeriesCodec.window} and its callers); a
 * window pass over decoded buckets is a short loop over a few ints and doubles.
 *
 * <p>A series is decoded once per {@link #clear()}: the owner clears it whenever it reads another
 * profile. Reusable: decoding allocates nothing once the arrays have grown to the largest profile
 * seen.
 *
 * <p>Concurrency: not thread-safe; each evaluating thread owns one.
 */
public final class DecodedSeries {
  private int[] day = new int[64];
  private long[] count = new long[64];
  private double[] sum = new double[64];
  private double[] sumSquares = new double[64];

  /**
   * Per bucket, min and max of its valued events: +inf and -inf (neutral) when none carried a
   * value, NaN when they are not known ({@link SeriesCodec#UNKNOWN}), so a window's min and max are
   * plain {@code Math.min}/{@code Math.max} folds that come out NaN exactly when one is unknown.
   */
  private double[] min = new double[64];

  private double[] max = new double[64];

  /** Buckets decoded since the last clear, over every series. */
  private int size;

  /** Per event id: its first bucket and bucket count, valid when its stamp is the current one. */
  private int[] first = new int[16];

  private int[] length = new int[16];
  private int[] decodedStamp = new int[16];
  private long[] firstMillis = new long[16];
  private long[] lastMillis = new long[16];
  private int stamp = 1;

  /** Forgets every decoded series: the next reads decode from the profile then read. */
  public void clear() {
    size = 0;
    if (++stamp == Integer.MAX_VALUE) {
      Arrays.fill(decodedStamp, 0);
      stamp = 1;
    }
  }

  /**
   * Makes the series of {@code eventId}, whose bucket count is at {@code pos} in {@code b}, ready
   * for {@link #window} and {@link #decayed}; decodes it unless it was decoded since the last
   * {@link #clear()} (the caller guarantees it is the same profile's).
   */
  public void decode(int eventId, byte[] b, int pos) {
    if (eventId >= decodedStamp.length) {
      int cap = Math.max(eventId + 1, decodedStamp.length * 2);
      first = Arrays.copyOf(first, cap);
      length = Arrays.copyOf(length, cap);
      decodedStamp = Arrays.copyOf(decodedStamp, cap);
      firstMillis = Arrays.copyOf(firstMillis, cap);
      lastMillis = Arrays.copyOf(lastMillis, cap);
    } else if (decodedStamp[eventId] == stamp) {
      return;
    }
    boolean legacy = SeriesCodec.legacy(b, pos);
    if (!legacy) {
      pos++;
    }
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    if (size + n > day.length) {
      int cap = Math.max(size + n, day.length * 2);
      day = Arrays.copyOf(day, cap);
      count = Arrays.copyOf(count, cap);
      sum = Arrays.copyOf(sum, cap);
      sumSquares = Arrays.copyOf(sumSquares, cap);
      min = Arrays.copyOf(min, cap);
      max = Arrays.copyOf(max, cap);
    }
    int d = 0;
    for (int i = size; i < size + n; i++) {
      d = i == size ? (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      long word = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      int kind = legacy ? SeriesCodec.legacyKind(word) : (int) (word & 3);
      day[i] = d;
      count[i] = legacy ? word >>> 1 : word >>> 2;
      if (kind == SeriesCodec.NONE) {
        sum[i] = 0;
        sumSquares[i] = 0;
        min[i] = Double.POSITIVE_INFINITY;
        max[i] = Double.NEGATIVE_INFINITY;
      } else {
        sum[i] = Bytes.float64(b, pos);
        sumSquares[i] = Bytes.float64(b, pos + 8);
        if (kind == SeriesCodec.ONE) {
          min[i] = sum[i];
          max[i] = sum[i];
        } else if (kind == SeriesCodec.MANY) {
          min[i] = Bytes.float64(b, pos + 16);
          max[i] = Bytes.float64(b, pos + 24);
        } else {
          min[i] = Double.NaN;
          max[i] = Double.NaN;
        }
        pos += SeriesCodec.payloadBytes(kind);
      }
    }
    if (legacy) {
      firstMillis[eventId] = Days.startOf(day[size]);
      lastMillis[eventId] = Days.startOf(day[size + n - 1]);
    } else {
      firstMillis[eventId] = Days.startOf(day[size]) + Bytes.zigzag(b, pos);
      pos = Bytes.next(b, pos);
      lastMillis[eventId] = Days.startOf(day[size + n - 1]) + Bytes.zigzag(b, pos);
    }
    first[eventId] = size;
    length[eventId] = n;
    decodedStamp[eventId] = stamp;
    size += n;
  }

  /**
   * Count, sum, sum of squares, min and max of the decoded series of {@code eventId} over the last
   * {@code days} days ending {@code today}.
   */
  public void window(int eventId, int today, int days, WindowResult out) {
    out.reset();
    int from = today - days + 1;
    for (int i = first[eventId], end = i + length[eventId]; i < end; i++) {
      int d = day[i];
      if (d > today) {
        out.nextChangeDay = Math.min(out.nextChangeDay, d);
        out.future = true;
      } else if (d >= from) {
        out.count += count[i];
        out.sum += sum[i];
        out.sumSquares += sumSquares[i];
        out.min = Math.min(out.min, min[i]);
        out.max = Math.max(out.max, max[i]);
        out.nextChangeDay = Math.min(out.nextChangeDay, d + days);
      }
    }
  }

  /** Earliest event time of the decoded series of {@code eventId}, epoch ms. */
  public long firstMillis(int eventId) {
    return firstMillis[eventId];
  }

  /** Latest event time of the decoded series of {@code eventId}, epoch ms. */
  public long lastMillis(int eventId) {
    return lastMillis[eventId];
  }

  /**
   * Exponentially decayed event count of the decoded series of {@code eventId}: each bucket weighs
   * {@code 2^(-age/halfLife)} with its age in whole days (today's bucket weighs 1), over buckets no
   * older than {@code oldestDay}. Changes every midnight while any such bucket exists.
   */
  public void decayed(
      int eventId, int today, int oldestDay, double halfLifeDays, WindowResult out) {
    out.reset();
    for (int i = first[eventId], end = i + length[eventId]; i < end; i++) {
      int d = day[i];
      if (d > today) {
        out.nextChangeDay = Math.min(out.nextChangeDay, d);
        out.future = true;
      } else if (d >= oldestDay) {
        out.decayed += count[i] * Math.pow(2, -(today - d) / halfLifeDays);
        out.oldestCounted = Math.min(out.oldestCounted, d);
        out.count += count[i];
        out.nextChangeDay = Math.min(out.nextChangeDay, today + 1);
      }
    }
  }
}

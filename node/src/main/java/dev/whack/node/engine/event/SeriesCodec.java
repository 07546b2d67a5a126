package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;

/**
 * The encoded form of one event series inside a profile ({@link DecodedSeries} reads it for the
 * window functions, {@link SeriesBuilder} to change it).
 *
 * <p>Layout (after the series' event id):
 *
 * <pre>
 * byte 0                       marks this layout (an older series starts with its bucket count, never 0)
 * varint n                     buckets, oldest first, each:
 *     day                      zigzag absolute for the first, varint delta after
 *     varint (count &lt;&lt; 2 | kind)
 *     kind ONE:     f64 sum, f64 sumSquares          exactly one valued event: min = max = sum
 *     kind MANY:    f64 sum, f64 sumSquares, f64 min, f64 max
 *     kind UNKNOWN: f64 sum, f64 sumSquares          valued events whose min and max were never kept
 *     kind NONE:    nothing                          no event of the day carried a value
 * zigzag (first - start of the first bucket's day)   first and last event time, epoch ms
 * zigzag (last - start of the last bucket's day)
 * </pre>
 *
 * Sparse by design: a profile that saw one event in 60 days stores one bucket of 3 to 4 bytes, not
 * 61 slots; value-less events (page views) cost no doubles, and a day of one valued event no more
 * than its sum. Min and max cost 16 bytes only on days with more than one valued event. The times
 * are stored against the bucket days they usually fall in, so each takes about 4 bytes.
 *
 * <p>The older layout (written before min, max and the times existed, and still in snapshots and in
 * profiles no write has touched since) is {@code varint n} then buckets of {@code varint (count <<
 * 1 | hasValues)} with sum and sum of squares when hasValues. Every reader takes both: such a
 * bucket with values is ONE when its count is 1 (the one event's value is the sum) and UNKNOWN
 * otherwise, without values NONE; its first and last times are the midnights (UTC) of its oldest
 * and newest days. A write re-encodes a series it touches in the current layout.
 *
 * <p>Windows cover whole UTC days: "last N days" is today and the N-1 days before it, so every
 * window aggregate is constant between midnights, and {@link WindowResult#nextChangeDay} says
 * exactly on which midnight a bucket leaves the window (or a future-dated one enters it).
 */
public final class SeriesCodec {
  /** No event of the day carried a value. */
  public static final int NONE = 0;

  /** Exactly one event of the day carried a value: min = max = sum. */
  public static final int ONE = 1;

  /** More than one valued event: min and max are stored. */
  public static final int MANY = 2;

  /** Valued events whose min and max are not known (kept before min and max were). */
  public static final int UNKNOWN = 3;

  /** The largest count a bucket holds: it is stored shifted left by two bits. */
  public static final long MAX_COUNT = Long.MAX_VALUE >>> 2;

  /** The first byte of a series in the current layout. */
  static final int MARK = 0;

  private SeriesCodec() {}

  /** Whether the series at {@code pos} is in the older layout (no min, max or times). */
  public static boolean legacy(byte[] b, int pos) {
    return b[pos] != MARK;
  }

  /** Bytes of doubles after a bucket's count word of {@code kind}. */
  public static int payloadBytes(int kind) {
    return kind == NONE ? 0 : kind == MANY ? 32 : 16;
  }

  /** The kind of an older layout's bucket. */
  public static int legacyKind(long countFlag) {
    return (countFlag & 1) == 0 ? NONE : (countFlag >>> 1) == 1 ? ONE : UNKNOWN;
  }

  /**
   * The kind of a bucket given whole (Profile JSON, protobuf) without min and max: NONE when sum
   * and sum of squares are both +0.0, else ONE for a count of 1 and UNKNOWN above.
   */
  public static int kindWithout(long count, double sum, double sumSquares) {
    if (Double.doubleToRawLongBits(sum) == 0 && Double.doubleToRawLongBits(sumSquares) == 0) {
      return NONE;
    }
    return count == 1 ? ONE : UNKNOWN;
  }

  /** The kind of a bucket given whole with min and max: ONE when both are its sum, else MANY. */
  public static int kindWith(double sum, double min, double max) {
    long bits = Double.doubleToRawLongBits(sum);
    return Double.doubleToRawLongBits(min) == bits && Double.doubleToRawLongBits(max) == bits
        ? ONE
        : MANY;
  }

  /**
   * Whether a bucket's written form carries min and max: exactly when {@link #kindWithout} would
   * not read the right kind back without them (so a round trip keeps every bucket's kind).
   */
  public static boolean writesMinMax(int kind, long count, double sum, double sumSquares) {
    return kind == MANY || kind == ONE && kindWithout(count, sum, sumSquares) != ONE;
  }

  /** Position after the series that starts at {@code pos}. */
  public static int skip(byte[] b, int pos) {
    boolean legacy = legacy(b, pos);
    if (!legacy) {
      pos++;
    }
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    for (int i = 0; i < n; i++) {
      pos = Bytes.next(b, pos);
      long word = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      pos += payloadBytes(legacy ? legacyKind(word) : (int) (word & 3));
    }
    return legacy ? pos : Bytes.next(b, Bytes.next(b, pos));
  }

  /** Copies the encoded series at {@code pos} into {@code sink}; returns the position after it. */
  public static int copy(byte[] b, int pos, ByteSink sink) {
    int end = skip(b, pos);
    sink.writeBytes(b, pos, end - pos);
    return end;
  }
}

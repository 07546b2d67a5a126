package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;

/**
 * The encoded form of one event series inside a profile ({@link DecodedSeries} reads it for the
 * window functions).
 *
 * <p>Layout (after the series' event id): {@code varint n}, then n buckets oldest first, each
 * {@code day} (zigzag absolute for the first, varint delta after), {@code varint (count << 1 |
 * hasValues)}, and when hasValues two little-endian doubles, sum and sum of squares. Sparse by
 * design: a profile that saw one event in 60 days stores one bucket of 3 to 4 bytes, not 61 slots;
 * value-less events (page views) cost no doubles.
 *
 * <p>Windows cover whole UTC days: "last N days" is today and the N-1 days before it, so every
 * window aggregate is constant between midnights, and {@link WindowResult#nextChangeDay} says
 * exactly on which midnight a bucket leaves the window (or a future-dated one enters it).
 */
public final class SeriesCodec {
  private SeriesCodec() {}

  /** Position after the series whose bucket count is at {@code pos}. */
  public static int skip(byte[] b, int pos) {
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    for (int i = 0; i < n; i++) {
      pos = Bytes.next(b, pos);
      long countFlag = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      if ((countFlag & 1) != 0) {
        pos += 16;
      }
    }
    return pos;
  }

  /** Copies the encoded series at {@code pos} into {@code sink}; returns the position after it. */
  public static int copy(byte[] b, int pos, ByteSink sink) {
    int end = skip(b, pos);
    sink.writeBytes(b, pos, end - pos);
    return end;
  }
}

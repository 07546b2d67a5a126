package dev.whack.node.engine.event;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;

/**
 * The encoded form of one event series inside a profile, and the window functions over it.
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

  /** Count, sum and sum of squares over the last {@code days} days ending {@code today}. */
  public static void window(byte[] b, int pos, int today, int days, WindowResult out) {
    out.reset();
    int from = today - days + 1;
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int day = 0;
    for (int i = 0; i < n; i++) {
      day = i == 0 ? (int) Bytes.zigzag(b, pos) : day + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      long countFlag = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      boolean valued = (countFlag & 1) != 0;
      if (day > today) {
        out.nextChangeDay = Math.min(out.nextChangeDay, day);
        out.future = true;
      } else if (day >= from) {
        out.count += countFlag >>> 1;
        if (valued) {
          out.sum += Bytes.float64(b, pos);
          out.sumSquares += Bytes.float64(b, pos + 8);
        }
        out.nextChangeDay = Math.min(out.nextChangeDay, day + days);
      }
      if (valued) {
        pos += 16;
      }
    }
  }

  /**
   * Exponentially decayed event count: each bucket weighs {@code 2^(-age/halfLife)} with its age in
   * whole days (today's bucket weighs 1), over buckets no older than {@code oldestDay}. Changes
   * every midnight while any such bucket exists.
   */
  public static void decayed(
      byte[] b, int pos, int today, int oldestDay, double halfLifeDays, WindowResult out) {
    out.reset();
    int n = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int day = 0;
    for (int i = 0; i < n; i++) {
      day = i == 0 ? (int) Bytes.zigzag(b, pos) : day + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      long countFlag = Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
      if (day > today) {
        out.nextChangeDay = Math.min(out.nextChangeDay, day);
        out.future = true;
      } else if (day >= oldestDay) {
        out.decayed += (countFlag >>> 1) * Math.pow(2, -(today - day) / halfLifeDays);
        out.oldestCounted = Math.min(out.oldestCounted, day);
        out.count += countFlag >>> 1;
        out.nextChangeDay = Math.min(out.nextChangeDay, today + 1);
      }
      if ((countFlag & 1) != 0) {
        pos += 16;
      }
    }
  }

  /** Copies the encoded series at {@code pos} into {@code sink}; returns the position after it. */
  public static int copy(byte[] b, int pos, ByteSink sink) {
    int end = skip(b, pos);
    sink.writeBytes(b, pos, end - pos);
    return end;
  }
}

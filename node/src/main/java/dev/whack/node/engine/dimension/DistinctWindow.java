package dev.whack.node.engine.dimension;

import com.dynatrace.hash4j.distinctcount.UltraLogLog;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * A profile's distinct values in one distinct dimension over a window of days: the union of the
 * days' sets when every day in the window is exact (then the count is exact, up to 32-bit hash
 * collisions), else the merge of their sketches with the exact days' hashes added (an estimate of
 * the dimension's precision, {@link DistinctCodec#relativeStandardError}). Reused: {@link #read}
 * starts afresh and allocates nothing once its scratch has grown.
 *
 * <p>A window of N days is today and the N-1 days before it (UTC), as event windows are; a day
 * dated after today counts from that day on. The value changes without a write only when a counted
 * day leaves the window or a future day enters it ({@link #nextChangeDay}).
 *
 * <p>Concurrency: not thread-safe; each reading thread owns one.
 */
public final class DistinctWindow {
  private int[] hashes = new int[64];
  private int n;
  private final UltraLogLog[] sketches = new UltraLogLog[DistinctCodec.MAX_PRECISION + 1];
  private final UltraLogLog[] days = new UltraLogLog[DistinctCodec.MAX_PRECISION + 1];
  private long value;
  private double estimate;
  private boolean exact;
  private int nextChangeDay;
  private boolean future;

  /**
   * Reads the payload at {@code pos} (a distinct entry's, or none when {@code pos < 0}) over the
   * last {@code window} days up to {@code today}.
   */
  public DistinctWindow read(byte[] b, int pos, int today, int window) {
    n = 0;
    nextChangeDay = Integer.MAX_VALUE;
    future = false;
    exact = true;
    value = 0;
    estimate = 0;
    if (pos < 0) {
      return this;
    }
    int sketchP = scan(b, pos, today, window, true);
    if (sketchP < 0) {
      Arrays.sort(hashes, 0, n);
      long distinct = 0;
      for (int i = 0; i < n; i++) {
        if (i == 0 || hashes[i] != hashes[i - 1]) {
          distinct++;
        }
      }
      value = distinct;
      estimate = distinct;
      return this;
    }
    exact = false;
    UltraLogLog acc = sketch(sketches, sketchP);
    for (int i = 0; i < n; i++) {
      acc.add(DistinctCodec.spread(hashes[i]));
    }
    mergeSketches(b, pos, today, window, acc);
    estimate = acc.getDistinctCountEstimate();
    value = Math.round(estimate);
    return this;
  }

  /** Adds the window's values of the payload at {@code pos} (none when negative) to {@code u}. */
  public void unionInto(DistinctUnion u, byte[] b, int pos, int today, int window) {
    if (pos < 0) {
      return;
    }
    n = 0;
    int oldest = today - window + 1;
    int count = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    for (int i = 0; i < count; i++) {
      d = i == 0 ? (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      if (d >= oldest && d <= today) {
        int start = Bytes.next(b, pos);
        int v = DistinctCodec.headerValue(b, pos);
        if (DistinctCodec.isSketch(b, pos)) {
          u.addSketch(b, start, v);
        } else {
          for (int k = 0; k < v; k++) {
            u.add(DistinctCodec.hashAt(b, start + 4 * k));
          }
        }
      }
      pos = DistinctCodec.skipBody(b, pos);
    }
  }

  /**
   * Collects the exact days' hashes in the window and works out the change days; returns the
   * precision of the sketches in the window, or -1 when there is none.
   */
  private int scan(byte[] b, int pos, int today, int window, boolean collect) {
    int oldest = today - window + 1;
    int count = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    int sketchP = -1;
    for (int i = 0; i < count; i++) {
      d = i == 0 ? (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      if (d >= oldest && d <= today) {
        nextChangeDay = Math.min(nextChangeDay, d + window); // the day it leaves the window
        int v = DistinctCodec.headerValue(b, pos);
        if (DistinctCodec.isSketch(b, pos)) {
          sketchP = sketchP < 0 ? v : Math.min(sketchP, v);
        } else if (collect) {
          int start = Bytes.next(b, pos);
          if (n + v > hashes.length) {
            hashes = Arrays.copyOf(hashes, Math.max(n + v, hashes.length * 2));
          }
          for (int k = 0; k < v; k++) {
            hashes[n++] = DistinctCodec.hashAt(b, start + 4 * k);
          }
        }
      } else if (d > today) {
        nextChangeDay = Math.min(nextChangeDay, d); // the day it enters
        future = true;
      }
      pos = DistinctCodec.skipBody(b, pos);
    }
    return sketchP;
  }

  private void mergeSketches(byte[] b, int pos, int today, int window, UltraLogLog acc) {
    int oldest = today - window + 1;
    int count = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    for (int i = 0; i < count; i++) {
      d = i == 0 ? (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      if (d >= oldest && d <= today && DistinctCodec.isSketch(b, pos)) {
        int p = DistinctCodec.headerValue(b, pos);
        UltraLogLog day = sketch(days, p);
        System.arraycopy(b, Bytes.next(b, pos), day.getState(), 0, 1 << p);
        acc.add(p == acc.getP() ? day : day.downsize(acc.getP()));
      }
      pos = DistinctCodec.skipBody(b, pos);
    }
  }

  /** A reused, emptied sketch of precision {@code p}. */
  private static UltraLogLog sketch(UltraLogLog[] cache, int p) {
    UltraLogLog s = cache[p];
    if (s == null) {
      s = cache[p] = UltraLogLog.create(p);
    } else {
      s.reset();
    }
    return s;
  }

  /** The number of distinct values: exact, or the estimate rounded. */
  public long value() {
    return value;
  }

  /** The estimate before rounding (the exact count when {@link #exact}). */
  public double estimate() {
    return estimate;
  }

  /** Whether {@link #value} is an exact count (every day in the window kept its set). */
  public boolean exact() {
    return exact;
  }

  /**
   * The first day (days since the epoch) on which the value read can change without a write: a
   * counted day leaves the window, or a future-dated day enters it; MAX_VALUE: never.
   */
  public int nextChangeDay() {
    return nextChangeDay;
  }

  /** Whether the payload has days after the day read (they enter the window later). */
  public boolean future() {
    return future;
  }
}

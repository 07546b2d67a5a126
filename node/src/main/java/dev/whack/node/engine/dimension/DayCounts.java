package dev.whack.node.engine.dimension;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;

/**
 * The counts part of a profile's dimensions section ({@link DimensionSection}): every categorical
 * and numeric dimension's (day, category, count), day-major, and a cursor that walks them.
 *
 * <pre>
 * varint days, then per day, oldest first:
 *   the day: the first as a zigzag varint from 2020-01-01 ({@link #EPOCH_DAY}, 2 bytes for this
 *            century's first decades), the others as a varint delta from the day before
 *   varint entries, then per entry (one dimension's counts that day, by ascending id):
 *     varint idGap &lt;&lt; 2 | p: idGap is the id (the day's first) or its gap to the previous
 *            one minus one; p + 1 pairs for p &lt; 3, else a varint pairs - 4 follows
 *     per pair, by ascending category: varint gap &lt;&lt; 2 | c: gap is the category (the entry's
 *            first) or its gap to the previous one minus one; a count of c + 1 for c &lt; 3, else
 *            a varint count - 4 follows
 * </pre>
 *
 * So a dimension whose one category below 32 was counted up to three times on a day costs that day
 * two bytes, and the day's date is written once for all the dimensions counted on it. A part
 * without days is written as nothing at all.
 *
 * <p>A reader of one dimension walks every entry (skipping other dimensions' pairs costs a varint
 * each): a profile holds a few hundred bytes of counts, and one pass over them is cheaper than the
 * per-dimension lengths and dates a dimension-major layout would keep.
 *
 * <p>Concurrency: a cursor is not thread-safe (each reader owns one); the static methods are.
 */
public final class DayCounts {
  /** 2020-01-01 in days since 1970: the origin of the first day. */
  static final int EPOCH_DAY = 18_262;

  private byte[] b;
  private int pos;
  private int daysLeft;
  private int entriesLeft;
  private long pairsLeft;
  private boolean firstDay;
  private int day;
  private int id;
  private int category;
  private long count;

  /** Starts walking the counts at {@code start} of {@code blob} (its end: none). */
  public DayCounts reset(byte[] blob, int start) {
    b = blob;
    pos = start;
    daysLeft = 0;
    if (start < blob.length) {
      daysLeft = Bytes.varintInt(blob, start);
      pos = Bytes.next(blob, start);
    }
    entriesLeft = 0;
    pairsLeft = 0;
    firstDay = true;
    return this;
  }

  /**
   * Moves to the next (day, dimension) entry, past the pairs of this one not read yet; false when
   * there is none.
   */
  public boolean nextEntry() {
    while (pairsLeft > 0) {
      nextPair();
    }
    while (entriesLeft == 0) {
      if (daysLeft == 0) {
        return false;
      }
      daysLeft--;
      day = firstDay ? EPOCH_DAY + (int) Bytes.zigzag(b, pos) : day + Bytes.varintInt(b, pos);
      firstDay = false;
      pos = Bytes.next(b, pos);
      entriesLeft = Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      id = -1;
    }
    entriesLeft--;
    long head = Bytes.varint(b, pos);
    pos = Bytes.next(b, pos);
    id += 1 + (int) (head >>> 2);
    pairsLeft = (head & 3) + 1;
    if (pairsLeft == 4) {
      pairsLeft += Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
    }
    category = -1;
    return true;
  }

  /** Moves to the entry's next (category, count); false when the entry has no more. */
  public boolean nextPair() {
    if (pairsLeft == 0) {
      return false;
    }
    pairsLeft--;
    long v = Bytes.varint(b, pos);
    pos = Bytes.next(b, pos);
    category += 1 + (int) (v >>> 2);
    count = (v & 3) + 1;
    if (count == 4) {
      count += Bytes.varint(b, pos);
      pos = Bytes.next(b, pos);
    }
    return true;
  }

  /** The entry's day (days since 1970). */
  public int day() {
    return day;
  }

  /** The entry's dimension id. */
  public int id() {
    return id;
  }

  /** Number of pairs of the entry not read yet. */
  public long pairsLeft() {
    return pairsLeft;
  }

  /** The pair's category. */
  public int category() {
    return category;
  }

  /** The pair's count. */
  public long count() {
    return count;
  }

  /** A day's {@code "YYYY-MM-DD":{},} (any 32-bit day), or its protobuf message's framing. */
  public static final int RENDERED_DAY_BYTES = 16 + 4;

  /** A pair's quotes, colon, widest count and comma, or its protobuf map entry's framing. */
  public static final int RENDERED_PAIR_BYTES = 2 + 1 + 20 + 1 + 8;

  /**
   * The most one byte of counts renders to in either rendering of a profile: a one-byte pair of the
   * longest label, each byte escaped in six (a category's label lives in the dimension, not the
   * profile, {@link dev.whack.node.engine.profile.RenderedSize}).
   */
  public static final int MAX_RENDERED_BYTES_PER_BYTE =
      6 * CategoryTable.MAX_VALUE_BYTES + RENDERED_PAIR_BYTES;

  /**
   * Writes the counts of {@code n} dimensions (builder {@code counts[i]} holds dimension {@code
   * ids[i]}'s, ids ascending, each builder non-empty) to {@code out}, or only measures them when
   * {@code out} is null; returns the size. {@code at} is scratch of at least {@code n} ints.
   */
  public static int encode(DimensionBuilder[] counts, int[] ids, int n, int[] at, ByteSink out) {
    java.util.Arrays.fill(at, 0, n, 0);
    int days = 0;
    for (int d = nextDay(counts, n, at); d != Integer.MAX_VALUE; d = nextDay(counts, n, at)) {
      days++;
      for (int i = 0; i < n; i++) {
        while (at[i] < counts[i].size() && counts[i].day(at[i]) == d) {
          at[i]++;
        }
      }
    }
    if (days == 0) {
      return 0;
    }
    java.util.Arrays.fill(at, 0, n, 0);
    int bytes = varint(out, days);
    int previousDay = 0;
    for (int k = 0; k < days; k++) {
      int d = nextDay(counts, n, at);
      bytes += k == 0 ? varint(out, zigzag(d - EPOCH_DAY)) : varint(out, d - previousDay);
      previousDay = d;
      int entries = 0;
      for (int i = 0; i < n; i++) {
        entries += at[i] < counts[i].size() && counts[i].day(at[i]) == d ? 1 : 0;
      }
      bytes += varint(out, entries);
      int previousId = -1;
      for (int i = 0; i < n; i++) {
        DimensionBuilder c = counts[i];
        int from = at[i];
        int to = from;
        while (to < c.size() && c.day(to) == d) {
          to++;
        }
        if (to == from) {
          continue;
        }
        long pairs = to - from;
        bytes += varint(out, (long) (ids[i] - previousId - 1) << 2 | Math.min(pairs - 1, 3));
        if (pairs >= 4) {
          bytes += varint(out, pairs - 4);
        }
        previousId = ids[i];
        int previous = -1;
        for (int p = from; p < to; p++) {
          long count = c.count(p);
          bytes += varint(out, (long) (c.category(p) - previous - 1) << 2 | Math.min(count - 1, 3));
          if (count >= 4) {
            bytes += varint(out, count - 4);
          }
          previous = c.category(p);
        }
        at[i] = to;
      }
    }
    return bytes;
  }

  /** The earliest day any builder has at its cursor, or MAX_VALUE when all are done. */
  private static int nextDay(DimensionBuilder[] counts, int n, int[] at) {
    int d = Integer.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      if (at[i] < counts[i].size()) {
        d = Math.min(d, counts[i].day(at[i]));
      }
    }
    return d;
  }

  private static int varint(ByteSink out, long v) {
    if (out != null) {
      out.writeVarint(v);
    }
    return ByteSink.varintSize(v);
  }

  static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }
}

package dev.whack.node.engine.dimension;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * One profile's counts in one dimension, decoded for a write: (day, category, count) sorted by day
 * then category. Reused across writes.
 *
 * <p>Payload layout (see {@link DimensionSection}): {@code varint days}, then per day oldest first
 * the day (the first as a zigzag varint from 2020-01-01, {@link #EPOCH_DAY}, so 2 bytes for this
 * century's first decades; the others as a varint delta), {@code varint pairs} and per pair one
 * varint {@code gap << 2 | c}: {@code gap} is the category (for the first of the day) or its gap to
 * the previous one minus one, and a count of 1 to 3 is {@code c + 1}, while {@code c = 3} says a
 * varint {@code count - 4} follows. So a pair of a category below 32 counted up to 3 times is one
 * byte, and a profile that saw one red car in a dimension on one day keeps 5 bytes for it.
 *
 * <p>Concurrency: not thread-safe; owned by one writer at a time.
 */
public final class DimensionBuilder {
  private int[] day = new int[8];
  private int[] category = new int[8];
  private long[] count = new long[8];
  private int size;

  /** 2020-01-01 in days since 1970: the origin of each payload's first day. */
  static final int EPOCH_DAY = 18_262;

  public void clear() {
    size = 0;
  }

  /** Number of (day, category) pairs. */
  public int size() {
    return size;
  }

  public int day(int i) {
    return day[i];
  }

  public int category(int i) {
    return category[i];
  }

  public long count(int i) {
    return count[i];
  }

  /** Decodes the payload at {@code pos}; returns the position after it. */
  public int load(byte[] b, int pos) {
    clear();
    int days = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    for (int i = 0; i < days; i++) {
      d = i == 0 ? EPOCH_DAY + (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      int pairs = Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      int c = -1;
      for (int k = 0; k < pairs; k++) {
        long v = Bytes.varint(b, pos);
        pos = Bytes.next(b, pos);
        c += 1 + (int) (v >>> 2);
        long n = (v & 3) + 1;
        if (n == 4) {
          n += Bytes.varint(b, pos);
          pos = Bytes.next(b, pos);
        }
        append(d, c, n);
      }
    }
    return pos;
  }

  /** Counts {@code n} more of {@code cat} on {@code d}. */
  public void add(int d, int cat, long n) {
    int i = size;
    while (i > 0 && (day[i - 1] > d || (day[i - 1] == d && category[i - 1] > cat))) {
      i--;
    }
    if (i > 0 && day[i - 1] == d && category[i - 1] == cat) {
      count[i - 1] += n;
      return;
    }
    grow();
    System.arraycopy(day, i, day, i + 1, size - i);
    System.arraycopy(category, i, category, i + 1, size - i);
    System.arraycopy(count, i, count, i + 1, size - i);
    day[i] = d;
    category[i] = cat;
    count[i] = n;
    size++;
  }

  /** Appends a pair that sorts after every pair held (a decoder's or a whole profile's). */
  public void append(int d, int cat, long n) {
    grow();
    day[size] = d;
    category[size] = cat;
    count[size++] = n;
  }

  /**
   * An upper bound of the bytes either rendering of a profile takes for the categorical or numeric
   * payload at {@code pos} of dimension {@code d} (each day's {@code "YYYY-MM-DD":{...}}, each
   * pair's label escaped at six bytes a byte and its count), without allocating: a category's label
   * lives in the dimension, not the profile, so a one-byte pair may render to a kilobyte and a half
   * ({@link dev.whack.node.engine.profile.RenderedSize}).
   */
  public static long renderedBound(byte[] b, int pos, Dimension d) {
    long total = 0;
    int days = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    for (int i = 0; i < days; i++) {
      pos = Bytes.next(b, pos); // the day
      int pairs = Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      total += RENDERED_DAY_BYTES;
      int c = -1;
      for (int k = 0; k < pairs; k++) {
        long v = Bytes.varint(b, pos);
        pos = Bytes.next(b, pos);
        c += 1 + (int) (v >>> 2);
        if ((v & 3) == 3) {
          pos = Bytes.next(b, pos);
        }
        total += 6L * d.labelBytes(c).length + RENDERED_PAIR_BYTES;
      }
    }
    return total;
  }

  /** A day's {@code "YYYY-MM-DD":{},} (any 32-bit day), or its protobuf message's framing. */
  private static final int RENDERED_DAY_BYTES = 16 + 4;

  /** A pair's quotes, colon, widest count and comma, or its protobuf map entry's framing. */
  private static final int RENDERED_PAIR_BYTES = 2 + 1 + 20 + 1 + 8;

  /** The most one compact byte of a payload renders to: a pair of the longest label. */
  public static final int MAX_RENDERED_BYTES_PER_BYTE =
      6 * CategoryTable.MAX_VALUE_BYTES + RENDERED_PAIR_BYTES;

  /** Forgets the days before {@code oldest}. */
  public void prune(int oldest) {
    int from = 0;
    while (from < size && day[from] < oldest) {
      from++;
    }
    if (from > 0) {
      System.arraycopy(day, from, day, 0, size - from);
      System.arraycopy(category, from, category, 0, size - from);
      System.arraycopy(count, from, count, 0, size - from);
      size -= from;
    }
  }

  public int encodedSize() {
    return encode(null);
  }

  /** Writes the payload to {@code out} (or only measures it, when null); returns its size. */
  public int encode(ByteSink out) {
    int days = 0;
    for (int i = 0; i < size; i++) {
      if (i == 0 || day[i] != day[i - 1]) {
        days++;
      }
    }
    int bytes = ByteSink.varintSize(days);
    if (out != null) {
      out.writeVarint(days);
    }
    int i = 0;
    while (i < size) {
      int d = day[i];
      int end = i;
      while (end < size && day[end] == d) {
        end++;
      }
      long dayField = i == 0 ? zigzag(d - EPOCH_DAY) : d - day[i - 1];
      bytes += ByteSink.varintSize(dayField) + ByteSink.varintSize(end - i);
      if (out != null) {
        out.writeVarint(dayField);
        out.writeVarint(end - i);
      }
      int previous = -1;
      for (int k = i; k < end; k++) {
        long gap = category[k] - previous - 1;
        long n = count[k];
        long pair = gap << 2 | Math.min(n - 1, 3);
        bytes += ByteSink.varintSize(pair) + (n >= 4 ? ByteSink.varintSize(n - 4) : 0);
        if (out != null) {
          out.writeVarint(pair);
          if (n >= 4) {
            out.writeVarint(n - 4);
          }
        }
        previous = category[k];
      }
      i = end;
    }
    return bytes;
  }

  private void grow() {
    if (size == day.length) {
      int cap = size * 2;
      day = Arrays.copyOf(day, cap);
      category = Arrays.copyOf(category, cap);
      count = Arrays.copyOf(count, cap);
    }
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }
}

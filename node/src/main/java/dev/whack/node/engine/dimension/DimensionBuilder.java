package dev.whack.node.engine.dimension;

import java.util.Arrays;

/**
 * One profile's counts in one dimension, decoded for a write or a read: (day, category, count)
 * sorted by day then category. Stored day-major with every other dimension's ({@link DayCounts}).
 * Reused across writes.
 *
 * <p>Concurrency: not thread-safe; owned by one writer or reader at a time.
 */
public final class DimensionBuilder {
  private int[] day = new int[8];
  private int[] category = new int[8];
  private long[] count = new long[8];
  private int size;
  private final DayCounts cursor = new DayCounts();

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

  /**
   * Decodes dimension {@code id}'s counts from the counts at {@code countsStart} ({@link
   * DayCounts}; the blob's end: none).
   */
  public void load(byte[] blob, int countsStart, int id) {
    clear();
    DayCounts c = cursor.reset(blob, countsStart);
    while (c.nextEntry()) {
      if (c.id() == id) {
        while (c.nextPair()) {
          append(c.day(), c.category(), c.count());
        }
      }
    }
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

  private void grow() {
    if (size == day.length) {
      int cap = size * 2;
      day = Arrays.copyOf(day, cap);
      category = Arrays.copyOf(category, cap);
      count = Arrays.copyOf(count, cap);
    }
  }
}

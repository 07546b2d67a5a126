package dev.whack.node.engine.segment;

import java.util.concurrent.atomic.AtomicLong;
import org.roaringbitmap.PeekableIntIterator;
import org.roaringbitmap.RoaringBitmap;

/**
 * A set of profile ordinals split by the high 16 bits of the ordinal, which is exactly how
 * RoaringBitmap splits its containers: partition {@code p} holds ordinals {@code [p << 16, (p + 1)
 * << 16)} in one container of at most 8 KiB.
 *
 * <p>Concurrency: RoaringBitmap is unsynchronized by design, so each partition is guarded by its
 * own monitor. A writer holds one partition's monitor for one add or remove (tens of nanoseconds).
 * A reader holds a partition's monitor while it counts, copies or pages through that partition only
 * (a few microseconds for a full 65,536-ordinal container), so a query over a million members never
 * blocks an update for longer than one partition's work. A reader that needs two bitmaps at once
 * ({@link #andCardinality}) takes their monitors in the order of {@link #order}, and writers never
 * hold two, so there is no lock-order cycle. The partition array grows copy-on-write under this
 * object's monitor and is read through a volatile field.
 */
public final class PartitionedBitmap {
  private static final AtomicLong SEQUENCE = new AtomicLong();
  static final int SHIFT = 16;

  private final long order = SEQUENCE.incrementAndGet();
  private volatile RoaringBitmap[] parts = new RoaringBitmap[0];

  /** Adds {@code ordinal}; true when it was absent. */
  public boolean add(int ordinal) {
    RoaringBitmap p = partition(ordinal >>> SHIFT, true);
    synchronized (p) {
      return p.checkedAdd(ordinal);
    }
  }

  /** Removes {@code ordinal}; true when it was present. */
  public boolean remove(int ordinal) {
    RoaringBitmap p = partition(ordinal >>> SHIFT, false);
    if (p == null) {
      return false;
    }
    synchronized (p) {
      return p.checkedRemove(ordinal);
    }
  }

  public boolean contains(int ordinal) {
    RoaringBitmap p = partition(ordinal >>> SHIFT, false);
    if (p == null) {
      return false;
    }
    synchronized (p) {
      return p.contains(ordinal);
    }
  }

  /** Number of partitions that may hold members. */
  public int partitionCount() {
    return parts.length;
  }

  public long cardinality() {
    long n = 0;
    for (RoaringBitmap p : parts) {
      synchronized (p) {
        n += p.getLongCardinality();
      }
    }
    return n;
  }

  /** A private copy of partition {@code index} (empty if there is none). */
  public RoaringBitmap copy(int index) {
    RoaringBitmap p = partition(index, false);
    if (p == null) {
      return new RoaringBitmap();
    }
    synchronized (p) {
      return p.clone();
    }
  }

  /** Cardinality of partition {@code index}. */
  public long cardinality(int index) {
    RoaringBitmap p = partition(index, false);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      return p.getLongCardinality();
    }
  }

  /**
   * |a AND b| partition by partition, holding each pair of partition monitors only for its count.
   */
  public static long andCardinality(PartitionedBitmap a, PartitionedBitmap b) {
    PartitionedBitmap first = a.order <= b.order ? a : b;
    PartitionedBitmap second = first == a ? b : a;
    int n = Math.min(a.partitionCount(), b.partitionCount());
    long total = 0;
    for (int i = 0; i < n; i++) {
      RoaringBitmap x = first.partition(i, false);
      RoaringBitmap y = second.partition(i, false);
      if (x == null || y == null) {
        continue;
      }
      synchronized (x) {
        synchronized (y) {
          total += RoaringBitmap.andCardinality(x, y);
        }
      }
    }
    return total;
  }

  /**
   * Copies up to {@code limit} members at or after {@code from} within partition {@code index} into
   * {@code out}; returns how many.
   */
  public int page(int index, int from, int[] out, int limit) {
    RoaringBitmap p = partition(index, false);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      PeekableIntIterator it = p.getIntIterator();
      it.advanceIfNeeded(from);
      int n = 0;
      while (n < limit && it.hasNext()) {
        out[n++] = it.next();
      }
      return n;
    }
  }

  private RoaringBitmap partition(int index, boolean create) {
    RoaringBitmap[] p = parts;
    if (index < p.length) {
      return p[index];
    }
    if (!create) {
      return null;
    }
    synchronized (this) {
      p = parts;
      if (index < p.length) {
        return p[index];
      }
      RoaringBitmap[] grown = java.util.Arrays.copyOf(p, index + 1);
      for (int i = p.length; i <= index; i++) {
        grown[i] = new RoaringBitmap();
      }
      parts = grown;
      return grown[index];
    }
  }

  /** Approximate heap bytes held (for stats). */
  public long sizeInBytes() {
    long n = 16L + 4L * parts.length;
    for (RoaringBitmap p : parts) {
      synchronized (p) {
        n += p.getLongSizeInBytes();
      }
    }
    return n;
  }
}

package dev.whack.node.engine.segment;

import java.util.Arrays;
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
 *
 * <h2>Entered times</h2>
 *
 * A bitmap made by {@link #timed()} (a segment's members) also keeps, for each member, the second
 * it entered (unsigned int seconds since the epoch: until 2106), in {@code int[]}s aligned with the
 * members' rank: one per block of 4,096 ordinals of a partition, whose {@code i}-th smallest
 * member's time is at {@code i}. Adding or removing a member shifts the times after it in its block
 * ({@code System.arraycopy}, under the partition's monitor, like the bitmap change); an array grows
 * by an eighth and shrinks when half full. So a membership costs 4 bytes and no object, {@link
 * #contains} is what it was, and only a membership change or a read of a time ({@link
 * #enteredSeconds}) pays a {@code rank} (a binary search in an array container, at most 1,024
 * popcounts in a bitmap one) and a shift of at most 4,096 ints; an add above every member (a
 * backfill walks ordinals upwards, new profiles take rising ones) needs neither. Blocks rather than
 * one array per partition, as first built: with one, a change in a partition of 11,000 members
 * moved 22 KB on average and cost 1.65 us against 0.11 us without times; with blocks 0.44 us, the
 * rank now most of it (measured with 50 segments of 1M ordinals at 1/6 density, 2 loaded cores). A
 * map from ordinal to time would cost an object or 8 bytes a member plus its load factor; a time
 * per ordinal slot (dense) would cost 4 bytes for every profile, member or not. The bitmap of every
 * profile ({@link #PartitionedBitmap()}) keeps no times.
 */
public final class PartitionedBitmap {
  private static final AtomicLong SEQUENCE = new AtomicLong();
  static final int SHIFT = 16;

  /** {@link #enteredSeconds} of an ordinal that is not a member. */
  public static final long NOT_MEMBER = -1;

  private final long order = SEQUENCE.incrementAndGet();
  private final boolean timed;
  private volatile Partition[] parts = new Partition[0];

  /** Ordinals per block of entered times: 16 blocks of 4,096 in a partition. */
  private static final int BLOCK_SHIFT = 12;

  private static final int BLOCKS = 1 << (SHIFT - BLOCK_SHIFT);

  /**
   * One partition: its members and, in a timed bitmap, their entered times by rank within each
   * block of 4,096 ordinals ({@code entered[b][i]} is the time of the {@code i}-th smallest member
   * of block {@code b}, which has {@code used[b]} members). Guarded by its own monitor.
   */
  private static final class Partition {
    final RoaringBitmap bits = new RoaringBitmap();
    int[][] entered;
    int[] used;

    /** The largest member of a timed partition, or -1: an add above it appends. */
    int max = -1;

    /** Members of the blocks before {@code block}. */
    int before(int block) {
      int n = 0;
      for (int b = 0; b < block; b++) {
        n += used[b];
      }
      return n;
    }
  }

  /** A set of ordinals without entered times (every profile of the node). */
  public PartitionedBitmap() {
    this(false);
  }

  private PartitionedBitmap(boolean timed) {
    this.timed = timed;
  }

  /** A set of ordinals that keeps each member's entered time (a segment's members). */
  public static PartitionedBitmap timed() {
    return new PartitionedBitmap(true);
  }

  /** Adds {@code ordinal}; true when it was absent. A timed bitmap records second 0 for it. */
  public boolean add(int ordinal) {
    return add(ordinal, 0);
  }

  /**
   * Adds {@code ordinal}, entered at {@code enteredSeconds} (unsigned seconds since the epoch, see
   * {@link #seconds}); true when it was absent. A member already there keeps its time.
   */
  public boolean add(int ordinal, int enteredSeconds) {
    Partition p = partition(ordinal >>> SHIFT, true);
    synchronized (p) {
      if (!p.bits.checkedAdd(ordinal)) {
        return false;
      }
      if (timed) {
        if (p.entered == null) {
          p.entered = new int[BLOCKS][];
          p.used = new int[BLOCKS];
        }
        int b = (ordinal >>> BLOCK_SHIFT) & (BLOCKS - 1);
        int n = ++p.used[b];
        // Appending (a backfill walks ordinals upwards, new profiles take rising ones) needs no
        // rank and moves nothing.
        int at;
        if (ordinal > p.max) {
          at = n - 1;
          p.max = ordinal;
        } else {
          at = p.bits.rank(ordinal) - 1 - p.before(b);
        }
        int[] e = p.entered[b];
        if (e == null || n > e.length) {
          // Grown by an eighth: at most 4.5 bytes a membership rather than 6 with ArrayList's
          // half, for about eight ints copied per add.
          e = e == null ? new int[1] : Arrays.copyOf(e, n + (n >> 3));
          p.entered[b] = e;
        }
        System.arraycopy(e, at, e, at + 1, n - 1 - at);
        e[at] = enteredSeconds;
      }
      return true;
    }
  }

  /** Removes {@code ordinal}; true when it was present. */
  public boolean remove(int ordinal) {
    Partition p = partition(ordinal >>> SHIFT, false);
    if (p == null) {
      return false;
    }
    synchronized (p) {
      if (!timed) {
        return p.bits.checkedRemove(ordinal);
      }
      if (!p.bits.contains(ordinal)) {
        return false;
      }
      int b = (ordinal >>> BLOCK_SHIFT) & (BLOCKS - 1);
      int at = p.bits.rank(ordinal) - 1 - p.before(b);
      p.bits.remove(ordinal);
      if (ordinal == p.max) {
        p.max = p.bits.isEmpty() ? -1 : p.bits.last();
      }
      int n = --p.used[b];
      int[] e = p.entered[b];
      System.arraycopy(e, at + 1, e, at, n - at);
      if (n == 0) {
        p.entered[b] = null;
      } else if (n < e.length >> 1 && e.length > 16) {
        p.entered[b] = Arrays.copyOf(e, n + (n >> 3));
      }
      return true;
    }
  }

  /**
   * The second {@code ordinal} entered (unsigned, as {@link #add(int, int)} was given it, widened),
   * or {@link #NOT_MEMBER}. Always {@code 0} for a member of a bitmap that keeps no times.
   */
  public long enteredSeconds(int ordinal) {
    Partition p = partition(ordinal >>> SHIFT, false);
    if (p == null) {
      return NOT_MEMBER;
    }
    synchronized (p) {
      if (!p.bits.contains(ordinal)) {
        return NOT_MEMBER;
      }
      return timed ? Integer.toUnsignedLong(p.entered[block(ordinal)][rankInBlock(p, ordinal)]) : 0;
    }
  }

  /**
   * Sets the entered time of a member (a restore giving back the time a snapshot kept); false when
   * {@code ordinal} is not a member or the bitmap keeps no times.
   */
  public boolean setEntered(int ordinal, int enteredSeconds) {
    Partition p = partition(ordinal >>> SHIFT, false);
    if (p == null || !timed) {
      return false;
    }
    synchronized (p) {
      if (!p.bits.contains(ordinal)) {
        return false;
      }
      p.entered[block(ordinal)][rankInBlock(p, ordinal)] = enteredSeconds;
      return true;
    }
  }

  private static int block(int ordinal) {
    return (ordinal >>> BLOCK_SHIFT) & (BLOCKS - 1);
  }

  /** A member's place in its block's times. Caller holds the partition's monitor. */
  private static int rankInBlock(Partition p, int ordinal) {
    return p.bits.rank(ordinal) - 1 - p.before(block(ordinal));
  }

  /**
   * Epoch millis as the unsigned int seconds an entered time is kept in: rounded down to the
   * second, clamped to [1970, 2106).
   */
  public static int seconds(long millis) {
    return (int) Math.min(0xFFFF_FFFEL, Math.max(0, Math.floorDiv(millis, 1000)));
  }

  public boolean contains(int ordinal) {
    Partition p = partition(ordinal >>> SHIFT, false);
    if (p == null) {
      return false;
    }
    synchronized (p) {
      return p.bits.contains(ordinal);
    }
  }

  /** Number of partitions that may hold members. */
  public int partitionCount() {
    return parts.length;
  }

  public long cardinality() {
    long n = 0;
    for (Partition p : parts) {
      synchronized (p) {
        n += p.bits.getLongCardinality();
      }
    }
    return n;
  }

  /** A private copy of partition {@code index} (empty if there is none). */
  public RoaringBitmap copy(int index) {
    Partition p = partition(index, false);
    if (p == null) {
      return new RoaringBitmap();
    }
    synchronized (p) {
      return p.bits.clone();
    }
  }

  /** Cardinality of partition {@code index}. */
  public long cardinality(int index) {
    Partition p = partition(index, false);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      return p.bits.getLongCardinality();
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
      Partition x = first.partition(i, false);
      Partition y = second.partition(i, false);
      if (x == null || y == null) {
        continue;
      }
      synchronized (x) {
        synchronized (y) {
          total += RoaringBitmap.andCardinality(x.bits, y.bits);
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
    Partition p = partition(index, false);
    if (p == null) {
      return 0;
    }
    synchronized (p) {
      PeekableIntIterator it = p.bits.getIntIterator();
      it.advanceIfNeeded(from);
      int n = 0;
      while (n < limit && it.hasNext()) {
        out[n++] = it.next();
      }
      return n;
    }
  }

  private Partition partition(int index, boolean create) {
    Partition[] p = parts;
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
      Partition[] grown = Arrays.copyOf(p, index + 1);
      for (int i = p.length; i <= index; i++) {
        grown[i] = new Partition();
      }
      parts = grown;
      return grown[index];
    }
  }

  /** Approximate heap bytes held (for stats). */
  public long sizeInBytes() {
    long n = 16L + 4L * parts.length;
    for (Partition p : parts) {
      synchronized (p) {
        n += 32L + p.bits.getLongSizeInBytes();
        if (p.entered != null) {
          n += 2 * 80L;
          for (int[] e : p.entered) {
            n += e == null ? 0 : 16L + 4L * e.length;
          }
        }
      }
    }
    return n;
  }
}

package dev.whack.node.engine.segment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * One stripe of the node's change stream: enter/leave records in a byte array of fixed size,
 * appended by ingestion and read by every {@link Subscription} at its own position, the way
 * agrona's {@code BroadcastTransmitter} and {@code BroadcastReceiver} share one buffer. Nothing is
 * kept per reader, so a reader that stops costs the writers nothing; a reader that falls a whole
 * buffer behind is lapped: the records it had not read are gone, and it learns how many of its own
 * it lost from the per-segment counts kept here ({@link #snapshot}).
 *
 * <p>Record layout, 8-byte aligned: {@code int length} (of the whole record, padding included),
 * {@code int id} (the watched segment name's id in the hub, or {@link #PADDING} for the filler that
 * ends the array when a record does not fit before the end), {@code long time << 1 | enter}, {@code
 * short key length}, the key's bytes. Positions are byte offsets since the ring was made; a record
 * at position {@code p} sits at index {@code p & (capacity - 1)}.
 *
 * <p>Concurrency: writers append under this object's monitor (one ring per stripe of keys, so two
 * writers rarely meet; a profile's changes always go to the same ring, in order). A writer
 * announces the end of what it is about to write in {@code tailIntent} before writing and publishes
 * it in {@code tail} after; readers take no lock: they read records below {@code tail} and, after
 * copying one, check that {@code tailIntent} has not come within a buffer's length of it, which
 * would mean a writer may have overwritten it meanwhile (then they are lapped and the copy is
 * discarded). A reader's own position is its own.
 */
final class ChangeRing {
  /** The id of a filler record. */
  private static final int PADDING = -1;

  private static final int LENGTH_OFFSET = 0;
  private static final int ID_OFFSET = 4;
  private static final int TIME_OFFSET = 8;
  private static final int KEY_LENGTH_OFFSET = 16;
  static final int KEY_OFFSET = 18;

  /**
   * Blocks per ring for {@link #firstRecordFrom}: a lapped reader restarts at the first record of a
   * block, so it drops at most one block more than it must.
   */
  private static final int BLOCKS = 16;

  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle SHORT =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BLOCK_FIRST = MethodHandles.arrayElementVarHandle(long[].class);

  private final byte[] buffer;
  private final int capacity;
  private final int mask;
  private final int blockShift;

  /** Per block (by position, modulo {@link #BLOCKS}): the first record that starts in it. */
  private final long[] blockFirst = new long[BLOCKS];

  /** Per watched id: records appended to this ring. Guarded by this. */
  private final long[] published;

  /** Start of the last record appended. Guarded by this. */
  private long lastStart = -1;

  /** End of the last record that is completely written. */
  private volatile long tail;

  /** End of the record being written; equal to {@code tail} between appends. */
  private volatile long tailIntent;

  /**
   * @param capacity bytes, a power of two
   * @param ids how many watched ids there can be
   */
  ChangeRing(int capacity, int ids) {
    if (Integer.bitCount(capacity) != 1 || capacity < 1024) {
      throw new IllegalArgumentException("a change ring holds a power of two bytes: " + capacity);
    }
    this.buffer = new byte[capacity];
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.blockShift = Integer.numberOfTrailingZeros(capacity / BLOCKS);
    this.published = new long[ids];
    java.util.Arrays.fill(blockFirst, -1);
  }

  /** Bytes a record of a key this long takes. */
  static int recordLength(int keyLength) {
    return (KEY_OFFSET + keyLength + 7) & ~7;
  }

  int capacity() {
    return capacity;
  }

  /** Appends one change of the segment name with this id; never waits for a reader. */
  synchronized void append(int id, byte[] key, boolean enter, long timeMillis) {
    int length = recordLength(key.length);
    long t = tail;
    int index = (int) t & mask;
    int toEnd = capacity - index;
    long start = length > toEnd ? t + toEnd : t;
    tailIntent = start + length;
    // The intent must be visible before any byte it covers changes: a reader checks it after
    // copying.
    VarHandle.storeStoreFence();
    if (start != t) {
      INT.set(buffer, index + LENGTH_OFFSET, toEnd);
      INT.set(buffer, index + ID_OFFSET, PADDING);
      noteStart(t);
      index = 0;
    }
    INT.set(buffer, index + LENGTH_OFFSET, length);
    INT.set(buffer, index + ID_OFFSET, id);
    LONG.set(buffer, index + TIME_OFFSET, timeMillis << 1 | (enter ? 1 : 0));
    SHORT.set(buffer, index + KEY_LENGTH_OFFSET, (short) key.length);
    System.arraycopy(key, 0, buffer, index + KEY_OFFSET, key.length);
    noteStart(start);
    published[id]++;
    tail = start + length;
  }

  private void noteStart(long position) {
    if (lastStart < 0 || position >>> blockShift != lastStart >>> blockShift) {
      BLOCK_FIRST.setRelease(blockFirst, (int) (position >>> blockShift) & (BLOCKS - 1), position);
    }
    lastStart = position;
  }

  /**
   * The current tail, and for each id the records of it appended before that tail, read together
   * (writers wait meanwhile, for as long as it takes to copy {@code ids.length} counts).
   */
  synchronized long snapshot(int[] ids, long[] counts) {
    for (int i = 0; i < ids.length; i++) {
      counts[i] = published[ids[i]];
    }
    return tail;
  }

  long tail() {
    return tail;
  }

  long tailIntent() {
    return tailIntent;
  }

  /** True if a writer may have overwritten what lies at {@code position} (read it again: no). */
  boolean lapped(long position) {
    return tailIntent - capacity > position;
  }

  /**
   * The first record that starts at or after {@code position} in a block the ring still holds, or
   * -1 if none is known before {@code end}. The answer is a record boundary as long as nothing from
   * it on has been overwritten, which the caller checks after reading.
   */
  long firstRecordFrom(long position, long end) {
    int blockBytes = 1 << blockShift;
    long block = (position + blockBytes - 1) >>> blockShift;
    for (; block << blockShift < end; block++) {
      long first = (long) BLOCK_FIRST.getAcquire(blockFirst, (int) block & (BLOCKS - 1));
      if (first >= position && first >>> blockShift == block && first < end) {
        return first;
      }
    }
    return -1;
  }

  int index(long position) {
    return (int) position & mask;
  }

  int lengthAt(int index) {
    return (int) INT.get(buffer, index + LENGTH_OFFSET);
  }

  int idAt(int index) {
    return (int) INT.get(buffer, index + ID_OFFSET);
  }

  long timeAndKindAt(int index) {
    return (long) LONG.get(buffer, index + TIME_OFFSET);
  }

  int keyLengthAt(int index) {
    return (short) SHORT.get(buffer, index + KEY_LENGTH_OFFSET) & 0xFFFF;
  }

  void copyKey(int index, byte[] into, int length) {
    System.arraycopy(buffer, index + KEY_OFFSET, into, 0, length);
  }

  /**
   * Whether the length read at {@code index} can be a record's: a reader checks it before moving
   * on, since what it read may be a writer's half-written bytes (then the lap check rejects it).
   */
  boolean plausibleLength(int index, int length) {
    return length >= 8 && (length & 7) == 0 && length <= capacity - index;
  }
}

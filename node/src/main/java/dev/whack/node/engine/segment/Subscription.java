package dev.whack.node.engine.segment;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One subscriber's reading of the change stream: a position in each of the hub's {@link
 * ChangeRing}s and, per ring and watched segment, how many of that segment's records it has
 * accounted for (read, or counted as missed). Ingestion writes each change once, whoever watches;
 * this reader skips the records of segments it does not watch.
 *
 * <p>Lapped: when writers overwrite records this reader had not reached, it restarts at the oldest
 * block the ring still holds and counts exactly what it lost of its own segments: the ring's
 * per-segment counts at a tail, minus what it had accounted for, minus those records it still finds
 * between its new position and that tail. Records of segments it does not watch that were
 * overwritten cost it nothing.
 *
 * <p>Waking: {@link #next} returns false when the reader is level with every ring; {@link #arm}
 * then asks to be told (the {@code onChange} callback, run by the next writer of a watched segment)
 * instead of polling. A reader that is not armed, because it is busy or paused, is never called, so
 * an idle or stuck subscriber costs ingestion one volatile read per change of its segments.
 *
 * <p>Concurrency: one consumer thread calls {@link #next}, {@link #arm}, {@link #poll}, {@link
 * #drainTo} and {@link #takeMissed}; writers call {@link #wake} from any thread; {@link #lag},
 * {@link #overtaken} and {@link #close} are safe from any thread.
 */
public final class Subscription implements AutoCloseable {
  private static final VarHandle ARMED;
  private static final VarHandle CURSOR = MethodHandles.arrayElementVarHandle(long[].class);

  static {
    try {
      ARMED = MethodHandles.lookup().findVarHandle(Subscription.class, "armed", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ChangeHub hub;
  private final Set<String> segments;

  /** The watched names in a fixed order, as the hub's ids, as text and as UTF-8. */
  private final int[] ids;

  private final String[] names;
  private final byte[][] namesUtf8;

  /** Hub id -> index into {@link #ids}, or -1. */
  private final short[] localById;

  private final ChangeRing[] rings;

  /** Per ring: the position of the next record to read (written by the consumer only). */
  private final long[] cursor;

  /** Per ring and watched name: records accounted for, comparable with the ring's counts. */
  private final long[][] accounted;

  private final long[] counts;
  private final long[] inRing;
  private final byte[] key;
  private final Runnable onChange;
  private final AtomicLong listenerFailures = new AtomicLong();
  private int nextRing;
  private int lastRing;
  private long lastPosition;
  private long missedForPoll;
  private volatile int armed;
  private volatile boolean closed;

  /** Starts at the rings' current tails. The hub holds its monitor; writers may be appending. */
  Subscription(
      ChangeHub hub,
      Set<String> segments,
      List<String> order,
      int[] ids,
      ChangeRing[] rings,
      int maxKeyBytes,
      Runnable onChange) {
    this.hub = hub;
    this.key = new byte[maxKeyBytes];
    this.segments = segments;
    this.ids = ids;
    this.names = order.toArray(new String[0]);
    this.namesUtf8 = new byte[names.length][];
    int maxId = 0;
    for (int i = 0; i < names.length; i++) {
      namesUtf8[i] = names[i].getBytes(StandardCharsets.UTF_8);
      maxId = Math.max(maxId, ids[i]);
    }
    this.localById = new short[maxId + 1];
    Arrays.fill(localById, (short) -1);
    for (int i = 0; i < ids.length; i++) {
      localById[ids[i]] = (short) i;
    }
    this.rings = rings;
    this.cursor = new long[rings.length];
    this.accounted = new long[rings.length][ids.length];
    this.counts = new long[ids.length];
    this.inRing = new long[ids.length];
    for (int r = 0; r < rings.length; r++) {
      cursor[r] = rings[r].snapshot(ids, accounted[r]);
    }
    this.onChange = onChange;
  }

  public Set<String> segments() {
    return segments;
  }

  /**
   * The ring of the change {@link #next} delivered last. A profile's changes always go to the same
   * ring, in the order they happened.
   */
  public int lastRing() {
    return lastRing;
  }

  /**
   * The position in its ring of the change {@link #next} delivered last: it grows with every change
   * of the ring for as long as the ring lives (while anyone subscribes), so it orders one profile's
   * changes, and a change read by two subscriptions has the same position in both.
   */
  public long lastPosition() {
    return lastPosition;
  }

  /** Where this subscription stands in each ring (for a successor to know what it will read). */
  public long[] positions() {
    long[] positions = new long[cursor.length];
    for (int r = 0; r < cursor.length; r++) {
      positions[r] = (long) CURSOR.getOpaque(cursor, r);
    }
    return positions;
  }

  /**
   * Reads the next change of a watched segment into {@code sink}; if changes were lost just before
   * it, the sink hears {@link ChangeSink#missed} first, as one call of its own. Returns false when
   * nothing is waiting.
   */
  public boolean next(ChangeSink sink) {
    for (int tried = 0; tried < rings.length; tried++) {
      int r = nextRing;
      // One change per ring in turn, so that a busy ring does not starve (and lap) the others.
      nextRing = r + 1 == rings.length ? 0 : r + 1;
      if (readFrom(r, sink)) {
        return true;
      }
    }
    return false;
  }

  private boolean readFrom(int r, ChangeSink sink) {
    ChangeRing ring = rings[r];
    long c = cursor[r];
    long end = ring.tail();
    while (c < end) {
      if (ring.lapped(c)) {
        c = restart(r, sink);
        if (c < 0) {
          return true; // the sink heard how many were missed
        }
        end = ring.tail();
        continue;
      }
      int index = ring.index(c);
      int length = ring.lengthAt(index);
      int id = ring.idAt(index);
      int local = id >= 0 && id < localById.length ? localById[id] : -1;
      int keyLength = 0;
      long timeAndKind = 0;
      // A change record holds at least its header; a filler may be as short as 8 bytes.
      boolean plausible =
          ring.plausibleLength(index, length) && (id < 0 || length >= ChangeRing.recordLength(0));
      if (local >= 0 && plausible) {
        keyLength =
            Math.min(ring.keyLengthAt(index), Math.min(key.length, length - ChangeRing.KEY_OFFSET));
        timeAndKind = ring.timeAndKindAt(index);
        if (keyLength > 0) {
          ring.copyKey(index, key, keyLength);
        }
      }
      VarHandle.loadLoadFence();
      if (ring.lapped(c)) {
        continue; // overwritten while being read: the check at the top restarts
      }
      if (!plausible) {
        throw new IllegalStateException("change ring corrupt at " + c + ": length " + length);
      }
      lastRing = r;
      lastPosition = c;
      c += length;
      CURSOR.setOpaque(cursor, r, c);
      if (local >= 0) {
        accounted[r][local]++;
        sink.change(
            names[local],
            namesUtf8[local],
            key,
            keyLength,
            (timeAndKind & 1) != 0,
            timeAndKind >> 1);
        return true;
      }
    }
    CURSOR.setOpaque(cursor, r, c);
    return false;
  }

  /**
   * After a lap: moves to the oldest block of ring {@code r} it can still read, or to the tail, and
   * counts what was lost. Returns the new position, or -1 after telling the sink of a loss (the
   * position is then already set).
   */
  private long restart(int r, ChangeSink sink) {
    ChangeRing ring = rings[r];
    long tail = ring.snapshot(ids, counts);
    // Skip a quarter of the ring beyond what is being overwritten, so that the count below
    // usually finishes before writers reach it.
    long from = ring.firstRecordFrom(tail - ring.capacity() + ring.capacity() / 4, tail);
    Arrays.fill(inRing, 0);
    if (from >= 0 && !countFrom(ring, from, tail)) {
      Arrays.fill(inRing, 0);
      from = -1;
    }
    long position = from >= 0 ? from : tail;
    long lost = 0;
    for (int i = 0; i < ids.length; i++) {
      long accountedNow = counts[i] - inRing[i];
      lost += accountedNow - accounted[r][i];
      accounted[r][i] = accountedNow;
    }
    CURSOR.setOpaque(cursor, r, position);
    if (lost > 0) {
      sink.missed(lost);
      return -1;
    }
    return position;
  }

  /** Counts the records of each watched name in [from, to); false if overwritten meanwhile. */
  private boolean countFrom(ChangeRing ring, long from, long to) {
    long p = from;
    while (p < to) {
      int index = ring.index(p);
      int length = ring.lengthAt(index);
      if (!ring.plausibleLength(index, length)) {
        return false;
      }
      int id = ring.idAt(index);
      if (id >= 0 && id < localById.length && localById[id] >= 0) {
        inRing[localById[id]]++;
      }
      p += length;
    }
    VarHandle.loadLoadFence();
    return p == to && !ring.lapped(from);
  }

  /**
   * Asks to be woken by the next change of a watched segment, after {@link #next} returned false.
   * Returns false if a change arrived in between (read again rather than wait): a writer that
   * published before the request was seen did not wake this reader.
   */
  public boolean arm() {
    armed = 1;
    for (int r = 0; r < rings.length; r++) {
      if (cursor[r] < rings[r].tail()) {
        return !ARMED.compareAndSet(this, 1, 0); // if a writer took it, the wake-up is on its way
      }
    }
    return true;
  }

  /** Called by a writer after a change of a watched segment: wakes the reader if it is waiting. */
  void wake() {
    if (armed == 1 && ARMED.compareAndSet(this, 1, 0) && onChange != null) {
      try {
        onChange.run();
      } catch (RuntimeException listenerFailure) {
        // The listener runs on an ingesting thread inside a write; its failure must not undo or
        // interrupt that write. The change is in the ring either way.
        listenerFailures.incrementAndGet();
      }
    }
  }

  /**
   * True if a writer has overwritten records this reader had not reached (it will lose some, or has
   * skipped nothing of its own but must catch up); from any thread.
   */
  public boolean overtaken() {
    for (int r = 0; r < rings.length; r++) {
      if (rings[r].lapped((long) CURSOR.getOpaque(cursor, r))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Changes of the watched segments written and not yet read (some of which may be lost already);
   * from any thread, approximate while writers write.
   */
  public long lag() {
    long[] published = new long[ids.length];
    long lag = 0;
    for (int r = 0; r < rings.length; r++) {
      rings[r].snapshot(ids, published);
      for (int i = 0; i < ids.length; i++) {
        lag += published[i] - accounted[r][i];
      }
    }
    return Math.max(0, lag);
  }

  // Convenience for in-process readers: one change at a time as an object.

  /**
   * The next change, or null when none is waiting; changes lost before it go to {@link
   * #takeMissed}.
   */
  public SegmentChange poll() {
    SegmentChange[] got = new SegmentChange[1];
    ChangeSink sink =
        new ChangeSink() {
          @Override
          public void change(
              String segment, byte[] utf8, byte[] k, int keyLength, boolean enter, long time) {
            got[0] =
                new SegmentChange(
                    segment, new String(k, 0, keyLength, StandardCharsets.ISO_8859_1), enter, time);
          }

          @Override
          public void missed(long count) {
            missedForPoll += count;
          }
        };
    while (got[0] == null && next(sink)) {
      // a missed notice alone: keep reading
    }
    return got[0];
  }

  /** Moves up to {@code max} waiting changes into {@code out}; returns how many. */
  public int drainTo(Collection<? super SegmentChange> out, int max) {
    int n = 0;
    SegmentChange c;
    while (n < max && (c = poll()) != null) {
      out.add(c);
      n++;
    }
    return n;
  }

  /** Changes lost before those {@link #poll} returned since the last call; resets the count. */
  public long takeMissed() {
    long m = missedForPoll;
    missedForPoll = 0;
    return m;
  }

  /** How many times the onChange listener threw (each swallowed to protect ingestion). */
  public long listenerFailures() {
    return listenerFailures.get();
  }

  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      hub.unsubscribe(this);
    }
  }
}

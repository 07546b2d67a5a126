package dev.whack.node.engine.dimension;

import com.dynatrace.hash4j.distinctcount.StateChangeObserver;
import com.dynatrace.hash4j.distinctcount.UltraLogLog;
import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * One profile's data in one distinct dimension, for a write ({@link DistinctCodec} has the layout).
 * A write usually touches one day of many, so the builder reads only where each day starts and
 * copies the days it did not change byte for byte; a day it changes is decoded into a reused slot.
 * Reused across writes: in the steady state a write allocates nothing here (a day's first sketch
 * allocates its register array once per slot).
 *
 * <p>Concurrency: not thread-safe; owned by one writer at a time.
 */
public final class DistinctBuilder {
  /** A changed day: its hashes (sorted unsigned) or, past the threshold, its sketch registers. */
  private static final class Slot {
    int[] hashes = new int[8];
    int n;
    byte[] registers;
    boolean sketch;
  }

  private int p = DistinctCodec.DEFAULT_PRECISION;
  private byte[] src;
  private int size;
  private int[] day = new int[8];
  private int[] srcPos = new int[8]; // the day's body in src, or -1 when it is in a slot
  private int[] slotOf = new int[8];
  private Slot[] slots = new Slot[2];
  private int slotsUsed;
  private boolean changed;
  private final StateChangeObserver observer = probabilityDecrement -> changed = true;

  /** Starts an empty payload at precision {@code precision}. */
  public void clear(int precision) {
    p = precision;
    src = null;
    size = 0;
    slotsUsed = 0;
  }

  /** Reads where the days of the payload at {@code pos} start; returns the position after it. */
  public int load(int precision, byte[] b, int pos) {
    clear(precision);
    src = b;
    int days = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    for (int i = 0; i < days; i++) {
      d = i == 0 ? (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      insertDay(size, d, pos, -1);
      pos = DistinctCodec.skipBody(b, pos);
    }
    return pos;
  }

  /** Number of days held. */
  public int size() {
    return size;
  }

  public int day(int i) {
    return day[i];
  }

  /**
   * Adds the value of hash {@code hash} on day {@code d}.
   *
   * @return whether the day changed (false when it held the value already, or its sketch did not
   *     move: then no answer that reads it can change)
   */
  public boolean add(int d, int hash) {
    Slot s = slot(indexOf(d));
    if (s.sketch) {
      return addToSketch(s, hash);
    }
    int at = search(s.hashes, s.n, hash);
    if (at >= 0) {
      return false;
    }
    at = -at - 1;
    if (s.n == DistinctCodec.threshold(p)) {
      toSketch(s);
      return addToSketch(s, hash);
    }
    if (s.n == s.hashes.length) {
      s.hashes = Arrays.copyOf(s.hashes, s.n * 2);
    }
    System.arraycopy(s.hashes, at, s.hashes, at + 1, s.n - at);
    s.hashes[at] = hash;
    s.n++;
    return true;
  }

  /**
   * Adds a day body from a whole profile (checked with {@link DistinctCodec#check} for this
   * precision): a day given twice holds the union.
   */
  public void addBody(int d, byte[] body) {
    int start = Bytes.next(body, 0);
    if (DistinctCodec.isSketch(body, 0)) {
      Slot s = slot(indexOf(d));
      if (!s.sketch) {
        toSketch(s);
      }
      UltraLogLog.wrap(s.registers)
          .add(UltraLogLog.wrap(Arrays.copyOfRange(body, start, body.length)));
      return;
    }
    int n = DistinctCodec.headerValue(body, 0);
    for (int i = 0; i < n; i++) {
      add(d, DistinctCodec.hashAt(body, start + 4 * i));
    }
  }

  /** Forgets the days before {@code oldest}. */
  public void prune(int oldest) {
    int from = 0;
    while (from < size && day[from] < oldest) {
      from++;
    }
    if (from > 0) {
      System.arraycopy(day, from, day, 0, size - from);
      System.arraycopy(srcPos, from, srcPos, 0, size - from);
      System.arraycopy(slotOf, from, slotOf, 0, size - from);
      size -= from;
    }
  }

  public int encodedSize() {
    return encode(null);
  }

  /** Writes the payload to {@code out} (or only measures it, when null); returns its size. */
  public int encode(ByteSink out) {
    int bytes = ByteSink.varintSize(size);
    if (out != null) {
      out.writeVarint(size);
    }
    for (int i = 0; i < size; i++) {
      long dayField = i == 0 ? zigzag(day[i]) : day[i] - day[i - 1];
      bytes += ByteSink.varintSize(dayField);
      if (out != null) {
        out.writeVarint(dayField);
      }
      bytes += encodeBody(i, out);
    }
    return bytes;
  }

  /** The body of day {@code i} as an array, for a whole profile's external form. */
  public byte[] body(int i) {
    ByteSink out = new ByteSink(16);
    encodeBody(i, out);
    return out.toArray();
  }

  private int encodeBody(int i, ByteSink out) {
    if (srcPos[i] >= 0) {
      int len = DistinctCodec.skipBody(src, srcPos[i]) - srcPos[i];
      if (out != null) {
        out.writeBytes(src, srcPos[i], len);
      }
      return len;
    }
    Slot s = slots[slotOf[i]];
    if (s.sketch) {
      int header = p << 1 | 1;
      if (out != null) {
        out.writeVarint(header);
        out.writeBytes(s.registers, 0, 1 << p);
      }
      return ByteSink.varintSize(header) + (1 << p);
    }
    int header = s.n << 1;
    if (out != null) {
      out.writeVarint(header);
      for (int k = 0; k < s.n; k++) {
        int h = s.hashes[k];
        out.writeByte(h >>> 24);
        out.writeByte(h >>> 16);
        out.writeByte(h >>> 8);
        out.writeByte(h);
      }
    }
    return ByteSink.varintSize(header) + 4 * s.n;
  }

  /** The index of day {@code d}, inserting it (empty, in a slot) when absent. */
  private int indexOf(int d) {
    int i = size;
    while (i > 0 && day[i - 1] > d) {
      i--;
    }
    if (i > 0 && day[i - 1] == d) {
      return i - 1;
    }
    Slot s = newSlot();
    s.n = 0;
    s.sketch = false;
    insertDay(i, d, -1, slotsUsed - 1);
    return i;
  }

  /** The slot of day index {@code i}, decoding the day from the old payload on first use. */
  private Slot slot(int i) {
    if (srcPos[i] < 0) {
      return slots[slotOf[i]];
    }
    Slot s = newSlot();
    int pos = srcPos[i];
    int start = Bytes.next(src, pos);
    int v = DistinctCodec.headerValue(src, pos);
    if (DistinctCodec.isSketch(src, pos)) {
      s.sketch = true;
      s.n = 0;
      s.registers = registers(s);
      System.arraycopy(src, start, s.registers, 0, 1 << p);
    } else {
      s.sketch = false;
      if (s.hashes.length < v) {
        s.hashes = new int[Math.max(v, s.hashes.length * 2)];
      }
      for (int k = 0; k < v; k++) {
        s.hashes[k] = DistinctCodec.hashAt(src, start + 4 * k);
      }
      s.n = v;
    }
    srcPos[i] = -1;
    slotOf[i] = slotsUsed - 1;
    return s;
  }

  private Slot newSlot() {
    if (slotsUsed == slots.length) {
      slots = Arrays.copyOf(slots, slotsUsed * 2);
    }
    if (slots[slotsUsed] == null) {
      slots[slotsUsed] = new Slot();
    }
    return slots[slotsUsed++];
  }

  private byte[] registers(Slot s) {
    if (s.registers == null || s.registers.length != 1 << p) {
      s.registers = new byte[1 << p];
    } else {
      Arrays.fill(s.registers, (byte) 0);
    }
    return s.registers;
  }

  private void toSketch(Slot s) {
    UltraLogLog sketch = UltraLogLog.wrap(registers(s));
    for (int k = 0; k < s.n; k++) {
      sketch.add(DistinctCodec.spread(s.hashes[k]));
    }
    s.n = 0;
    s.sketch = true;
  }

  private boolean addToSketch(Slot s, int hash) {
    changed = false;
    UltraLogLog.wrap(s.registers).add(DistinctCodec.spread(hash), observer);
    return changed;
  }

  private void insertDay(int i, int d, int pos, int slot) {
    if (size == day.length) {
      int cap = size * 2;
      day = Arrays.copyOf(day, cap);
      srcPos = Arrays.copyOf(srcPos, cap);
      slotOf = Arrays.copyOf(slotOf, cap);
    }
    System.arraycopy(day, i, day, i + 1, size - i);
    System.arraycopy(srcPos, i, srcPos, i + 1, size - i);
    System.arraycopy(slotOf, i, slotOf, i + 1, size - i);
    day[i] = d;
    srcPos[i] = pos;
    slotOf[i] = slot;
    size++;
  }

  /** Binary search of the unsigned-sorted {@code a[0, n)}: index, or {@code -(insertion) - 1}. */
  static int search(int[] a, int n, int key) {
    int lo = 0;
    int hi = n - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = Integer.compareUnsigned(a[mid], key);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }
}

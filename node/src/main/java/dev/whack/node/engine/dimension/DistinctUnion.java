package dev.whack.node.engine.dimension;

import com.dynatrace.hash4j.distinctcount.UltraLogLog;
import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.Arrays;

/**
 * The distinct values of many profiles together (a segment's members, over a window): a set of
 * value hashes while it holds at most {@link #EXACT_LIMIT} of them and every input was exact, so
 * small answers stay exact; otherwise an UltraLogLog sketch of precision {@link
 * DistinctCodec#MAX_PRECISION} (16 KiB, 0.6%), or of the lowest precision among the sketches merged
 * into it (a profile's sketch cannot be refined: the union is as precise as its coarsest input).
 *
 * <p>Unions merge ({@link #add(DistinctUnion)}, {@link #encode}/{@link #addEncoded}), so each node
 * of a cluster can count its own members and one node merge the answers.
 *
 * <p>Concurrency: not thread-safe; owned by one reading thread.
 */
public final class DistinctUnion {
  /** Most hashes held exactly (256 KiB of table at most). */
  public static final int EXACT_LIMIT = 1 << 16;

  private int[] table = new int[64]; // open addressing; 0 is kept apart in hasZero
  private int size;
  private boolean hasZero;
  private UltraLogLog sketch;

  /** Adds the value of hash {@code hash}. */
  public void add(int hash) {
    if (sketch != null) {
      sketch.add(DistinctCodec.spread(hash));
      return;
    }
    if (hash == 0) {
      if (!hasZero) {
        hasZero = true;
        size++;
      }
    } else if (insert(table, hash)) {
      size++;
      if ((size << 1) > table.length) {
        rehash(table.length << 1);
      }
    }
    if (size > EXACT_LIMIT) {
      toSketch(DistinctCodec.MAX_PRECISION);
    }
  }

  /** Adds the sketch of precision {@code p} whose registers start at {@code b[pos]}. */
  public void addSketch(byte[] b, int pos, int p) {
    byte[] state = Arrays.copyOfRange(b, pos, pos + (1 << p));
    addSketch(UltraLogLog.wrap(state));
  }

  private void addSketch(UltraLogLog other) {
    int p = other.getP();
    if (sketch == null) {
      toSketch(Math.min(p, DistinctCodec.MAX_PRECISION));
    } else if (p < sketch.getP()) {
      sketch = sketch.downsize(p);
    }
    sketch.add(other.getP() == sketch.getP() ? other : other.downsize(sketch.getP()));
  }

  /** Adds everything {@code other} holds. */
  public void add(DistinctUnion other) {
    if (other.sketch != null) {
      addSketch(other.sketch);
      return;
    }
    if (other.hasZero) {
      add(0);
    }
    for (int h : other.table) {
      if (h != 0) {
        add(h);
      }
    }
  }

  /** Whether {@link #value} is exact (up to 32-bit hash collisions). */
  public boolean exact() {
    return sketch == null;
  }

  /** The number of distinct values: exact, or the estimate rounded. */
  public long value() {
    return sketch == null ? size : Math.round(sketch.getDistinctCountEstimate());
  }

  /**
   * The union as bytes, for another node to {@link #addEncoded}: a day body's layout ({@link
   * DistinctCodec}) without its threshold: {@code varint n*2} and n hashes ascending, or {@code
   * varint p*2+1} and the registers.
   */
  public byte[] encode() {
    ByteSink out = new ByteSink(16);
    if (sketch != null) {
      out.writeVarint(sketch.getP() << 1 | 1);
      byte[] state = sketch.getState();
      out.writeBytes(state, 0, state.length);
      return out.toArray();
    }
    int[] sorted = new int[size];
    int k = 0;
    if (hasZero) {
      sorted[k++] = 0;
    }
    for (int h : table) {
      if (h != 0) {
        sorted[k++] = h;
      }
    }
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] ^= Integer.MIN_VALUE;
    }
    Arrays.sort(sorted);
    out.writeVarint((long) size << 1);
    for (int h : sorted) {
      h ^= Integer.MIN_VALUE;
      out.writeByte(h >>> 24);
      out.writeByte(h >>> 16);
      out.writeByte(h >>> 8);
      out.writeByte(h);
    }
    return out.toArray();
  }

  /**
   * Adds a union {@link #encode} made (another node's).
   *
   * @throws IllegalArgumentException when {@code b} is not one
   */
  public void addEncoded(byte[] b) {
    try {
      int header = Bytes.varintInt(b, 0);
      int start = Bytes.next(b, 0);
      int v = header >>> 1;
      if ((header & 1) == 1) {
        if (v < DistinctCodec.MIN_PRECISION
            || v > DistinctCodec.MAX_PRECISION
            || b.length - start != 1 << v) {
          throw new IllegalArgumentException("not a distinct union: bad sketch");
        }
        addSketch(UltraLogLog.wrap(Arrays.copyOfRange(b, start, b.length)));
        return;
      }
      if (v < 0 || b.length - start != 4L * v) {
        throw new IllegalArgumentException("not a distinct union: bad hash count");
      }
      for (int i = 0; i < v; i++) {
        add(DistinctCodec.hashAt(b, start + 4 * i));
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("not a distinct union: truncated", e);
    }
  }

  private void toSketch(int p) {
    UltraLogLog s = UltraLogLog.create(p);
    if (hasZero) {
      s.add(DistinctCodec.spread(0));
    }
    for (int h : table) {
      if (h != 0) {
        s.add(DistinctCodec.spread(h));
      }
    }
    sketch = s;
    table = new int[0];
    size = 0;
    hasZero = false;
  }

  private static boolean insert(int[] t, int h) {
    int mask = t.length - 1;
    int i = mix(h) & mask;
    while (t[i] != 0) {
      if (t[i] == h) {
        return false;
      }
      i = (i + 1) & mask;
    }
    t[i] = h;
    return true;
  }

  private void rehash(int capacity) {
    int[] next = new int[capacity];
    for (int h : table) {
      if (h != 0) {
        insert(next, h);
      }
    }
    table = next;
  }

  private static int mix(int h) {
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}

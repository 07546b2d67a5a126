package dev.whack.node.engine.profile;

import java.util.Arrays;

/**
 * A reusable hash set of byte slices, for de-duplicating and diffing large string sets without a
 * {@code String} or an entry object per element. Slices live in one <em>primary</em> array given to
 * {@link #reset} or in one <em>foreign</em> array given to {@link #addForeign}; the set stores only
 * their offsets and lengths, so both arrays must stay unchanged while it is in use.
 *
 * <p>Concurrency: not thread-safe; owned by one writer.
 */
final class SliceSet {
  private byte[] primary;
  private byte[] foreign;
  private int[] off = new int[64];
  private int[] len = new int[64]; // -1: empty slot
  private boolean[] isForeign = new boolean[64];
  private int mask;

  SliceSet() {
    Arrays.fill(len, -1);
  }

  /** Empties the set, sized for about {@code expected} slices of {@code primary}. */
  void reset(byte[] primary, int expected) {
    this.primary = primary;
    this.foreign = null;
    int size = 64;
    while (size < expected * 2) {
      size <<= 1;
    }
    if (off.length < size) {
      off = new int[size];
      len = new int[size];
      isForeign = new boolean[size];
    }
    mask = size - 1;
    Arrays.fill(len, 0, size, -1);
  }

  /** Adds {@code primary[o, o + l)}; false when an equal slice is already in. */
  boolean add(int o, int l) {
    int i = probe(primary, o, l);
    if (len[i] >= 0) {
      return false;
    }
    off[i] = o;
    len[i] = l;
    isForeign[i] = false;
    return true;
  }

  /**
   * Adds {@code b[o, o + l)}, where {@code b} is the same foreign array on every call since the
   * last reset; false when an equal slice is already in.
   */
  boolean addForeign(byte[] b, int o, int l) {
    foreign = b;
    int i = probe(b, o, l);
    if (len[i] >= 0) {
      return false;
    }
    off[i] = o;
    len[i] = l;
    isForeign[i] = true;
    return true;
  }

  boolean contains(byte[] b, int o, int l) {
    return len[probe(b, o, l)] >= 0;
  }

  /** The slot holding a slice equal to {@code b[o, o + l)}, or the empty slot where it would go. */
  private int probe(byte[] b, int o, int l) {
    int h = 0;
    for (int k = o; k < o + l; k++) {
      h = 31 * h + b[k];
    }
    h *= 0x9E3779B9;
    int i = (h ^ (h >>> 16)) & mask;
    while (true) {
      int sl = len[i];
      if (sl < 0) {
        return i;
      }
      if (sl == l) {
        byte[] a = isForeign[i] ? foreign : primary;
        if (Arrays.equals(a, off[i], off[i] + sl, b, o, o + l)) {
          return i;
        }
      }
      i = (i + 1) & mask;
    }
  }
}

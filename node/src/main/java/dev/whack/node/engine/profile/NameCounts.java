package dev.whack.node.engine.profile;

import java.util.Arrays;

/**
 * How many of one lock stripe's profiles use each name of one {@link NameTable}: the stripe holds a
 * single reference in the table on every name it counts, taken when its count leaves zero and given
 * back when it returns there. So a profile gaining or losing a name changes a plain int here, under
 * the stripe's lock, and the table's shared count changes only when a stripe starts or stops using
 * a name; two threads creating profiles with the same names do not fight over one counter. An
 * open-addressing map from id to count, linear probing with backward-shift deletion.
 *
 * <p>Concurrency: guarded by the lock of the stripe that owns it ({@link ProfileTable.Stripe}).
 */
public final class NameCounts {
  // pairs: id + 1 (0 = empty), then its count; one array, so a probe touches one cache line
  private int[] slots = new int[32];
  private int size;

  /** How many of the stripe's profiles (and writes in progress) use {@code id}. */
  public int count(int id) {
    int[] s = slots;
    int mask = s.length - 2;
    for (int i = mix(id) & mask; s[i] != 0; i = (i + 2) & mask) {
      if (s[i] == id + 1) {
        return s[i + 1];
      }
    }
    return 0;
  }

  /**
   * One more use of a name that a lookup found as {@code known} (-1: not found), or that {@code
   * string} (when not null) or {@code utf8[off, off + len)} names; returns its id. When the stripe
   * uses it already, its reference keeps the lookup right and nothing shared changes; otherwise the
   * name is acquired (interned if new) and that reference becomes the stripe's.
   *
   * @throws InvalidProfileException when the name is new and the table is full
   */
  public int use(NameTable table, int known, String string, byte[] utf8, int off, int len) {
    if (known >= 0 && increment(known, false)) {
      return known;
    }
    int id = string != null ? table.acquire(string) : table.acquire(utf8, off, len);
    if (increment(id, true)) {
      table.release(id); // the stripe held it after all (the lookup missed it): one is enough
    }
    return id;
  }

  /**
   * One more use of {@code id}, a name the caller holds a reference on (so it is live and its id
   * stays its own): when the stripe did not use it yet, the stripe takes a reference of its own.
   */
  public void useHeld(NameTable table, int id) {
    if (!increment(id, true)) {
      table.retainHeld(id);
    }
  }

  /** One use fewer; at zero the stripe gives its reference back to {@code table}. */
  public void drop(NameTable table, int id) {
    int[] s = slots;
    int mask = s.length - 2;
    int i = mix(id) & mask;
    while (s[i] != id + 1) {
      if (s[i] == 0) {
        throw new IllegalStateException("name " + id + " is not held by this stripe");
      }
      i = (i + 2) & mask;
    }
    if (--s[i + 1] > 0) {
      return;
    }
    remove(i);
    table.release(id);
  }

  /**
   * Adds one to the count of {@code id}; returns whether it was above zero. At zero, adds the entry
   * only when {@code insert}.
   */
  private boolean increment(int id, boolean insert) {
    int[] s = slots;
    int mask = s.length - 2;
    int i = mix(id) & mask;
    for (; s[i] != 0; i = (i + 2) & mask) {
      if (s[i] == id + 1) {
        s[i + 1]++;
        return true;
      }
    }
    if (insert) {
      s[i] = id + 1;
      s[i + 1] = 1;
      if (++size * 4 > s.length) { // more than half the pairs in use
        resize(s.length * 2);
      }
    }
    return false;
  }

  /** Empties the pair at {@code i}, moving later pairs of its run back so that no probe is cut. */
  private void remove(int i) {
    int[] s = slots;
    int mask = s.length - 2;
    int hole = i;
    for (int j = (i + 2) & mask; s[j] != 0; j = (j + 2) & mask) {
      int home = mix(s[j] - 1) & mask;
      // the pair at j may move to the hole unless its home lies cyclically in (hole, j]
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        s[hole] = s[j];
        s[hole + 1] = s[j + 1];
        hole = j;
      }
    }
    s[hole] = 0;
    s[hole + 1] = 0;
    size--;
    if (s.length > 32 && size * 16 < s.length) {
      resize(s.length / 2);
    }
  }

  private void resize(int length) {
    int[] old = slots;
    slots = new int[length];
    int mask = length - 2;
    for (int i = 0; i < old.length; i += 2) {
      if (old[i] != 0) {
        int j = mix(old[i] - 1) & mask;
        while (slots[j] != 0) {
          j = (j + 2) & mask;
        }
        slots[j] = old[i];
        slots[j + 1] = old[i + 1];
      }
    }
  }

  /** Every id counted here with its count, as id, count pairs (for checks). */
  public int[] entries() {
    int[] out = new int[size * 2];
    int n = 0;
    for (int i = 0; i < slots.length; i += 2) {
      if (slots[i] != 0) {
        out[n++] = slots[i] - 1;
        out[n++] = slots[i + 1];
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** An even index: the id's home pair. */
  private static int mix(int id) {
    int h = id * 0x9E3779B9;
    return (h ^ (h >>> 16)) << 1;
  }
}

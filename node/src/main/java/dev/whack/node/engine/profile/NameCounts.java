package dev.whack.node.engine.profile;

import java.util.Arrays;

/**
 * How many of one lock stripe's profiles use each name of one {@link NameTable}: the stripe holds a
 * single reference in the table on every name it counts, taken when its count leaves zero and given
 * back when it returns there. So a profile gaining or losing a name changes a plain int here,
 * under the stripe's lock, and the table's shared count changes only when a stripe starts or stops
 * using a name; two threads creating profiles with the same names do not fight over one counter.
 * An open-addressing map from id to count, linear probing with backward-shift deletion.
 *
 * <p>Concurrency: guarded by the lock of the stripe that owns it ({@link ProfileTable.Stripe}).
 */
public final class NameCounts {
  private int[] keys = new int[16]; // id + 1, 0 = empty
  private int[] counts = new int[16];
  private int size;

  /** How many of the stripe's profiles (and writes in progress) use {@code id}. */
  public int count(int id) {
    int[] k = keys;
    int mask = k.length - 1;
    for (int i = mix(id) & mask; k[i] != 0; i = (i + 1) & mask) {
      if (k[i] == id + 1) {
        return counts[i];
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

  /** One more use of a name the stripe uses already ({@code count(id) > 0}). */
  public void useHeld(int id) {
    if (!increment(id, false)) {
      throw new IllegalStateException("name " + id + " is not held by this stripe");
    }
  }

  /** One use fewer; at zero the stripe gives its reference back to {@code table}. */
  public void drop(NameTable table, int id) {
    int[] k = keys;
    int mask = k.length - 1;
    int i = mix(id) & mask;
    while (k[i] != id + 1) {
      if (k[i] == 0) {
        throw new IllegalStateException("name " + id + " is not held by this stripe");
      }
      i = (i + 1) & mask;
    }
    if (--counts[i] > 0) {
      return;
    }
    remove(i);
    table.release(id);
  }

  /**
   * Adds one to the count of {@code id}; returns whether it was above zero. At zero, adds the
   * entry only when {@code insert}.
   */
  private boolean increment(int id, boolean insert) {
    int[] k = keys;
    int mask = k.length - 1;
    int i = mix(id) & mask;
    for (; k[i] != 0; i = (i + 1) & mask) {
      if (k[i] == id + 1) {
        counts[i]++;
        return true;
      }
    }
    if (insert) {
      k[i] = id + 1;
      counts[i] = 1;
      if (++size * 2 > k.length) {
        resize(k.length * 2);
      }
    }
    return false;
  }

  /** Empties slot {@code i}, moving later entries of its run back so that no probe is cut. */
  private void remove(int i) {
    int[] k = keys;
    int mask = k.length - 1;
    int hole = i;
    for (int j = (i + 1) & mask; k[j] != 0; j = (j + 1) & mask) {
      int home = mix(k[j] - 1) & mask;
      // the entry at j may move to the hole unless its home lies cyclically in (hole, j]
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        k[hole] = k[j];
        counts[hole] = counts[j];
        hole = j;
      }
    }
    k[hole] = 0;
    counts[hole] = 0;
    size--;
    if (k.length > 16 && size * 8 < k.length) {
      resize(k.length / 2);
    }
  }

  private void resize(int capacity) {
    int[] oldKeys = keys;
    int[] oldCounts = counts;
    keys = new int[capacity];
    counts = new int[capacity];
    int mask = capacity - 1;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != 0) {
        int j = mix(oldKeys[i] - 1) & mask;
        while (keys[j] != 0) {
          j = (j + 1) & mask;
        }
        keys[j] = oldKeys[i];
        counts[j] = oldCounts[i];
      }
    }
  }

  /** Every id counted here with its count, as id, count pairs (for checks). */
  public int[] entries() {
    int[] out = new int[size * 2];
    int n = 0;
    for (int i = 0; i < keys.length; i++) {
      if (keys[i] != 0) {
        out[n++] = keys[i] - 1;
        out[n++] = counts[i];
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static int mix(int id) {
    int h = id * 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}

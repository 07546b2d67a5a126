package dev.whack.node.engine.profile;

import java.util.Arrays;

/**
 * Interns names (attributes, events or producers) to small dense ids, so that a profile stores a
 * one-byte varint instead of a name, and an evaluator indexes arrays instead of hashing.
 *
 * <p>Concurrency: lookups are lock-free reads of an immutable snapshot published through a volatile
 * field; {@link #intern} copies the snapshot under the table's monitor. New names are rare after
 * warm-up (a node sees tens to hundreds of distinct names), so copy-on-write keeps the hot path
 * free of locks. The table never shrinks; {@code capacity} bounds its memory against a client that
 * invents names.
 */
public final class NameTable {
  private final String what;
  private final int capacity;
  private volatile State state = new State(new String[16], new int[16], new String[0]);

  private record State(String[] slots, int[] slotIds, String[] byId) {}

  public NameTable(String what, int capacity) {
    this.what = what;
    this.capacity = capacity;
  }

  /** The id of {@code name}, or -1 when it was never interned. */
  public int idOf(String name) {
    State s = state;
    String[] slots = s.slots;
    int mask = slots.length - 1;
    int i = mix(name.hashCode()) & mask;
    while (true) {
      String k = slots[i];
      if (k == null) {
        return -1;
      }
      if (k.equals(name)) {
        return s.slotIds[i];
      }
      i = (i + 1) & mask;
    }
  }

  /** The id of {@code name}, assigning the next id when it is new. */
  public int intern(String name) {
    int id = idOf(name);
    return id >= 0 ? id : internSlow(name);
  }

  private synchronized int internSlow(String name) {
    int id = idOf(name);
    if (id >= 0) {
      return id;
    }
    State s = state;
    id = s.byId.length;
    if (id >= capacity) {
      throw new InvalidProfileException(
          "too many distinct " + what + " names (the node's limit is " + capacity + ")");
    }
    String[] byId = Arrays.copyOf(s.byId, id + 1);
    byId[id] = name;
    int tableSize = s.slots.length;
    while ((id + 1) * 2 > tableSize) {
      tableSize *= 2;
    }
    String[] slots = new String[tableSize];
    int[] slotIds = new int[tableSize];
    for (int i = 0; i <= id; i++) {
      int mask = tableSize - 1;
      int j = mix(byId[i].hashCode()) & mask;
      while (slots[j] != null) {
        j = (j + 1) & mask;
      }
      slots[j] = byId[i];
      slotIds[j] = i;
    }
    state = new State(slots, slotIds, byId);
    return id;
  }

  public String name(int id) {
    return state.byId[id];
  }

  public int size() {
    return state.byId.length;
  }

  private static int mix(int h) {
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}

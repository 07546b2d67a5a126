package dev.whack.node.engine.profile;

import java.nio.charset.StandardCharsets;
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
 *
 * <p>Names can also be looked up by their UTF-8 bytes ({@link #idOf(byte[], int, int)}), so that a
 * parser reading bytes resolves a name without building a {@code String}. That index holds every
 * name whose UTF-8 form decodes back to the same string (all but strings with unpaired
 * surrogates, which only a Java caller can make and which are then found by string only).
 */
public final class NameTable {
  private final String what;
  private final int capacity;
  private volatile State state =
      new State(new String[16], new int[16], new String[0], new byte[16][], new int[16], new byte[0][]);

  /**
   * One immutable snapshot: an open-addressing table by string, the names by id, and a second
   * open-addressing table (same size) by UTF-8 bytes.
   */
  private record State(
      String[] slots,
      int[] slotIds,
      String[] byId,
      byte[][] utf8Slots,
      int[] utf8SlotIds,
      byte[][] utf8ById) {}

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

  /**
   * The id of the name whose UTF-8 form is {@code utf8[off, off + len)}, or -1 when it was never
   * interned. Allocates nothing.
   */
  public int idOf(byte[] utf8, int off, int len) {
    State s = state;
    byte[][] slots = s.utf8Slots;
    int mask = slots.length - 1;
    int i = mix(hash(utf8, off, len)) & mask;
    while (true) {
      byte[] k = slots[i];
      if (k == null) {
        return -1;
      }
      if (k.length == len && Arrays.equals(k, 0, len, utf8, off, off + len)) {
        return s.utf8SlotIds[i];
      }
      i = (i + 1) & mask;
    }
  }

  /**
   * The id of the name whose UTF-8 form is {@code utf8[off, off + len)}, assigning the next id when
   * it is new; the bytes must be well-formed UTF-8. Allocates only for a new name.
   */
  public int intern(byte[] utf8, int off, int len) {
    int id = idOf(utf8, off, len);
    return id >= 0 ? id : internSlow(new String(utf8, off, len, StandardCharsets.UTF_8));
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
    byte[][] utf8ById = Arrays.copyOf(s.utf8ById, id + 1);
    byte[] encoded = name.getBytes(StandardCharsets.UTF_8);
    // a name with unpaired surrogates has no faithful UTF-8 form: found by string only
    utf8ById[id] = new String(encoded, StandardCharsets.UTF_8).equals(name) ? encoded : null;
    byte[][] utf8Slots = new byte[tableSize][];
    int[] utf8SlotIds = new int[tableSize];
    for (int i = 0; i <= id; i++) {
      byte[] utf8 = utf8ById[i];
      if (utf8 == null) {
        continue;
      }
      int mask = tableSize - 1;
      int j = mix(hash(utf8, 0, utf8.length)) & mask;
      while (utf8Slots[j] != null) {
        j = (j + 1) & mask;
      }
      utf8Slots[j] = utf8;
      utf8SlotIds[j] = i;
    }
    state = new State(slots, slotIds, byId, utf8Slots, utf8SlotIds, utf8ById);
    return id;
  }

  public String name(int id) {
    return state.byId[id];
  }

  public int size() {
    return state.byId.length;
  }

  private static int hash(byte[] b, int off, int len) {
    int h = 0;
    for (int i = off; i < off + len; i++) {
      h = 31 * h + b[i];
    }
    return h;
  }

  private static int mix(int h) {
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }
}

package dev.whack.node.engine.dimension;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * A categorical dimension's values, numbered node-wide in the order they were first seen: ids from
 * 1 to the definition's {@code max_categories}, and id 0 ({@link DimensionSpec#OTHER}) for every
 * value that came after the table was full. Bounded by construction, so no stream of values can
 * grow it past its definition.
 *
 * <p>Concurrency: lookups take no lock and allocate nothing (they read an immutable state through a
 * volatile field); a new value is added under this object's monitor, copying the state (at most
 * {@code max_categories} times in the table's life).
 */
final class CategoryTable {
  static final int OTHER = 0;

  /**
   * The longest value a table numbers, in UTF-8 bytes; a longer one counts as {@link #OTHER}, so a
   * table's memory stays bounded whatever the values (at most {@code max_categories} of them).
   */
  static final int MAX_VALUE_BYTES = 256;

  private record State(byte[][] values, String[] labels, int[] slots) {}

  private static final byte[] OTHER_BYTES = bytes(DimensionSpec.OTHER);

  /** Told each value a table numbers, under its monitor: in the order of the ids it hands out. */
  interface Learning {
    void learned(int id, String value);

    /**
     * Whether the node is replaying its log: a value the table has not numbered then counts as
     * {@link #OTHER}, since the log names every value numbered before the write it replays.
     */
    boolean replaying();
  }

  private final int max;
  private final int mask;
  private final Learning learning;
  private volatile State state;

  CategoryTable(int maxCategories, Learning learning) {
    this.max = maxCategories;
    this.learning = learning;
    int slots = Integer.highestOneBit(Math.max(4, (maxCategories + 1) * 2 - 1)) << 1;
    this.mask = slots - 1;
    byte[][] values = {bytes(DimensionSpec.OTHER)};
    this.state = new State(values, new String[] {DimensionSpec.OTHER}, new int[slots]);
  }

  /** Number of ids in use, {@link #OTHER} included. */
  int size() {
    return state.values.length;
  }

  /** The UTF-8 bytes of category {@code id}'s value. Do not modify. */
  byte[] bytes(int id) {
    return state.values[id];
  }

  /** The value of category {@code id}. */
  String label(int id) {
    return state.labels[id];
  }

  /** The id of {@code utf8[off, off + len)}, or -1 when it has none. */
  int find(byte[] utf8, int off, int len) {
    State s = state;
    if (len == OTHER_BYTES.length && Arrays.equals(OTHER_BYTES, 0, len, utf8, off, off + len)) {
      return OTHER; // the value "other" is the overflow category itself
    }
    int i = hash(utf8, off, len) & mask;
    while (true) {
      int slot = s.slots[i];
      if (slot == 0) {
        return -1;
      }
      byte[] v = s.values[slot];
      if (v.length == len && Arrays.equals(v, 0, len, utf8, off, off + len)) {
        return slot;
      }
      i = (i + 1) & mask;
    }
  }

  /** The id of a value as text, or -1. */
  int find(String value) {
    byte[] b = bytes(value);
    return find(b, 0, b.length);
  }

  /**
   * The id of the value, numbering it when it is new and there is room; {@link #OTHER} when not.
   */
  int idOf(byte[] utf8, int off, int len) {
    if (len > MAX_VALUE_BYTES) {
      return OTHER;
    }
    int id = find(utf8, off, len);
    if (id >= 0) {
      return id;
    }
    synchronized (this) {
      id = find(utf8, off, len);
      if (id >= 0) {
        return id;
      }
      State s = state;
      if (s.values.length > max || learning.replaying()) {
        return OTHER;
      }
      id = add(s, Arrays.copyOfRange(utf8, off, off + len));
      learning.learned(id, state.labels[id]);
      return id;
    }
  }

  /**
   * Numbers {@code value} {@code id}, as a replayed log record says a live node did: the next id,
   * or one the table holds already under that value (a snapshot's lists may name it too).
   *
   * @throws IllegalStateException when the table holds another value under that id, or the id skips
   *     one
   */
  synchronized void learnAt(int id, String value) {
    String[] held = state.labels;
    if (id < held.length) {
      if (!held[id].equals(value)) {
        throw new IllegalStateException(
            "category " + id + " is " + held[id] + " here, " + value + " in the log");
      }
      return;
    }
    if (id != held.length || id > max) {
      throw new IllegalStateException(
          "category " + id + " (" + value + ") in the log, " + held.length + " next here");
    }
    add(state, bytes(value));
  }

  /**
   * Restores the values a snapshot kept, in their order (ids 1, 2, ...): into an empty table, or
   * one that holds a first part of them (a snapshot lists them once before its profiles and again,
   * grown, after them), whose ids they keep.
   *
   * @throws IllegalStateException when the table holds another value under one of those ids
   */
  synchronized void restore(List<String> values) {
    String[] held = state.labels;
    for (int i = 0; i < values.size(); i++) {
      int id = i + 1;
      if (id < held.length) {
        if (!held[id].equals(values.get(i))) {
          throw new IllegalStateException(
              "category " + id + " is " + held[id] + " here, " + values.get(i) + " restored");
        }
        continue;
      }
      if (state.values.length > max) {
        return;
      }
      byte[] b = bytes(values.get(i));
      if (find(b, 0, b.length) >= 0) {
        throw new IllegalStateException("category " + values.get(i) + " is restored twice");
      }
      add(state, b);
    }
  }

  /** The learned values in id order (ids 1, 2, ...), for a snapshot. */
  List<String> values() {
    String[] labels = state.labels;
    return List.of(labels).subList(1, labels.length);
  }

  private int add(State s, byte[] value) {
    int id = s.values.length;
    byte[][] values = Arrays.copyOf(s.values, id + 1);
    values[id] = value;
    String[] labels = Arrays.copyOf(s.labels, id + 1);
    labels[id] = new String(value, StandardCharsets.UTF_8);
    int[] slots = s.slots.clone();
    int i = hash(value, 0, value.length) & mask;
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = id;
    state = new State(values, labels, slots);
    return id;
  }

  private static int hash(byte[] b, int off, int len) {
    int h = 0x811c9dc5;
    for (int i = off; i < off + len; i++) {
      h = (h ^ (b[i] & 0xff)) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

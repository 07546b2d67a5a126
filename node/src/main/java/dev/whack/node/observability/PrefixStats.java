package dev.whack.node.observability;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * memcached's per-prefix statistics, {@code stats detail on|off|dump}: for every key prefix (the
 * bytes before the key's first {@code ':'}, memcached's default delimiter), how many gets, get
 * hits, sets and deletes named a key with it. A key without the delimiter is not counted. They are
 * recorded where memcached records them: text get/gets/gat/gats per key, text storage commands once
 * their line is accepted (whether or not the value is then stored), text delete, and the binary
 * get, touch, storage and delete opcodes; never meta commands.
 *
 * <p>Off by default, as in memcached: while off, recording costs one volatile read. While on, a
 * record looks its prefix up by a new String, which is garbage per request; this is a debugging
 * aid, not a hot path. memcached keeps every prefix it ever saw; here at most {@link #MAX_PREFIXES}
 * are kept (until {@code stats reset}) so that memory stays bounded, and a key with a further
 * prefix is not counted.
 *
 * <p>Concurrency: records may come from any thread; prefixes live in a ConcurrentHashMap and their
 * counters are LongAdders, so a dump reads each count as of some moment during the dump.
 */
public final class PrefixStats {
  /** The most prefixes counted at once. */
  static final int MAX_PREFIXES = 10_000;

  private static final byte DELIMITER = ':';

  private static final class Counts {
    final LongAdder gets = new LongAdder();
    final LongAdder hits = new LongAdder();
    final LongAdder sets = new LongAdder();
    final LongAdder deletes = new LongAdder();
  }

  private final ConcurrentHashMap<String, Counts> prefixes = new ConcurrentHashMap<>();
  private volatile boolean enabled;

  /** Whether requests are being recorded ({@code stats detail on}). */
  public boolean enabled() {
    return enabled;
  }

  /** {@code stats detail on} / {@code off}; what was recorded stays until a reset. */
  public void enable(boolean on) {
    enabled = on;
  }

  public void recordGet(byte[] key, int offset, int length, boolean hit) {
    Counts counts = countsFor(key, offset, length);
    if (counts != null) {
      counts.gets.increment();
      if (hit) {
        counts.hits.increment();
      }
    }
  }

  public void recordSet(byte[] key, int offset, int length) {
    Counts counts = countsFor(key, offset, length);
    if (counts != null) {
      counts.sets.increment();
    }
  }

  public void recordDelete(byte[] key, int offset, int length) {
    Counts counts = countsFor(key, offset, length);
    if (counts != null) {
      counts.deletes.increment();
    }
  }

  /** {@code stats reset} forgets every prefix, as memcached's does. */
  void clear() {
    prefixes.clear();
  }

  /**
   * The dump memcached writes for {@code stats detail dump}: one {@code PREFIX <prefix> get <n> hit
   * <n> set <n> del <n>} line per prefix (in byte order of the prefixes; memcached's follows its
   * hash table), then {@code END}.
   */
  public byte[] dump() {
    Map<String, Counts> sorted = new TreeMap<>(prefixes);
    StringBuilder out = new StringBuilder(sorted.size() * 48 + 5);
    for (Map.Entry<String, Counts> e : sorted.entrySet()) {
      Counts c = e.getValue();
      out.append("PREFIX ")
          .append(e.getKey())
          .append(" get ")
          .append(c.gets.sum())
          .append(" hit ")
          .append(c.hits.sum())
          .append(" set ")
          .append(c.sets.sum())
          .append(" del ")
          .append(c.deletes.sum())
          .append("\r\n");
    }
    out.append("END\r\n");
    return out.toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private Counts countsFor(byte[] key, int offset, int length) {
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      if (key[i] == 0) {
        return null; // memcached reads the key as a C string
      }
      if (key[i] == DELIMITER) {
        String prefix = new String(key, offset, i - offset, StandardCharsets.ISO_8859_1);
        Counts counts = prefixes.get(prefix);
        if (counts == null) {
          if (prefixes.size() >= MAX_PREFIXES) {
            return null;
          }
          counts = prefixes.computeIfAbsent(prefix, p -> new Counts());
        }
        return counts;
      }
    }
    return null;
  }
}

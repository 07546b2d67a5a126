package dev.whack.node.engine.dimension;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The node's dimensions: defines and drops them and publishes an immutable {@link Set} of them that
 * writers and readers take without a lock.
 *
 * <p>Ids are handed out once and never reused: a profile keeps the data of a dropped (or redefined)
 * dimension until its next write, and must never read it as a newer dimension's.
 *
 * <p>Concurrency: define, drop and the restore's calls serialize on this object's monitor, which
 * also guards the learned values held for later; {@link #current()} is a volatile read.
 */
public final class DimensionRegistry {
  /** The dimensions in force at one moment: by id and by name. Immutable. */
  public static final class Set {
    public static final Set EMPTY = new Set(new Dimension[0], new Dimension[0]);

    private static final Dimension[] NONE = new Dimension[0];

    private final Dimension[] all;
    private final Dimension[] byId;

    /**
     * The dimensions by a hash of the property they count, so that a write finds the dimensions of
     * each of an event's properties with one probe rather than comparing every property name with
     * every dimension's (20 x 20 for a viewed car); a bucket may hold others whose hash collides.
     */
    private final Dimension[][] byProperty;

    /** Whether an id was ever handed out that is no longer in force (dropped or redefined). */
    private final boolean anyDropped;

    /** For a put's counts, named by dimension (a map: a profile may name all 64 many times). */
    private final java.util.Map<String, Dimension> byName = new java.util.HashMap<>();

    Set(Dimension[] all, Dimension[] byId) {
      this.all = all;
      this.byId = byId;
      this.anyDropped = all.length < byId.length;
      int buckets = Integer.highestOneBit(Math.max(4, all.length * 2) - 1) << 1;
      byProperty = new Dimension[buckets][];
      java.util.Arrays.fill(byProperty, NONE);
      for (Dimension d : all) {
        byName.put(d.name(), d);
        byte[] p = d.propertyBytes();
        int b = propertyHash(p, 0, p.length) & (buckets - 1);
        byProperty[b] = java.util.Arrays.copyOf(byProperty[b], byProperty[b].length + 1);
        byProperty[b][byProperty[b].length - 1] = d;
      }
    }

    /**
     * The dimensions that may count property {@code utf8[off, off + len)}, in definition order: a
     * superset (each must still be asked {@link Dimension#isProperty}). Do not modify.
     */
    public Dimension[] countingProperty(byte[] utf8, int off, int len) {
      return byProperty[propertyHash(utf8, off, len) & (byProperty.length - 1)];
    }

    private static int propertyHash(byte[] utf8, int off, int len) {
      int h = len;
      for (int i = off; i < off + len; i++) {
        h = 31 * h + utf8[i];
      }
      return h ^ (h >>> 16);
    }

    /** Every dimension, in the order they were defined. Do not modify. */
    public Dimension[] all() {
      return all;
    }

    /**
     * Whether a profile may hold data of a dimension no longer in force: false while every id ever
     * handed out is in force, so a write need not look.
     */
    public boolean anyDropped() {
      return anyDropped;
    }

    public boolean isEmpty() {
      return all.length == 0;
    }

    /** The dimension with id {@code id}, or null (never defined, dropped or redefined since). */
    public Dimension byId(int id) {
      return id >= 0 && id < byId.length ? byId[id] : null;
    }

    /**
     * One more than the highest id ever handed out (dropped dimensions' included): a snapshot keeps
     * it, so that no id a restored profile may still hold data under is handed out again.
     */
    public int nextId() {
      return byId.length;
    }

    /**
     * Adds a restored profile's counts to the population of each dimension in force that it counts
     * in (a write counts its own as it makes them; a restore must rebuild them,
     * docs/architecture.md, "Durability").
     *
     * @param pos where the profile's dimensions section starts ({@link DimensionSection})
     */
    public void countInPopulation(byte[] blob, int pos, DayCounts scratch) {
      // distinct dimensions keep no population: only the counts are read
      DayCounts c = scratch.reset(blob, DimensionSection.countsStart(blob, pos));
      while (c.nextEntry()) {
        Dimension d = byId(c.id());
        while (d != null && c.nextPair()) {
          d.countInPopulation(c.day(), c.category(), c.count());
        }
      }
    }

    /**
     * The distinct dimension {@code name} names: the one of that name, else the one counting
     * property {@code p} of event {@code e} for {@code name} = {@code e.p} (every '.' is tried as
     * the split, since event and property names may hold dots; the first defined wins); null when
     * there is none.
     */
    public Dimension distinct(String name) {
      Dimension named = byName(name);
      if (named != null) {
        return named.isDistinct() ? named : null;
      }
      for (int dot = name.indexOf('.'); dot > 0; dot = name.indexOf('.', dot + 1)) {
        String event = name.substring(0, dot);
        String property = name.substring(dot + 1);
        for (Dimension d : all) {
          if (d.isDistinct()
              && event.equals(d.spec().event())
              && property.equals(d.spec().property())) {
            return d;
          }
        }
      }
      return null;
    }

    /** The dimension called {@code name}, or null. */
    public Dimension byName(String name) {
      return byName.get(name);
    }
  }

  private final int retentionDays;
  private int nextId;
  private volatile Set current = Set.EMPTY;

  /**
   * Learned categorical values a snapshot kept for a dimension id not defined yet: one defined
   * while the snapshot was written, whose definition the log replays after it (its profiles in the
   * snapshot hold category ids). Taken by the definition that hands out that id.
   */
  private final Map<Integer, List<String>> learnedForLater = new java.util.HashMap<>();

  public DimensionRegistry(int retentionDays) {
    this.retentionDays = retentionDays;
  }

  public Set current() {
    return current;
  }

  /** Told each categorical value a dimension numbers, in the order of its ids (for the log). */
  public interface LearnedListener {
    void learned(int dimension, int category, String value);
  }

  private volatile LearnedListener learned = (d, c, v) -> {};
  private volatile boolean replaying;

  /** From now on, tell {@code listener} every value a dimension numbers. */
  public void onLearned(LearnedListener listener) {
    this.learned = listener;
  }

  /**
   * While the log is replayed no write numbers a value: each one it numbered live is in the log
   * before it ({@link LearnedListener}), and is numbered again from there, so the values past a
   * full table are the ones they were, whatever order the stripes replay in.
   */
  public void replaying(boolean on) {
    this.replaying = on;
  }

  CategoryTable.Learning learning(int dimension) {
    return new CategoryTable.Learning() {
      @Override
      public void learned(int id, String value) {
        learned.learned(dimension, id, value);
      }

      @Override
      public boolean replaying() {
        return replaying;
      }
    };
  }

  /**
   * Defines a dimension, or replaces the one of that name (whose data profiles then no longer
   * show); a definition equal to the one in force changes nothing.
   *
   * @return the dimension in force under that name afterwards
   * @throws DimensionException when the node holds the most dimensions already
   */
  public synchronized Dimension define(DimensionSpec spec) {
    Set s = current;
    Dimension old = s.byName(spec.name());
    if (old != null && old.spec().equals(spec)) {
      return old;
    }
    if (old == null && s.all.length >= DimensionSpec.MAX_DIMENSIONS) {
      throw new DimensionException(
          "too many dimensions: a node holds at most " + DimensionSpec.MAX_DIMENSIONS);
    }
    Dimension d = new Dimension(nextId++, spec, retentionDays, this);
    List<String> learned = learnedForLater.remove(d.id());
    if (learned != null) {
      d.restoreLearned(learned);
    }
    put(s, d);
    return d;
  }

  /**
   * Defines a dimension a snapshot kept under the id it had (its profiles' sections name it by that
   * id), in the snapshot's order; for a restore into a node with no dimensions of that id or name.
   *
   * @throws IllegalStateException when the id or the name is taken
   */
  public synchronized Dimension restore(int id, DimensionSpec spec) {
    Set s = current;
    if (id < 0 || s.byId(id) != null || s.byName(spec.name()) != null) {
      throw new IllegalStateException("dimension " + spec.name() + " (id " + id + ") is restored");
    }
    nextId = Math.max(nextId, id + 1);
    Dimension d = new Dimension(id, spec, retentionDays, this);
    put(s, d);
    return d;
  }

  /**
   * Hands out ids from {@code next} on (a snapshot's {@link Set#nextId}, which may be past every
   * dimension it kept: dropped ones' ids stay retired).
   */
  public synchronized void restoreNextId(int next) {
    if (next > nextId) {
      nextId = next;
      publish(List.of(current.all));
    }
  }

  /**
   * Restores the learned values a snapshot kept for dimension {@code id}: now if it is defined,
   * else when a definition (a replayed one) hands out that id.
   *
   * @throws IllegalStateException when the dimension has learned other values under those ids
   */
  public synchronized void restoreLearned(int id, List<String> values) {
    Dimension d = current.byId(id);
    if (d != null) {
      d.restoreLearned(values);
    } else if (id >= nextId) {
      learnedForLater.put(id, List.copyOf(values));
    } // else an id handed out before and held by no dimension now: nothing reads its values
  }

  private void put(Set s, Dimension d) {
    DimensionSpec spec = d.spec();
    Map<String, Dimension> byName = new LinkedHashMap<>();
    for (Dimension e : s.all) {
      byName.put(e.name(), e);
    }
    byName.put(spec.name(), d); // a replaced one keeps its place in the order
    publish(List.copyOf(byName.values()));
  }

  /**
   * Drops a dimension.
   *
   * @return false when none has that name
   */
  public synchronized boolean drop(String name) {
    Set s = current;
    if (s.byName(name) == null) {
      return false;
    }
    publish(Arrays.stream(s.all).filter(d -> !d.name().equals(name)).toList());
    return true;
  }

  private void publish(List<Dimension> dims) {
    Dimension[] byId = new Dimension[nextId];
    for (Dimension d : dims) {
      byId[d.id()] = d;
    }
    current = new Set(dims.toArray(new Dimension[0]), byId);
  }
}

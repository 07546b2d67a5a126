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
 * <p>Concurrency: define and drop serialize on this object's monitor; {@link #current()} is a
 * volatile read.
 */
public final class DimensionRegistry {
  /** The dimensions in force at one moment: by id and by name. Immutable. */
  public static final class Set {
    public static final Set EMPTY = new Set(new Dimension[0], new Dimension[0]);

    private final Dimension[] all;
    private final Dimension[] byId;

    Set(Dimension[] all, Dimension[] byId) {
      this.all = all;
      this.byId = byId;
    }

    /** Every dimension, in the order they were defined. Do not modify. */
    public Dimension[] all() {
      return all;
    }

    public boolean isEmpty() {
      return all.length == 0;
    }

    /** The dimension with id {@code id}, or null (never defined, dropped or redefined since). */
    public Dimension byId(int id) {
      return id >= 0 && id < byId.length ? byId[id] : null;
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
      for (Dimension d : all) {
        if (d.name().equals(name)) {
          return d;
        }
      }
      return null;
    }
  }

  private final int retentionDays;
  private int nextId;
  private volatile Set current = Set.EMPTY;

  public DimensionRegistry(int retentionDays) {
    this.retentionDays = retentionDays;
  }

  public Set current() {
    return current;
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
    Dimension d = new Dimension(nextId++, spec, retentionDays);
    Map<String, Dimension> byName = new LinkedHashMap<>();
    for (Dimension e : s.all) {
      byName.put(e.name(), e);
    }
    byName.put(spec.name(), d); // a replaced one keeps its place in the order
    publish(List.copyOf(byName.values()));
    return d;
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

  /** Drops every dimension (a flush of the node's definitions, as a restore starts from none). */
  public synchronized void clear() {
    publish(List.of());
  }

  private void publish(List<Dimension> dims) {
    Dimension[] byId = new Dimension[nextId];
    for (Dimension d : dims) {
      byId[d.id()] = d;
    }
    current = new Set(dims.toArray(new Dimension[0]), byId);
  }
}

package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.MemberSet;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * An immutable snapshot of the defined segments with the indexes an update needs: which segments
 * read a given attribute, event or dimension, and which depend on time.
 *
 * <p>Concurrency: immutable; the registry publishes a new snapshot on every define and drop.
 */
public final class SegmentCatalog {
  private static final Segment[] NONE = new Segment[0];
  private static final MemberSet NO_MEMBERS =
      new MemberSet() {
        @Override
        public boolean contains(int ordinal) {
          return false;
        }

        @Override
        public long enteredMillis(int ordinal) {
          return Long.MIN_VALUE;
        }
      };
  static final SegmentCatalog EMPTY = new SegmentCatalog(List.of());

  private final Segment[] all;
  private final Map<String, Segment> byName;
  private final Segment[][] byAttribute;
  private final Segment[][] byEvent;
  private final Segment[][] byDimension;
  private final Segment[] timeDependent;
  private final int maxId;

  /** By segment id: the segments its {@code in_segment(...)} reads, in its expression's order. */
  private final MemberSet[][] reads;

  /** The segments that read other segments, each after every segment it reads. */
  private final Segment[] readingSegments;

  /** By segment id: whether some segment reads it. */
  private final boolean[] read;

  SegmentCatalog(List<Segment> segments) {
    byName = new LinkedHashMap<>();
    int max = -1;
    for (Segment s : segments) {
      byName.put(s.name(), s);
      max = Math.max(max, s.id());
    }
    maxId = max;
    all = dependencyOrder(segments);
    reads = new MemberSet[max + 1][];
    read = new boolean[max + 1];
    List<Segment> timed = new ArrayList<>();
    List<Segment> readers = new ArrayList<>();
    boolean[] timedById = new boolean[max + 1];
    int attrs = 0;
    int events = 0;
    int dimensions = 0;
    for (Segment s : all) {
      String[] names = s.expression().segments();
      MemberSet[] resolved = new MemberSet[names.length];
      // Time reaches a segment through the segments it reads: when theirs changes on a timer,
      // its answer may change with it, so it is re-evaluated on the same timer.
      boolean timeDependent = s.expression().timeDependent();
      for (int i = 0; i < names.length; i++) {
        Segment target = byName.get(names[i]);
        resolved[i] = target == null ? NO_MEMBERS : target;
        if (target != null) {
          read[target.id()] = true;
          timeDependent |= timedById[target.id()];
        }
      }
      reads[s.id()] = resolved;
      timedById[s.id()] = timeDependent;
      if (timeDependent) {
        timed.add(s);
      }
      if (names.length > 0) {
        readers.add(s);
      }
      for (int a : s.expression().attributes()) {
        attrs = Math.max(attrs, a + 1);
      }
      for (int e : s.expression().events()) {
        events = Math.max(events, e + 1);
      }
      for (int d : s.expression().dimensions()) {
        dimensions = Math.max(dimensions, d + 1);
      }
    }
    timeDependent = timed.toArray(NONE);
    readingSegments = readers.toArray(NONE);
    byAttribute = index(attrs, Read.ATTRIBUTES);
    byEvent = index(events, Read.EVENTS);
    byDimension = index(dimensions, Read.DIMENSIONS);
  }

  /** What an expression reads, for {@link #index}. */
  private enum Read {
    ATTRIBUTES,
    EVENTS,
    DIMENSIONS
  }

  /**
   * The segments with each one after every segment it reads, otherwise in the order given
   * (definition order); definitions are checked to make no cycle ({@link #cycleThrough}), and a
   * segment that reads one not here (never made by a definition) is placed as if it read nothing.
   */
  private Segment[] dependencyOrder(List<Segment> segments) {
    // Kahn's algorithm, taking the earliest defined of the segments ready at each step: linear in
    // the segments and their reads (a catalog is rebuilt on every definition).
    int n = segments.size();
    Map<String, Integer> place = new HashMap<>();
    for (int i = 0; i < n; i++) {
      place.put(segments.get(i).name(), i);
    }
    int[] waitingOn = new int[n];
    List<List<Integer>> readersOf = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      readersOf.add(new ArrayList<>(0));
    }
    for (int i = 0; i < n; i++) {
      for (String read : segments.get(i).expression().segments()) {
        Integer target = place.get(read);
        if (target != null) {
          waitingOn[i]++;
          readersOf.get(target).add(i);
        }
      }
    }
    PriorityQueue<Integer> ready = new PriorityQueue<>();
    for (int i = 0; i < n; i++) {
      if (waitingOn[i] == 0) {
        ready.add(i);
      }
    }
    List<Segment> order = new ArrayList<>(n);
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order.add(segments.get(i));
      for (int reader : readersOf.get(i)) {
        if (--waitingOn[reader] == 0) {
          ready.add(reader);
        }
      }
    }
    if (order.size() < n) {
      throw new IllegalStateException("segments read each other in a cycle: " + segments);
    }
    return order.toArray(NONE);
  }

  private Segment[][] index(int size, Read read) {
    Segment[][] idx = new Segment[size][];
    Arrays.fill(idx, NONE);
    for (Segment s : all) {
      int[] ids =
          switch (read) {
            case ATTRIBUTES -> s.expression().attributes();
            case EVENTS -> s.expression().events();
            case DIMENSIONS -> s.expression().dimensions();
          };
      for (int id : ids) {
        Segment[] cur = idx[id];
        Segment[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = s;
        idx[id] = next;
      }
    }
    return idx;
  }

  SegmentCatalog with(Segment s) {
    List<Segment> next = new ArrayList<>(Arrays.asList(all));
    next.add(s);
    return new SegmentCatalog(next);
  }

  SegmentCatalog without(Segment s) {
    List<Segment> next = new ArrayList<>(Arrays.asList(all));
    next.remove(s);
    return new SegmentCatalog(next);
  }

  /**
   * Every segment, each after the segments it reads ({@code in_segment}), otherwise in definition
   * order; so evaluating them in this order sees every segment read already up to date. Do not
   * modify.
   */
  public Segment[] all() {
    return all;
  }

  public Segment byName(String name) {
    return byName.get(name);
  }

  /** Segments whose expression reads attribute {@code id}. Do not modify. */
  public Segment[] readingAttribute(int id) {
    return id >= 0 && id < byAttribute.length ? byAttribute[id] : NONE;
  }

  /** Segments whose expression reads event {@code id}. Do not modify. */
  public Segment[] readingEvent(int id) {
    return id >= 0 && id < byEvent.length ? byEvent[id] : NONE;
  }

  /**
   * Segments whose expression reads dimension {@code id} (a write that counted in it may change
   * their answer). Do not modify.
   */
  public Segment[] readingDimension(int id) {
    return id >= 0 && id < byDimension.length ? byDimension[id] : NONE;
  }

  /**
   * Segments whose answer can change with time alone, or through a segment they read that can; in
   * the order of {@link #all}. Do not modify.
   */
  public Segment[] timeDependent() {
    return timeDependent;
  }

  /** The members {@code s}'s {@code in_segment(...)} reads, in its expression's order. */
  public MemberSet[] reads(Segment s) {
    return reads[s.id()];
  }

  /**
   * Segments that read other segments, each after those it reads (in the order of {@link #all}). Do
   * not modify.
   */
  public Segment[] readingSegments() {
    return readingSegments;
  }

  /** Whether some segment of this catalog reads {@code s} with {@code in_segment}. */
  public boolean isRead(Segment s) {
    return s.id() < read.length && read[s.id()];
  }

  /**
   * The segments that read {@code name}, directly or through others, in the order of {@link #all}
   * (so each comes after those it reads).
   */
  public List<Segment> readersOf(String name) {
    Set<String> reached = new HashSet<>();
    reached.add(name);
    List<Segment> out = new ArrayList<>();
    for (Segment s : all) {
      for (String n : s.expression().segments()) {
        if (reached.contains(n)) {
          reached.add(s.name());
          out.add(s);
          break;
        }
      }
    }
    return out;
  }

  /**
   * Whether a definition of {@code name} reading the segments {@code reads} would make a cycle: the
   * chain of segments from one it reads to {@code name} itself, each reading the next (just {@code
   * [name]} when it would read itself), or null when there is none.
   */
  public List<String> cycleThrough(String name, String[] reads) {
    for (String r : reads) {
      List<String> path = pathTo(r, name);
      if (path != null) {
        return path;
      }
    }
    return null;
  }

  /**
   * A chain of reads from segment {@code from} to {@code to}, both included, or null: a search with
   * its own stack, since a chain may be as long as the segments a node may hold.
   */
  private List<String> pathTo(String from, String to) {
    Map<String, String> cameFrom = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    cameFrom.put(from, null);
    stack.push(from);
    while (!stack.isEmpty()) {
      String at = stack.pop();
      if (at.equals(to)) {
        List<String> path = new ArrayList<>();
        for (String step = at; step != null; step = cameFrom.get(step)) {
          path.add(step);
        }
        return path.reversed();
      }
      Segment s = byName.get(at);
      if (s == null) {
        continue;
      }
      String[] next = s.expression().segments();
      for (int i = next.length - 1; i >= 0; i--) {
        if (!cameFrom.containsKey(next[i])) {
          cameFrom.put(next[i], at);
          stack.push(next[i]);
        }
      }
    }
    return null;
  }

  /** Highest segment id in this catalog, or -1. */
  public int maxId() {
    return maxId;
  }
}

package dev.whack.node.engine.segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable snapshot of the defined segments with the indexes an update needs: which segments
 * read a given attribute or event, and which depend on time.
 *
 * <p>Concurrency: immutable; the registry publishes a new snapshot on every define and drop.
 */
public final class SegmentCatalog {
  private static final Segment[] NONE = new Segment[0];
  static final SegmentCatalog EMPTY = new SegmentCatalog(List.of());

  private final Segment[] all;
  private final Map<String, Segment> byName;
  private final Segment[][] byAttribute;
  private final Segment[][] byEvent;
  private final Segment[] timeDependent;
  private final int maxId;

  SegmentCatalog(List<Segment> segments) {
    all = segments.toArray(NONE);
    byName = new LinkedHashMap<>();
    List<Segment> timed = new ArrayList<>();
    int attrs = 0;
    int events = 0;
    int max = -1;
    for (Segment s : all) {
      byName.put(s.name(), s);
      if (s.expression().timeDependent()) {
        timed.add(s);
      }
      for (int a : s.expression().attributes()) {
        attrs = Math.max(attrs, a + 1);
      }
      for (int e : s.expression().events()) {
        events = Math.max(events, e + 1);
      }
      max = Math.max(max, s.id());
    }
    maxId = max;
    timeDependent = timed.toArray(NONE);
    byAttribute = index(attrs, true);
    byEvent = index(events, false);
  }

  private Segment[][] index(int size, boolean attributes) {
    Segment[][] idx = new Segment[size][];
    Arrays.fill(idx, NONE);
    for (Segment s : all) {
      int[] ids = attributes ? s.expression().attributes() : s.expression().events();
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

  /** Every segment, in definition order. Do not modify. */
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

  /** Segments whose answer can change with time alone. Do not modify. */
  public Segment[] timeDependent() {
    return timeDependent;
  }

  /** Highest segment id in this catalog, or -1. */
  public int maxId() {
    return maxId;
  }
}

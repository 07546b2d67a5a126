package dev.whack.node.engine.segment;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Routes enter/leave changes to the subscriptions that named the segment.
 *
 * <p>Concurrency: subscribe and unsubscribe rebuild an immutable map under this object's monitor
 * and publish it through a volatile field; {@link #publish} reads the map without locking. With no
 * subscribers a publish is one volatile read and a map miss.
 */
public final class ChangeHub {
  private static final Subscription[] NONE = new Subscription[0];
  private volatile Map<String, Subscription[]> bySegment = Map.of();
  /** Every membership change published, watched or not (for the changes-per-second metric). */
  private final java.util.concurrent.atomic.LongAdder published =
      new java.util.concurrent.atomic.LongAdder();

  /**
   * Subscribes to changes of the named segments (defined now or later).
   *
   * @param capacity changes buffered before new ones are dropped and counted as missed
   * @param onChange called (on the ingesting thread, so it must not block) after each offer; may be
   *     null
   */
  public synchronized Subscription subscribe(
      Collection<String> segments, int capacity, Runnable onChange) {
    if (capacity < 1 || capacity > (1 << 24)) {
      throw new SegmentException("subscriber buffer must hold 1 to 16777216 changes");
    }
    if (segments.isEmpty()) {
      throw new SegmentException("name at least one segment to watch");
    }
    for (String s : segments) {
      SegmentRegistry.checkName(s);
    }
    Set<String> names = Set.copyOf(new LinkedHashSet<>(segments));
    Subscription sub = new Subscription(this, names, capacity, onChange);
    Map<String, Subscription[]> next = new HashMap<>(bySegment);
    for (String s : names) {
      Subscription[] cur = next.getOrDefault(s, NONE);
      Subscription[] grown = Arrays.copyOf(cur, cur.length + 1);
      grown[cur.length] = sub;
      next.put(s, grown);
    }
    bySegment = Map.copyOf(next);
    return sub;
  }

  synchronized void unsubscribe(Subscription sub) {
    Map<String, Subscription[]> next = new HashMap<>(bySegment);
    for (String s : sub.segments()) {
      List<Subscription> rest = new ArrayList<>(Arrays.asList(next.getOrDefault(s, NONE)));
      rest.remove(sub);
      if (rest.isEmpty()) {
        next.remove(s);
      } else {
        next.put(s, rest.toArray(NONE));
      }
    }
    bySegment = Map.copyOf(next);
  }

  /** Offers one change to every subscriber of {@code segment}; never blocks. */
  public void publish(String segment, byte[] key, boolean enter, long timeMillis) {
    published.increment();
    Map<String, Subscription[]> m = bySegment;
    if (m.isEmpty()) {
      return;
    }
    Subscription[] subs = m.get(segment);
    if (subs == null) {
      return;
    }
    SegmentChange change =
        new SegmentChange(segment, new String(key, StandardCharsets.ISO_8859_1), enter, timeMillis);
    for (Subscription s : subs) {
      s.offer(change);
    }
  }

  /** Membership changes published since start. */
  public long publishedCount() {
    return published.sum();
  }

  public int subscriberCount() {
    Set<Subscription> all = new java.util.HashSet<>();
    for (Subscription[] subs : bySegment.values()) {
      all.addAll(Arrays.asList(subs));
    }
    return all.size();
  }
}

package dev.whack.node.engine.segment;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Routes enter/leave changes to the subscriptions that named the segment, through one change buffer
 * for the whole node: a change of a watched segment is written once, into one of a few {@link
 * ChangeRing}s chosen by the profile key (so a profile's changes stay in order), whoever and
 * however many watch it, and every {@link Subscription} reads the rings at its own pace. Memory is
 * the rings' fixed size however many subscribers there are and however slowly they read; a
 * subscriber too slow for the traffic is lapped and told how many changes it lost.
 *
 * <p>Each watched name has a small id (the records carry it instead of the name); ids are handed
 * out round robin, so an id freed when its name's last subscriber leaves is not reused until every
 * other id has been, long after any writer that still held the old routing has finished.
 *
 * <p>Concurrency: subscribe and unsubscribe rebuild an immutable {@code State} under this object's
 * monitor and publish it through a volatile field; {@link #publish} reads it without locking. With
 * no subscribers a publish is one volatile read; the rings exist only while someone watches.
 */
public final class ChangeHub {
  /** Most segment names watched at once, over all subscriptions. */
  public static final int MAX_WATCHED_NAMES = 4096;

  private record Watched(int id, Subscription[] subscribers) {}

  private record State(Map<String, Watched> bySegment, ChangeRing[] rings) {}

  private static final State NONE = new State(Map.of(), null);

  private final int ringBytes;
  private final int stripes;
  private final int maxKeyBytes;
  private final BitSet usedIds = new BitSet(MAX_WATCHED_NAMES);
  private int nextId;
  private volatile State state = NONE;

  /** Every membership change published, watched or not (for the changes-per-second metric). */
  private final LongAdder published = new LongAdder();

  /**
   * @param bufferBytes the change buffer, split evenly over {@code stripes} rings (both powers of
   *     two)
   * @param maxKeyBytes the longest profile key a change can carry
   */
  public ChangeHub(int bufferBytes, int stripes, int maxKeyBytes) {
    this.ringBytes = bufferBytes / stripes;
    this.stripes = stripes;
    this.maxKeyBytes = maxKeyBytes;
  }

  /** Bytes one change of a key this long takes in the buffer. */
  public static int recordBytes(int keyLength) {
    return ChangeRing.recordLength(keyLength);
  }

  /**
   * Subscribes to changes of the named segments (defined now or later), from now on.
   *
   * @param onChange called on the ingesting thread (so it must not block) when a change arrives for
   *     a subscriber that {@link Subscription#arm armed} itself; may be null
   */
  public synchronized Subscription subscribe(Collection<String> segments, Runnable onChange) {
    if (segments.isEmpty()) {
      throw new SegmentException("name at least one segment to watch");
    }
    for (String s : segments) {
      SegmentRegistry.checkName(s);
    }
    List<String> order = new ArrayList<>(new LinkedHashSet<>(segments));
    State current = state;
    Map<String, Watched> next = new HashMap<>(current.bySegment());
    int fresh = 0;
    for (String name : order) {
      if (!next.containsKey(name)) {
        fresh++;
      }
    }
    if (next.size() + fresh > MAX_WATCHED_NAMES) {
      throw new SegmentException(
          "at most " + MAX_WATCHED_NAMES + " segment names can be watched at once");
    }
    ChangeRing[] rings = current.rings() != null ? current.rings() : newRings();
    int[] ids = new int[order.size()];
    for (int i = 0; i < ids.length; i++) {
      Watched w = next.get(order.get(i));
      ids[i] = w != null ? w.id() : takeId();
    }
    Subscription sub =
        new Subscription(this, Set.copyOf(order), order, ids, rings, maxKeyBytes, onChange);
    for (int i = 0; i < ids.length; i++) {
      Watched w = next.get(order.get(i));
      Subscription[] subs;
      if (w == null) {
        subs = new Subscription[] {sub};
      } else {
        subs = Arrays.copyOf(w.subscribers(), w.subscribers().length + 1);
        subs[subs.length - 1] = sub;
      }
      next.put(order.get(i), new Watched(ids[i], subs));
    }
    state = new State(Map.copyOf(next), rings);
    return sub;
  }

  private ChangeRing[] newRings() {
    ChangeRing[] rings = new ChangeRing[stripes];
    for (int i = 0; i < stripes; i++) {
      rings[i] = new ChangeRing(ringBytes, MAX_WATCHED_NAMES);
    }
    return rings;
  }

  private int takeId() {
    int id = usedIds.nextClearBit(nextId);
    if (id >= MAX_WATCHED_NAMES) {
      id = usedIds.nextClearBit(0);
    }
    usedIds.set(id);
    nextId = id + 1;
    return id;
  }

  synchronized void unsubscribe(Subscription sub) {
    Map<String, Watched> next = new HashMap<>(state.bySegment());
    for (String name : sub.segments()) {
      Watched w = next.get(name);
      if (w == null) {
        continue;
      }
      List<Subscription> rest = new ArrayList<>(Arrays.asList(w.subscribers()));
      rest.remove(sub);
      if (rest.isEmpty()) {
        next.remove(name);
        usedIds.clear(w.id());
      } else {
        next.put(name, new Watched(w.id(), rest.toArray(new Subscription[0])));
      }
    }
    state = next.isEmpty() ? NONE : new State(Map.copyOf(next), state.rings());
  }

  /** Told every change, watched or not; null for none. */
  private volatile ChangeRecorder recorder;

  /** From now on every change is also told to {@code recorder} (null: to none). */
  public void recordTo(ChangeRecorder recorder) {
    this.recorder = recorder;
  }

  /**
   * Writes one change for the subscribers of {@code segment}, if any, and tells the recorder; never
   * blocks on them. The caller holds the profile's stripe lock.
   */
  public void publish(String segment, byte[] key, boolean enter, long timeMillis) {
    byte[] moving = muted.get();
    if (moving != null && java.util.Arrays.equals(moving, key)) {
      return; // a profile moving between members: no change happened (see muted)
    }
    published.increment();
    ChangeRecorder r = recorder;
    if (r != null) {
      r.changed(segment, key, enter, timeMillis);
    }
    State s = state;
    if (s.rings() == null) {
      return;
    }
    Watched w = s.bySegment().get(segment);
    if (w == null) {
      return;
    }
    s.rings()[stripe(key)].append(w.id(), key, enter, timeMillis);
    for (Subscription sub : w.subscribers()) {
      sub.wake();
    }
  }

  /**
   * Per thread, the key whose segment changes are not changes now, or null: a profile that a
   * Kafka-managed cluster moves to this member enters its segments here, but it never left them in
   * the cluster (its last owner dropped it without telling either). Only that key: another profile
   * the same write evicts leaves for real. Read on every publish, on the writer's thread.
   */
  private final ThreadLocal<byte[]> muted = new ThreadLocal<>();

  /** Runs {@code work} on this thread with the segment changes of {@code key} untold. */
  public <T> T withoutTelling(byte[] key, java.util.function.Supplier<T> work) {
    byte[] before = muted.get();
    muted.set(key);
    try {
      return work.get();
    } finally {
      muted.set(before);
    }
  }

  /** The ring of a key: FNV-1a over its bytes, so one profile's changes share a ring. */
  private int stripe(byte[] key) {
    if (stripes == 1) {
      return 0;
    }
    int h = 0x811c9dc5;
    for (byte b : key) {
      h = (h ^ b) * 0x01000193;
    }
    return (h ^ h >>> 16) & (stripes - 1);
  }

  /** Membership changes published since start. */
  public long publishedCount() {
    return published.sum();
  }

  public int subscriberCount() {
    Set<Subscription> all = new HashSet<>();
    for (Watched w : state.bySegment().values()) {
      all.addAll(Arrays.asList(w.subscribers()));
    }
    return all.size();
  }
}

package dev.whack.node.observability;

import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Everyone watching segment changes (a memcached connection's {@code watch}, a gRPC {@code
 * Subscribe}): each one's lag for metrics, and the node's rule for a watcher that stays lapped
 * (docs/protocol.md, "Watching"): the node's timer calls {@link #closeLapped}, and a watcher that
 * has been behind for the lapped timeout is told why and ended.
 *
 * <p>Concurrency: a concurrent map; watchers come and go from their threads while the timer and the
 * metrics scrape read it.
 */
public final class Watchers {
  /**
   * A reader of the change stream, as the timer and metrics see it; its methods run on any thread.
   */
  public interface Watching {
    /** Changes waiting for it (some may be lost already). */
    long lag();

    /**
     * Notes when it fell behind, and ends it (telling it why, in its protocol's terms) once it has
     * been behind for {@code timeoutMillis} or more.
     */
    void checkLapped(long nowMillis, long timeoutMillis);
  }

  /** One watcher, as metrics show it. */
  record Watcher(String name, Watching session) {
    /** Changes waiting for it. */
    long lag() {
      return session.lag();
    }
  }

  private final InstantSource clock;
  private final long lappedTimeoutMillis;
  private final Map<Watching, String> active = new ConcurrentHashMap<>();

  /**
   * @param lappedTimeoutMillis how long a watcher may stay behind (losing changes, or not reading
   *     while writers lap it) before the node ends its watch and closes its connection
   */
  public Watchers(InstantSource clock, long lappedTimeoutMillis) {
    this.clock = clock;
    this.lappedTimeoutMillis = lappedTimeoutMillis;
  }

  /** Starts counting a watcher, named for metrics by where it reads from. */
  public void add(Watching session, String name) {
    active.put(session, name);
  }

  public void remove(Watching session) {
    active.remove(session);
  }

  public long nowMillis() {
    return clock.millis();
  }

  List<Watcher> all() {
    List<Watcher> all = new ArrayList<>(active.size());
    active.forEach((session, name) -> all.add(new Watcher(name, session)));
    return all;
  }

  /** Ends the watch of every watcher that has stayed lapped for the timeout; the timer calls it. */
  public void closeLapped() {
    long now = clock.millis();
    for (Watching session : active.keySet()) {
      session.checkLapped(now, lappedTimeoutMillis);
    }
  }
}

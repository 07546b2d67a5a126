package dev.whack.node.observability;

import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections watching segment changes: each one's lag for metrics, and the node's rule for a
 * watcher that stays lapped (docs/protocol.md, "Watching"): the node's timer calls {@link
 * #closeLapped}, and a watcher that has been behind for the lapped timeout is told why and
 * disconnected.
 *
 * <p>Concurrency: a concurrent map; watchers come and go from their event loops while the timer and
 * the metrics scrape read it.
 */
public final class Watchers {
  /** One watching connection, as metrics show it. */
  record Watcher(String name, WatchSession session) {
    /** Changes waiting for it. */
    long lag() {
      return session.lag();
    }
  }

  private final InstantSource clock;
  private final long lappedTimeoutMillis;
  private final Map<WatchSession, String> active = new ConcurrentHashMap<>();

  /**
   * @param lappedTimeoutMillis how long a watcher may stay behind (losing changes, or not reading
   *     while writers lap it) before the node ends its watch and closes its connection
   */
  public Watchers(InstantSource clock, long lappedTimeoutMillis) {
    this.clock = clock;
    this.lappedTimeoutMillis = lappedTimeoutMillis;
  }

  void add(WatchSession session, String name) {
    active.put(session, name);
  }

  void remove(WatchSession session) {
    active.remove(session);
  }

  long nowMillis() {
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
    for (WatchSession session : active.keySet()) {
      session.checkLapped(now, lappedTimeoutMillis);
    }
  }
}

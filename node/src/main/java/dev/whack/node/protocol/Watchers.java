package dev.whack.node.protocol;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * The connections currently watching segment changes, so that metrics can show each watcher's
 * lag (changes buffered, not yet written).
 *
 * <p>Concurrency: a concurrent map; watchers come and go from their event loops.
 */
public final class Watchers {
  /** One watching connection. */
  public record Watcher(String name, IntSupplier lag) {}

  private final ConcurrentHashMap<Object, Watcher> active = new ConcurrentHashMap<>();

  public void add(Object owner, Watcher watcher) {
    active.put(owner, watcher);
  }

  public void remove(Object owner) {
    active.remove(owner);
  }

  public Collection<Watcher> all() {
    return active.values();
  }
}

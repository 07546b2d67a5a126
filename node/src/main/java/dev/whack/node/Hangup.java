package dev.whack.node;

import dev.whack.node.observability.NodeLog;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * SIGHUP, the operator's "read your files again" (as for nginx or memcached's certificate reload):
 * one process-wide handler that runs every registered action, so that the TLS files, and whatever
 * else a node reloads, share the signal instead of replacing each other's handler.
 *
 * <p>The handler is installed when the first action registers, never before: until then SIGHUP
 * keeps the JVM's meaning (shut down, with the shutdown hooks), so a node with nothing to reload
 * behaves as it always did. The signal is handled through {@link Signals}.
 *
 * <p>Concurrency: actions are a copy-on-write list; they run on the JVM's signal thread, one signal
 * at a time, and must be quick and must not throw (a throw is logged and the rest run).
 */
public final class Hangup {
  private static final List<Runnable> ACTIONS = new CopyOnWriteArrayList<>();
  private static boolean installed;

  private Hangup() {}

  /**
   * Runs {@code action} on every SIGHUP until {@link #unregister}.
   *
   * @return false if the signal cannot be handled here (no {@code sun.misc.Signal}, or the JVM runs
   *     with {@code -Xrs}): the action then only runs when its other trigger fires
   */
  public static synchronized boolean register(Runnable action) {
    if (!installed) {
      installed = install();
      if (!installed) {
        return false;
      }
    }
    ACTIONS.add(action);
    return true;
  }

  public static void unregister(Runnable action) {
    ACTIONS.remove(action);
  }

  private static void fire() {
    for (Runnable action : ACTIONS) {
      try {
        action.run();
      } catch (RuntimeException e) {
        NodeLog.warn("whack node: a SIGHUP reload failed: " + e);
      }
    }
  }

  private static boolean install() {
    try {
      Signals.on("HUP", Hangup::fire);
      return true;
    } catch (IllegalStateException e) {
      NodeLog.warn(
          "whack node: SIGHUP cannot be handled here, reload on file change only: "
              + e.getMessage());
      return false;
    }
  }
}

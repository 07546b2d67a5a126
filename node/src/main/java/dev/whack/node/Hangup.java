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
 * <p>Concurrency: actions are a copy-on-write list; they run on one {@code whack-reload} thread,
 * one round at a time (signals that come while a round waits join it), and must not throw (a throw
 * is logged and the rest run).
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

  /**
   * Runs the reloads on one thread of their own, one round at a time: the JVM starts a new thread
   * for each signal, so two quick SIGHUPs would otherwise reload at once (and the one that read the
   * older file could publish last). A signal that comes while a round waits to run adds none.
   */
  private static final java.util.concurrent.ExecutorService RELOADS =
      java.util.concurrent.Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "whack-reload");
            t.setDaemon(true);
            return t;
          });

  private static final java.util.concurrent.atomic.AtomicBoolean PENDING =
      new java.util.concurrent.atomic.AtomicBoolean();

  private static void fire() {
    if (!PENDING.compareAndSet(false, true)) {
      return; // a round that has not started yet reads the files as they are now
    }
    RELOADS.execute(
        () -> {
          PENDING.set(false);
          for (Runnable action : ACTIONS) {
            try {
              action.run();
            } catch (Throwable e) {
              NodeLog.warn("whack node: a SIGHUP reload failed: " + e);
            }
          }
        });
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

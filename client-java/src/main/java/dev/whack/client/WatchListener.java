package dev.whack.client;

/**
 * Receives the changes of a {@link Watch}, merged from every node. Calls are never concurrent (the
 * watch serialises them), and they run on the client's I/O threads: return quickly and never block,
 * or the nodes will drop changes for this watcher and report them as missed.
 */
@FunctionalInterface
public interface WatchListener {
  /** A profile entered or left a watched segment. */
  void onChange(SegmentChange change);

  /**
   * The node dropped {@code count} changes for this watcher because it read too slowly ({@code
   * MISSED <n>}).
   */
  default void onMissed(String node, long count) {}

  /**
   * The watch connection to {@code node} was lost; changes on that node are not seen until {@link
   * #onReconnected} is called. The watch retries in the background.
   */
  default void onDisconnected(String node, Throwable cause) {}

  /** The watch on {@code node} is active again; changes while it was away were not seen. */
  default void onReconnected(String node) {}
}

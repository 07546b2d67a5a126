package dev.whack.node.observability;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.segment.ChangeSink;
import dev.whack.node.engine.segment.SegmentChange;
import java.util.ArrayDeque;

/**
 * Changes from the other members for one watcher whose watch covers the cluster: at most about a
 * fixed number of bytes, the oldest dropped and counted as missed when it is full, so a watcher
 * that does not read holds a bounded share of the node whatever the cluster does.
 *
 * <p>Concurrency: offered from the cluster client's threads, taken by the watcher's reader, under
 * this object's monitor.
 */
public final class RemoteChanges {
  private final int maxBytes;
  private final ArrayDeque<SegmentChange> queue = new ArrayDeque<>();
  private int bytes;
  private long missed;

  public RemoteChanges(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  public synchronized void offer(SegmentChange change) {
    queue.addLast(change);
    bytes += size(change);
    while (bytes > maxBytes) {
      bytes -= size(queue.removeFirst());
      missed++;
    }
  }

  public synchronized void missed(long count) {
    missed += count;
  }

  /** Hands the sink a missed notice or the oldest change; false when nothing waits. */
  public boolean pollTo(ChangeSink sink) {
    long lost;
    SegmentChange change;
    synchronized (this) {
      lost = missed;
      missed = 0;
      change = lost > 0 ? null : queue.pollFirst();
      if (change != null) {
        bytes -= size(change);
      }
    }
    if (lost > 0) {
      sink.missed(lost);
      return true;
    }
    if (change == null) {
      return false;
    }
    byte[] key = change.key().getBytes(ISO_8859_1); // the engine's keys: one char per byte
    sink.change(
        change.segment(),
        change.segment().getBytes(UTF_8),
        key,
        key.length,
        change.enter(),
        change.timeMillis());
    return true;
  }

  /** Changes waiting. */
  public synchronized int size() {
    return queue.size();
  }

  public synchronized void clear() {
    queue.clear();
    bytes = 0;
    missed = 0;
  }

  /** About what a change costs here: the object, its two strings and their arrays. */
  private static int size(SegmentChange change) {
    return 96 + change.segment().length() + change.key().length();
  }
}

package dev.whack.node.protocol;

import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.stats.NodeStats;
import io.netty.channel.ChannelHandlerContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One connection's watch on segment changes, shared by the text and binary front ends.
 *
 * <p>Design: the engine's change listener runs on the writing thread, inside its write, so it only
 * schedules a drain on this connection's event loop (at most one pending at a time). The drain
 * writes waiting changes, in the protocol's own format, through the connection's {@link
 * ReplyBuffer}; since it runs as an event-loop task it never lands inside another reply. While the
 * client does not read (the channel is not writable) nothing is drained: the subscription's
 * bounded buffer absorbs changes and then drops the oldest, and the next drain starts with a
 * missed-count notice. Ingestion never waits for a watcher.
 *
 * <p>Concurrency: everything but {@link #scheduleDrain} runs on the connection's event loop.
 */
public final class WatchSession {
  /** Changes a watcher may have waiting before the oldest are dropped. */
  public static final int BUFFER_CHANGES = 65_536;
  private static final int DRAIN_BATCH = 4096;

  /** How a protocol writes changes and missed-change notices. */
  public interface Format {
    void change(ReplyBuffer out, SegmentChange change);

    void missed(ReplyBuffer out, long count);
  }

  private final ProfileEngine engine;
  private final NodeStats stats;
  private final Watchers watchers;
  private final ChannelHandlerContext ctx;
  private final ReplyBuffer replies;
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final List<SegmentChange> batch = new ArrayList<>();
  private Subscription subscription;
  private Format format;
  /** Changes from the other members, when this watch covers the cluster; bounded like ours. */
  private final java.util.concurrent.ArrayBlockingQueue<SegmentChange> remote =
      new java.util.concurrent.ArrayBlockingQueue<>(BUFFER_CHANGES);
  private final java.util.concurrent.atomic.AtomicLong remoteMissed =
      new java.util.concurrent.atomic.AtomicLong();
  private AutoCloseable peerWatch;

  public WatchSession(
      ProfileEngine engine,
      NodeStats stats,
      Watchers watchers,
      ChannelHandlerContext ctx,
      ReplyBuffer replies) {
    this.engine = engine;
    this.stats = stats;
    this.watchers = watchers;
    this.ctx = ctx;
    this.replies = replies;
  }

  /** The first name that is not a defined segment, or null if all are. */
  public String unknownSegment(List<String> names) {
    for (String name : names) {
      if (engine.segment(name) == null) {
        return name;
      }
    }
    return null;
  }

  /** Starts watching these segments, replacing any earlier watch of this connection. */
  public void start(List<String> names, Format format) {
    close();
    this.format = format;
    subscription = engine.subscribe(names, BUFFER_CHANGES, this::scheduleDrain);
    stats.watchers.increment();
    watchers.add(this, new Watchers.Watcher(String.valueOf(ctx.channel().remoteAddress()), this::lag));
  }

  public boolean active() {
    return subscription != null;
  }

  /**
   * Adds the other members' changes to this watch (a watch asked of a clustered node covers the
   * cluster); {@code peerWatch} is closed with the watch.
   */
  public void addPeers(AutoCloseable peerWatch) {
    this.peerWatch = peerWatch;
  }

  /** A change from another member; from any thread. A full buffer drops it and counts it. */
  public void offerRemote(SegmentChange change) {
    if (!remote.offer(change)) {
      remoteMissed.incrementAndGet();
    }
    scheduleDrain();
  }

  /** Another member dropped changes for this watcher; from any thread. */
  public void missedRemote(long count) {
    remoteMissed.addAndGet(count);
    scheduleDrain();
  }

  /** Stops watching after writing what had already happened. */
  public void stop() {
    if (subscription != null) {
      for (int i = 0; i < 1_000 && drain(); i++) {
        // deliver what already happened before the stop (bounded: peers may keep sending)
      }
    }
    close();
  }

  /** When the client reads again, deliver what waited. */
  public void onWritable() {
    Subscription s = subscription;
    if (s != null && s.buffered() > 0) {
      scheduleDrain();
    }
  }

  /** Changes buffered and not yet written. */
  public int lag() {
    Subscription s = subscription;
    return (s == null ? 0 : s.buffered()) + remote.size();
  }

  /** Releases the subscription; safe to call twice. */
  public void close() {
    if (peerWatch != null) {
      try {
        peerWatch.close();
      } catch (Exception ignored) {
        // closing the peers' watch connections cannot fail in a way this watcher can act on
      }
      peerWatch = null;
      remote.clear();
    }
    if (subscription != null) {
      subscription.close();
      subscription = null;
      stats.watchers.decrement();
      watchers.remove(this);
    }
  }

  /** Runs on the writer's thread, inside its write: only wakes the event loop. */
  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      ctx.executor().execute(this::drainAndFlush);
    }
  }

  private void drainAndFlush() {
    drainScheduled.set(false);
    if (subscription == null || !ctx.channel().isActive() || !ctx.channel().isWritable()) {
      return; // onWritable resumes; meanwhile the bounded buffer absorbs or drops
    }
    if (replies.inPieces()) {
      return; // a reply is being written in pieces; onWritable resumes when it has ended
    }
    boolean more = drain();
    replies.flush();
    if (more) {
      scheduleDrain();
    }
  }

  /** Writes one batch of waiting changes; true if more remain. */
  private boolean drain() {
    long missed = subscription.takeMissed() + remoteMissed.getAndSet(0);
    if (missed > 0) {
      stats.watchMissed.add(missed);
      format.missed(replies, missed);
    }
    batch.clear();
    int n = subscription.drainTo(batch, DRAIN_BATCH);
    n += remote.drainTo(batch, DRAIN_BATCH - n);
    for (SegmentChange change : batch) {
      format.change(replies, change);
    }
    batch.clear();
    stats.watchDelivered.add(n);
    return n == DRAIN_BATCH || !remote.isEmpty();
  }
}

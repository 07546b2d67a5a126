package dev.whack.node.grpc;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.segment.ChangeSink;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.RemoteChanges;
import dev.whack.node.observability.Watchers;
import dev.whack.proto.SegmentChange;
import dev.whack.proto.SegmentMembers;
import dev.whack.proto.SubscribeReply;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@code Subscribe} call (docs/grpc.md): reads the node's change buffer at the subscriber's
 * pace, as a memcached {@code watch} does ({@link dev.whack.node.observability.WatchSession}), so
 * ingestion never waits for it and what it costs the node is bounded: it sends a reply only while
 * gRPC says the call can take one ({@code isReady}), holds at most one reply of changes, and a
 * subscriber that does not read is lapped by writers (its next reply carries the {@code missed}
 * count) and, past the lapped timeout, ended with {@code RESOURCE_EXHAUSTED}.
 *
 * <p>With a snapshot, the subscription starts first, then each segment's current members are sent
 * in pages, then {@code snapshot_done}, then the changes since the subscription started: a change
 * that happened while the snapshot was read may repeat what the snapshot already holds, never miss
 * what it does not, so applying the changes in order over the snapshot gives the live membership.
 * On a clustered node the snapshot covers the cluster ({@link ClusterSegments#page}) and so do the
 * changes (the other members' through {@link Cluster#watchPeers}).
 *
 * <p>Concurrency: writers and the peers' watch only schedule a drain on the gRPC executor; one
 * drain runs at a time, and only drains (under this object's monitor) touch the call.
 */
final class SubscribeStream implements ChangeSink, Watchers.Watching {
  /** Changes per reply, and about the most bytes of them, before it is sent. */
  private static final int MAX_CHANGES = 512;

  private static final int MAX_BYTES = 64 * 1024;

  /** Keys per snapshot page. */
  private static final int SNAPSHOT_PAGE = 1000;

  /** Replies one drain sends before it lets other calls run on the executor. */
  private static final int REPLIES_PER_TURN = 64;

  private final ServerCallStreamObserver<SubscribeReply> call;
  private final ProfileEngine engine;
  private final ClusterSegments segments;
  private final Cluster cluster;
  private final NodeStats stats;
  private final Watchers watchers;
  private final Executor executor;
  private final List<String> names;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drainTask;
  private final RemoteChanges remote = new RemoteChanges(MAX_BYTES);

  /** When this subscriber fell behind (clock millis), 0 while it is not. */
  private final AtomicLong behindSince = new AtomicLong();

  private volatile Subscription subscription;
  private Cluster.PeerWatching peerWatch;

  /** The snapshot waits for the other members' watch to be open (a managed cluster's). */
  private boolean waitingForPeers;

  /** How long a snapshot waits for the other members' watch to open before it gives up. */
  private static final long PEERS_TIMEOUT_SECONDS = 30;

  /** The snapshot still to send: the segment it is at (names.size(): done) and its cursor. */
  private int snapshotSegment;

  private String snapshotCursor;
  private boolean snapshotting;
  private boolean ended;

  /** Why the timer asked this subscriber to end, for the next drain to tell it. */
  private Status endStatus;

  private Runnable onEnd;

  /** The snapshot page asked of the cluster, not yet sent. */
  private CompletableFuture<ClusterSegments.Page> pendingPage;

  /** The last drain stopped because the call could not take a reply: the client is not reading. */
  private volatile boolean stalled;

  /** The reply being filled by {@link #change}/{@link #missed}, and its size so far. */
  private SubscribeReply.Builder reply;

  private int replyBytes;

  /** A missed count that came after the reply's changes: it opens the next reply. */
  private long carriedMissed;

  private boolean replyFull;

  SubscribeStream(
      ServerCallStreamObserver<SubscribeReply> call,
      ProfileEngine engine,
      ClusterSegments segments,
      Cluster cluster,
      NodeStats stats,
      Watchers watchers,
      Executor executor,
      List<String> names) {
    this.call = call;
    this.engine = engine;
    this.segments = segments;
    this.cluster = cluster;
    this.stats = stats;
    this.watchers = watchers;
    this.executor = executor;
    this.names = names;
  }

  /**
   * Subscribes, then sends the snapshot if asked, then changes as they come.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE, naming the member, when the other members'
   *     changes cannot be watched (nothing is left subscribed)
   */
  synchronized void start(boolean snapshot, String name) {
    snapshotting = snapshot; // before anything can drain: no change goes out ahead of the snapshot
    call.setOnCancelHandler(this::close);
    call.setOnReadyHandler(this::schedule);
    subscription = engine.subscribe(names, this::schedule);
    if (cluster.isClustered()) {
      // Open before the subscriber is counted: once counted, it hears every member's changes.
      try {
        peerWatch = cluster.watchPeers(names, this::offerRemote, this::missedRemote);
      } catch (RuntimeException e) {
        Subscription s = subscription;
        subscription = null;
        s.close();
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        throw Status.UNAVAILABLE
            .withDescription("the other members' changes cannot be watched: " + cause.getMessage())
            .asRuntimeException();
      }
    }
    stats.watchers.increment();
    watchers.add(this, name);
    schedule();
  }

  private void offerRemote(dev.whack.node.engine.segment.SegmentChange change) {
    remote.offer(change);
    schedule();
  }

  private void missedRemote(long count) {
    remote.missed(count);
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      executor.execute(drainTask);
    }
  }

  private void drainTask() {
    scheduled.set(false);
    drain();
  }

  /**
   * Sends what waits while the call is ready: the snapshot's next page, or one reply of changes;
   * arms the subscription once nothing waits, and stops when the call is not ready (its ready
   * handler schedules the next drain) or after its turn (it schedules itself again).
   */
  private synchronized void drain() {
    Subscription s = subscription;
    if (ended) {
      return;
    }
    if (endStatus != null) {
      end(endStatus);
      return;
    }
    if (s == null || call.isCancelled()) {
      return;
    }
    stalled = false;
    try {
      for (int sent = 0; call.isReady(); sent++) {
        if (sent == REPLIES_PER_TURN) {
          schedule();
          return;
        }
        if (snapshotting) {
          if (!sendSnapshotPage()) {
            return; // a cluster page on its way: its completion drains again
          }
          continue;
        }
        reply = SubscribeReply.newBuilder().setMissed(carriedMissed);
        replyBytes = 0;
        replyFull = false;
        carriedMissed = 0;
        while (!replyFull
            && reply.getChangesCount() < MAX_CHANGES
            && replyBytes < MAX_BYTES
            && (s.next(this) || remote.pollTo(this))) {
          // one change (or missed count) per turn
        }
        SubscribeReply out = reply.build();
        reply = null;
        if (out.getChangesCount() == 0 && out.getMissed() == 0) {
          if (s.arm()) {
            behindSince.set(0); // level with the stream: not behind any more
            return;
          }
          continue; // a change came in while arming
        }
        call.onNext(out);
      }
      stalled = true; // not ready: the client is not reading (the ready handler drains again)
      if (s.overtaken()) {
        behindSince.compareAndSet(0, watchers.nowMillis());
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      // A bug or no memory for the next reply: this subscriber ends; everyone else carries on.
      end(Status.INTERNAL.withDescription("the subscription failed: " + e));
    }
  }

  /** The snapshot's next page: false when it comes later, from another member. */
  private boolean sendSnapshotPage() {
    if (snapshotSegment == names.size()) {
      snapshotting = false;
      call.onNext(SubscribeReply.newBuilder().setSnapshotDone(true).build());
      return true;
    }
    Cluster.PeerWatching peers = peerWatch;
    if (peers != null && !peers.opened().isDone()) {
      // A managed cluster's watch opens in the background: a page read before it is open could
      // miss a change made meanwhile on that member, in neither the page nor the changes.
      if (!waitingForPeers) {
        waitingForPeers = true;
        peers
            .opened()
            .copy()
            .orTimeout(PEERS_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .whenComplete(
                (open, failure) -> {
                  if (failure != null) {
                    synchronized (this) {
                      if (endStatus == null) {
                        endStatus =
                            Status.UNAVAILABLE.withDescription(
                                "the other members' changes could not be watched within "
                                    + PEERS_TIMEOUT_SECONDS
                                    + " s");
                      }
                    }
                  }
                  schedule();
                });
      }
      return false;
    }
    String segment = names.get(snapshotSegment);
    if (pendingPage == null) {
      pendingPage =
          segments.page(
              ClusterSegments.Listing.SEGMENT_MEMBERS, segment, snapshotCursor, SNAPSHOT_PAGE);
      if (!pendingPage.isDone()) {
        pendingPage.whenComplete((p, error) -> schedule()); // asked once; read when it comes
      }
    }
    if (!pendingPage.isDone()) {
      return false;
    }
    CompletableFuture<ClusterSegments.Page> page = pendingPage;
    pendingPage = null;
    ClusterSegments.Page p;
    try {
      p = page.join();
    } catch (RuntimeException e) {
      end(GrpcErrors.statusOf(e).getStatus().augmentDescription("the snapshot of " + segment));
      return false;
    }
    SegmentMembers.Builder members = SegmentMembers.newBuilder().setSegment(segment);
    for (String key : p.keys()) {
      members.addKeys(MembersStream.asText(key));
    }
    call.onNext(SubscribeReply.newBuilder().addSnapshot(members).build());
    snapshotCursor = p.nextCursor();
    if (snapshotCursor == null) {
      snapshotSegment++;
    }
    return true;
  }

  @Override
  public void change(
      String segment, byte[] segmentUtf8, byte[] key, int keyLength, boolean enter, long time) {
    reply.addChanges(
        SegmentChange.newBuilder()
            .setKind(enter ? SegmentChange.Kind.ENTER : SegmentChange.Kind.LEAVE)
            .setSegment(segment)
            .setKey(new String(key, 0, keyLength, UTF_8))
            .setTimeMillis(time));
    replyBytes += 24 + segmentUtf8.length + keyLength;
    stats.watchDelivered.increment();
  }

  @Override
  public void missed(long count) {
    if (reply.getChangesCount() > 0) {
      // A reply's count is of changes lost before its changes: this one opens the next reply.
      carriedMissed += count;
      replyFull = true;
    } else {
      reply.setMissed(reply.getMissed() + count);
    }
    stats.watchMissed.add(count);
    behindSince.compareAndSet(0, watchers.nowMillis());
  }

  @Override
  public long lag() {
    Subscription s = subscription;
    return (s == null ? 0 : s.lag()) + remote.size();
  }

  /**
   * From the node's timer: ends a subscriber that has stayed behind for the lapped timeout, behind
   * meaning lapped while it did not read (its call not ready), or losing changes; one that reads as
   * fast as it can, a long snapshot included, is never ended for it.
   */
  @Override
  public void checkLapped(long nowMillis, long timeoutMillis) {
    Subscription s = subscription;
    if (s == null) {
      return;
    }
    long since = behindSince.get();
    if (since == 0) {
      if (stalled && s.overtaken()) {
        behindSince.compareAndSet(0, nowMillis);
      }
      return;
    }
    if (nowMillis - since < timeoutMillis) {
      return;
    }
    synchronized (this) {
      if (behindSince.get() != since || endStatus != null) {
        return; // caught up meanwhile, or ending already
      }
      endStatus =
          Status.RESOURCE_EXHAUSTED.withDescription(
              "subscription lapped for "
                  + TimeUnit.MILLISECONDS.toSeconds(nowMillis - since)
                  + " s: closing");
      stats.watchersLappedClosed.increment();
    }
    schedule();
  }

  /** Ends the call with this status; under the monitor. */
  private void end(Status status) {
    ended = true;
    close();
    if (!call.isCancelled()) {
      call.onError(status.asRuntimeException());
    }
  }

  /** Run once when this subscription is released (the service forgets it). */
  void onEnd(Runnable action) {
    this.onEnd = action;
  }

  /** Ends the call now with this status, from any thread. */
  synchronized void endNow(Status status) {
    if (!ended) {
      end(status);
    }
  }

  /** Releases the subscription and the peers' watch; safe to call twice, from any thread. */
  synchronized void close() {
    Runnable released = onEnd;
    onEnd = null;
    if (released != null) {
      released.run();
    }
    AutoCloseable peers = peerWatch;
    peerWatch = null;
    if (peers != null) {
      try {
        peers.close();
      } catch (Exception ignored) {
        // closing the peers' watch connections cannot fail in a way this subscriber can act on
      }
      remote.clear();
    }
    Subscription s = subscription;
    if (s != null) {
      subscription = null;
      s.close();
      stats.watchers.decrement();
      watchers.remove(this);
    }
  }
}

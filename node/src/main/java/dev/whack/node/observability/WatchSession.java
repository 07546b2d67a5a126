package dev.whack.node.observability;

import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.segment.ChangeSink;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.Subscription;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's watch on segment changes, shared by the text and binary front ends.
 *
 * <p>Design: the engine writes each change once into the node's change buffer, whoever watches, and
 * this session reads it at its connection's pace ({@link Subscription}). It keeps at most one write
 * of change lines ({@link #WRITE_BYTES}) in Netty at a time and formats the next only when that
 * write has gone out to the socket, whose send buffer it fixes small ({@link #SEND_BUFFER_BYTES})
 * when the watch starts. So a watcher that stops reading holds one write and a small kernel buffer
 * however much happens; what it has not read waits in the shared buffer until writers lap it, and
 * then its next line is {@code MISSED <n>}. (Before, a drain wrote whatever was buffered whenever
 * the channel was writable: each non-reading watcher queued up to Netty's 4 MiB high-water mark of
 * lines, most of them in barely filled 4 KiB buffers, about 3 MB of direct memory per MB of lines,
 * and 65,536 changes of its own on the heap; issue 13.)
 *
 * <p>The engine's listener only schedules a drain on the connection's event loop, and only for a
 * watcher that has caught up and armed itself: a watcher that is paused or busy costs ingestion
 * nothing. A watcher that stays behind (it keeps losing changes, or it does not read while writers
 * lap it) for the node's lapped timeout is told why in its protocol's terms and disconnected
 * ({@link Watchers#closeLapped}, from the node's timer).
 *
 * <p>Concurrency: everything runs on the connection's event loop except {@link #scheduleDrain}
 * (writers), {@link #offerRemote} and {@link #missedRemote} (the cluster client's threads), {@link
 * #checkLapped} (the node's timer) and {@link #lag} (metrics).
 */
public final class WatchSession implements Watchers.Watching {
  /** Bytes of change lines per write; the next write waits until this one is in the socket. */
  public static final int WRITE_BYTES = 16 * 1024;

  /**
   * A watching connection's socket send buffer (Linux doubles it), fixed instead of autotuned to as
   * much as 4 MiB, which would let every watcher that stops reading park megabytes in the kernel.
   */
  public static final int SEND_BUFFER_BYTES = 64 * 1024;

  /** Changes from the other members waiting for this watcher, at most about this many bytes. */
  public static final int REMOTE_BYTES = 64 * 1024;

  /**
   * The longest line a change can take: text {@code CHANGE leave}, a segment name of up to 200
   * characters (800 bytes of UTF-8), a 250-byte key percent-encoded (750), a time; binary is
   * shorter. A write's buffer never grows past {@link #WRITE_BYTES} plus one of these.
   */
  private static final int MAX_LINE_BYTES = 2048;

  /** Bytes one drain task writes before it lets the event loop serve other connections. */
  private static final int TASK_BYTES = 256 * 1024;

  /** How long a watcher told it is being disconnected has to read that before the close. */
  private static final long CLOSE_GRACE_MILLIS = 10_000;

  /**
   * The connection's replies, as a watch sees them (the protocol's reply buffer): lines written
   * when a watch stops follow the replies already collected, and change lines never go out while a
   * reply is being written in pieces, or they would land inside it.
   */
  public interface Replies {
    /** The buffer the current reply is appended to. */
    ByteBuf out();

    /** True while a reply is written in pieces. */
    boolean inPieces();
  }

  /** How a protocol writes changes, missed-change notices and the end of a watch. */
  public interface Format {
    void change(
        ByteBuf out, byte[] segmentUtf8, byte[] key, int keyLength, boolean enter, long timeMillis);

    void missed(ByteBuf out, long count);

    /** The last thing a watcher hears before the node closes its connection. */
    void ended(ByteBuf out, String reason);
  }

  private final ProfileEngine engine;
  private final NodeStats stats;
  private final Watchers watchers;
  private final ChannelHandlerContext ctx;
  private final Replies replies;
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final Runnable drainTask = this::drainTask;
  private final Runnable wake = this::scheduleDrain;
  private final ChannelFutureListener written = this::written;
  private final Lines lines = new Lines();
  private final RemoteChanges remote = new RemoteChanges(REMOTE_BYTES);

  /** When this watcher fell behind (clock millis), 0 while it is not. */
  private final AtomicLong behindSince = new AtomicLong();

  private volatile Subscription subscription;
  private Format format;

  /** A write of change lines is in Netty, not yet in the socket. */
  private volatile boolean writing;

  private boolean draining;
  private boolean ended;
  private AutoCloseable peerWatch;

  public WatchSession(
      ProfileEngine engine,
      NodeStats stats,
      Watchers watchers,
      ChannelHandlerContext ctx,
      Replies replies) {
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
    subscription = engine.subscribe(names, wake);
    ctx.channel().config().setOption(ChannelOption.SO_SNDBUF, SEND_BUFFER_BYTES);
    stats.watchers.increment();
    watchers.add(this, String.valueOf(ctx.channel().remoteAddress()));
    scheduleDrain(); // reads what came since the subscription, then arms it
  }

  /**
   * Adds the other members' changes to this watch (a watch asked of a clustered node covers the
   * cluster); {@code peerWatch} is closed with the watch.
   */
  public void addPeers(AutoCloseable peerWatch) {
    this.peerWatch = peerWatch;
  }

  /** A change from another member; from any thread. Past the bound the oldest is dropped. */
  public void offerRemote(SegmentChange change) {
    remote.offer(change);
    scheduleDrain();
  }

  /** Another member dropped changes for this watcher; from any thread. */
  public void missedRemote(long count) {
    remote.missed(count);
    scheduleDrain();
  }

  /**
   * Stops watching after writing, into the current replies, what had already happened, at most one
   * write's worth; anything left is reported as {@code MISSED <n>}.
   */
  public void stop() {
    Subscription s = subscription;
    if (s != null) {
      ByteBuf out = replies.out();
      int limit = out.writerIndex() + WRITE_BYTES;
      lines.out = out;
      try {
        while (out.writerIndex() < limit && (s.next(lines) || remote.pollTo(lines))) {
          // one line per turn
        }
        long left = s.lag() + remote.size();
        if (left > 0) {
          lines.missed(left);
        }
      } finally {
        lines.out = null;
      }
    }
    close();
  }

  /** Changes waiting for this watcher (some may be lost already); from any thread. */
  @Override
  public long lag() {
    Subscription s = subscription;
    return (s == null ? 0 : s.lag()) + remote.size();
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
    Subscription s = subscription;
    if (s != null) {
      subscription = null;
      s.close();
      behindSince.set(0);
      stats.watchers.decrement();
      watchers.remove(this);
    }
  }

  /**
   * From the node's timer: notes when a watcher that cannot write has been lapped, and ends the
   * watch of one that has been behind for {@code timeoutMillis} or more.
   */
  @Override
  public void checkLapped(long nowMillis, long timeoutMillis) {
    Subscription s = subscription;
    if (s == null) {
      return;
    }
    long since = behindSince.get();
    if (since == 0) {
      if (writing && s.overtaken()) {
        behindSince.compareAndSet(0, nowMillis);
      }
    } else if (nowMillis - since >= timeoutMillis) {
      ctx.executor().execute(() -> endLapped(since));
    }
  }

  /**
   * Tells the watcher, after what it has not read yet, that it stayed lapped too long, and closes
   * the connection once that is read (or after a grace period if it is never read).
   */
  private void endLapped(long since) {
    if (subscription == null || ended || behindSince.get() != since) {
      return; // unwatched, already ending, or caught up in the meantime
    }
    ended = true;
    long seconds = (watchers.nowMillis() - since) / 1000;
    close();
    stats.watchersLappedClosed.increment();
    ctx.channel().config().setAutoRead(false); // no more requests: the connection is ending
    ByteBuf out = ctx.alloc().ioBuffer(128);
    format.ended(out, "watch lapped for " + seconds + " s: closing");
    ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
    ctx.executor().schedule(() -> ctx.close(), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * On the event loop: the connection can take change lines again (a reply written in pieces has
   * ended, or the client read); lines that waited for that go out.
   */
  public void resume() {
    drain();
  }

  /** True while this connection watches segments. */
  public boolean active() {
    return subscription != null;
  }

  /** Runs on the writer's thread, inside its write, or on a peer's: only wakes the event loop. */
  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      ctx.executor().execute(drainTask);
    }
  }

  private void drainTask() {
    drainScheduled.set(false);
    drain();
  }

  /**
   * Writes waiting lines, one write at a time, until the watcher has caught up (then it arms its
   * subscription), a write stays in Netty (the socket is full: it resumes when that write is out),
   * or this task's share of the event loop is used (it continues in a new task).
   */
  private void drain() {
    Subscription s = subscription;
    if (s == null || writing || draining || !ctx.channel().isActive()) {
      return;
    }
    if (replies.inPieces()) {
      return; // a reply is being written in pieces: lines go between replies, never inside one
    }
    draining = true;
    try {
      int budget = TASK_BYTES;
      while (!writing) {
        if (budget <= 0) {
          scheduleDrain();
          return;
        }
        ByteBuf out = fill(s);
        if (out == null) {
          if (s.arm()) {
            behindSince.set(0); // level with the stream: not behind any more
            return;
          }
          continue; // a change came in while arming
        }
        int bytes = out.readableBytes();
        budget -= bytes;
        stats.bytesWritten.add(bytes);
        writing = true;
        ctx.writeAndFlush(out).addListener(written);
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      // No memory for the next write, or a bug: this watcher ends; everyone else carries on.
      close();
      ctx.close();
    } finally {
      draining = false;
    }
  }

  /** One write's worth of lines, or null when nothing waits. */
  private ByteBuf fill(Subscription s) {
    ByteBuf out = ctx.alloc().ioBuffer(1024, WRITE_BYTES + MAX_LINE_BYTES);
    lines.out = out;
    try {
      while (out.writerIndex() < WRITE_BYTES && (s.next(lines) || remote.pollTo(lines))) {
        // one line per turn
      }
    } catch (RuntimeException | OutOfMemoryError e) {
      out.release();
      throw e;
    } finally {
      lines.out = null;
    }
    if (out.isReadable()) {
      return out;
    }
    out.release();
    return null;
  }

  private void written(ChannelFuture future) {
    writing = false;
    if (!future.isSuccess()) {
      close(); // the connection is going away
    } else if (!draining) {
      drain();
    }
  }

  /** Writes what the subscription reads, in this watch's format, into {@link #out}. */
  private final class Lines implements ChangeSink {
    ByteBuf out;

    @Override
    public void change(
        String segment,
        byte[] segmentUtf8,
        byte[] key,
        int keyLength,
        boolean enter,
        long timeMillis) {
      format.change(out, segmentUtf8, key, keyLength, enter, timeMillis);
      stats.watchDelivered.increment();
    }

    @Override
    public void missed(long count) {
      format.missed(out, count);
      stats.watchMissed.add(count);
      behindSince.compareAndSet(0, watchers.nowMillis());
    }
  }
}

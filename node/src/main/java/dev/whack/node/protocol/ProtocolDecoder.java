package dev.whack.node.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.ByteToMessageDecoder;

/**
 * What the text and binary decoders share around their own state machines: the connection's {@link
 * ReplyBuffer}, flushed once per read batch; traffic counting; holding later requests while one is
 * answered elsewhere ({@link #suspend}, {@link #resumeWith}, for keys forwarded to their owner);
 * writing a long reply in pieces as the client reads ({@link #continueLater}); closing after the
 * last reply; and telling the commands when the client reads again or the connection is gone.
 *
 * <p>Backpressure: the decode loop asks {@link #ready} before every request. A connection whose
 * channel is not writable (its unread replies passed the write-buffer high water mark) pauses: it
 * stops decoding where it is and stops reading from the socket, so what the client pipelines
 * meanwhile stays in the kernel, and carries on when the channel is writable again. A reply that
 * would be larger than that bound (a multi-get, a listing, a relayed answer) is written in pieces
 * by a {@link Continuation}, each piece once the client has read the previous ones. Resuming is an
 * event-loop task, never done inside the writability event, and a long reply also yields after
 * {@link ReplyBuffer#PIECES_PER_TURN} pieces, so one connection's long reply takes turns with the
 * loop's other connections.
 *
 * <p>Netty's {@link ByteToMessageDecoder} asks for another read at the end of a read batch when
 * auto-read is off and no message was passed on, which ours never are; that read is what let an
 * unread pipeline queue 976 MB of replies (issue 13). So {@link #channelReadComplete} does not call
 * it: reading is switched on and off here only.
 *
 * <p>End of input: a client that half-closes after its requests ({@code printf ... | nc -q1},
 * memcached's own tests) gets a reply to every request read before its end of input, and then the
 * connection closes, as memcached closes it. Connections allow half-closure, so Netty reports the
 * end of input as an event instead of closing at once; the close used to drop a reply that was
 * still on its way from another node or queued behind a pause (issue 12). {@link
 * ByteToMessageDecoder} would decode what it can on that event and discard the rest, including the
 * requests held behind a forwarded one, so the event is not passed to it; the close waits until
 * nothing is held ({@link #closeIfInputDone}). A request cut short by the end is dropped.
 *
 * <p>Concurrency: one per connection, on that connection's event loop.
 */
public abstract class ProtocolDecoder extends ByteToMessageDecoder {
  /** The commands side of a decoder: what this base class tells them about the connection. */
  public interface Commands {
    /** The connection and its reply buffer, once, before any request. */
    void attach(ChannelHandlerContext ctx, ReplyBuffer replies);

    /** The node-wide counter of reply bytes ({@code stats bytes_written}). */
    java.util.concurrent.atomic.LongAdder bytesWrittenCounter();

    /** The node's log, or null for a node in memory only. */
    dev.whack.node.durability.DurableLog log();

    void countBytesRead(int bytes);

    /** The client reads again, or a reply in pieces has ended: a waiting watch can deliver. */
    void onWritable();

    /** True while the connection watches segments: waiting for changes is not being idle. */
    boolean watching();

    /**
     * The client sent its last request and every request is answered: the connection closes after
     * what this writes (a watch, the changes that had already happened, as {@code unwatch}).
     */
    void inputEnded();

    /** The connection is gone: release what it held. */
    void close();

    /**
     * The tenant the connection works in, whose engine time it is metered against and whose fair
     * share bounds its turns; null outside a node's tenants.
     */
    default dev.whack.node.tenant.Tenant tenant() {
      return null;
    }
  }

  /**
   * Requests a connection runs in one turn while its tenant takes more than its fair share of the
   * node (docs/security.md, "Fair share"): then it yields to the event loop, whose other
   * connections (another tenant's) are read before its next turn.
   */
  static final int FAIR_TURN_REQUESTS = 16;

  /** The rest of a reply that is written in pieces, as the client reads. */
  public interface Continuation {
    /**
     * Writes the next pieces, on the event loop, when the channel is writable.
     *
     * @return true when the reply is complete; false when it stopped again because {@link
     *     ReplyBuffer#endOfPiece} said so or because it {@link #suspend suspended} for an answer
     *     from elsewhere
     */
    boolean proceed();
  }

  private final Commands commands;
  protected ChannelHandlerContext ctx;
  protected ReplyBuffer replies;
  private final RelayedReply relayed = new RelayedReply();
  private final Runnable proceedTask = this::proceedScheduled;

  /** A request is answered elsewhere (forwarded): later ones wait. */
  private boolean awaiting;

  /**
   * Writes through a managed cluster's log a connection may have in flight (answers to come, see
   * {@link ReplyBuffer#answerLater}): past this, it reads no more requests until some are answered.
   */
  static final int MAX_ANSWERS_TO_COME = 1024;

  /** Decoding stopped until answers to come are written ({@link #ready}). */
  private boolean heldForAnswers;

  /** What runs once every answer to come is written ({@link #runWhenAnswered}), or null. */
  private Runnable afterAnswers;

  /** Waiting for the client to read: neither decoding nor reading from the socket. */
  private boolean paused;

  private boolean proceedScheduled;

  /** The reply being written in pieces, or null. */
  private Continuation continuation;

  /** Requests finished in this turn, for {@link #FAIR_TURN_REQUESTS}. */
  private int requestsThisTurn;

  private boolean closed;

  /** The client shut its sending side: close once every request read before that is answered. */
  private boolean inputEnded;

  /** Requests completed, and when the last read batch (or turn) that completed one ended. */
  private long requests;

  private long requestsSeen;
  private long lastRequestNanos = System.nanoTime();

  /** The outbound bytes seen by the last idle check, to tell whether replies are moving. */
  private long pendingSeen;

  protected ProtocolDecoder(Commands commands) {
    this.commands = commands;
  }

  @Override
  public final void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    dev.whack.node.durability.DurableLog log = commands.log();
    replies =
        new ReplyBuffer(
            ctx,
            commands.bytesWrittenCounter(),
            log != null && log.fsync() == dev.whack.node.durability.DurableLog.Fsync.ALWAYS
                ? log
                : null);
    replies.onAnswer(this::answerWritten);
    commands.attach(ctx, replies);
  }

  @Override
  public final void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof ByteBuf buf) {
      commands.countBytesRead(buf.readableBytes());
    }
    replies.newTurn();
    requestsThisTurn = 0;
    dev.whack.node.tenant.Tenant tenant = commands.tenant();
    if (tenant == null || !tenant.metered()) {
      super.channelRead(ctx, msg); // no clock read on a node without tenants
      return;
    }
    long start = System.nanoTime();
    try {
      super.channelRead(ctx, msg);
    } finally {
      tenant.addBusyNanos(System.nanoTime() - start);
    }
  }

  /**
   * Request bytes received and not yet consumed (the decoder's cumulation): at most one line, one
   * binary header and key, or one data block, since every length is checked before it is waited
   * for.
   */
  public final int bufferedRequestBytes() {
    return internalBuffer().readableBytes();
  }

  /**
   * Asked by the decode loop before each request: false if it must stop where it is, because a
   * request is answered elsewhere, a reply is being written in pieces, or the client has not read
   * enough of the replies already written (then the connection pauses until it has).
   */
  protected final boolean ready() {
    if (awaiting || paused || continuation != null) {
      return false;
    }
    if (requestsThisTurn >= FAIR_TURN_REQUESTS) {
      dev.whack.node.tenant.Tenant tenant = commands.tenant();
      if (tenant != null && tenant.overShare()) {
        // Its tenant takes more than its share while another's wait: yield the event loop.
        tenant.pausedReads().increment();
        paused = true;
        ctx.channel().config().setAutoRead(false);
        yieldTurn();
        return false;
      }
    }
    int toCome = replies.answersToCome();
    if (toCome > 0 && (toCome >= MAX_ANSWERS_TO_COME || !mayRunAheadOfAnswers(internalBuffer()))) {
      // Writes going through the log are answered in order: a request that could see their
      // keys (a read, a command of another kind) waits until they are applied, and a pipeline of
      // writes keeps at most so many in flight.
      heldForAnswers = true;
      ctx.channel().config().setAutoRead(false);
      return false;
    }
    if (!ctx.channel().isWritable()) {
      pause();
      return false;
    }
    dev.whack.node.durability.DurableLog log = commands.log(); // the tenant's, once logged in
    if (log != null && log.overloaded()) {
      // The log is behind the writes by its whole allowance (a slow or stalled disk): take no more
      // requests until it has caught up, so its buffers stay bounded.
      paused = true;
      ctx.channel().config().setAutoRead(false);
      log.whenRelieved(() -> ctx.executor().execute(this::scheduleProceed));
      return false;
    }
    return true;
  }

  /** True when the current request's reply is complete: not answered elsewhere, not in pieces. */
  protected final boolean answered() {
    return !awaiting && continuation == null;
  }

  /** True once the connection is closing: input is dropped. */
  protected final boolean closed() {
    return closed;
  }

  /** The decoder finished a request (its reply, if any, is in the reply buffer). */
  protected final void endOfRequest() {
    requests++;
    requestsThisTurn++;
    replies.endOfRequest();
  }

  /**
   * Whether the next request, at the start of {@code in} (or the rest of a request already
   * started), may run while writes through the log wait to be answered: only writes that go through
   * the log themselves (they are applied in the log's order) and no-ops (a forwarding member ends
   * each relayed pipeline with one) may; anything else could read a key before a write to it is
   * applied.
   */
  protected abstract boolean mayRunAheadOfAnswers(ByteBuf in);

  /**
   * Runs {@code then} once every answer to come is written, holding later requests until then (a
   * write that turned out not to go through the log, behind ones that do); at once if none is to
   * come.
   */
  public final void runWhenAnswered(Runnable then) {
    if (replies.answersToCome() == 0) {
      then.run();
      return;
    }
    suspend();
    afterAnswers = then;
  }

  /** An answer to come was written (on the event loop): carry on if it was waited for. */
  private void answerWritten() {
    if (replies.answersToCome() > 0) {
      if (heldForAnswers && replies.answersToCome() < MAX_ANSWERS_TO_COME / 2) {
        heldForAnswers = false;
        scheduleProceed(); // a pipeline of writes goes on; anything else asks again
      }
      return;
    }
    Runnable then = afterAnswers;
    if (then != null) {
      afterAnswers = null;
      // A turn of its own: under --fsync always the reply to a write logged now waits for it.
      replies.newTurn();
      try {
        then.run();
      } catch (RuntimeException | OutOfMemoryError e) {
        exceptionCaught(ctx, e);
        return;
      }
      replies.flush(); // in this turn, before the next one starts counting the log again
      resumeWith(null);
      return;
    }
    if (heldForAnswers) {
      heldForAnswers = false;
      scheduleProceed(); // the held requests are decoded then, and the close follows them
      return;
    }
    closeIfInputDone();
  }

  /** Hold every later request until {@link #resumeWith}: this one is answered asynchronously. */
  public final void suspend() {
    awaiting = true;
    // Stop reading: what the client pipelines meanwhile stays in the kernel, not in our heap.
    ctx.channel().config().setAutoRead(false);
  }

  /**
   * The asynchronous answer is here: writes it (in pieces if it is long), then decodes what arrived
   * meanwhile and carries on. Called on the event loop.
   *
   * @param reply the answer's bytes; null or empty when there is nothing to write
   */
  public final void resumeWith(byte[] reply) {
    if (!awaiting || closed || ctx.isRemoved()) {
      return; // the connection went away while the answer was coming
    }
    awaiting = false;
    if (reply != null) {
      writeReply(reply);
    }
    proceed();
  }

  /** Writes a whole reply that may be long: at once if it is short, else in pieces. */
  public final void writeReply(byte[] reply) {
    if (reply.length <= ReplyBuffer.EARLY_WRITE_BYTES) {
      replies.bytes(reply);
    } else {
      relayed.start(reply);
      continueLater(relayed);
    }
  }

  /**
   * The current request's reply is not complete: {@code rest} writes the remainder when the client
   * has read what is queued. Later requests wait until it is done.
   */
  public final void continueLater(Continuation rest) {
    continuation = rest;
    replies.inPieces(true);
    if (!awaiting) {
      pause();
    }
  }

  /** Send what is queued, then close; input after this is ignored. */
  public final void closeAfterFlush() {
    closed = true;
    replies.flush();
    ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /** Stops reading and closes at once, after what is already queued (a fatal framing error). */
  protected final void closeNow() {
    closed = true;
    replies.flush();
    ctx.close();
  }

  /**
   * A request whose handling failed unexpectedly (a bug, or no memory left for its reply) ends its
   * connection after what was already queued. Left open, the requests behind it would sit unread in
   * the cumulation buffer with nothing to make the node decode them again, while the client waits
   * for their replies: issue 13 saw an ingesting connection stall for good that way once direct
   * memory had run out. {@link dev.whack.node.server.ConnectionTracker}, first in the pipeline,
   * never sees these failures: an exception travels from its handler toward the tail.
   */
  @Override
  public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeNow();
  }

  /**
   * For the idle timeout (memcached's {@code idle_timeout}), on the event loop: when this
   * connection was last active. Active means it completed a request, or it is waiting for an answer
   * from another node, or it watches segments, or its client took some of the replies waiting for
   * it since the last call. A request sent only in part is not activity, so a client that trickles
   * bytes is idle.
   */
  public final long lastActiveNanos(long nowNanos) {
    ChannelOutboundBuffer outbound = ctx.channel().unsafe().outboundBuffer();
    long pending = outbound == null ? 0 : outbound.totalPendingWriteBytes();
    // Queued replies only change when the client takes some, or when it made room for more.
    boolean repliesMoved = pending != pendingSeen;
    pendingSeen = pending;
    if (awaiting || repliesMoved || commands.watching() || replies.answersToCome() > 0) {
      lastRequestNanos = nowNanos;
    }
    return lastRequestNanos;
  }

  private void pause() {
    paused = true;
    ctx.channel().config().setAutoRead(false);
    if (ctx.channel().isWritable()) {
      scheduleProceed(); // a reply that stopped to take turns, not because the client is behind
    }
  }

  private void scheduleProceed() {
    if (!proceedScheduled) {
      proceedScheduled = true;
      ctx.executor().execute(proceedTask);
    }
  }

  /**
   * Takes the next turn after the event loop's next round of I/O: a task run now would run in the
   * same round of tasks (Netty runs every queued task before it reads again), while a scheduled one
   * waits for the round after the reads, so the other connections' requests are read first.
   */
  private void yieldTurn() {
    if (!proceedScheduled) {
      proceedScheduled = true;
      ctx.executor().schedule(proceedTask, 0, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
  }

  private void proceedScheduled() {
    proceedScheduled = false;
    if (!ctx.isRemoved()) {
      proceed();
    }
  }

  /**
   * One turn after a pause or an asynchronous answer: the rest of a reply in pieces, then the
   * requests that arrived meanwhile, until the connection must pause again.
   */
  private void proceed() {
    if (closed || awaiting) {
      return;
    }
    if (!ctx.channel().isWritable()) {
      pause(); // the writability event schedules the next turn
      replies.flush();
      return;
    }
    paused = false;
    replies.newTurn();
    Continuation rest = continuation;
    if (rest != null) {
      boolean done;
      try {
        done = rest.proceed();
      } catch (RuntimeException | OutOfMemoryError e) {
        exceptionCaught(ctx, e);
        return;
      }
      if (!done) {
        if (!awaiting) {
          pause();
        }
        replies.flush();
        return;
      }
      continuation = null;
      replies.inPieces(false);
      requests++;
      commands.onWritable();
    }
    ctx.channel().config().setAutoRead(true);
    try {
      channelRead(ctx, Unpooled.EMPTY_BUFFER);
    } catch (Exception | OutOfMemoryError e) {
      exceptionCaught(ctx, e);
      return;
    }
    endOfBatch();
    closeIfInputDone();
  }

  private void endOfBatch() {
    replies.flush();
    if (requests != requestsSeen) {
      requestsSeen = requests;
      lastRequestNanos = System.nanoTime();
    }
  }

  @Override
  public final void channelReadComplete(ChannelHandlerContext ctx) {
    endOfBatch();
    // Not super.channelReadComplete: it would ask for another read while we pause (see above).
    discardSomeReadBytes();
    ctx.fireChannelReadComplete();
  }

  @Override
  public final void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      // Not super: it would decode what it can now and discard the rest (see the class comment).
      inputEnded = true;
      closeIfInputDone();
      ctx.fireUserEventTriggered(event);
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  /**
   * After end of input, once no request is held (a forwarded one, a reply in pieces, a pause): the
   * decode loop has answered every whole request, so what is left is at most the start of one.
   */
  private void closeIfInputDone() {
    if (inputEnded
        && !closed
        && !awaiting
        && !paused
        && !heldForAnswers
        && continuation == null
        && replies.answersToCome() == 0) {
      commands.inputEnded();
      closeAfterFlush();
    }
  }

  @Override
  public final void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      if (paused) {
        scheduleProceed();
      }
      if (continuation == null) {
        commands.onWritable();
      }
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  protected final void handlerRemoved0(ChannelHandlerContext ctx) {
    continuation = null;
    commands.close();
    replies.release();
  }

  /** A whole reply longer than a piece (often another node's answer), written as it is read. */
  private final class RelayedReply implements Continuation {
    private byte[] bytes;
    private int written;

    void start(byte[] reply) {
      bytes = reply;
      written = 0;
    }

    @Override
    public boolean proceed() {
      while (written < bytes.length) {
        int n = Math.min(ReplyBuffer.EARLY_WRITE_BYTES, bytes.length - written);
        replies.bytes(bytes, written, n);
        written += n;
        if (written < bytes.length && replies.endOfPiece()) {
          return false;
        }
      }
      bytes = null;
      return true;
    }
  }
}

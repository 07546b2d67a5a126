package dev.whack.client.transport;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.CorruptReplyException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.OverloadedException;
import dev.whack.client.WhackException;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.protocol.AuthRequest;
import dev.whack.client.protocol.Lines;
import dev.whack.client.protocol.ReplyFormatException;
import dev.whack.client.protocol.Request;
import dev.whack.client.protocol.SaslPlainRequest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One pipelined text-protocol connection to one node.
 *
 * <p>Replies come back in the order requests were written, so the connection keeps the written
 * requests in a FIFO and hands incoming bytes to the request at its head until that request has
 * read its whole reply. Three rules keep the FIFO honest (the shape of spotify/folsom's
 * DefaultRawMemcacheClient):
 *
 * <ul>
 *   <li>A hard bound: at most {@code maxInFlightPerConnection} requests are pending (queued or
 *       written); one more fails at once with {@link OverloadedException} rather than queueing
 *       without limit.
 *   <li>Fail everything: when the channel closes, a reply cannot be parsed, or the oldest request
 *       passes its deadline, the connection ends. Every pending request fails, the channel is
 *       closed, and the owner replaces the connection. A timed-out request poisons the connection
 *       because its reply may still arrive and would be matched with the next request.
 *   <li>The future you get back always completes: with the reply, with the error reply, or with the
 *       exception that ended the connection, at the latest at its deadline plus one timeout poll.
 * </ul>
 *
 * <p>With credentials ({@link IoResources#credentials}) a connection authenticates before anything
 * else: requests sent meanwhile wait in its queue, and it is {@link #ready} only once the node has
 * accepted the credentials (or said it needs none). A refusal ends it as a failed connect, with
 * {@link dev.whack.client.AuthenticationException} as the reason.
 *
 * <p>Writes are batched: callers append to a lock-free queue and the first one of a burst schedules
 * a drain on the event loop, which encodes every queued request into one buffer and flushes once.
 * Many concurrent callers cost one syscall per event-loop tick, not one per request.
 *
 * <p>Concurrency: {@link #send} and {@link #end} may be called from any thread. The FIFO, the
 * parsers and the channel are touched only on the connection's event loop. The pending count and
 * the ending are atomics; a request is failed by whoever takes it off a queue, so each is completed
 * once.
 */
public final class Connection {
  /** Why a connection ended, for its owner's decision to reconnect or mark the node down. */
  public enum Ending {
    CONNECT_FAILED,
    TIMED_OUT,
    CLOSED_BY_PEER,
    CORRUPT_REPLY,
    /** Closed on purpose (client closed, node marked down): nothing to react to. */
    DISCARDED
  }

  /** Told once, on the event loop, when the connection ends. */
  public interface Listener {
    void ended(Connection connection, Ending why, WhackException cause);
  }

  /** Past this many encoded bytes a drain writes what it has and starts a new buffer. */
  private static final int WRITE_CHUNK_BYTES = 256 * 1024;

  private static final byte[] SERVER_ERROR =
      "SERVER_ERROR ".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** What a node's TLS port answers a plaintext client before it closes (docs/protocol.md). */
  private static final byte[] REQUIRES_TLS =
      "SERVER_ERROR this port requires TLS\r\n"
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final NodeAddress address;
  private final TransportSettings settings;
  private final long timeoutNanos;
  private final Listener listener;
  private final PushHandler push;
  private final Credentials credentials;

  /** Whether the connection carries the binary protocol (authenticates with SASL PLAIN). */
  private final boolean binary;

  private final EventLoop loop;
  private final Queue<Request<?>> submitted = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicReference<WhackException> ending = new AtomicReference<>();
  private final CompletableFuture<Connection> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();

  /** Written, awaiting replies, oldest first. Event loop only. */
  private final ArrayDeque<Request<?>> outstanding = new ArrayDeque<>();

  private final Runnable drainTask = this::drain;
  private volatile Channel channel;
  private ScheduledFuture<?> timeoutCheck;
  private volatile long flushes;

  /**
   * Whether requests may be written: connected, the TLS handshake done and the credentials
   * accepted; until then they wait in the queue. Event loop only.
   */
  private boolean admitted;

  private Connection(
      IoResources io, NodeAddress address, Listener listener, PushHandler push, boolean binary) {
    this.address = address;
    this.settings = io.settings();
    this.timeoutNanos = settings.requestTimeout().toNanos();
    this.listener = listener;
    this.push = push;
    this.credentials = io.credentials();
    this.binary = binary;
    this.loop = io.nextLoop();
  }

  /**
   * Creates a connection and starts connecting. Requests sent before it is connected wait in its
   * queue (their deadlines run) and are written when it connects.
   *
   * @param push takes pushed lines between replies, or null on a connection that gets none
   */
  public static Connection open(
      IoResources io, NodeAddress address, Listener listener, PushHandler push) {
    return open(io, address, listener, push, false);
  }

  /**
   * As {@link #open(IoResources, NodeAddress, Listener, PushHandler)}, for a connection that
   * carries the binary protocol when {@code binary}: it authenticates with SASL PLAIN rather than
   * the text protocol's {@code set} form, since a node picks a connection's protocol from its first
   * byte.
   */
  public static Connection open(
      IoResources io, NodeAddress address, Listener listener, PushHandler push, boolean binary) {
    Connection c = new Connection(io, address, listener, push, binary);
    c.connect(io);
    return c;
  }

  private void connect(IoResources io) {
    ChannelFuture future =
        io.bootstrap(loop)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    if (io.tls() != null) {
                      // Requests wait in the queue until the handshake (and login) is done.
                      ch.pipeline()
                          .addLast(
                              "tls",
                              io.tls()
                                  .newHandler(
                                      ch.alloc(),
                                      address.host(),
                                      address.port(),
                                      settings.connectTimeout().toMillis()
                                          + settings.requestTimeout().toMillis()));
                    }
                    ch.pipeline().addLast(new Handler(io.tls() != null));
                  }
                })
            .connect(address.host(), address.port());
    channel = future.channel();
    future.addListener(
        f -> {
          if (!f.isSuccess()) {
            NodeUnavailableException down = NodeUnavailableException.down(name(), f.cause());
            end(Ending.CONNECT_FAILED, down, down);
          }
        });
  }

  public String name() {
    return address.name();
  }

  /** Completes when the channel is connected; exceptionally if the connection ends first. */
  public CompletableFuture<Connection> ready() {
    return ready;
  }

  /** Completes once the connection has ended and failed everything pending. */
  public CompletableFuture<Void> ended() {
    return ended;
  }

  /** True until the connection ends. */
  public boolean isOpen() {
    return ending.get() == null;
  }

  /** Requests sent and not yet answered. */
  public int pending() {
    return Math.max(0, pending.get());
  }

  /** How many times the connection has flushed its writes (to check batching). */
  public long flushes() {
    return flushes;
  }

  EventLoop eventLoop() {
    return loop;
  }

  /**
   * Sends a request; its future completes with the reply or an exception, never later than its
   * deadline plus a timeout poll.
   */
  public void send(Request<?> request) {
    WhackException ended = ending.get();
    if (ended != null) {
      request.fail(closed(ended));
      return;
    }
    if (!tryAcquire()) {
      request.fail(
          new OverloadedException(
              name(),
              name()
                  + " has "
                  + settings.maxInFlightPerConnection()
                  + " requests in flight on this connection, the limit"));
      return;
    }
    request.bind(name(), System.nanoTime() + timeoutNanos);
    submitted.offer(request);
    if (ending.get() != null) {
      // It ended while we queued: whoever polls the request fails it, exactly once.
      failSubmitted(closed(ending.get()));
      return;
    }
    if (drainScheduled.compareAndSet(false, true)) {
      try {
        loop.execute(drainTask);
      } catch (RejectedExecutionException e) {
        ConnectionClosedException gone =
            new ConnectionClosedException(name(), "the client is closed", e);
        endNow(Ending.DISCARDED, gone, gone);
      }
    }
  }

  private boolean tryAcquire() {
    int limit = settings.maxInFlightPerConnection();
    while (true) {
      int n = pending.get();
      if (n >= limit) {
        return false;
      }
      if (pending.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /**
   * Ends the connection: fails the oldest pending request with {@code headCause} and every other
   * with {@code restCause}, closes the channel and tells the listener. Only the first call counts.
   */
  public void end(Ending why, WhackException headCause, WhackException restCause) {
    if (loop.inEventLoop()) {
      endNow(why, headCause, restCause);
    } else {
      try {
        loop.execute(() -> endNow(why, headCause, restCause));
      } catch (RejectedExecutionException e) {
        endNow(why, headCause, restCause); // the loop is gone: nothing else touches the FIFO
      }
    }
  }

  private void endNow(Ending why, WhackException headCause, WhackException restCause) {
    if (!ending.compareAndSet(null, restCause)) {
      return;
    }
    cancelTimeoutCheck();
    // The owner hears first, so that its replacement is in place by the time any caller sees a
    // failure and retries.
    listener.ended(this, why, headCause);
    boolean first = true;
    Request<?> r;
    while ((r = outstanding.poll()) != null) {
      r.fail(first ? headCause : restCause);
      first = false;
    }
    if (first && (r = submitted.poll()) != null) {
      r.fail(headCause);
    }
    failSubmitted(restCause);
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
    ready.completeExceptionally(restCause);
    ended.complete(null);
  }

  private void cancelTimeoutCheck() {
    if (timeoutCheck != null) {
      timeoutCheck.cancel(false);
    }
  }

  private void failSubmitted(WhackException cause) {
    Request<?> r = submitted.poll();
    if (r != null) {
      r.fail(cause);
      while ((r = submitted.poll()) != null) {
        r.fail(cause);
      }
    }
  }

  /** A fresh exception for a request that arrives after the connection ended. */
  private WhackException closed(WhackException ended) {
    if (ended instanceof NodeUnavailableException) {
      return NodeUnavailableException.down(name(), ended.getCause());
    }
    return new ConnectionClosedException(name(), ended.getMessage(), ended);
  }

  /** On the loop: writes everything queued in one go and flushes once. */
  private void drain() {
    drainScheduled.set(false);
    Channel ch = channel;
    if (ending.get() != null) {
      failSubmitted(closed(ending.get()));
      return;
    }
    if (ch == null || !ch.isActive() || !admitted) {
      return; // drained once admitted
    }
    ByteBuf buffer = null;
    boolean wrote = false;
    Request<?> r;
    while ((r = submitted.poll()) != null) {
      if (buffer == null) {
        buffer = ch.alloc().ioBuffer();
      }
      r.encode(buffer);
      outstanding.add(r);
      if (buffer.readableBytes() >= WRITE_CHUNK_BYTES) {
        write(ch, buffer);
        buffer = null;
        wrote = true;
      }
    }
    if (buffer != null) {
      write(ch, buffer);
      wrote = true;
    }
    if (!wrote) {
      return; // nothing was queued (e.g. the drain on connect)
    }
    ch.flush();
    flushes++;
  }

  /**
   * On the loop, once the connection is open (and its TLS handshake done): authenticates if there
   * are credentials, then is ready and writes what was queued.
   */
  private void opened(Channel ch) {
    if (credentials == null) {
      admit();
      return;
    }
    if (binary) {
      logIn(ch, new SaslPlainRequest(credentials));
    } else {
      logIn(ch, AuthRequest.probe(credentials));
    }
  }

  /**
   * Writes an authentication step ahead of everything queued; its answer decides what comes next.
   * It completes on this loop (the decoder releases it), or when the connection ends.
   */
  private void logIn(Channel ch, Request<Boolean> step) {
    step.bind(name(), System.nanoTime() + timeoutNanos);
    pending.incrementAndGet(); // the decoder counts it off as any request
    outstanding.add(step);
    ByteBuf buffer = ch.alloc().ioBuffer();
    step.encode(buffer);
    write(ch, buffer);
    ch.flush();
    step.future()
        .whenComplete(
            (done, failure) -> {
              if (ending.get() != null) {
                return; // ended meanwhile: everything pending has failed with the reason
              }
              if (failure != null) {
                NodeUnavailableException down = NodeUnavailableException.down(name(), failure);
                endNow(Ending.CONNECT_FAILED, down, down);
              } else if (done || step instanceof SaslPlainRequest) {
                admit();
              } else {
                logIn(ch, AuthRequest.authenticate(credentials)); // the node asks for them
              }
            });
  }

  private void admit() {
    admitted = true;
    ready.complete(this);
    drain();
  }

  private void write(Channel ch, ByteBuf buffer) {
    ch.write(buffer)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                String reason = "writing to " + name() + " failed: " + describe(f.cause());
                ConnectionClosedException lost =
                    new ConnectionClosedException(name(), reason, f.cause());
                end(Ending.CLOSED_BY_PEER, lost, lost);
              }
            });
  }

  private void checkTimeout() {
    if (ending.get() != null) {
      cancelTimeoutCheck(); // ended before the check was scheduled
      return;
    }
    Request<?> oldest = outstanding.peek();
    if (oldest == null) {
      oldest = submitted.peek();
    }
    if (oldest != null && System.nanoTime() - oldest.deadlineNanos() >= 0) {
      WhackTimeoutException timeout =
          new WhackTimeoutException(
              name(),
              name()
                  + " did not answer "
                  + oldest.command()
                  + " within "
                  + settings.requestTimeout().toMillis()
                  + " ms");
      endNow(
          Ending.TIMED_OUT,
          timeout,
          new ConnectionClosedException(
              name(),
              "connection to " + name() + " closed: an earlier request timed out",
              timeout));
    }
  }

  /** The TLS engine's own exception rather than Netty's DecoderException around it. */
  private static Throwable unwrapDecoder(Throwable cause) {
    return cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
        ? cause.getCause()
        : cause;
  }

  private static String describe(Throwable cause) {
    if (cause == null) {
      return "unknown reason";
    }
    String message = cause.getMessage();
    return message == null || message.isEmpty() ? cause.getClass().getSimpleName() : message;
  }

  @Override
  public String toString() {
    return "Connection[" + name() + ", pending=" + pending() + "]";
  }

  /** The inbound side: cumulates bytes and feeds them to the head of the FIFO. */
  private final class Handler extends ByteToMessageDecoder {
    /** Whether the connection is ready only once its TLS handshake has succeeded. */
    private final boolean tls;

    /** Whether the first bytes were seen not to be a TLS port's refusal (plaintext only). */
    private boolean notRefused;

    Handler(boolean tls) {
      this.tls = tls;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      long poll = settings.timeoutPollMillis();
      timeoutCheck =
          ctx.executor()
              .scheduleAtFixedRate(
                  Connection.this::checkTimeout, poll, poll, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      if (!tls) {
        opened(ctx.channel());
      }
      super.channelActive(ctx);
    }

    /**
     * A failed handshake is a failed connect: the node is marked down and probed with backoff, and
     * the reason (an untrusted certificate, a name it does not carry, a refused client certificate,
     * a plaintext port) is what callers see.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof SslHandshakeCompletionEvent handshake) {
        if (handshake.isSuccess()) {
          opened(ctx.channel());
        } else {
          NodeUnavailableException down =
              NodeUnavailableException.down(
                  name(),
                  new javax.net.ssl.SSLException(
                      "TLS handshake failed: " + describe(unwrapDecoder(handshake.cause())),
                      handshake.cause()));
          endNow(Ending.CONNECT_FAILED, down, down);
        }
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (ending.get() != null) {
        in.skipBytes(in.readableBytes());
        return;
      }
      if (!tls && !notRefused) {
        if (couldBe(in, REQUIRES_TLS)) {
          if (in.readableBytes() >= REQUIRES_TLS.length) {
            // Not the reply to the first request: the node will not talk without TLS, as a
            // failed connect would say, so that the node is marked down with that reason.
            in.skipBytes(in.readableBytes());
            NodeUnavailableException down =
                NodeUnavailableException.down(
                    name(),
                    new javax.net.ssl.SSLException(
                        "its port requires TLS (connect with TLS: WhackClient.Builder.tls,"
                            + " whack --tls)"));
            endNow(Ending.CONNECT_FAILED, down, down);
          }
          return;
        }
        notRefused = true;
      }
      try {
        while (in.isReadable()) {
          Request<?> head = outstanding.peek();
          if (push != null && (head == null || !head.started())) {
            PushHandler.Result pushed = push.tryConsume(name(), in);
            if (pushed == PushHandler.Result.CONSUMED) {
              continue;
            }
            if (pushed == PushHandler.Result.INCOMPLETE) {
              return;
            }
          }
          if (head == null) {
            if (couldBe(in, SERVER_ERROR)) {
              // The one line a node sends unasked besides pushes: why it is closing the
              // connection (a watch that stayed lapped, docs/protocol.md). It is the reason the
              // connection ends, not a corrupt reply.
              String reason = in.readableBytes() < SERVER_ERROR.length ? null : Lines.readLine(in);
              if (reason == null) {
                return;
              }
              ConnectionClosedException closed =
                  new ConnectionClosedException(
                      name(), name() + " ended the connection: " + reason, null);
              endNow(Ending.CLOSED_BY_PEER, closed, closed);
              return;
            }
            throw new ReplyFormatException(
                "bytes with no request outstanding: " + Lines.preview(in));
          }
          if (!head.decodeHeld(in)) {
            return;
          }
          outstanding.poll();
          pending.decrementAndGet(); // before the caller hears, so its next request has room
          head.release();
        }
      } catch (RuntimeException e) {
        // A parser that throws anything (not only ReplyFormatException) leaves the stream in an
        // unknown place: nothing after it can be matched.
        in.skipBytes(in.readableBytes());
        String detail =
            e instanceof ReplyFormatException ? e.getMessage() : "reply parser failed: " + e;
        CorruptReplyException corrupt =
            new CorruptReplyException(name(), "corrupt reply from " + name() + ": " + detail);
        endNow(
            Ending.CORRUPT_REPLY,
            corrupt,
            new ConnectionClosedException(
                name(), "connection to " + name() + " closed after a corrupt reply", corrupt));
      }
    }

    /** The readable bytes are {@code prefix} or its beginning. */
    private static boolean couldBe(ByteBuf in, byte[] prefix) {
      int n = Math.min(in.readableBytes(), prefix.length);
      for (int i = 0; i < n; i++) {
        if (in.getByte(in.readerIndex() + i) != prefix[i]) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      super.channelInactive(ctx);
      Request<?> head = outstanding.peek();
      String when = head == null || !head.started() ? "" : " in the middle of a reply";
      ConnectionClosedException closed =
          new ConnectionClosedException(name(), name() + " closed the connection" + when, null);
      endNow(Ending.CLOSED_BY_PEER, closed, closed);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ConnectionClosedException lost =
          new ConnectionClosedException(
              name(), "connection to " + name() + " failed: " + describe(cause), cause);
      endNow(Ending.CLOSED_BY_PEER, lost, lost);
    }
  }
}

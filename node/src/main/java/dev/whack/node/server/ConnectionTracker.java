package dev.whack.node.server;

import dev.whack.node.observability.NodeStats;
import dev.whack.node.observability.OpenConnections;
import dev.whack.node.protocol.ProtocolDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First handler of every connection: counts connections, refuses those past the limit the way
 * memcached does, remembers when each last sent something (for {@code stats conns}), and closes
 * connections that stay idle longer than {@code --idle-timeout} (memcached's {@code idle_timeout}),
 * so idle or trickling clients cannot hold every connection slot. Backpressure on replies a client
 * does not read is the protocol decoder's ({@link ProtocolDecoder}).
 *
 * <p>Idle means no request completed and, if replies are waiting, the client took none of them, for
 * the whole timeout; a connection waiting for another node's answer or watching segments is never
 * idle. memcached likewise kicks only connections waiting for or reading a command, and closes them
 * without a word. The check is a task on the connection's own event loop, re-armed for the moment
 * the connection would next become idle, as Netty's IdleStateHandler does.
 *
 * <p>Concurrency: shared by all connections; its map and counters are concurrent. A {@link
 * Connection}'s idle check runs on that connection's event loop.
 */
@ChannelHandler.Sharable
public final class ConnectionTracker extends ChannelInboundHandlerAdapter
    implements OpenConnections {
  private static final AttributeKey<Connection> CONNECTION =
      AttributeKey.valueOf("whack.connection");
  private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf("whack.refused");
  private static final byte[] TOO_MANY =
      "ERROR Too many open connections\r\n".getBytes(StandardCharsets.US_ASCII);

  /** One open connection, as {@code stats conns} shows it. */
  private static final class Connection implements OpenConnections.Connection {
    final int id;
    final Channel channel;
    final SocketAddress remote;
    final SocketAddress local;
    final long connectedNanos;
    volatile long lastCommandMillis;

    Connection(int id, Channel channel, long now) {
      this.id = id;
      this.channel = channel;
      this.remote = channel.remoteAddress();
      this.local = channel.localAddress();
      this.connectedNanos = System.nanoTime();
      this.lastCommandMillis = now;
    }

    /**
     * Reply bytes written to this connection and not yet taken by the kernel: the replies the
     * client has not read, beyond its socket buffers. Read from any thread (a volatile in Netty's
     * outbound buffer); the few hundred KiB a read batch collects before writing are not counted.
     */
    @Override
    public long queuedReplyBytes() {
      ChannelOutboundBuffer outbound = channel.unsafe().outboundBuffer();
      return outbound == null ? 0 : outbound.totalPendingWriteBytes();
    }

    @Override
    public int id() {
      return id;
    }

    @Override
    public SocketAddress remote() {
      return remote;
    }

    @Override
    public SocketAddress local() {
      return local;
    }

    @Override
    public long lastCommandMillis() {
      return lastCommandMillis;
    }
  }

  private final NodeStats stats;
  private final int maxConnections;
  private final long idleTimeoutNanos;
  private final java.util.function.LongSupplier clockMillis;
  private final AtomicInteger nextId = new AtomicInteger(1);
  private final ConcurrentHashMap<Channel, Connection> open = new ConcurrentHashMap<>();

  /**
   * @param idleTimeoutMillis close connections idle this long; 0: never (memcached's default)
   */
  public ConnectionTracker(
      NodeStats stats,
      int maxConnections,
      long idleTimeoutMillis,
      java.util.function.LongSupplier clockMillis) {
    this.stats = stats;
    this.maxConnections = maxConnections;
    this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis);
    this.clockMillis = clockMillis;
  }

  @Override
  public Collection<? extends OpenConnections.Connection> openConnections() {
    return open.values();
  }

  /** Reply bytes queued for all open connections ({@link Connection#queuedReplyBytes}). */
  @Override
  public long queuedReplyBytes() {
    long total = 0;
    for (Connection c : open.values()) {
      total += c.queuedReplyBytes();
    }
    return total;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    Channel channel = ctx.channel();
    stats.totalConnections.increment();
    if (open.size() >= maxConnections) {
      stats.rejectedConnections.increment();
      ByteBuf message = Unpooled.wrappedBuffer(TOO_MANY);
      channel.attr(REFUSED).set(Boolean.TRUE);
      if (ctx.pipeline().get(SslHandler.class) == null) {
        channel.config().setAutoRead(false);
      } else {
        // The handshake must be read for the refusal to go out (requests are dropped below), but
        // a refused connection is not counted: one that never handshakes is closed soon, so they
        // cannot pile up past the limit.
        ctx.executor().schedule(() -> channel.close(), 1, TimeUnit.SECONDS);
      }
      ctx.writeAndFlush(message).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    Connection connection =
        new Connection(nextId.getAndIncrement(), channel, clockMillis.getAsLong());
    channel.attr(CONNECTION).set(connection);
    open.put(channel, connection);
    stats.currConnections.increment();
    if (idleTimeoutNanos > 0) {
      ctx.executor()
          .schedule(new IdleCheck(ctx, connection), idleTimeoutNanos, TimeUnit.NANOSECONDS);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (open.remove(ctx.channel()) != null) {
      stats.currConnections.decrement();
    }
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    Connection connection = ctx.channel().attr(CONNECTION).get();
    if (connection != null) {
      connection.lastCommandMillis = clockMillis.getAsLong();
    } else if (ctx.channel().hasAttr(REFUSED)) {
      ReferenceCountUtil.release(msg); // refused: only its refusal and the close are left
      return;
    }
    super.channelRead(ctx, msg);
  }

  /** Closes the connection once it has been idle for the timeout, else checks again then. */
  private final class IdleCheck implements Runnable {
    private final ChannelHandlerContext ctx;
    private final Connection connection;

    IdleCheck(ChannelHandlerContext ctx, Connection connection) {
      this.ctx = ctx;
      this.connection = connection;
    }

    @Override
    public void run() {
      if (!ctx.channel().isOpen()) {
        return;
      }
      long now = System.nanoTime();
      ProtocolDecoder decoder = ctx.pipeline().get(ProtocolDecoder.class);
      long lastActive =
          decoder == null
              ? connection.connectedNanos
              : Math.max(connection.connectedNanos, decoder.lastActiveNanos(now));
      long idle = now - lastActive;
      if (idle >= idleTimeoutNanos) {
        stats.idleKicks.increment();
        ctx.close();
      } else {
        ctx.executor().schedule(this, idleTimeoutNanos - idle, TimeUnit.NANOSECONDS);
      }
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A connection reset or a bug in one connection's handling closes that connection only.
    ctx.close();
  }
}

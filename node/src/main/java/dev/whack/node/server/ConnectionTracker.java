package dev.whack.node.server;

import dev.whack.node.stats.NodeStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * First handler of every connection: counts connections, refuses those past the limit the way
 * memcached does, remembers when each last sent something (for {@code stats conns}), and stops
 * reading from a client that does not read its replies, so an unread pipeline cannot grow the
 * node's memory.
 *
 * <p>Concurrency: shared by all connections; its map and counters are concurrent.
 */
@ChannelHandler.Sharable
public final class ConnectionTracker extends ChannelInboundHandlerAdapter {
  private static final AttributeKey<Connection> CONNECTION = AttributeKey.valueOf("whack.connection");
  private static final byte[] TOO_MANY =
      "ERROR Too many open connections\r\n".getBytes(StandardCharsets.US_ASCII);

  /** One open connection, as {@code stats conns} shows it. */
  public static final class Connection {
    final int id;
    final SocketAddress remote;
    final SocketAddress local;
    volatile long lastCommandMillis;

    Connection(int id, SocketAddress remote, SocketAddress local, long now) {
      this.id = id;
      this.remote = remote;
      this.local = local;
      this.lastCommandMillis = now;
    }

    public int id() {
      return id;
    }

    public SocketAddress remote() {
      return remote;
    }

    public SocketAddress local() {
      return local;
    }

    public long lastCommandMillis() {
      return lastCommandMillis;
    }
  }

  private final NodeStats stats;
  private final int maxConnections;
  private final java.util.function.LongSupplier clockMillis;
  private final AtomicInteger nextId = new AtomicInteger(1);
  private final ConcurrentHashMap<Channel, Connection> open = new ConcurrentHashMap<>();

  public ConnectionTracker(
      NodeStats stats, int maxConnections, java.util.function.LongSupplier clockMillis) {
    this.stats = stats;
    this.maxConnections = maxConnections;
    this.clockMillis = clockMillis;
  }

  public Collection<Connection> openConnections() {
    return open.values();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    Channel channel = ctx.channel();
    stats.totalConnections.increment();
    if (open.size() >= maxConnections) {
      ByteBuf message = Unpooled.wrappedBuffer(TOO_MANY);
      channel.config().setAutoRead(false);
      ctx.writeAndFlush(message).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    Connection connection =
        new Connection(
            nextId.getAndIncrement(), channel.remoteAddress(), channel.localAddress(), clockMillis.getAsLong());
    channel.attr(CONNECTION).set(connection);
    open.put(channel, connection);
    stats.currConnections.increment();
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
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    // Backpressure: stop reading requests while the replies to earlier ones are not being read.
    ctx.channel().config().setAutoRead(ctx.channel().isWritable());
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A connection reset or a bug in one connection's handling closes that connection only.
    ctx.close();
  }
}

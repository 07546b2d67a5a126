package dev.whack.node.server;

import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.tls.PlaintextGate;
import dev.whack.node.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The memcached port: one acceptor thread and {@code ioThreads} event loops (epoll on Linux). Each
 * connection gets a {@link ConnectionTracker} and a {@link ProtocolDetector} that installs the text
 * or binary front end on its first byte; on a TLS port, a {@link PlaintextGate} and an {@code
 * SslHandler} before them, so that everything after them sees the plaintext requests as before.
 */
public final class WhackServer implements AutoCloseable {
  /** Past this many queued reply bytes a connection stops reading until the client catches up. */
  private static final int WRITE_HIGH_WATER_BYTES = 4 * 1024 * 1024;

  private static final int WRITE_LOW_WATER_BYTES = 1024 * 1024;

  private final EventLoopGroup acceptor;
  private final EventLoopGroup workers;
  private final Channel serverChannel;

  /**
   * Listens on {@code bind:port}.
   *
   * @throws UncheckedIOException when the address cannot be listened on (its cause says why)
   */
  public WhackServer(
      String bind,
      int port,
      int ioThreads,
      ByteBufAllocator allocator,
      ProtocolContext context,
      ConnectionTracker tracker,
      ServerTls tls)
      throws InterruptedException {
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io =
        epoll ? EpollKeepRegistered.wrap(EpollIoHandler.newFactory()) : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    acceptor = new MultiThreadIoEventLoopGroup(1, io);
    workers = new MultiThreadIoEventLoopGroup(ioThreads, io);
    try {
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(acceptor, workers)
              .channel(channelType)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.ALLOCATOR, allocator)
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      initConnection(ch, tracker, context, tls);
                    }
                  });
      serverChannel = bootstrap.bind(bind, port).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutdown();
      throw e;
    } catch (Exception e) {
      // sync() rethrows the bind's IOException (the address is taken, say) undeclared.
      shutdown();
      throw new UncheckedIOException(
          e instanceof IOException failure ? failure : new IOException(e.getMessage(), e));
    }
  }

  /**
   * Sets up one accepted connection: its reply backpressure, the tracker and the protocol detector.
   * The fuzz targets set up their in-memory channels with it too, so they test exactly the pipeline
   * a socket gets.
   */
  public static void initConnection(
      Channel ch, ConnectionTracker tracker, ProtocolContext context) {
    initConnection(ch, tracker, context, null);
  }

  /**
   * As {@link #initConnection(Channel, ConnectionTracker, ProtocolContext)}, with TLS first when
   * {@code tls} is not null: the gate answers a plaintext client, the handler (from the context in
   * use when the connection was accepted) decrypts for the tracker and the protocols.
   */
  public static void initConnection(
      Channel ch, ConnectionTracker tracker, ProtocolContext context, ServerTls tls) {
    if (tls != null) {
      ch.pipeline().addLast("plaintext-gate", new PlaintextGate(PlaintextGate.MEMCACHED_REFUSAL));
      ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
    }
    // End of input is an event, so the replies to what was read before it still go out.
    ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    ch.config()
        .setWriteBufferWaterMark(
            new WriteBufferWaterMark(WRITE_LOW_WATER_BYTES, WRITE_HIGH_WATER_BYTES));
    ch.pipeline().addLast("tracker", tracker);
    ch.pipeline().addLast("detect", new ProtocolDetector(context));
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    shutdown();
  }

  private void shutdown() {
    acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptor.terminationFuture().syncUninterruptibly();
    workers.terminationFuture().syncUninterruptibly();
  }
}

package dev.whack.node.http;

import dev.whack.node.observability.HttpRequestMeters;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tls.PlaintextGate;
import dev.whack.node.tls.ServerTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
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
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The REST read API's port (docs/http.md): HTTP/1.1 on Netty's codec, with event loops of its own
 * (never the memcached port's, never a thread per request). The codec enforces the limits before it
 * allocates for them: a request line of at most {@link #MAX_REQUEST_LINE_BYTES} (414 past it),
 * headers of at most {@link #MAX_HEADER_BYTES} (431), and at most {@link #MAX_PIPELINE_DEPTH}
 * unanswered requests on a connection. A read takes at most {@link #MAX_READ_BYTES} from the
 * socket, so that a paused connection has at most that much decoded beyond its pause. With TLS, a
 * {@link PlaintextGate} (a plaintext client gets a 400 and a close) and an {@code SslHandler} come
 * first.
 */
public final class HttpApiServer implements AutoCloseable {
  static final int MAX_REQUEST_LINE_BYTES = 8192;
  static final int MAX_HEADER_BYTES = 8192;
  static final int MAX_PIPELINE_DEPTH = 1024;
  static final int MAX_READ_BYTES = 16 * 1024;

  private static final int WRITE_HIGH_WATER_BYTES = 4 * 1024 * 1024;
  private static final int WRITE_LOW_WATER_BYTES = 1024 * 1024;

  private final EventLoopGroup loops;
  private final Channel serverChannel;
  private final AtomicInteger open = new AtomicInteger();

  /**
   * Listens on {@code bind:port} with {@code threads} event loops; at most {@code maxConnections}
   * connections at once (one more is closed as it is accepted); HTTPS when {@code tls} is not null.
   *
   * @throws UncheckedIOException when the address cannot be listened on (its cause says why)
   */
  public HttpApiServer(
      String bind, int port, int threads, int maxConnections, ProtocolContext node, ServerTls tls)
      throws InterruptedException {
    HttpApi api = new HttpApi(node);
    // Each tenant's own API, made when one of its users first asks (dropped tenants' are not
    // served again: a user of a dropped tenant fails authentication).
    java.util.Map<Tenant, HttpApi> apis = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.function.Function<Tenant, HttpApi> tenantApis =
        tenant -> {
          if (tenant == null || tenant.isDefault()) {
            return api;
          }
          return apis.computeIfAbsent(tenant, t -> new HttpApi(t.context()));
        };
    if (node.tenants() != null) {
      node.tenants().onDrop(apis::remove); // a dropped tenant's data is not held here
    }
    HttpRequestMeters meters = node.metrics().httpRequests(Route.metricNames());
    boolean epoll = Epoll.isAvailable();
    IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    loops = new MultiThreadIoEventLoopGroup(threads, io);
    try {
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(loops)
              .channel(channelType)
              .option(ChannelOption.SO_BACKLOG, 1024)
              .option(ChannelOption.SO_REUSEADDR, true)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
              .childOption(
                  ChannelOption.RECVBUF_ALLOCATOR,
                  new AdaptiveRecvByteBufAllocator(512, 2048, MAX_READ_BYTES))
              .childOption(
                  ChannelOption.WRITE_BUFFER_WATER_MARK,
                  new WriteBufferWaterMark(WRITE_LOW_WATER_BYTES, WRITE_HIGH_WATER_BYTES))
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      if (open.incrementAndGet() > maxConnections) {
                        open.decrementAndGet();
                        ch.close();
                        return;
                      }
                      ch.closeFuture().addListener(f -> open.decrementAndGet());
                      if (tls != null) {
                        ch.pipeline()
                            .addLast(
                                "plaintext-gate", new PlaintextGate(PlaintextGate.HTTP_REFUSAL))
                            .addLast("tls", tls.newHandler(ch.alloc()));
                      }
                      ch.pipeline()
                          .addLast(
                              "http",
                              new HttpServerCodec(
                                  new HttpDecoderConfig()
                                      .setMaxInitialLineLength(MAX_REQUEST_LINE_BYTES)
                                      .setMaxHeaderSize(MAX_HEADER_BYTES),
                                  MAX_PIPELINE_DEPTH))
                          .addLast(
                              "api",
                              new HttpConnection(
                                  api,
                                  tenantApis,
                                  meters,
                                  node.auth(),
                                  node.stats(),
                                  node.tenants()));
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

  /** The port it listens on. */
  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
    shutdown();
  }

  private void shutdown() {
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    loops.terminationFuture().syncUninterruptibly();
  }
}

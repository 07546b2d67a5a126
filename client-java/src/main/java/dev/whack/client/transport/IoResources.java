package dev.whack.client.transport;

import dev.whack.client.tls.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The client's event loops and the connection template. One per client; closing it stops the
 * threads.
 *
 * <p>Concurrency: immutable after construction; Netty's group is thread-safe.
 */
public final class IoResources implements AutoCloseable {
  private final EventLoopGroup group;
  private final Bootstrap template;
  private final TransportSettings settings;
  private final ClientTls tls;
  private final Credentials credentials;

  public IoResources(TransportSettings settings) {
    this(settings, null);
  }

  /**
   * @param tls how connections speak TLS, or null for plaintext
   */
  public IoResources(TransportSettings settings, ClientTls tls) {
    this(settings, tls, null);
  }

  /**
   * @param tls how connections speak TLS, or null for plaintext
   * @param credentials what every connection authenticates with, or null for none
   */
  public IoResources(TransportSettings settings, ClientTls tls, Credentials credentials) {
    this.settings = settings;
    this.tls = tls;
    this.credentials = credentials;
    this.group =
        new MultiThreadIoEventLoopGroup(
            settings.ioThreads(),
            new DefaultThreadFactory("whack-client-io", true),
            NioIoHandler.newFactory());
    this.template =
        new Bootstrap()
            .channel(NioSocketChannel.class)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis());
  }

  public TransportSettings settings() {
    return settings;
  }

  /** TLS for every connection, or null for plaintext. */
  ClientTls tls() {
    return tls;
  }

  /** What every connection authenticates with, or null for none. */
  Credentials credentials() {
    return credentials;
  }

  /** A fresh bootstrap bound to one event loop, for one connection. */
  Bootstrap bootstrap(EventLoop loop) {
    return template.clone(loop);
  }

  EventLoop nextLoop() {
    return group.next();
  }

  /** Runs {@code task} later on an I/O thread; does nothing once the client is closed. */
  public void schedule(Runnable task, long delay, TimeUnit unit) {
    try {
      group.schedule(task, delay, unit);
    } catch (RejectedExecutionException e) {
      // closed: nothing left to reconnect
    }
  }

  /**
   * True on one of this client's I/O threads, where blocking would stall every connection on it.
   */
  public boolean inIoThread() {
    for (EventExecutor executor : group) {
      if (executor.inEventLoop()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}

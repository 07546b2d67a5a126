package dev.whack.node.grpc;

import dev.whack.node.protocol.ProtocolContext;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The node's gRPC port (docs/grpc.md): the Whack service, health checking and server reflection, on
 * grpc-java's Netty transport with executor threads of its own (never a memcached event loop). A
 * message over the item size limit, plus room for its framing, is refused before it is read.
 */
public final class GrpcServer implements AutoCloseable {
  private final Server server;
  private final ExecutorService executor;
  private final HealthStatusManager health = new HealthStatusManager();

  public GrpcServer(String bind, int port, int maxItemSize, ProtocolContext node) {
    this.executor =
        Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new Thread(r, "whack-grpc");
              t.setDaemon(true);
              return t;
            });
    try {
      this.server =
          NettyServerBuilder.forAddress(new InetSocketAddress(bind, port))
              .executor(executor)
              .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, maxItemSize + 65_536L))
              .addService(new WhackService(node, executor))
              .addService(health.getHealthService())
              .addService(ProtoReflectionServiceV1.newInstance())
              .build()
              .start();
    } catch (IOException e) {
      executor.shutdownNow();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      executor.shutdownNow();
      throw e;
    }
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus("whack.v1.Whack", ServingStatus.SERVING);
  }

  /** The port it listens on. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    await(() -> server.awaitTermination(5, TimeUnit.SECONDS), server::shutdownNow);
    executor.shutdown(); // a call still applying finishes before the node goes on stopping
    await(() -> executor.awaitTermination(5, TimeUnit.SECONDS), executor::shutdownNow);
  }

  /** Waits for {@code done}; stops at once ({@code now}) if it did not come in time. */
  private static void await(Termination done, Runnable now) {
    try {
      if (!done.awaited()) {
        now.run();
      }
    } catch (InterruptedException e) {
      now.run();
      Thread.currentThread().interrupt();
    }
  }

  @FunctionalInterface
  private interface Termination {
    boolean awaited() throws InterruptedException;
  }
}

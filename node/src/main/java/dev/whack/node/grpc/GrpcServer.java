package dev.whack.node.grpc;

import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.tls.ServerTls;
import dev.whack.proto.IngestReply;
import dev.whack.proto.WhackGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The node's gRPC port (docs/grpc.md): the Whack service, health checking and server reflection, on
 * grpc-java's Netty transport with executor threads of its own (never a memcached event loop). A
 * message over the item size limit, plus room for its framing, is refused before it is read. With
 * TLS, connections take their context from {@link GrpcTls}, reloaded with the node's files; a
 * plaintext client's connection is closed by grpc's TLS handler when its first bytes are not TLS.
 * With an auth file, the Whack service's calls pass {@link GrpcAuth} first; health checking and
 * reflection stay open.
 */
public final class GrpcServer implements AutoCloseable {
  /** Calls one connection may have open at once; gRPC makes the next wait. */
  static final int MAX_CALLS_PER_CONNECTION = 256;

  private final Server server;
  private final WhackService service;
  private final ExecutorService executor;
  private final HealthStatusManager health = new HealthStatusManager();

  /** This port's TLS context and the node's TLS it reloads with, or both null. */
  private final GrpcTls tls;

  private final ServerTls nodeTls;

  /**
   * @param tls the node's TLS, or null for plaintext
   */
  public GrpcServer(String bind, int port, int maxItemSize, ProtocolContext node, ServerTls tls) {
    this.executor =
        Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new Thread(r, "whack-grpc");
              t.setDaemon(true);
              return t;
            });
    this.service = new WhackService(node, executor);
    if (node.tenants() != null) {
      node.tenants().onDrop(service::endCallsOf);
    }
    GrpcTls grpcTls = null;
    try {
      if (tls != null) {
        grpcTls = new GrpcTls(tls);
      }
      NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(bind, port));
      if (grpcTls != null) {
        builder.sslContext(grpcTls);
      }
      this.server =
          builder
              .executor(executor)
              .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, maxItemSize + 65_536L))
              // Each call holds a bounded share of the node (an Ingest window, a Subscribe's
              // reader of the change buffer): so many per connection, at most.
              .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
              .addService(
                  node.auth() == null
                      ? bind(service)
                      : ServerInterceptors.intercept(
                          bind(service),
                          new GrpcAuth(node.auth(), node.stats(), executor, node.tenants())))
              .addService(health.getHealthService())
              .addService(ProtoReflectionServiceV1.newInstance())
              .build()
              .start();
    } catch (IOException e) {
      executor.shutdownNow();
      if (grpcTls != null) {
        tls.unregister(grpcTls);
      }
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      executor.shutdownNow();
      if (grpcTls != null) {
        tls.unregister(grpcTls);
      }
      throw e;
    }
    this.tls = grpcTls;
    this.nodeTls = tls;
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus("whack.v1.Whack", ServingStatus.SERVING);
  }

  /**
   * The service as the generated code binds it, but for Ingest, whose requests are read as {@link
   * IngestItem}s: same name, same schema (reflection shows the proto), no objects per item.
   */
  private static ServerServiceDefinition bind(WhackService service) {
    ServerServiceDefinition generated = service.bindService();
    ServiceDescriptor descriptor = generated.getServiceDescriptor();
    MethodDescriptor<List<IngestItem>, IngestReply> ingest =
        IngestItem.method(WhackGrpc.getIngestMethod());
    List<ServerMethodDefinition<?, ?>> others = new ArrayList<>();
    ServiceDescriptor.Builder methods =
        ServiceDescriptor.newBuilder(descriptor.getName())
            .setSchemaDescriptor(descriptor.getSchemaDescriptor())
            .addMethod(ingest);
    for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
      if (!m.getMethodDescriptor().getFullMethodName().equals(ingest.getFullMethodName())) {
        others.add(m);
        methods.addMethod(m.getMethodDescriptor());
      }
    }
    ServerServiceDefinition.Builder bound =
        ServerServiceDefinition.builder(methods.build())
            .addMethod(ingest, ServerCalls.asyncBidiStreamingCall(service::ingestItems));
    others.forEach(bound::addMethod);
    return bound.build();
  }

  /** The port it listens on. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    if (tls != null) {
      nodeTls.unregister(tls);
    }
    health.enterTerminalState();
    server.shutdown();
    // A subscription never ends by itself: told the node is stopping, so the server ends now.
    service.endSubscriptions();
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

package dev.whack.node.grpc;

import dev.whack.node.tls.ServerTls;
import dev.whack.node.tls.TlsMaterial;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSessionContext;

/**
 * The gRPC port's TLS: grpc-java's Netty server (its own shaded Netty) takes one {@code SslContext}
 * when it is built, so it is given this one, which makes each new connection's engine from the
 * context built at the last reload of the node's files ({@link ServerTls.Reloadable}). The provider
 * follows the node's: OpenSSL (grpc's own shaded BoringSSL) when the node runs OpenSSL and grpc's
 * loads, the JDK's otherwise.
 *
 * <p>Concurrency: the current context is a volatile reference; {@link #newEngine} runs on gRPC's
 * event loops, the reload on the signal or timer thread.
 */
final class GrpcTls extends SslContext implements ServerTls.Reloadable {
  private final boolean openSsl;
  private volatile SslContext current;

  GrpcTls(ServerTls tls) throws IOException {
    this.openSsl = tls.openSsl() && OpenSsl.isAvailable();
    tls.register(this);
  }

  @Override
  public Runnable prepare(TlsMaterial material) throws IOException {
    SslContextBuilder builder =
        GrpcSslContexts.configure(
                SslContextBuilder.forServer(material.key(), material.chain()),
                openSsl ? SslProvider.OPENSSL : SslProvider.JDK)
            .clientAuth(
                switch (material.clientAuth()) {
                  case NONE -> ClientAuth.NONE;
                  case OPTIONAL -> ClientAuth.OPTIONAL;
                  case REQUIRE -> ClientAuth.REQUIRE;
                });
    if (material.ca() != null) {
      builder.trustManager(material.ca());
    }
    SslContext next;
    try {
      next = builder.build();
    } catch (SSLException e) {
      throw new IOException("the gRPC port's TLS context: " + e.getMessage(), e);
    }
    return () -> current = next;
  }

  @Override
  public boolean isClient() {
    return false;
  }

  @Override
  public List<String> cipherSuites() {
    return current.cipherSuites();
  }

  /** Abstract in SslContext although deprecated: grpc checks from it that h2 is negotiated. */
  @Override
  @SuppressWarnings("deprecation")
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    return current.applicationProtocolNegotiator();
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return current.newEngine(alloc);
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return current.newEngine(alloc, peerHost, peerPort);
  }

  @Override
  public SSLSessionContext sessionContext() {
    return current.sessionContext();
  }
}

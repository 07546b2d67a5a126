package dev.whack.client.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * TLS from a client to the nodes ({@code WhackClient.Builder.tls}): the server's certificate is
 * verified against the system's trust store or against one CA file ({@code --tls-ca}), its name
 * against the host the client connects to (a certificate for {@code 10.0.0.5} must name that IP
 * address), and a client certificate ({@code --tls-cert}, {@code --tls-key}) is presented when the
 * node asks for one.
 *
 * <p>{@link #reload} reads the files again: a node's client to its peers does so when the node's
 * own certificate is reloaded, so that new connections present the new one. The gRPC bulk writer
 * ({@code GrpcBulkWriter.Builder.tls}) runs on grpc-java's shaded Netty, whose TLS context is a
 * class of its own: it reads the same files ({@link #caFile()} and the others) into one when it
 * opens.
 *
 * <p>Concurrency: the files are fixed; the current context is one volatile reference replaced whole
 * by {@link #reload} (synchronized), read by every new connection.
 */
public final class ClientTls {
  private final Path ca;
  private final Path certificate;
  private final Path key;
  private final SslProvider provider;
  private volatile SslContext context;

  private ClientTls(Builder b) throws IOException {
    this.ca = b.ca;
    this.certificate = b.certificate;
    this.key = b.key;
    this.provider = TlsProvider.choose();
    this.context = build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** TLS that trusts the system's CAs and presents no certificate. */
  public static ClientTls systemTrust() {
    return builder().build();
  }

  /** Builds a new context from the files; on failure the current one stays and this throws. */
  public synchronized void reload() throws IOException {
    this.context = build();
  }

  /** Whether a client certificate is presented. */
  public boolean presentsCertificate() {
    return certificate != null;
  }

  /** The CA file the nodes are verified with, or null for the system's trust store. */
  public Path caFile() {
    return ca;
  }

  /** The client certificate file presented, or null for none. */
  public Path certificateFile() {
    return certificate;
  }

  /** The private key of {@link #certificateFile()}, or null for none. */
  public Path keyFile() {
    return key;
  }

  /** The TLS implementation in words ({@link TlsProvider#describe}). */
  public String provider() {
    return TlsProvider.describe(provider);
  }

  /**
   * The handler that starts a connection's handshake with {@code host}, the name its certificate
   * must carry; the handshake fails (and so the connection) after {@code handshakeTimeoutMillis}.
   */
  public SslHandler newHandler(
      ByteBufAllocator alloc, String host, int port, long handshakeTimeoutMillis) {
    SslHandler handler = context.newHandler(alloc, host, port);
    handler.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
    return handler;
  }

  private SslContext build() throws IOException {
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(provider)
            .endpointIdentificationAlgorithm("HTTPS");
    if (ca != null) {
      builder.trustManager(Pem.certificates(ca));
    }
    if (certificate != null) {
      X509Certificate[] chain = Pem.certificates(certificate);
      PrivateKey privateKey = Pem.privateKey(key);
      Pem.checkPair(privateKey, chain[0], key, certificate);
      builder.keyManager(privateKey, chain);
    }
    return builder.build();
  }

  /** What a client trusts and presents. */
  public static final class Builder {
    private Path ca;
    private Path certificate;
    private Path key;

    private Builder() {}

    /** Trust the CA certificate(s) in this PEM file instead of the system's trust store. */
    public Builder trustCa(Path caFile) {
      this.ca = caFile;
      return this;
    }

    /** Present this certificate (PEM, leaf first) with its PKCS#8 PEM key when asked for one. */
    public Builder certificate(Path certificateFile, Path keyFile) {
      this.certificate = certificateFile;
      this.key = keyFile;
      return this;
    }

    /**
     * Reads the files and builds the first context.
     *
     * @throws IllegalArgumentException when only one of certificate and key is given
     * @throws UncheckedIOException when a file cannot be read or is not what it should be (the
     *     message names the file)
     */
    public ClientTls build() {
      if ((certificate == null) != (key == null)) {
        throw new IllegalArgumentException(
            "a client certificate needs both its certificate and its key file");
      }
      try {
        return new ClientTls(this);
      } catch (IOException e) {
        throw new UncheckedIOException(e.getMessage(), e);
      }
    }
  }
}

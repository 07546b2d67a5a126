package dev.whack.node.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * How a node speaks TLS ({@code --tls-*} flags, docs/security.md): on the memcached port, the gRPC
 * and HTTP ports when they are on, and to the other members of its cluster.
 *
 * @param certificate the node's certificate chain, PEM, its own certificate first; also what it
 *     presents to the members it connects to
 * @param key the certificate's private key, unencrypted PKCS#8 PEM
 * @param ca the CA certificate(s), PEM, that client certificates and the other members'
 *     certificates must be signed by; null: the system's trust store for members, and no client
 *     certificates
 * @param clientAuth whether a client must present a certificate
 */
public record TlsOptions(Path certificate, Path key, Path ca, ClientAuth clientAuth) {
  /** Whether the node asks a client for a certificate, and whether it must have one. */
  public enum ClientAuth {
    /** Not asked for. */
    NONE,
    /** Asked for and verified if sent; a client without one is served. */
    OPTIONAL,
    /** A client without a certificate signed by the CA fails its handshake. */
    REQUIRE;

    /** {@code none}, {@code optional} or {@code require}. */
    public static ClientAuth parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new IllegalArgumentException(
            "--tls-client-auth must be none, optional or require: " + text, e);
      }
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Validates the combination; with {@code clientAuth} null the default applies: {@code require}
   * when a CA is given (a CA is given to verify clients and members), {@code none} otherwise.
   */
  public TlsOptions {
    Objects.requireNonNull(certificate, "--tls-cert");
    Objects.requireNonNull(key, "--tls-key");
    if (clientAuth == null) {
      clientAuth = ca == null ? ClientAuth.NONE : ClientAuth.REQUIRE;
    }
    if (clientAuth != ClientAuth.NONE && ca == null) {
      throw new IllegalArgumentException(
          "--tls-client-auth "
              + clientAuth
              + " needs --tls-ca, the CA client certificates are"
              + " signed by");
    }
  }

  /**
   * The {@code --tls-*} flags as given, or null when none is: TLS needs both a certificate and its
   * key, and the other two flags mean nothing without them.
   */
  public static TlsOptions of(Path certificate, Path key, Path ca, String clientAuth) {
    if (certificate == null && key == null) {
      if (ca != null || clientAuth != null) {
        throw new IllegalArgumentException(
            "--tls-ca and --tls-client-auth need --tls-cert and --tls-key");
      }
      return null;
    }
    if (certificate == null || key == null) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
    }
    return new TlsOptions(
        certificate, key, ca, clientAuth == null ? null : ClientAuth.parse(clientAuth));
  }
}

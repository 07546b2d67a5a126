package dev.whack.client.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which TLS implementation Netty runs: OpenSSL's API (BoringSSL from netty-tcnative, on the class
 * path of the node and the CLI) when its native library loads, the JDK's otherwise. Both speak TLS
 * 1.2 and 1.3 with the same certificates; OpenSSL's costs less CPU per handshake and per byte.
 */
public final class TlsProvider {
  private TlsProvider() {}

  /** OPENSSL when netty-tcnative is present and loads here, else JDK. */
  public static SslProvider choose() {
    return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /** The chosen provider in words, for a start-up line. */
  public static String describe(SslProvider provider) {
    return provider == SslProvider.JDK
        ? "JDK"
        : "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative)";
  }
}

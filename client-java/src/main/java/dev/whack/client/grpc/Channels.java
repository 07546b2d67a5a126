package dev.whack.client.grpc;

import dev.whack.client.tls.ClientTls;
import dev.whack.client.tls.Pem;
import dev.whack.client.transport.Credentials;
import dev.whack.client.transport.NodeAddress;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;

/**
 * gRPC channels to a node, on grpc-java's shaded Netty (the memcached side runs on Netty 4.2, which
 * grpc-netty does not support).
 *
 * <p>Issue 12 again: when grpc's Netty classes load they try its epoll library, and on JDK 24 and
 * later {@code System.loadLibrary} prints a four-line restricted-method warning in any application
 * that has not enabled native access. There, and only there, the shaded Netty is told to use NIO
 * (its own switch, {@code -Dio.grpc.netty.shaded.io.netty.transport.noNative}, set only if unset,
 * before its classes load). Where native access is enabled ({@code whack.jar}'s manifest, {@code
 * --enable-native-access=ALL-UNNAMED}) epoll is used as before. The same goes for TLS: grpc's
 * shaded OpenSSL where native access is enabled, the JDK's where it is not.
 */
final class Channels {
  static final String NO_NATIVE = "io.grpc.netty.shaded.io.netty.transport.noNative";

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  static {
    if (System.getProperty(NO_NATIVE) == null && !nativeAccessEnabled()) {
      System.setProperty(NO_NATIVE, "true");
    }
  }

  private Channels() {}

  /**
   * A channel to {@code address}, plaintext when {@code tls} is null; it connects when first used.
   * Answers are handled on the channel's network thread (no hop to an executor per reply, which
   * halved a bulk load's client CPU per update): the callbacks of its callers must not block.
   *
   * <p>With {@code tls}, the node's certificate is verified against its CA file (or the JVM's trust
   * store) and its name against {@code address}'s host (grpc-java's negotiator sets the engine's
   * endpoint identification to HTTPS), and its client certificate is presented when the node asks
   * for one: what {@link ClientTls} does for the memcached port, built from the same files for
   * grpc's shaded Netty.
   *
   * @throws UncheckedIOException when a TLS file cannot be read (its message names the file)
   */
  static ManagedChannel open(NodeAddress address, Duration connectTimeout, ClientTls tls) {
    NettyChannelBuilder builder =
        NettyChannelBuilder.forAddress(address.host(), address.port())
            .directExecutor()
            .withOption(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    if (tls == null) {
      builder.usePlaintext();
    } else {
      builder.sslContext(sslContext(tls));
    }
    return builder.build();
  }

  private static SslContext sslContext(ClientTls tls) {
    try {
      // grpc's shaded OpenSSL would load its native library, with JDK 24's restricted-method
      // warning where native access is not enabled (as epoll, above): there the JDK's TLS.
      SslContextBuilder ssl =
          nativeAccessEnabled()
              ? GrpcSslContexts.forClient()
              : GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK);
      if (tls.caFile() != null) {
        ssl.trustManager(Pem.certificates(tls.caFile()));
      }
      if (tls.certificateFile() != null) {
        X509Certificate[] chain = Pem.certificates(tls.certificateFile());
        PrivateKey key = Pem.privateKey(tls.keyFile());
        Pem.checkPair(key, chain[0], tls.keyFile(), tls.certificateFile());
        ssl.keyManager(key, chain);
      }
      return ssl.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
  }

  /**
   * {@code channel} sending {@code credentials} as {@code authorization: Basic
   * base64(user:password)} metadata on every call, as a node with an auth file takes them; {@code
   * channel} itself when there are none.
   */
  static Channel authenticated(Channel channel, Credentials credentials) {
    if (credentials == null) {
      return channel;
    }
    byte[] password = credentials.password();
    byte[] user = credentials.user().getBytes(StandardCharsets.UTF_8);
    byte[] pair = new byte[user.length + 1 + password.length];
    System.arraycopy(user, 0, pair, 0, user.length);
    pair[user.length] = ':';
    System.arraycopy(password, 0, pair, user.length + 1, password.length);
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Basic " + Base64.getEncoder().encodeToString(pair));
    Arrays.fill(password, (byte) 0);
    Arrays.fill(pair, (byte) 0);
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Whether this code may call native methods without a warning ({@code true} before JDK 22). */
  private static boolean nativeAccessEnabled() {
    try {
      Method enabled = Module.class.getMethod("isNativeAccessEnabled"); // JDK 22 and later
      return (Boolean) enabled.invoke(Channels.class.getModule());
    } catch (ReflectiveOperationException e) {
      return true; // JDK 21: native access is not restricted
    }
  }
}

package dev.whack.client.grpc;

import dev.whack.client.transport.Credentials;
import dev.whack.client.transport.NodeAddress;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.stub.MetadataUtils;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
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
 * --enable-native-access=ALL-UNNAMED}) epoll is used as before.
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
   * A plaintext channel to {@code address}; it connects when first used. Answers are handled on the
   * channel's network thread (no hop to an executor per reply, which halved a bulk load's client
   * CPU per update): the callbacks of its callers must not block.
   */
  static ManagedChannel plaintext(NodeAddress address, Duration connectTimeout) {
    return NettyChannelBuilder.forAddress(address.host(), address.port())
        .usePlaintext()
        .directExecutor()
        .withOption(
            ChannelOption.CONNECT_TIMEOUT_MILLIS,
            (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .build();
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

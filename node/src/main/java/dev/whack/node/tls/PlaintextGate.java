package dev.whack.node.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a connection to a TLS port: decides from the first byte whether the client
 * speaks TLS, once, and otherwise answers in plaintext and closes, so that a client that forgot TLS
 * gets a reason at once instead of waiting for the handshake timeout.
 *
 * <p>A TLS connection's first record is a handshake record, content type 22 (RFC 8446 section 5.1;
 * RFC 5246 section 6.2.1 for TLS 1.2); every memcached text command starts with a letter, the
 * binary protocol's requests with 0x80, an HTTP request with its method's letters. So one byte
 * decides, and even a client that sends one byte and waits gets its answer. A first byte of 22
 * followed by something that is not TLS is the {@code SslHandler}'s to refuse (it closes). SSLv2's
 * hello (first byte 0x80 and up) is not TLS any client of Whack sends.
 *
 * <p>The gate sits before the {@code SslHandler}, so its reply bypasses encryption; on TLS it
 * removes itself and hands the bytes read so far to the {@code SslHandler}.
 */
public final class PlaintextGate extends ByteToMessageDecoder {
  /** TLS's ContentType.handshake. */
  static final int TLS_HANDSHAKE_RECORD = 22;

  /** What a plaintext memcached client reads before the close (docs/protocol.md). */
  public static final String MEMCACHED_REFUSAL = "SERVER_ERROR this port requires TLS\r\n";

  /** What a plaintext HTTP client reads before the close (docs/http.md). */
  public static final String HTTP_REFUSAL;

  static {
    String body = "this port requires TLS: use https://\n";
    HTTP_REFUSAL =
        "HTTP/1.1 400 Bad Request\r\n"
            + "content-type: text/plain; charset=utf-8\r\n"
            + "content-length: "
            + body.length()
            + "\r\n"
            + "connection: close\r\n\r\n"
            + body;
  }

  /** How long a refused client has to read the refusal and close. */
  static final long LINGER_MILLIS = 2000;

  private final byte[] refusal;
  private boolean refused;

  /**
   * @param refusal what a plaintext client is told, in its protocol's words, before the close
   */
  public PlaintextGate(String refusal) {
    this.refusal = refusal.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (refused) {
      in.skipBytes(in.readableBytes()); // what was read with the first bytes: closing anyway
      return;
    }
    if (!in.isReadable()) {
      return;
    }
    if (in.getUnsignedByte(in.readerIndex()) == TLS_HANDSHAKE_RECORD) {
      ctx.pipeline().remove(this);
      return;
    }
    refused = true;
    in.skipBytes(in.readableBytes());
    // Not a plain close: with the client's later requests unread, the kernel would answer them
    // with a reset that can destroy the refusal before the client reads it. So the refusal is
    // followed by the end of output, what else comes is read and dropped, and the connection
    // closes when the client closes its end, or after LINGER_MILLIS.
    ctx.writeAndFlush(Unpooled.wrappedBuffer(refusal))
        .addListener(
            f -> {
              if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
              } else {
                ctx.close();
              }
            });
    ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (refused && event instanceof ChannelInputShutdownEvent) {
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, event);
  }
}

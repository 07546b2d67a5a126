package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** Small writers for command lines. */
final class Encode {
  /**
   * The prefix of every question the client asks each node itself and then combines: a node of a
   * cluster answers a plain segment command for the whole cluster, so the client asks for this
   * node's part only.
   */
  public static final String LOCAL = "local ";

  static final byte SPACE = ' ';

  private Encode() {}

  static void word(ByteBuf out, String ascii) {
    ByteBufUtil.writeAscii(out, ascii);
  }

  static void number(ByteBuf out, long n) {
    ByteBufUtil.writeAscii(out, Long.toString(n));
  }

  static void crlf(ByteBuf out) {
    out.writeByte('\r');
    out.writeByte('\n');
  }

  /** {@code <bytes>\r\n} already written by the caller's line; this writes the block and CRLF. */
  static void block(ByteBuf out, byte[] data) {
    out.writeBytes(data);
    crlf(out);
  }
}

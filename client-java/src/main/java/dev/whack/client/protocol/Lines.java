package dev.whack.client.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Reading the text protocol's replies from a connection's cumulated buffer: {@code \r\n}-terminated
 * lines and length-framed data blocks. Every method either consumes a whole element or nothing, so
 * a parser can return and be called again when more bytes arrive. Lengths are capped before they
 * are believed.
 */
public final class Lines {
  /**
   * The longest reply line accepted. Reply lines carry at most a key (250 bytes), a segment name, a
   * cursor and a few numbers; error messages are short. Longer means the stream is corrupt.
   */
  public static final int MAX_LINE_BYTES = 8 * 1024;

  /** The largest data block believed: values, expressions. */
  public static final int MAX_BLOCK_BYTES = 64 * 1024 * 1024;

  private Lines() {}

  /** A whole line without its {@code \r\n}, or null (nothing consumed) if it is not all there. */
  public static String readLine(ByteBuf in) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    int scanTo = Math.min(end, start + MAX_LINE_BYTES + 2);
    int eol = in.indexOf(start, scanTo, (byte) '\n');
    if (eol < 0) {
      if (end - start > MAX_LINE_BYTES + 1) {
        throw new ReplyFormatException(
            "a reply line longer than " + MAX_LINE_BYTES + " bytes: " + preview(in));
      }
      return null;
    }
    if (eol == start || in.getByte(eol - 1) != '\r') {
      throw new ReplyFormatException("a reply line not ending in \\r\\n: " + preview(in));
    }
    String line = in.toString(start, eol - 1 - start, StandardCharsets.UTF_8);
    in.readerIndex(eol + 1);
    return line;
  }

  /**
   * Consumes {@code literal} (which ends in {@code \r\n}) if the buffer starts with it. False, with
   * nothing consumed, if it does not or if too few bytes are there to tell.
   */
  public static boolean consume(ByteBuf in, byte[] literal) {
    if (in.readableBytes() < literal.length) {
      return false;
    }
    int at = in.readerIndex();
    for (int i = 0; i < literal.length; i++) {
      if (in.getByte(at + i) != literal[i]) {
        return false;
      }
    }
    in.skipBytes(literal.length);
    return true;
  }

  /** A data block of {@code length} bytes and its {@code \r\n}, or null if not all there yet. */
  public static byte[] readBlock(ByteBuf in, int length) {
    if (in.readableBytes() < length + 2) {
      return null;
    }
    int at = in.readerIndex();
    if (in.getByte(at + length) != '\r' || in.getByte(at + length + 1) != '\n') {
      throw new ReplyFormatException("a data block of " + length + " bytes not ending in \\r\\n");
    }
    byte[] data = new byte[length];
    in.readBytes(data);
    in.skipBytes(2);
    return data;
  }

  /** A block length from a reply line, checked against {@link #MAX_BLOCK_BYTES}. */
  public static int blockLength(String token, String line) {
    int n = nonNegativeInt(token, line);
    if (n > MAX_BLOCK_BYTES) {
      throw new ReplyFormatException(
          "a data block of " + n + " bytes, over the " + MAX_BLOCK_BYTES + " limit: " + line);
    }
    return n;
  }

  public static int nonNegativeInt(String token, String line) {
    long n = nonNegativeLong(token, line);
    if (n > Integer.MAX_VALUE) {
      throw new ReplyFormatException("a number out of range in: " + line);
    }
    return (int) n;
  }

  public static long nonNegativeLong(String token, String line) {
    if (token.isEmpty() || token.length() > 19) {
      throw new ReplyFormatException("not a number in: " + line);
    }
    long n = 0;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < '0' || c > '9') {
        throw new ReplyFormatException("not a number in: " + line);
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** Unsigned 32-bit flags as memcached prints them. */
  public static int flags(String token, String line) {
    long n = nonNegativeLong(token, line);
    if (n > 0xffff_ffffL) {
      throw new ReplyFormatException("flags out of range in: " + line);
    }
    return (int) n;
  }

  /** Up to 64 readable bytes, printable, for error messages. */
  public static String preview(ByteBuf in) {
    int n = Math.min(in.readableBytes(), 64);
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int b = in.getByte(in.readerIndex() + i) & 0xff;
      if (b == '\r') {
        text.append("\\r");
      } else if (b == '\n') {
        text.append("\\n");
      } else if (b < 0x20 || b >= 0x7f) {
        text.append(String.format("\\x%02x", b));
      } else {
        text.append((char) b);
      }
    }
    return in.readableBytes() > n ? text + "..." : text.toString();
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}

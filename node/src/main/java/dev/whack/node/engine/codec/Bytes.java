package dev.whack.node.engine.codec;

import java.nio.charset.StandardCharsets;

/**
 * Decoding primitives over encoded profile bytes. Positions are passed and returned explicitly; a
 * varint read returns its value and {@link #next} returns the position after it, so that decoding
 * allocates nothing.
 */
public final class Bytes {
  private Bytes() {}

  /** Reads a varint at {@code pos}. */
  public static long varint(byte[] b, int pos) {
    long v = 0;
    int shift = 0;
    while (true) {
      byte x = b[pos++];
      v |= (long) (x & 0x7F) << shift;
      if (x >= 0) {
        return v;
      }
      shift += 7;
    }
  }

  /** Position after the varint at {@code pos}. */
  public static int next(byte[] b, int pos) {
    while (b[pos++] < 0) {
      // continuation bit set
    }
    return pos;
  }

  public static int varintInt(byte[] b, int pos) {
    return (int) varint(b, pos);
  }

  public static long zigzag(byte[] b, int pos) {
    long v = varint(b, pos);
    return (v >>> 1) ^ -(v & 1);
  }

  public static long fixed64(byte[] b, int pos) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xFF);
    }
    return v;
  }

  public static double float64(byte[] b, int pos) {
    return Double.longBitsToDouble(fixed64(b, pos));
  }

  /** The string whose varint length starts at {@code pos}. */
  public static String string(byte[] b, int pos) {
    int len = varintInt(b, pos);
    int start = next(b, pos);
    return new String(b, start, len, StandardCharsets.UTF_8);
  }

  /** Position after the length-prefixed bytes at {@code pos}. */
  public static int skipString(byte[] b, int pos) {
    int len = varintInt(b, pos);
    return next(b, pos) + len;
  }
}

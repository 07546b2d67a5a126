package dev.whack.node.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Keys inside text-protocol lines that list profiles ({@code KEY}, {@code CHANGE}, {@code
 * PROFILE}). A key is bytes, and one stored through the binary protocol or a base64 meta key may
 * hold spaces, CR or LF, or bytes that are not UTF-8; written raw it could end a listing early. So
 * such keys are percent-encoded, as memcached's own metadump does: every byte outside {@code
 * 0x21..0x7e}, and {@code %} itself, becomes {@code %XX} (upper-case hex). A key made only of
 * printable ASCII without {@code %} is written as is.
 */
public final class KeyText {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private KeyText() {}

  /** Appends the key, escaped as above; {@code key} holds one char per byte (ISO-8859-1). */
  public static void append(ReplyBuffer out, String key) {
    for (int i = 0; i < key.length(); i++) {
      int b = key.charAt(i) & 0xFF;
      if (b > 0x20 && b < 0x7f && b != '%') {
        out.ascii((char) b);
      } else {
        out.ascii('%').ascii((char) HEX[b >>> 4]).ascii((char) HEX[b & 0xF]);
      }
    }
  }

  /** Appends the first {@code length} bytes of {@code key}, escaped as above. */
  public static void append(io.netty.buffer.ByteBuf out, byte[] key, int length) {
    for (int i = 0; i < length; i++) {
      int b = key[i] & 0xFF;
      if (b > 0x20 && b < 0x7f && b != '%') {
        out.writeByte(b);
      } else {
        out.writeByte('%').writeByte(HEX[b >>> 4]).writeByte(HEX[b & 0xF]);
      }
    }
  }

  /** The bytes of a key the engine handed out (one char per byte). */
  public static byte[] bytes(String key) {
    return key.getBytes(StandardCharsets.ISO_8859_1);
  }
}

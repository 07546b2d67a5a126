package dev.whack.client.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Checks what goes on a command line before it is sent, so that the node never sees a request it
 * would answer in an unexpected shape (a bad key in a multi-get drops the whole reply).
 */
public final class Keys {
  /** memcached's key limit. */
  public static final int MAX_KEY_BYTES = 250;

  private Keys() {}

  /** The UTF-8 bytes of a key: 1 to 250 bytes, no spaces or control characters. */
  public static byte[] key(String key) {
    return token(key, "key", MAX_KEY_BYTES);
  }

  /** A dimension name as a command line carries it (the node checks its rule). */
  public static byte[] dimensionName(String name) {
    return token(name, "dimension name", MAX_KEY_BYTES);
  }

  /** A tenant name as a command line carries it (the node checks its rule). */
  public static String tenantName(String name) {
    return new String(token(name, "tenant name", 64), StandardCharsets.UTF_8);
  }

  /** A segment name: the same rule as a key. */
  public static byte[] segmentName(String name) {
    return token(name, "segment name", MAX_KEY_BYTES);
  }

  /**
   * A key as listings write it ({@code KEY}, {@code CHANGE}, {@code PROFILE} lines): bytes outside
   * printable ASCII, and {@code %}, come percent-encoded (docs/protocol.md); the bytes are read as
   * UTF-8, the encoding this client writes keys in.
   */
  public static String unescape(String listed) {
    if (listed.indexOf('%') < 0) {
      return listed;
    }
    return new String(unescapeBytes(listed), StandardCharsets.UTF_8);
  }

  /** The bytes of a key as a listing writes it (see {@link #unescape}). */
  public static byte[] unescapeBytes(String listed) {
    byte[] out = new byte[listed.length()];
    int n = 0;
    for (int i = 0; i < listed.length(); i++) {
      char c = listed.charAt(i);
      if (c == '%' && i + 2 < listed.length()) {
        int hi = Character.digit(listed.charAt(i + 1), 16);
        int lo = Character.digit(listed.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          throw new ReplyFormatException("a bad escape in a listed key: " + listed);
        }
        out[n++] = (byte) (hi << 4 | lo);
        i += 2;
      } else if (c == '%') {
        throw new ReplyFormatException("a bad escape in a listed key: " + listed);
      } else {
        out[n++] = (byte) c;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /** A cursor returned by the node, sent back verbatim. */
  public static byte[] cursor(String cursor) {
    return token(cursor, "cursor", Lines.MAX_LINE_BYTES);
  }

  private static byte[] token(String text, String what, int maxBytes) {
    if (text == null) {
      throw new IllegalArgumentException("the " + what + " is null");
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    if (bytes.length == 0 || bytes.length > maxBytes) {
      throw new IllegalArgumentException(
          "a " + what + " is 1 to " + maxBytes + " bytes, got " + bytes.length + ": " + text);
    }
    for (byte b : bytes) {
      if ((b & 0xff) <= 0x20 || b == 0x7f) {
        throw new IllegalArgumentException(
            "a " + what + " cannot contain spaces or control characters: " + text);
      }
    }
    return bytes;
  }
}

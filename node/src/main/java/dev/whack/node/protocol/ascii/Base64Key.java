package dev.whack.node.protocol.ascii;

import java.util.Arrays;
import java.util.Base64;

/**
 * Keys sent base64-encoded (the meta commands' {@code b} flag), decoded exactly as memcached 1.6.18
 * decodes them ({@code base64.c}, after Jouni Malinen's RFC 1341 code), which is laxer than RFC
 * 4648 in ways a client may rely on:
 *
 * <ul>
 *   <li>bytes outside the standard alphabet and {@code =} are skipped, wherever they are: {@code
 *       YW!Jj}, {@code YW-Jj} and {@code YW<tab>Jj} all decode to {@code abc};
 *   <li>what is left must be a non-zero multiple of four characters, so padding is required ({@code
 *       YWI} is refused, {@code YWI=} is {@code ab});
 *   <li>{@code =} counts as a zero digit anywhere in a group of four; the first group holding one
 *       or two ends the key, dropping as many bytes (so {@code YQ==YWJj} is {@code a} and {@code
 *       Y=Jj} is two bytes), and a group with three or four is refused;
 *   <li>a key that decodes to nothing is refused.
 * </ul>
 *
 * <p>A key goes back to the client re-encoded from its bytes (standard alphabet, padded), never as
 * it was spelled, as memcached re-encodes it.
 *
 * <p>Concurrency: stateless.
 */
final class Base64Key {
  /** Digit values of the standard alphabet; -1 for bytes that are skipped, 0 for '='. */
  private static final byte[] DIGITS = new byte[256];

  static {
    Arrays.fill(DIGITS, (byte) -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < alphabet.length(); i++) {
      DIGITS[alphabet.charAt(i)] = (byte) i;
    }
    DIGITS['='] = 0;
  }

  private Base64Key() {}

  /**
   * Decodes {@code src[off, off + len)}.
   *
   * @return the key's bytes, or null when memcached would answer "error decoding key"
   */
  static byte[] decode(byte[] src, int off, int len) {
    int digits = 0;
    for (int i = off; i < off + len; i++) {
      if (DIGITS[src[i] & 0xFF] >= 0) {
        digits++;
      }
    }
    if (digits == 0 || digits % 4 != 0) {
      return null;
    }
    byte[] out = new byte[digits / 4 * 3];
    int n = 0;
    int block = 0;
    int inBlock = 0;
    int pad = 0;
    for (int i = off; i < off + len; i++) {
      int digit = DIGITS[src[i] & 0xFF];
      if (digit < 0) {
        continue;
      }
      if (src[i] == '=') {
        pad++;
      }
      block = block << 6 | digit;
      if (++inBlock == 4) {
        out[n++] = (byte) (block >> 16);
        out[n++] = (byte) (block >> 8);
        out[n++] = (byte) block;
        if (pad > 0) {
          if (pad > 2) {
            return null;
          }
          n -= pad;
          break;
        }
        block = 0;
        inBlock = 0;
      }
    }
    return n == 0 ? null : n == out.length ? out : Arrays.copyOf(out, n);
  }

  /** The key as memcached writes it back: standard alphabet, padded. */
  static byte[] encode(byte[] key, int off, int len) {
    return Base64.getEncoder().encode(Arrays.copyOfRange(key, off, off + len));
  }
}

package dev.whack.node.protocol.ascii;

/**
 * memcached's {@code safe_strto*} number parsing, so that the text protocol accepts and rejects
 * exactly the numbers memcached does: optional leading whitespace and sign, decimal digits to the
 * end of the token, overflow of the 64-bit intermediate rejected, then memcached's own narrowing.
 * Each parser returns false on a bad number and leaves the result in {@link #value}.
 *
 * <p>Concurrency: one per connection, never shared.
 */
final class AsciiNumbers {
  long value;

  /** {@code safe_strtoull}: an unsigned 64-bit number; "-5" is rejected, "-0" is 0. */
  boolean unsigned64(byte[] b, int start, int end) {
    int i = skipSpace(b, start, end);
    boolean negative = false;
    if (i < end && (b[i] == '-' || b[i] == '+')) {
      negative = b[i] == '-';
      i++;
    }
    if (i == end) {
      return false;
    }
    long result = 0;
    for (; i < end; i++) {
      int digit = b[i] - '0';
      if (digit < 0 || digit > 9) {
        return false;
      }
      if (Long.compareUnsigned(result, Long.divideUnsigned(-1L - digit, 10)) > 0) {
        return false;
      }
      result = result * 10 + digit;
    }
    if (negative) {
      result = -result;
      if (result < 0) {
        return false;
      }
    }
    value = result;
    return true;
  }

  /** {@code safe_strtoul}: as {@link #unsigned64}, then narrowed to 32 bits as memcached does. */
  boolean unsigned32(byte[] b, int start, int end) {
    if (!unsigned64(b, start, end)) {
      return false;
    }
    value &= 0xFFFF_FFFFL;
    return true;
  }

  /**
   * {@code safe_strtol} into an {@code int32_t}: a signed 64-bit number narrowed to 32 bits, so
   * 2147483648 reads as -2147483648, exactly as memcached stores it.
   */
  boolean signed32(byte[] b, int start, int end) {
    if (!signed64(b, start, end)) {
      return false;
    }
    value = (int) value;
    return true;
  }

  /** {@code safe_strtoll}: a signed 64-bit number. */
  boolean signed64(byte[] b, int start, int end) {
    int i = skipSpace(b, start, end);
    boolean negative = false;
    if (i < end && (b[i] == '-' || b[i] == '+')) {
      negative = b[i] == '-';
      i++;
    }
    if (i == end) {
      return false;
    }
    long result = 0; // accumulated as a negative number to reach Long.MIN_VALUE
    for (; i < end; i++) {
      int digit = b[i] - '0';
      if (digit < 0 || digit > 9) {
        return false;
      }
      if (result < (Long.MIN_VALUE + digit) / 10) {
        return false;
      }
      result = result * 10 - digit;
    }
    if (!negative) {
      if (result == Long.MIN_VALUE) {
        return false;
      }
      result = -result;
    }
    value = result;
    return true;
  }

  /**
   * {@code safe_strtod}, for the one command that takes a fraction ({@code slabs automove ratio}):
   * a decimal number with an optional exponent and nothing after it.
   */
  static boolean isDouble(String token) {
    return token.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");
  }

  private static int skipSpace(byte[] b, int i, int end) {
    while (i < end && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r'))) {
      i++;
    }
    return i;
  }
}

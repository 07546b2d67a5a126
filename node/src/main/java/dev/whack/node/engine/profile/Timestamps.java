package dev.whack.node.engine.profile;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * RFC 3339 timestamps with millisecond precision, the one textual form of a timestamp value.
 *
 * <p>A JSON string is a timestamp exactly when it has the shape {@code YYYY-MM-DDTHH:MM:SS}, an
 * optional fraction, and {@code Z} or a {@code +HH:MM}/{@code -HH:MM} offset (upper-case {@code T}
 * and {@code Z}). See docs/profiles.md.
 */
public final class Timestamps {
  /** 0000-01-01T00:00:00Z. */
  public static final long MIN_MILLIS = -62_167_219_200_000L;

  /** 9999-12-31T23:59:59.999Z. */
  public static final long MAX_MILLIS = 253_402_300_799_999L;

  private Timestamps() {}

  /** Whether {@code s} has the timestamp shape (it may still be an invalid date). */
  public static boolean looksLikeTimestamp(CharSequence s) {
    int n = s.length();
    if (n < 20) {
      return false;
    }
    if (!digits(s, 0, 4) || s.charAt(4) != '-' || !digits(s, 5, 2) || s.charAt(7) != '-'
        || !digits(s, 8, 2) || s.charAt(10) != 'T' || !digits(s, 11, 2) || s.charAt(13) != ':'
        || !digits(s, 14, 2) || s.charAt(16) != ':' || !digits(s, 17, 2)) {
      return false;
    }
    int i = 19;
    if (s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && isDigit(s.charAt(i))) {
        i++;
      }
      if (i == start) {
        return false;
      }
    }
    if (i == n - 1) {
      return s.charAt(i) == 'Z';
    }
    return i == n - 6 && (s.charAt(i) == '+' || s.charAt(i) == '-') && digits(s, i + 1, 2)
        && s.charAt(i + 3) == ':' && digits(s, i + 4, 2);
  }

  /**
   * Parses a timestamp-shaped string to epoch milliseconds.
   *
   * @throws IllegalArgumentException with the reason, when the date is invalid, finer than a
   *     millisecond, or outside years 0000..9999
   */
  public static long parse(String s) {
    if (!looksLikeTimestamp(s)) {
      throw new IllegalArgumentException("not an RFC 3339 timestamp: \"" + s + "\"");
    }
    OffsetDateTime t;
    try {
      t = OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("invalid timestamp \"" + s + "\": " + e.getMessage());
    }
    if (t.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "timestamp \"" + s + "\" is finer than a millisecond; timestamps keep milliseconds");
    }
    long millis = t.toInstant().toEpochMilli();
    checkRange(millis);
    return millis;
  }

  /** Formats epoch milliseconds as {@code 2026-11-20T10:00:00Z} (fraction only when non-zero). */
  public static String format(long millis) {
    checkRange(millis);
    return Instant.ofEpochMilli(millis).toString();
  }

  /** Rejects timestamps outside years 0000..9999, which would not read back as timestamps. */
  public static void checkRange(long millis) {
    if (millis < MIN_MILLIS || millis > MAX_MILLIS) {
      throw new IllegalArgumentException(
          "timestamp " + millis + " ms is outside years 0000..9999");
    }
  }

  private static boolean digits(CharSequence s, int from, int count) {
    for (int i = from; i < from + count; i++) {
      if (!isDigit(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}

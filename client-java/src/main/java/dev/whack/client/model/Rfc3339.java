package dev.whack.client.model;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;

/**
 * Timestamps as Profile and Update JSON write them (docs/profiles.md, "Value types"): RFC 3339 in
 * UTC with millisecond precision, {@code 2026-11-20T10:00:00Z}, a fraction only when non-zero
 * ({@code .250}), years 0000 to 9999. The shape test is the node's, character for character: a
 * string of this shape is a timestamp, so a string value of that shape is written as {@code
 * {"$string": "..."}}.
 */
final class Rfc3339 {
  /** 0000-01-01T00:00:00Z. */
  static final Instant MIN = Instant.parse("0000-01-01T00:00:00Z");

  /** 9999-12-31T23:59:59.999Z. */
  static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999Z");

  private Rfc3339() {}

  /**
   * {@code instant} to the millisecond (an {@link Instant#now()} has microseconds), checked to be
   * in years 0000 to 9999, which are the timestamps JSON can carry.
   */
  static Instant millis(Instant instant) {
    if (instant == null) {
      throw new IllegalArgumentException("a timestamp is not null");
    }
    Instant truncated = instant.truncatedTo(ChronoUnit.MILLIS);
    if (truncated.isBefore(MIN) || truncated.isAfter(MAX)) {
      throw new IllegalArgumentException(
          "timestamp " + instant + " is outside years 0000..9999, which JSON timestamps cover");
    }
    return truncated;
  }

  /** {@code 2026-11-20T10:00:00Z}; {@code instant} is already {@link #millis} checked. */
  static String format(Instant instant) {
    return instant.toString();
  }

  /**
   * Parses a timestamp-shaped string.
   *
   * @throws IllegalArgumentException when it is not one, or not a valid instant with at most
   *     millisecond precision in years 0000..9999 (the node refuses those too)
   */
  static Instant parse(String s) {
    if (!looksLikeTimestamp(s)) {
      throw new IllegalArgumentException("not an RFC 3339 timestamp: \"" + s + "\"");
    }
    Instant instant;
    try {
      instant = OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("invalid timestamp \"" + s + "\": " + e.getMessage(), e);
    }
    if (instant.getNano() % 1_000_000 != 0) {
      throw new IllegalArgumentException(
          "timestamp \"" + s + "\" is finer than a millisecond; timestamps keep milliseconds");
    }
    if (instant.isBefore(MIN) || instant.isAfter(MAX)) {
      throw new IllegalArgumentException("timestamp \"" + s + "\" is outside years 0000..9999");
    }
    return instant;
  }

  /**
   * Whether {@code s} has the shape {@code YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)}, upper
   * case {@code T} and {@code Z} (it may still be an invalid date).
   */
  static boolean looksLikeTimestamp(String s) {
    int n = s.length();
    if (n < 20) {
      return false;
    }
    if (!digits(s, 0, 4)
        || s.charAt(4) != '-'
        || !digits(s, 5, 2)
        || s.charAt(7) != '-'
        || !digits(s, 8, 2)
        || s.charAt(10) != 'T'
        || !digits(s, 11, 2)
        || s.charAt(13) != ':'
        || !digits(s, 14, 2)
        || s.charAt(16) != ':'
        || !digits(s, 17, 2)) {
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
    return i == n - 6
        && (s.charAt(i) == '+' || s.charAt(i) == '-')
        && digits(s, i + 1, 2)
        && s.charAt(i + 3) == ':'
        && digits(s, i + 4, 2);
  }

  private static boolean digits(String s, int from, int count) {
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

package dev.whack.node.engine.profile;

import java.time.Instant;

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

  /**
   * Parses a timestamp-shaped string to epoch milliseconds.
   *
   * @throws IllegalArgumentException with the reason, when the date is invalid, finer than a
   *     millisecond, or outside years 0000..9999
   */
  public static long parse(String s) {
    return parse((CharSequence) s);
  }

  /** {@link #parse(String)} over any characters, for example a view of ASCII bytes. */
  public static long parse(CharSequence s) {
    if (!looksLikeTimestamp(s)) {
      throw new IllegalArgumentException("not an RFC 3339 timestamp: \"" + s + "\"");
    }
    // Hand-parsed: the shape is already checked, and DateTimeFormatter costs about a microsecond
    // per call, which dominated bulk loads of profiles with a few timestamps each.
    int year = num(s, 0, 4);
    int month = num(s, 5, 2);
    int day = num(s, 8, 2);
    int hour = num(s, 11, 2);
    int minute = num(s, 14, 2);
    int second = num(s, 17, 2);
    int i = 19;
    int millis = 0;
    if (s.charAt(i) == '.') {
      i++;
      int digits = 0;
      while (i < s.length() && Character.isDigit(s.charAt(i))) {
        int d = s.charAt(i) - '0';
        if (digits < 3) {
          millis = millis * 10 + d;
        } else if (d != 0) {
          throw new IllegalArgumentException(
              "timestamp \"" + s + "\" is finer than a millisecond; timestamps keep milliseconds");
        }
        digits++;
        i++;
      }
      for (; digits < 3; digits++) {
        millis *= 10;
      }
    }
    int offsetMinutes = 0;
    if (s.charAt(i) != 'Z') {
      int sign = s.charAt(i) == '-' ? -1 : 1;
      int oh = num(s, i + 1, 2);
      int om = num(s, i + 4, 2);
      if (oh > 23 || om > 59) {
        throw new IllegalArgumentException("invalid timestamp \"" + s + "\": bad offset");
      }
      offsetMinutes = sign * (oh * 60 + om);
    }
    if (month < 1
        || month > 12
        || day < 1
        || day > YearMonthDays.of(year, month)
        || hour > 23
        || minute > 59
        || second > 59) {
      throw new IllegalArgumentException("invalid timestamp \"" + s + "\": no such date or time");
    }
    long epochDay = epochDay(year, month, day);
    long result =
        ((epochDay * 24 + hour) * 60 + minute - offsetMinutes) * 60_000L + second * 1000L + millis;
    checkRange(result);
    return result;
  }

  /** Days since 1970-01-01 of a valid proleptic Gregorian date (the civil-from-days inverse). */
  public static long epochDay(int year, int month, int day) {
    long y = month <= 2 ? year - 1 : year;
    long era = Math.floorDiv(y, 400);
    long yoe = y - era * 400;
    long mp = (month + 9) % 12;
    long doy = (153 * mp + 2) / 5 + day - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146_097 + doe - 719_468;
  }

  /**
   * Parses {@code YYYY-MM-DD} to days since 1970-01-01.
   *
   * @throws IllegalArgumentException when it is not such a date
   */
  public static int parseDay(CharSequence s) {
    if (s.length() != 10
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || !digits(s, 0, 4)
        || !digits(s, 5, 2)
        || !digits(s, 8, 2)) {
      throw new IllegalArgumentException("\"" + s + "\" is not a YYYY-MM-DD date");
    }
    int year = num(s, 0, 4);
    int month = num(s, 5, 2);
    int day = num(s, 8, 2);
    if (month < 1 || month > 12 || day < 1 || day > YearMonthDays.of(year, month)) {
      throw new IllegalArgumentException("\"" + s + "\" is not a valid date");
    }
    return (int) epochDay(year, month, day);
  }

  private static int num(CharSequence s, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      v = v * 10 + (s.charAt(i) - '0');
    }
    return v;
  }

  private static final class YearMonthDays {
    private static final int[] DAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    static int of(int year, int month) {
      if (month == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) {
        return 29;
      }
      return DAYS[month - 1];
    }
  }

  /** Formats epoch milliseconds as {@code 2026-11-20T10:00:00Z} (fraction only when non-zero). */
  public static String format(long millis) {
    checkRange(millis);
    return Instant.ofEpochMilli(millis).toString();
  }

  /** Rejects timestamps outside years 0000..9999, which would not read back as timestamps. */
  public static void checkRange(long millis) {
    if (millis < MIN_MILLIS || millis > MAX_MILLIS) {
      throw new IllegalArgumentException("timestamp " + millis + " ms is outside years 0000..9999");
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

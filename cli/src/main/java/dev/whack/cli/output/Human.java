package dev.whack.cli.output;

import java.util.Locale;

/** Numbers for people: sizes in binary units, rates, durations. */
public final class Human {
  private Human() {}

  /** {@code 512 B}, {@code 1.5 KiB}, {@code 2.73 GiB}. */
  public static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(
        Locale.ROOT, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]);
  }

  /** {@code 1,234,567}. */
  public static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** {@code 0.42 s}, {@code 12.3 s}, {@code 4m05s}, {@code 2h03m}. */
  public static String seconds(double s) {
    if (s < 10) {
      return String.format(Locale.ROOT, "%.2f s", s);
    }
    if (s < 100) {
      return String.format(Locale.ROOT, "%.1f s", s);
    }
    long whole = Math.round(s);
    if (whole < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", whole / 60, whole % 60);
    }
    return String.format(Locale.ROOT, "%dh%02dm", whole / 3600, whole / 60 % 60);
  }

  /** Uptime seconds as {@code 3d04h}, {@code 5h12m}, {@code 42m}, {@code 17s}. */
  public static String uptime(long s) {
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return s / 60 + "m";
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, s / 3600 % 24);
  }

  /** A per-second rate, no decimals past 100. */
  public static String rate(double perSecond) {
    return perSecond >= 100
        ? String.format(Locale.ROOT, "%,.0f", perSecond)
        : String.format(Locale.ROOT, "%.1f", perSecond);
  }
}

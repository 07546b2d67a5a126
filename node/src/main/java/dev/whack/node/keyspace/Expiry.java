package dev.whack.node.keyspace;

/**
 * memcached's expiry rule, shared by every protocol: "the actual value sent may either be Unix time
 * [...] or a number of seconds starting from current time [...] this number of seconds may not
 * exceed 60*60*24*30" (protocol.txt, "Expiration times"). Negative means already expired.
 */
public final class Expiry {
  /** Relative expiry times above this are absolute Unix times. */
  public static final long MAX_RELATIVE_SECONDS = 60L * 60 * 24 * 30;

  /** An absolute time that is always in the past: memcached's "immediately expired". */
  static final long ALREADY_EXPIRED = 1;

  private Expiry() {}

  /**
   * Converts an expiry as a client sends it into absolute Unix seconds, 0 meaning never.
   *
   * @param exptime the client's value: 0, relative seconds, absolute Unix seconds or negative
   * @param nowSeconds the current Unix time in seconds
   */
  public static long toAbsoluteSeconds(long exptime, long nowSeconds) {
    if (exptime == 0) {
      return 0;
    }
    if (exptime < 0) {
      return ALREADY_EXPIRED;
    }
    if (exptime > MAX_RELATIVE_SECONDS) {
      return exptime <= nowSeconds ? ALREADY_EXPIRED : exptime;
    }
    return nowSeconds + exptime;
  }

  /** Seconds left before expiry, or -1 for an item that never expires (meta {@code t}). */
  static long remainingSeconds(long expiresAtSeconds, long nowSeconds) {
    return expiresAtSeconds == 0 ? -1 : Math.max(0, expiresAtSeconds - nowSeconds);
  }
}

package dev.whack.node.tenant;

import java.util.Locale;

/**
 * What one tenant may use (docs/security.md, "Tenants"); a zero is no limit of the tenant's own.
 *
 * @param memoryBytes the cap of the tenant's keyspace, carved out of the node's {@code --memory}:
 *     its items are evicted when it is over it, never another tenant's (0 only for the default
 *     tenant, which keeps what the others leave)
 * @param segments how many segments the tenant may define (0: the node's limit, 1024)
 * @param requestsPerSecond requests a second over all its connections; past it a request is refused
 *     with a {@code SERVER_ERROR} saying so (0: no limit)
 */
public record TenantQuota(long memoryBytes, int segments, long requestsPerSecond) {
  public static final TenantQuota NONE = new TenantQuota(0, 0, 0);

  /** The node's own segment limit, and so a tenant's segment quota at most. */
  public static final int MAX_SEGMENTS = new dev.whack.node.engine.EngineConfig().maxSegments();

  /** Below this a keyspace could not hold a single item of the default size. */
  public static final long MIN_MEMORY_BYTES = 1 << 20;

  public TenantQuota {
    if (memoryBytes < 0 || segments < 0 || requestsPerSecond < 0) {
      throw new IllegalArgumentException("a quota is 0 (no limit) or positive");
    }
    if (memoryBytes > 0 && memoryBytes < MIN_MEMORY_BYTES) {
      throw new IllegalArgumentException("memory is at least " + MIN_MEMORY_BYTES + " bytes");
    }
    if (segments > MAX_SEGMENTS) {
      throw new IllegalArgumentException("segments is at most " + MAX_SEGMENTS);
    }
  }

  /**
   * The quota of {@code memory=<bytes> segments=<n> rate=<n>} settings, any of them, in any order.
   *
   * @throws IllegalArgumentException naming the setting that is wrong
   */
  public static TenantQuota parse(Iterable<String> settings) {
    long memory = 0;
    long segments = 0;
    long rate = 0;
    for (String setting : settings) {
      int eq = setting.indexOf('=');
      String key = eq < 0 ? setting : setting.substring(0, eq);
      long value = eq < 0 ? -1 : number(setting.substring(eq + 1));
      if (value < 0) {
        throw new IllegalArgumentException(
            "a setting is memory=<bytes>, segments=<n> or rate=<requests a second>, not "
                + setting);
      }
      switch (key) {
        case "memory" -> memory = value;
        case "segments" -> segments = value;
        case "rate" -> rate = value;
        default ->
            throw new IllegalArgumentException(
                "unknown setting " + key + " (memory, segments or rate)");
      }
    }
    if (segments > MAX_SEGMENTS) {
      throw new IllegalArgumentException("segments is at most " + MAX_SEGMENTS);
    }
    return new TenantQuota(memory, (int) segments, rate);
  }

  /** A decimal count, or -1 when it is not one (a size suffix is not taken: bytes are exact). */
  private static long number(String digits) {
    if (digits.isEmpty() || digits.length() > 18) {
      return -1;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(digits);
  }

  /** The settings {@link #parse} reads back. */
  public String settings() {
    return String.format(
        Locale.ROOT, "memory=%d segments=%d rate=%d", memoryBytes, segments, requestsPerSecond);
  }
}

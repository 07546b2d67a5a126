package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.whack.node.security.Role;
import java.util.Arrays;
import java.util.List;

/**
 * What a request asks, read from its path's segments (docs/http.md, "Routes"), and the query
 * parameters each route takes: any other parameter is refused with 400, naming it.
 */
enum Route {
  /**
   * {@code /profiles/{key}}; {@code window} ({@code 30d}) adds the computed traits over it ({@link
   * Traits}); {@code dimensions} or {@code half_life} add the profile's preference distributions
   * over the window ({@link PreferenceReads}).
   */
  PROFILE("profile", List.of("window", "half_life", "dimensions")),
  /**
   * {@code /profiles/{key}/affinity}: an item's affinity; takes the item's dimension values as
   * parameters, so any name is taken (checked against the node's dimensions when answered).
   */
  AFFINITY("affinity", List.of()),
  /** {@code /profiles/{key}/segments}; {@code since} adds the time each membership began. */
  PROFILE_SEGMENTS("profile_segments", List.of("since")),
  /** {@code /segments/{query}/count}: a segment's size, or a segment query's count. */
  SEGMENT_COUNT("segment_count", List.of("partial")),
  /** {@code /segments}. */
  SEGMENTS("segments", List.of()),
  /** {@code /health}. */
  HEALTH("health", List.of()),
  /** Anything else, and requests refused before they were routed; named in metrics only. */
  NONE("none", List.of());

  private static final byte[] PROFILES = "profiles".getBytes(US_ASCII);
  private static final byte[] SEGMENTS_WORD = "segments".getBytes(US_ASCII);
  private static final byte[] COUNT = "count".getBytes(US_ASCII);
  private static final byte[] AFFINITY_WORD = "affinity".getBytes(US_ASCII);
  private static final byte[] HEALTH_WORD = "health".getBytes(US_ASCII);

  /** The route's name in metrics ({@code route} label). */
  final String metricName;

  /** The query parameters the route takes. */
  final List<String> parameters;

  /**
   * The role a user needs for the route when the node has an auth file (docs/security.md): every
   * route reads, so {@code read}; {@code /health} too, since it names the cluster's members.
   */
  final Role role = Role.READ;

  Route(String metricName, List<String> parameters) {
    this.metricName = metricName;
    this.parameters = parameters;
  }

  /** Every route's metric name, indexed by ordinal. */
  static String[] metricNames() {
    return Arrays.stream(values()).map(r -> r.metricName).toArray(String[]::new);
  }

  /** The route of a path's segments, {@link #NONE} if none matches. */
  static Route of(List<byte[]> segments) {
    int n = segments.size();
    if (n == 0) {
      return NONE;
    }
    byte[] first = segments.get(0);
    if (Arrays.equals(first, PROFILES)) {
      if (n == 2) {
        return PROFILE;
      }
      if (n == 3 && Arrays.equals(segments.get(2), AFFINITY_WORD)) {
        return AFFINITY;
      }
      return n == 3 && Arrays.equals(segments.get(2), SEGMENTS_WORD) ? PROFILE_SEGMENTS : NONE;
    }
    if (Arrays.equals(first, SEGMENTS_WORD)) {
      if (n == 1) {
        return SEGMENTS;
      }
      return n == 3 && Arrays.equals(segments.get(2), COUNT) ? SEGMENT_COUNT : NONE;
    }
    return n == 1 && Arrays.equals(first, HEALTH_WORD) ? HEALTH : NONE;
  }
}

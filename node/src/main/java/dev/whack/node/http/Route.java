package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * What a request asks, read from its path's segments (docs/http.md, "Routes"), and the query
 * parameters each route takes: any other parameter is refused with 400, naming it.
 */
enum Route {
  /**
   * {@code /profiles/{key}}; {@code window} ({@code 30d}) adds the computed traits over it ({@link
   * Traits}). {@code half_life} and {@code dimensions} come with preference distributions (issue
   * 18), and are refused until then with a reason that says so ({@link #PREFERENCE_PARAMETERS}).
   */
  PROFILE("profile", Set.of("window")),
  /** {@code /profiles/{key}/segments}; {@code since} adds the time each membership began. */
  PROFILE_SEGMENTS("profile_segments", Set.of("since")),
  /** {@code /segments/{query}/count}: a segment's size, or a segment query's count. */
  SEGMENT_COUNT("segment_count", Set.of("partial")),
  /** {@code /segments}. */
  SEGMENTS("segments", Set.of()),
  /** {@code /health}. */
  HEALTH("health", Set.of()),
  /** Anything else, and requests refused before they were routed; named in metrics only. */
  NONE("none", Set.of());

  /** The parameters of {@code /profiles/{key}} that preference distributions will bring. */
  static final Set<String> PREFERENCE_PARAMETERS = Set.of("half_life", "dimensions");

  private static final byte[] PROFILES = "profiles".getBytes(US_ASCII);
  private static final byte[] SEGMENTS_WORD = "segments".getBytes(US_ASCII);
  private static final byte[] COUNT = "count".getBytes(US_ASCII);
  private static final byte[] HEALTH_WORD = "health".getBytes(US_ASCII);

  /** The route's name in metrics ({@code route} label). */
  final String metricName;

  /** The query parameters the route takes. */
  final Set<String> parameters;

  Route(String metricName, Set<String> parameters) {
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

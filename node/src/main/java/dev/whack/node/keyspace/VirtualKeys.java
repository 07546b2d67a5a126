package dev.whack.node.keyspace;

import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.ProfileEngine;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Segment answers for apps that only have a plain memcached client: a {@code get} of a key under
 * {@code _whack/} is answered from the segments (docs/protocol.md, "Virtual keys"). The part after
 * the prefix is percent-decoded, so a query with spaces is written with {@code %20}.
 *
 * <pre>
 * _whack/size/&lt;query&gt;          size of a segment or segment query
 * _whack/in/&lt;segment&gt;/&lt;key&gt;   1 if the profile is in the segment, else 0
 * _whack/of/&lt;key&gt;              the profile's segments, comma-separated
 * _whack/count/&lt;filter&gt;        profiles matching an ad-hoc filter
 * </pre>
 *
 * <p>Concurrency: stateless; safe from any thread.
 */
final class VirtualKeys {
  private VirtualKeys() {}

  /** The value for a reserved key, or null (a miss) if it names nothing or is malformed. */
  static byte[] resolve(
      Keyspace keyspace, ProfileEngine engine, byte[] key, int offset, int length) {
    // Keys are bytes; ISO-8859-1 keeps every byte as one char until the percent-decoding.
    String path =
        new String(
            key,
            offset + Keyspace.RESERVED_PREFIX.length(),
            length - Keyspace.RESERVED_PREFIX.length(),
            StandardCharsets.ISO_8859_1);
    int slash = path.indexOf('/');
    if (slash < 0) {
      return null;
    }
    String kind = path.substring(0, slash);
    String encoded = path.substring(slash + 1).replace("+", "%2B");
    String rest;
    String restBytes; // the same text with one char per decoded byte, for profile keys
    try {
      rest = URLDecoder.decode(encoded, StandardCharsets.UTF_8);
      restBytes = URLDecoder.decode(encoded, StandardCharsets.ISO_8859_1);
    } catch (IllegalArgumentException badEscape) {
      return null;
    }
    try {
      String answer =
          switch (kind) {
            case "size" -> Long.toString(engine.count(rest));
            case "count" -> Long.toString(engine.filterCount(rest));
            case "of" -> {
              byte[] profileKey = restBytes.getBytes(StandardCharsets.ISO_8859_1);
              yield String.join(",", keyspace.segmentsOf(profileKey, 0, profileKey.length));
            }
            case "in" -> {
              int split = restBytes.indexOf('/');
              if (split < 0) {
                yield null;
              }
              byte[] profileKey =
                  restBytes.substring(split + 1).getBytes(StandardCharsets.ISO_8859_1);
              boolean in =
                  keyspace.inSegment(
                      restBytes.substring(0, split), profileKey, 0, profileKey.length);
              yield in ? "1" : "0";
            }
            default -> null;
          };
      return answer == null ? null : answer.getBytes(StandardCharsets.UTF_8);
    } catch (EngineException | IllegalArgumentException unknownOrBad) {
      return null;
    }
  }
}

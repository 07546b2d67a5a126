package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentMembership;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.Keyspace.ProfileRead;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.protocol.ProtocolContext;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answers the API's routes (docs/http.md) with the calls the other front ends make, so that any
 * node answers for the whole cluster as its memcached and gRPC ports do: a keyed read here when
 * this node owns the key (or alone), else asked of the owner ({@link Cluster#relayBinary}); segment
 * questions through {@link ClusterSegments}, which asks every member. Knows nothing of HTTP
 * framing: it turns a routed request into an {@link Answer}.
 *
 * <p>Concurrency: shared by every connection; holds only the node's wiring. A connection's {@link
 * Session} is its own. A keyed read of this node's profile, and this node's part of a segment
 * question, run on the caller's thread (quick: one lookup, or a bitmap's cardinality, as the
 * memcached front end runs them); anything asked of another member completes later, on the cluster
 * client's threads.
 */
final class HttpApi {
  /** A key's bytes, as memcached bounds them. */
  static final int MAX_KEY_BYTES = 250;

  /** How the engine words a bad query; a member's refusal carries the same words. */
  private static final Pattern BAD_EXPRESSION =
      Pattern.compile("^bad expression at position (\\d{1,9})");

  private static final String UNKNOWN_SEGMENT = "unknown segment ";

  private final ProtocolContext node;
  private final Keyspace keyspace;
  private final ProfileEngine engine;
  private final Cluster cluster;

  HttpApi(ProtocolContext node) {
    this.node = node;
    this.keyspace = node.keyspace();
    this.engine = node.engine();
    this.cluster = node.cluster();
  }

  /** What one connection keeps for its requests in one tenant: its keyspace session. */
  final class Session {
    private final KeyspaceSession keys = keyspace.session();
    private final ClusterSegments segments = new ClusterSegments(cluster, engine, keys);

    /** The answer to a routed GET in this session's tenant ({@link HttpApi#answer}). */
    CompletableFuture<Answer> answer(Route route, RequestTarget target) {
      return HttpApi.this.answer(route, target, this);
    }
  }

  Session session() {
    return new Session();
  }

  /**
   * The answer to a routed GET; a future completed at once unless another member must answer. Never
   * fails: a failure is an answer (500 for a bug, never for bad input).
   */
  CompletableFuture<Answer> answer(Route route, RequestTarget target, Session session) {
    if (route == Route.NONE) {
      return CompletableFuture.completedFuture(noRoute()); // whatever its parameters
    }
    Answer refused = checkParameters(route, target.parameters());
    if (refused != null) {
      return CompletableFuture.completedFuture(refused);
    }
    List<byte[]> path = target.segments();
    return switch (route) {
      case PROFILE -> {
        Map<String, String> p = target.parameters();
        String window = p.get("window");
        int days = window == null ? 0 : windowDays(window);
        if (days < 0) {
          yield CompletableFuture.completedFuture(badWindow(window));
        }
        yield p.containsKey("dimensions") || p.containsKey("half_life")
            ? PreferenceReads.distributions(this, path.get(1), p, days, session)
            : profile(path.get(1), false, false, days, session);
      }
      case AFFINITY -> PreferenceReads.affinity(this, path.get(1), target.parameters(), session);
      case PROFILE_SEGMENTS -> {
        Boolean since = flag("since", target.parameters().get("since"));
        yield since == null
            ? CompletableFuture.completedFuture(badFlag("since", target.parameters().get("since")))
            : profile(path.get(1), true, since, 0, session);
      }
      case SEGMENT_COUNT ->
          count(new String(path.get(1), UTF_8), target.parameters().get("partial"), session);
      case SEGMENTS -> segments(session);
      case HEALTH -> CompletableFuture.completedFuture(health());
      case NONE -> throw new AssertionError("answered above");
    };
  }

  static Answer noRoute() {
    return Answer.error(
        Answer.NOT_FOUND,
        "no_route",
        "no such route: the API serves GET /profiles/{key}, /profiles/{key}/segments,"
            + " /profiles/{key}/affinity, /segments, /segments/{query}/count and /health"
            + " (docs/http.md)");
  }

  /** A parameter the route does not take, refused by name; null when all are taken. */
  private static Answer checkParameters(Route route, Map<String, String> parameters) {
    for (String name : parameters.keySet()) {
      if (route.parameters.contains(name) || route == Route.AFFINITY) {
        continue;
      }
      String why =
          "unknown parameter "
              + name
              + (route.parameters.isEmpty()
                  ? ": this route takes none"
                  : ": this route takes " + String.join(", ", route.parameters));
      return Answer.error(Answer.BAD_REQUEST, "unknown_parameter", why, "parameter", name);
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Keyed reads

  /**
   * A parameter that is a yes or no: absent or {@code false} is false, given alone or {@code true}
   * true; null for anything else.
   */
  private static Boolean flag(String name, String value) {
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.isEmpty() || value.equals("true")) {
      return true;
    }
    return null;
  }

  private static Answer badFlag(String name, String value) {
    return Answer.error(
        Answer.BAD_REQUEST,
        "bad_parameter",
        name + " is true or false (or given alone), not " + value,
        "parameter",
        name);
  }

  ProfileEngine engine() {
    return engine;
  }

  /** Days of a {@code window} parameter ({@code 30d}: 1 to the retention), or -1. */
  int windowDays(String window) {
    if (window.length() < 2 || window.length() > 6 || !window.endsWith("d")) {
      return -1;
    }
    for (int i = 0; i < window.length() - 1; i++) {
      if (window.charAt(i) < '0' || window.charAt(i) > '9') {
        return -1;
      }
    }
    int days = Integer.parseInt(window, 0, window.length() - 1, 10);
    return days >= 1 && days <= engine.config().retentionDays() ? days : -1;
  }

  Answer badWindow(String window) {
    return Answer.error(
        Answer.BAD_REQUEST,
        "bad_parameter",
        "window is a whole number of days from 1d to the retention of "
            + engine.config().retentionDays()
            + "d (like 30d), not "
            + window,
        "parameter",
        "window");
  }

  CompletableFuture<Answer> profile(
      byte[] key, boolean segments, boolean since, int windowDays, Session session) {
    Answer bad = checkKey(key);
    if (bad != null) {
      return CompletableFuture.completedFuture(bad);
    }
    String owner;
    try {
      owner = cluster.answeredHereOrBy(key, session.keys);
    } catch (ClusterException e) {
      return CompletableFuture.completedFuture(
          Answer.error(Answer.UNAVAILABLE, "unavailable", e.getMessage(), "key", Json.key(key)));
    }
    if (owner == null) {
      return CompletableFuture.completedFuture(
          found(key, keyspace.readProfile(key, 0, key.length, segments), since, windowDays));
    }
    return cluster
        .relayBinary(owner, OwnerReads.request(key, segments))
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                return unavailable(owner, ClusterException.unreachableReason(owner, failure));
              }
              try {
                return found(key, OwnerReads.read(reply, segments), since, windowDays);
              } catch (OwnerReads.Refused e) {
                return unavailable(owner, owner + ": " + e.getMessage());
              }
            });
  }

  private static Answer unavailable(String member, String message) {
    return Answer.error(Answer.UNAVAILABLE, "unavailable", message, "member", member);
  }

  /** Why the key cannot be one, or null: 1 to 250 bytes, not a virtual key. */
  private static Answer checkKey(byte[] key) {
    if (key.length == 0 || key.length > MAX_KEY_BYTES) {
      return Answer.error(
          Answer.BAD_REQUEST,
          "bad_key",
          "a key is 1 to " + MAX_KEY_BYTES + " bytes once percent-decoded, not " + key.length);
    }
    if (Keyspace.isReserved(key, 0, key.length)) {
      return Answer.error(
          Answer.BAD_REQUEST,
          "bad_key",
          "keys under "
              + Keyspace.RESERVED_PREFIX
              + " are the memcached port's virtual keys, never"
              + " profiles",
          "key",
          Json.key(key));
    }
    return null;
  }

  private Answer found(byte[] key, ProfileRead read, boolean since, int windowDays) {
    return switch (read.holds()) {
      case NOTHING ->
          Answer.error(
              Answer.NOT_FOUND,
              "no_such_key",
              "no item is stored under the key",
              "key",
              Json.key(key));
      case OPAQUE_VALUE ->
          Answer.error(
              Answer.NOT_FOUND,
              "not_a_profile",
              "the key holds an opaque memcached value, not a profile",
              "key",
              Json.key(key));
      case PROFILE ->
          read.json() != null
              ? Answer.ok(
                  windowDays == 0
                      ? read.json()
                      : Traits.with(read.json(), windowDays, engine.config().clock().millis()))
              : Answer.ok(
                  since
                      ? Json.memberships(new StringBuilder(), read.segments())
                      : Json.strings(
                          new StringBuilder(),
                          read.segments().stream().map(SegmentMembership::segment).toList()));
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Segment questions

  private CompletableFuture<Answer> count(String query, String partial, Session session) {
    if (query.isBlank()) {
      return CompletableFuture.completedFuture(
          Answer.error(
              Answer.BAD_REQUEST,
              "bad_query",
              "an empty segment query: name a segment, or combine them (a%20and%20not%20b)",
              "position",
              0));
    }
    Boolean asPartial = flag("partial", partial);
    if (asPartial == null) {
      return CompletableFuture.completedFuture(badFlag("partial", partial));
    }
    CompletableFuture<ClusterSegments.PartialCount> counted =
        asPartial
            ? session.segments.countPartial(false, query)
            : session
                .segments
                .count(false, query)
                .thenApply(n -> new ClusterSegments.PartialCount(n, Map.of()));
    return counted.handle(
        (c, failure) -> {
          if (failure != null) {
            return failed(failure, query);
          }
          StringBuilder json = new StringBuilder(64).append("{\"segment\":");
          Json.string(json, query).append(",\"count\":").append(c.count());
          if (asPartial) {
            json.append(",\"missing\":{");
            boolean first = true;
            for (Map.Entry<String, String> m : c.missing().entrySet()) {
              Json.string(json.append(first ? "" : ","), m.getKey()).append(':');
              Json.string(json, m.getValue());
              first = false;
            }
            json.append('}');
          }
          return Answer.ok(json.append('}'));
        });
  }

  private CompletableFuture<Answer> segments(Session session) {
    return session
        .segments
        .list()
        .handle(
            (list, failure) -> {
              if (failure != null) {
                return failed(failure, null);
              }
              StringBuilder json = new StringBuilder(64 * (list.size() + 1)).append('[');
              for (ClusterSegments.Segment s : list) {
                Json.string(
                    json.append(json.length() > 1 ? ",{\"name\":" : "{\"name\":"), s.name());
                Json.string(json.append(",\"expression\":"), s.expression());
                json.append(",\"size\":").append(s.size()).append('}');
              }
              return Answer.ok(json.append(']'));
            });
  }

  /**
   * A segment question's failure as the status a client can act on: a refused question 400 (an
   * unknown segment 404), a member that could not answer 503, anything else 500.
   */
  private static Answer failed(Throwable failure, String query) {
    ClusterException e = ClusterException.of(failure);
    if (e == null) {
      Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
      return Answer.error(Answer.INTERNAL, "internal", String.valueOf(cause));
    }
    String message = e.getMessage();
    if (!e.refused()) {
      return Answer.error(Answer.UNAVAILABLE, "unavailable", message);
    }
    if (message.startsWith(UNKNOWN_SEGMENT)) {
      return Answer.error(
          Answer.NOT_FOUND,
          "unknown_segment",
          message,
          "segment",
          message.substring(UNKNOWN_SEGMENT.length()));
    }
    Matcher position = BAD_EXPRESSION.matcher(message);
    if (query != null && position.find()) {
      return Answer.error(
          Answer.BAD_REQUEST,
          "bad_query",
          message,
          "position",
          Integer.parseInt(position.group(1)));
    }
    return Answer.error(Answer.BAD_REQUEST, "bad_query", message);
  }

  // ---------------------------------------------------------------------------------------------
  // Health

  /**
   * This node serves: 200, with its version and, in a cluster, its name, the members and the peers
   * it cannot reach now (reads of their keys answer 503 meanwhile).
   */
  private Answer health() {
    StringBuilder json = new StringBuilder(128).append("{\"status\":\"ok\",\"version\":");
    Json.string(json, node.version());
    if (cluster.isClustered()) {
      Json.string(json.append(",\"member\":"), cluster.self());
      Json.strings(json.append(",\"members\":"), cluster.members());
      Json.strings(json.append(",\"down\":"), cluster.downPeers());
    }
    return Answer.ok(json.append('}'));
  }
}

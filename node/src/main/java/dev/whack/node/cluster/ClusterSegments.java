package dev.whack.node.cluster;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentDryRun;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.engine.segment.SegmentRegistry;
import dev.whack.node.keyspace.KeyspaceSession;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Segment questions answered for the whole cluster (docs/cluster.md), for every front end: each
 * member answers for the profiles it holds, this node directly and the others through {@code local}
 * text commands (the cluster's own wire, relayed by {@link Cluster#relay}), and the answers are
 * combined into plain values that each front end encodes. Sizes and counts add up; lists merge by
 * name; a definition, its dry run or a drop goes to every member; member pages walk the members in
 * ring order behind a cursor of the form {@code <member index>:<that member's cursor>}. A profile
 * lives on exactly one member, so the combined answers are exact.
 *
 * <p>A future fails with a {@link ClusterException}: refused when this node or a member refused the
 * question, failed when a member could not be reached or answered with an error of its own. Every
 * member is asked even when this node refused, so that a definition that fails here for a reason of
 * this node's own still reaches the others, as it always has.
 *
 * <p>Concurrency: stateless apart from its wiring, so one may serve any thread; this node's part is
 * computed on the caller's thread, and futures complete on the cluster client's threads.
 */
public final class ClusterSegments {
  /** What a page lists. */
  public enum Listing {
    SEGMENT_MEMBERS("segmembers"),
    FILTER_MEMBERS("filtermembers"),
    /** Profiles with their Profile JSON; an empty query lists every profile. */
    DUMP("segdump");

    private final String command;

    Listing(String command) {
      this.command = command;
    }
  }

  /** A segment as the cluster lists it: its size summed over the members. */
  public record Segment(String name, String expression, long size) {
    public static Segment of(SegmentInfo info) {
      return new Segment(info.name(), info.expression(), info.size());
    }
  }

  /**
   * One page of a cluster-wide listing.
   *
   * @param keys profile keys, one char per byte
   * @param profiles for {@link Listing#DUMP}, the Profile JSON of each key; else empty
   * @param nextCursor {@code <member>:<cursor>} to continue from, or null when every member is done
   */
  public record Page(List<String> keys, List<byte[]> profiles, String nextCursor) {}

  private final Cluster cluster;
  private final ProfileEngine engine;
  private final KeyspaceSession keys;

  public ClusterSegments(Cluster cluster, ProfileEngine engine, KeyspaceSession keys) {
    this.keys = keys;
    this.cluster = cluster;
    this.engine = engine;
  }

  /** The sum of every member's count of a segment query, or of a filter's matches. */
  public CompletableFuture<Long> count(boolean filter, String expression) {
    return gather(
        () -> filter ? engine.filterCount(expression) : engine.count(expression),
        block("local " + (filter ? "filtercount" : "segcount"), expression),
        (member, reply) -> number(member, reply, "COUNT "),
        ClusterSegments::sum);
  }

  /**
   * The distinct values of {@code name} across a segment query's members in the whole cluster
   * ({@link ProfileEngine#segmentDistinct}): every member's union of its own members' values,
   * merged here. Sketches merge without loss of precision, so the answer is as good as one node's
   * over all the profiles; it stays exact while every part is exact and the union is small.
   */
  public CompletableFuture<dev.whack.node.engine.dimension.DistinctUnion> distinct(
      String query, String name, int windowDays) {
    return gather(
        () -> engine.segmentDistinctUnion(query, name, windowDays),
        // no window token when none was given: each member then reads its own retention
        block(
            "local segdistinct",
            query,
            " " + name + (windowDays > 0 ? " " + windowDays : "") + " union"),
        (member, reply) -> {
          String line = firstLine(member, reply);
          if (!line.startsWith("UNION ")) {
            throw unexpected(member, line, "UNION <base64>");
          }
          var u = new dev.whack.node.engine.dimension.DistinctUnion();
          u.addEncoded(java.util.Base64.getDecoder().decode(line.substring("UNION ".length())));
          return u;
        },
        parts -> {
          var all = new dev.whack.node.engine.dimension.DistinctUnion();
          for (var part : parts) {
            all.add(part);
          }
          return all;
        });
  }

  /**
   * A count the caller asked for knowing it may be partial: the sum of the parts that answered, and
   * for each part that did not (a member, or a slot with no owner) why.
   */
  public record PartialCount(long count, Map<String, String> missing) {}

  /**
   * {@link #count}, asked explicitly as a partial answer (docs/cluster.md, "Never a silent partial
   * answer"): a member that cannot answer (unreachable, taking slots over, not yet in the map) and
   * a slot with no owner are left out and named, instead of failing the whole answer. A question
   * the members refuse (a bad expression, an unknown segment) still fails.
   */
  public CompletableFuture<PartialCount> countPartial(boolean filter, String expression) {
    Map<String, String> missing = new java.util.TreeMap<>();
    if (cluster.isManaged()) {
      dev.whack.client.ring.ClusterMap map = cluster.map();
      for (int slot = 0; slot < map.slotCount(); slot++) {
        if (map.activeOf(slot) == null) {
          missing.put("slot:" + slot, "no member owns it yet");
        }
      }
    }
    long mine;
    try {
      // Asked here even when this member's part is left out: a refused question is refused.
      mine = filter ? engine.filterCount(expression) : engine.count(expression);
    } catch (EngineException | IllegalArgumentException e) {
      return CompletableFuture.failedFuture(ClusterException.refused(e.getMessage()));
    }
    String notWhole = cluster.isManaged() ? cluster.incompleteBecause() : null;
    if (notWhole != null && !notWhole.startsWith("slot ")) {
      missing.put(cluster.self(), notWhole); // this member's own part is not whole now
      mine = 0;
    }
    List<String> peers = cluster.peers();
    byte[] request = block("local " + (filter ? "filtercount" : "segcount"), expression);
    List<CompletableFuture<byte[]>> asks = new ArrayList<>(peers.size());
    for (String peer : peers) {
      asks.add(cluster.relay(peer, request));
    }
    long localPart = mine;
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .handle(
            (ignored, error) -> {
              long total = localPart;
              for (int i = 0; i < asks.size(); i++) {
                String peer = peers.get(i);
                CompletableFuture<byte[]> ask = asks.get(i);
                if (ask.isCompletedExceptionally()) {
                  missing.put(peer, ClusterException.unreachableReason(peer, ask.exceptionNow()));
                  continue;
                }
                try {
                  total += read((m, r) -> number(m, r, "COUNT "), peer, ask.join());
                } catch (ClusterException e) {
                  if (e.refused()) {
                    throw e;
                  }
                  missing.put(peer, e.getMessage());
                }
              }
              return new PartialCount(total, missing);
            });
  }

  /**
   * The name as every member's command line carries it, or a refusal: a name that is not a segment
   * name (docs/segments.md) would break the line, and gRPC strings may hold anything.
   */
  private static ClusterException badName(String name) {
    try {
      SegmentRegistry.checkName(name);
      return null;
    } catch (EngineException e) {
      return ClusterException.refused(e.getMessage());
    }
  }

  /** Defines the segment on every member; the sum of their backfilled sizes. */
  public CompletableFuture<Long> define(String name, String expression) {
    ClusterException bad = badName(name);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    return gather(
        () -> engine.define(name, expression).size(),
        block("local segdef " + name, expression),
        (member, reply) -> number(member, reply, "DEFINED "),
        ClusterSegments::sum);
  }

  /**
   * What defining the segment would give now, on every member and defining nothing: the counts
   * added up, and a sample taken from each member's part in turn ({@link SegmentDryRun#merge}).
   * Each peer runs its own dry run ({@code local segdef <name> <bytes> dryrun <sample>}), so the
   * name and the expression are checked where a definition would check them.
   */
  public CompletableFuture<SegmentDryRun> dryRun(String name, String expression, int sample) {
    ClusterException bad = badName(name);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    try {
      SegmentDryRun.checkSample(sample);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(ClusterException.refused(e.getMessage()));
    }
    return gather(
        () -> engine.dryRun(name, expression, sample),
        block("local segdef " + name, expression, " dryrun " + sample),
        ClusterSegments::parseDryRun,
        parts -> SegmentDryRun.merge(parts, sample));
  }

  /** Drops the segment on every member; true if any member had it. */
  public CompletableFuture<Boolean> drop(String name) {
    return drop(name, false);
  }

  /**
   * Drops the segment on every member, with {@code force} the segments that read it too ({@link
   * ProfileEngine#drop(String, boolean)}); true if any member had it.
   */
  public CompletableFuture<Boolean> drop(String name, boolean force) {
    ClusterException bad = badName(name);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    return gather(
        () -> !engine.drop(name, force).isEmpty(),
        ("local segdrop " + name + (force ? " force" : "") + "\r\n").getBytes(UTF_8),
        (member, reply) -> {
          String line = firstLine(member, reply);
          if (line.equals("DROPPED") || line.equals("NOT_FOUND")) {
            return line.equals("DROPPED");
          }
          throw unexpected(member, line, "DROPPED or NOT_FOUND");
        },
        dropped -> dropped.contains(Boolean.TRUE));
  }

  /**
   * Defines here every segment a peer has and this node lacks (a member that joined a managed
   * cluster after the segments were defined): asks every peer for its definitions, so two members
   * joining together still find them.
   *
   * @return how many definitions this node took
   */
  public CompletableFuture<Integer> adoptDefinitions() {
    List<String> peers = cluster.peers();
    List<CompletableFuture<byte[]>> asks = new ArrayList<>(peers.size());
    for (String peer : peers) {
      asks.add(cluster.relay(peer, "local seglist\r\n".getBytes(UTF_8)));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(
            ignored -> {
              int adopted = 0;
              for (int i = 0; i < asks.size(); i++) {
                for (Segment s :
                    read(ClusterSegments::parseList, peers.get(i), asks.get(i).join())) {
                  if (engine.segment(s.name()) == null) {
                    engine.define(s.name(), s.expression());
                    adopted++;
                  }
                }
              }
              return adopted;
            });
  }

  /**
   * Every segment once, its size summed over the members, in this node's order (each after the
   * segments it reads, else definition order).
   */
  public CompletableFuture<List<Segment>> list() {
    return gather(
        () -> engine.segments().stream().map(Segment::of).toList(),
        "local seglist\r\n".getBytes(UTF_8),
        ClusterSegments::parseList,
        lists -> {
          Map<String, Segment> merged = new LinkedHashMap<>();
          for (List<Segment> list : lists) {
            for (Segment s : list) {
              merged.merge(
                  s.name(),
                  s,
                  (a, b) -> new Segment(a.name(), a.expression(), a.size() + b.size()));
            }
          }
          return List.copyOf(merged.values());
        });
  }

  /**
   * One page: from the member the cursor points at (the first without a cursor), continuing with
   * the next member once one is done, so a page may end short of the limit with a cursor.
   */
  public CompletableFuture<Page> page(
      Listing listing, String expression, String cursor, int limit) {
    List<String> members = cluster.members();
    int member = 0;
    String inner = null;
    if (cursor != null) {
      int colon = cursor.indexOf(':');
      try {
        member = Integer.parseInt(cursor.substring(0, Math.max(0, colon)));
      } catch (NumberFormatException e) {
        member = -1;
      }
      if (colon < 0 || member < 0 || member >= members.size()) {
        return CompletableFuture.failedFuture(ClusterException.refused("bad cursor"));
      }
      inner = colon == cursor.length() - 1 ? null : cursor.substring(colon + 1);
      if (inner != null && !inner.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
        // A member's cursor is one printable token on its command line: anything else is not one.
        return CompletableFuture.failedFuture(ClusterException.refused("bad cursor"));
      }
    }
    int index = member;
    String name = members.get(member);
    CompletableFuture<Page> answer;
    if (name.equals(cluster.self())) {
      String taking = cluster.takingOverBecause();
      if (taking != null) {
        return CompletableFuture.failedFuture(ClusterException.failed(taking)); // never short
      }
      try {
        answer = CompletableFuture.completedFuture(localPage(listing, expression, inner, limit));
      } catch (EngineException | IllegalArgumentException e) {
        return CompletableFuture.failedFuture(ClusterException.refused(e.getMessage()));
      }
    } else {
      byte[] expr = expression.getBytes(UTF_8);
      String request =
          "local "
              + listing.command
              + " "
              + expr.length
              + " "
              + limit
              + (inner == null ? "" : " " + inner)
              + "\r\n";
      answer =
          cluster
              .relay(name, concat(request.getBytes(UTF_8), expr, "\r\n".getBytes(UTF_8)))
              .handle(
                  (reply, error) -> {
                    if (error != null) {
                      throw ClusterException.unreachable(name, error);
                    }
                    return read((m, r) -> parsePage(m, r, listing), name, reply);
                  });
    }
    return answer.thenApply(
        page -> {
          String next =
              page.nextCursor() != null
                  ? index + ":" + page.nextCursor()
                  : index + 1 < members.size() ? (index + 1) + ":" : null;
          return new Page(page.keys(), page.profiles(), next);
        });
  }

  private Page localPage(Listing listing, String expression, String cursor, int limit) {
    MembersPage page =
        switch (listing) {
          case SEGMENT_MEMBERS -> engine.members(expression, cursor, limit);
          case FILTER_MEMBERS -> engine.filterMembers(expression, cursor, limit);
          case DUMP -> engine.members(expression.isBlank() ? null : expression, cursor, limit);
        };
    if (listing != Listing.DUMP) {
      return new Page(page.keys(), List.of(), page.nextCursor());
    }
    List<String> keys = new ArrayList<>(page.keys().size());
    List<byte[]> profiles = new ArrayList<>(page.keys().size());
    for (String key : page.keys()) {
      byte[] keyBytes = key.getBytes(ISO_8859_1);
      byte[] json = this.keys.profileJson(keyBytes, 0, keyBytes.length);
      if (json != null) { // else removed since the page was read
        keys.add(key);
        profiles.add(json);
      }
    }
    return new Page(keys, profiles, page.nextCursor());
  }

  // ---------------------------------------------------------------------------------------------
  // Asking every member

  /** A member's reply, read into its part of the answer. */
  interface Reading<T> {
    T read(String member, byte[] reply);
  }

  /**
   * Asks this node and every peer; the first error, this node's first and then the peers' in ring
   * order, is the answer.
   */
  <T, R> CompletableFuture<R> gather(
      Supplier<T> local, byte[] peerRequest, Reading<T> reading, Function<List<T>, R> combine) {
    String incomplete = cluster.incompleteBecause();
    if (incomplete != null) {
      return CompletableFuture.failedFuture(ClusterException.failed(incomplete));
    }
    T mine = null;
    ClusterException refusal = null;
    try {
      mine = local.get();
    } catch (EngineException | IllegalArgumentException e) {
      refusal = ClusterException.refused(e.getMessage());
    }
    List<String> peers = cluster.peers();
    List<CompletableFuture<byte[]>> asks = new ArrayList<>(peers.size());
    for (String peer : peers) {
      asks.add(cluster.relay(peer, peerRequest));
    }
    T localPart = mine;
    ClusterException localRefusal = refusal;
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .handle(
            (ignored, error) -> {
              if (localRefusal != null) {
                throw localRefusal;
              }
              List<T> parts = new ArrayList<>(peers.size() + 1);
              parts.add(localPart);
              for (int i = 0; i < asks.size(); i++) {
                CompletableFuture<byte[]> ask = asks.get(i);
                if (ask.isCompletedExceptionally()) {
                  throw ClusterException.unreachable(peers.get(i), ask.exceptionNow());
                }
                parts.add(read(reading, peers.get(i), ask.join()));
              }
              return combine.apply(parts);
            });
  }

  /** A member's reply read, or why it could not be: never an exception of another kind. */
  static <T> T read(Reading<T> reading, String member, byte[] reply) {
    try {
      return reading.read(member, reply);
    } catch (ClusterException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ClusterException.failed(member + " answered unreadably: " + e.getMessage());
    }
  }

  private static long sum(List<Long> parts) {
    long total = 0;
    for (long part : parts) {
      total += part;
    }
    return total;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading members' text replies

  /** "<prefix><n>": n. */
  private static long number(String member, byte[] reply, String prefix) {
    String line = firstLine(member, reply);
    if (line.startsWith(prefix)) {
      try {
        return Long.parseLong(line.substring(prefix.length()));
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    throw unexpected(member, line, prefix + "<n>");
  }

  /** "COUNT <n>", then "KEY <key>" per sampled member (percent-encoded), then "END". */
  private static SegmentDryRun parseDryRun(String member, byte[] reply) {
    long count = number(member, reply, "COUNT ");
    List<String> sample = new ArrayList<>();
    int pos = lineEnd(member, reply, 0) + 2;
    while (true) {
      int eol = lineEnd(member, reply, pos);
      String line = new String(reply, pos, eol - pos, ISO_8859_1);
      if (line.equals("END")) {
        return new SegmentDryRun(count, sample);
      }
      if (!line.startsWith("KEY ")) {
        throw unexpected(member, line, "KEY or END");
      }
      sample.add(unescape(line.substring(4)));
      pos = eol + 2;
    }
  }

  /** "SEGMENT <name> <size> <bytes>\r\n<expression>\r\n" each, then "END". */
  private static List<Segment> parseList(String member, byte[] reply) {
    List<Segment> segments = new ArrayList<>();
    int pos = 0;
    while (true) {
      int eol = lineEnd(member, reply, pos);
      String line = new String(reply, pos, eol - pos, UTF_8);
      if (line.equals("END")) {
        return segments;
      }
      String[] t = line.split(" ");
      if (t.length != 4 || !t[0].equals("SEGMENT")) {
        throw errorOrUnexpected(member, line, "SEGMENT or END");
      }
      int start = eol + 2;
      int length = Integer.parseInt(t[3]);
      if (length < 0 || start + length + 2 > reply.length) {
        throw unexpected(member, line, "a whole expression");
      }
      segments.add(
          new Segment(t[1], new String(reply, start, length, UTF_8), Long.parseLong(t[2])));
      pos = start + length + 2;
    }
  }

  /**
   * "KEY <key>" or "PROFILE <key> <bytes>\r\n<json>" each (keys percent-encoded), then "NEXT
   * <cursor>" or "END".
   */
  private static Page parsePage(String member, byte[] reply, Listing listing) {
    List<String> keys = new ArrayList<>();
    List<byte[]> profiles = listing == Listing.DUMP ? new ArrayList<>() : List.of();
    int pos = 0;
    while (true) {
      int eol = lineEnd(member, reply, pos);
      String line = new String(reply, pos, eol - pos, ISO_8859_1);
      if (line.equals("END")) {
        return new Page(keys, profiles, null);
      }
      if (line.startsWith("NEXT ")) {
        return new Page(keys, profiles, line.substring(5));
      }
      pos = eol + 2;
      if (listing != Listing.DUMP && line.startsWith("KEY ")) {
        keys.add(unescape(line.substring(4)));
      } else if (listing == Listing.DUMP && line.startsWith("PROFILE ")) {
        String[] t = line.split(" ");
        int length = t.length == 3 ? Integer.parseInt(t[2]) : -1;
        if (length < 0 || pos + length + 2 > reply.length) {
          throw unexpected(member, line, "a whole profile");
        }
        keys.add(unescape(t[1]));
        profiles.add(Arrays.copyOfRange(reply, pos, pos + length));
        pos += length + 2;
      } else {
        throw errorOrUnexpected(member, line, "KEY, PROFILE, NEXT or END");
      }
    }
  }

  /** A listing's key, percent-encoded as memcached's metadump writes keys, back to its bytes. */
  private static String unescape(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    StringBuilder key = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%' && i + 2 < text.length()) {
        key.append((char) Integer.parseInt(text, i + 1, i + 3, 16));
        i += 2;
      } else {
        key.append(c);
      }
    }
    return key.toString();
  }

  /** The reply's first line, which for a one-line answer is the whole answer. */
  static String firstLine(String member, byte[] reply) {
    String line = new String(reply, 0, lineEnd(member, reply, 0), UTF_8);
    if (isError(line)) {
      throw errorOrUnexpected(member, line, "");
    }
    return line;
  }

  static int lineEnd(String member, byte[] reply, int from) {
    for (int i = from; i + 1 < reply.length; i++) {
      if (reply[i] == '\r' && reply[i + 1] == '\n') {
        return i;
      }
    }
    throw ClusterException.failed(member + " answered an incomplete reply");
  }

  private static boolean isError(String line) {
    return line.startsWith("CLIENT_ERROR ")
        || line.startsWith("SERVER_ERROR ")
        || line.equals("ERROR");
  }

  /** A member's error line as the cluster's error, or an unexpected answer. */
  static ClusterException errorOrUnexpected(String member, String line, String due) {
    if (line.startsWith("CLIENT_ERROR ")) {
      return ClusterException.refused(line.substring(13));
    }
    if (line.startsWith("SERVER_ERROR ")) {
      return ClusterException.failed(line.substring(13));
    }
    return unexpected(member, line, due);
  }

  static ClusterException unexpected(String member, String line, String due) {
    return ClusterException.failed(
        member + " answered '" + line + "'" + (due.isEmpty() ? "" : " where " + due + " was due"));
  }

  private static byte[] block(String commandAndName, String body) {
    return block(commandAndName, body, "");
  }

  /** "<command and name> <bytes><after>\r\n<body>\r\n". */
  private static byte[] block(String commandAndName, String body, String after) {
    byte[] b = body.getBytes(UTF_8);
    return concat(
        (commandAndName + " " + b.length + after + "\r\n").getBytes(UTF_8),
        b,
        "\r\n".getBytes(UTF_8));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Segment sizes, segment algebra and ad-hoc filters over the wire, checked against a brute-force
 * model: the test keeps its own copy of every profile (attributes, purchase buckets, producer
 * marks, expiry), applies each {@code set}, {@code update}, {@code delete} and clock move to it
 * with the documented rules (docs/profiles.md, docs/segments.md), and after every phase asks the
 * node for {@code segcount}, paged {@code segmembers}, {@code filtercount}, paged {@code
 * filtermembers}, {@code segof}, {@code seglist} and the virtual keys, each of which must equal
 * what the model computes by evaluating every profile.
 *
 * <p>Time moves only by the test's clock, and time-driven work (expiry, re-evaluation of windows
 * and {@code now()} comparisons) happens only in the test's own {@code runTimers()}: the node's
 * background timer is off (a manual-clock node).
 *
 * <p>Seeded: a failure names its seed; {@code -Dwhack.seed=<n>} replays one.
 */
class SegmentAlgebraWireTest {
  private static final long DAY = 86_400_000L;
  private static final int PROFILES = 300;
  private static final int KEY_SPACE = 360; // keys p:300..p:359 start absent
  private static final String[] COUNTRIES = {"DK", "SE", "NO", "DE"};
  private static final String[] TAGS = {"vip", "churned", "newsletter", "beta"};
  private static final String[] PRODUCERS = {"shop-1", "shop-2"};
  private static final int[] PAGE_LIMITS = {1, 2, 3, 5, 7, 13, 64, 1000};

  static LongStream seeds() {
    Long one = Long.getLong("whack.seed");
    return one != null ? LongStream.of(one) : LongStream.of(1L, 0x5eed_2026L, -7_301_554_921L);
  }

  // ---------------------------------------------------------------------------------------------
  // The model

  /** A timestamp attribute value (ms since the epoch), distinct from an integer. */
  record Ts(long millis) {}

  /** One profile as the test believes the node holds it. */
  static final class Prof {
    /** Values: String, Long, Double, Boolean, Ts, or a LinkedHashSet of String. */
    final LinkedHashMap<String, Object> attrs = new LinkedHashMap<>();

    /** purchase events per UTC day: {count, sum, sum of squares}. */
    final TreeMap<Long, double[]> purchases = new TreeMap<>();

    final TreeMap<String, Long> marks = new TreeMap<>();

    /** memcached expiry in Unix seconds, 0 for none. */
    long expiresAtSeconds;

    Prof copy() {
      Prof p = new Prof();
      attrs.forEach((k, v) -> p.attrs.put(k, v instanceof Set<?> s ? new LinkedHashSet<>(s) : v));
      purchases.forEach((d, b) -> p.purchases.put(d, b.clone()));
      p.marks.putAll(marks);
      p.expiresAtSeconds = expiresAtSeconds;
      return p;
    }

    Object attr(String name) {
      return attrs.get(name);
    }

    void addPurchase(long timeMillis, Double value) {
      double[] b = purchases.computeIfAbsent(Math.floorDiv(timeMillis, DAY), d -> new double[3]);
      b[0]++;
      if (value != null) {
        b[1] += value;
        b[2] += value * value;
      }
    }

    long count(int days, long now) {
      long n = 0;
      for (double[] b : window(days, now)) {
        n += (long) b[0];
      }
      return n;
    }

    double sum(int days, long now) {
      double s = 0;
      for (double[] b : window(days, now)) {
        s += b[1];
      }
      return s;
    }

    /** Missing (null) when the window has no events. */
    Double avg(int days, long now) {
      long n = count(days, now);
      return n == 0 ? null : sum(days, now) / n;
    }

    private Iterable<double[]> window(int days, long now) {
      long today = Math.floorDiv(now, DAY);
      return purchases.subMap(today - days + 1, true, today, true).values();
    }
  }

  /** A filter expression and its meaning for one profile at a time. */
  interface Cond {
    boolean test(Prof p, long now);
  }

  record Expr(String text, int precedence, Cond cond) {}

  private static final int OR = 1;
  private static final int AND = 2;
  private static final int NOT = 3;
  private static final int ATOM = 4;

  record SegmentDef(String name, String expression, Cond cond) {}

  /** The segments the test defines: names that start with keywords and use '-', '.', ':'. */
  private static final List<SegmentDef> SEGMENTS =
      List.of(
          new SegmentDef("dk", "country == \"DK\"", (p, now) -> cmp(p.attr("country"), "==", "DK")),
          new SegmentDef("adults", "age >= 18", (p, now) -> cmp(p.attr("age"), ">=", 18L)),
          new SegmentDef("vip-tag", "\"vip\" in tags", (p, now) -> inSet("vip", p.attr("tags"))),
          new SegmentDef("buyers", "count(purchase, 30d) >= 2", (p, now) -> p.count(30, now) >= 2),
          new SegmentDef(
              "notable",
              "not exists(tags) or \"churned\" in tags",
              (p, now) -> !p.attrs.containsKey("tags") || inSet("churned", p.attr("tags"))),
          new SegmentDef(
              "order.nordic",
              "country in [\"SE\", \"NO\"] and not (age < 30)",
              (p, now) ->
                  (cmp(p.attr("country"), "==", "SE") || cmp(p.attr("country"), "==", "NO"))
                      && !cmp(p.attr("age"), "<", 30L)),
          new SegmentDef(
              "android:active",
              "vip or count(purchase, 7d) >= 1",
              (p, now) -> Boolean.TRUE.equals(p.attr("vip")) || p.count(7, now) >= 1),
          new SegmentDef(
              "recent",
              "last_seen > now() - 3d",
              (p, now) -> cmp(p.attr("last_seen"), ">", new Ts(now - 3 * DAY))),
          new SegmentDef(
              "xor_spenders",
              "sum(purchase, 30d) >= 150 and avg(purchase, 30d) > 40.5",
              (p, now) -> {
                Double avg = p.avg(30, now);
                return p.sum(30, now) >= 150 && avg != null && avg > 40.5;
              }));

  /** Dynamic comparison: a missing attribute or a type clash is false for every operator. */
  static boolean cmp(Object value, String op, Object literal) {
    if (value == null) {
      return false;
    }
    int c;
    if (literal instanceof Number l) {
      if (!(value instanceof Long || value instanceof Double)) {
        return false;
      }
      double a = ((Number) value).doubleValue();
      double b = l.doubleValue();
      c = a < b ? -1 : a > b ? 1 : 0;
    } else if (literal instanceof String l) {
      if (!(value instanceof String v)) {
        return false;
      }
      c = v.compareTo(l);
    } else if (literal instanceof Boolean l) {
      if (!(value instanceof Boolean v)) {
        return false;
      }
      c = v.equals(l) ? 0 : 1;
    } else if (literal instanceof Ts l) {
      if (!(value instanceof Ts v)) {
        return false;
      }
      c = Long.compare(v.millis(), l.millis());
    } else {
      throw new IllegalArgumentException("literal " + literal);
    }
    return switch (op) {
      case "==" -> c == 0;
      case "!=" -> c != 0;
      case "<" -> c < 0;
      case "<=" -> c <= 0;
      case ">" -> c > 0;
      case ">=" -> c >= 0;
      default -> throw new IllegalArgumentException(op);
    };
  }

  static boolean inSet(String element, Object set) {
    return set instanceof Set<?> s && s.contains(element);
  }

  // ---------------------------------------------------------------------------------------------
  // The node and the test's state

  private long seed;
  private Random random;
  private ManualClock clock;
  private EmbeddedNode node;
  private ProfileWire wire;
  private final Map<String, Prof> profiles = new TreeMap<>();
  private final Set<String> opaque = new TreeSet<>();
  private final LinkedHashMap<String, SegmentDef> defined = new LinkedHashMap<>();

  private long now() {
    return clock.millis();
  }

  private void advanceAndCatchUp(long millis) {
    clock.advanceMillis(millis);
    node.node().runTimers(); // the only timer turn: the node's own timer sees no time pass
    long nowSeconds = Math.floorDiv(now(), 1000L);
    profiles.values().removeIf(p -> p.expiresAtSeconds != 0 && p.expiresAtSeconds <= nowSeconds);
  }

  private String where(String phase) {
    return "seed " + seed + " (replay with -Dwhack.seed=" + seed + "), " + phase;
  }

  // ---------------------------------------------------------------------------------------------

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void segmentAndFilterAnswersEqualBruteForceOverTheModelThroughEveryPhase(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
    this.clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    try (RawConnection conn = node.connect()) {
      wire = new ProfileWire(conn);
      runPhases();
    } finally {
      node.close();
    }
  }

  /**
   * Members live in bitmaps partitioned by 2^16 ordinals; a cursor that crosses from one partition
   * into the next must neither skip nor repeat a member, on the single-segment path, the algebra
   * path and the filter path alike.
   */
  @Test
  void shouldPageAndCountAcrossTheBitmapPartitionBoundary() {
    this.seed = 0;
    this.random = new Random(0);
    this.clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    try (RawConnection conn = node.connect()) {
      wire = new ProfileWire(conn);
      define(
          new SegmentDef("b0", "bucket == 0", (p, now) -> cmp(p.attr("bucket"), "==", 0L)), "b0");
      int total = 66_000; // ordinals run past 65536 into the second partition
      int batch = 2_000;
      for (int start = 0; start < total; start += batch) {
        StringBuilder requests = new StringBuilder();
        for (int i = start; i < start + batch; i++) {
          String json = "{\"n\":" + i + ",\"bucket\":" + (i % 3) + "}";
          requests.append(ProfileWire.block("set q:" + i + " 0 0 <n>", json));
          Prof p = new Prof();
          p.attrs.put("n", (long) i);
          p.attrs.put("bucket", (long) (i % 3));
          profiles.put("q:" + i, p);
        }
        conn.send(requests.toString());
        for (int i = start; i < start + batch; i++) {
          assertEquals("STORED\r\n", conn.readLine(), "set q:" + i);
        }
      }
      define(
          new SegmentDef("b1", "bucket == 1", (p, now) -> cmp(p.attr("bucket"), "==", 1L)), "b1");
      define(
          new SegmentDef(
              "edge",
              "n >= 65000 and n < 65700",
              (p, now) -> cmp(p.attr("n"), ">=", 65_000L) && cmp(p.attr("n"), "<", 65_700L)),
          "edge");
      // Holes on both sides of the boundary.
      for (int i = 65_400; i < 65_700; i += 7) {
        assertEquals("DELETED", wire.line("delete q:" + i));
        profiles.remove("q:" + i);
      }
      for (String query :
          List.of("b0", "edge", "b0 or b1", "edge and not b1", "not b0 xor edge", "(edge)")) {
        Query q = evaluate(query);
        assertEquals(q.members().size(), wire.count("segcount", query), query);
        for (int limit : new int[] {997, 4_096, 100_000}) {
          assertSameKeys(
              q.members(),
              wire.members("segmembers", query, limit),
              () -> query + " paged by " + limit);
        }
      }
      Expr filter =
          atom(
              "bucket == 2 and n > 64000",
              (p, now) -> cmp(p.attr("bucket"), "==", 2L) && cmp(p.attr("n"), ">", 64_000L));
      Set<String> expected = modelMembers(filter.cond());
      assertEquals(expected.size(), wire.count("filtercount", filter.text()));
      for (int limit : new int[] {1, 333, 4_096}) {
        assertSameKeys(
            expected,
            wire.members("filtermembers", filter.text(), limit),
            () -> filter.text() + " paged by " + limit);
      }
    } finally {
      node.close();
    }
  }

  /** A query over the defined segment names, evaluated by the model (the forms used above). */
  private Query evaluate(String query) {
    return switch (query) {
      case "b0", "edge", "(edge)" ->
          new Query(query, 5, modelMembers(defined.get(query.replaceAll("[()]", "")).cond()));
      case "b0 or b1" -> {
        Set<String> s = modelMembers(defined.get("b0").cond());
        s.addAll(modelMembers(defined.get("b1").cond()));
        yield new Query(query, 1, s);
      }
      case "edge and not b1" -> {
        Set<String> s = modelMembers(defined.get("edge").cond());
        s.removeAll(modelMembers(defined.get("b1").cond()));
        yield new Query(query, 3, s);
      }
      case "not b0 xor edge" -> {
        Set<String> notB0 = new TreeSet<>(profiles.keySet());
        notB0.removeAll(modelMembers(defined.get("b0").cond()));
        Set<String> edge = modelMembers(defined.get("edge").cond());
        Set<String> s = new TreeSet<>(notB0);
        s.addAll(edge);
        Set<String> both = new TreeSet<>(notB0);
        both.retainAll(edge);
        s.removeAll(both);
        yield new Query(query, 2, s);
      }
      default -> throw new IllegalArgumentException(query);
    };
  }

  private void runPhases() {
    // Half the segments exist before any profile (incremental path), half are backfilled.
    for (SegmentDef s : SEGMENTS.subList(0, 5)) {
      define(s, "defining " + s.name() + " on an empty node");
    }
    for (int i = 0; i < PROFILES; i++) {
      String key = "p:" + i;
      if (random.nextInt(5) == 0) {
        randomUpdate(key, "loading " + key + " by update");
      } else {
        storeProfile(key, randomProfile(), "loading " + key);
      }
    }
    for (SegmentDef s : SEGMENTS.subList(5, SEGMENTS.size())) {
      define(s, "backfilling " + s.name());
    }
    checkAgainstModel("after loading");

    for (int i = 0; i < 500; i++) {
      randomUpdate(randomKey(), "update " + i);
    }
    checkAgainstModel("after updates");

    for (int i = 0; i < 150; i++) {
      randomWrite("write " + i);
    }
    define(
        new SegmentDef(
            "adults",
            "age >= 21 or vip == true",
            (p, now) -> cmp(p.attr("age"), ">=", 21L) || cmp(p.attr("vip"), "==", true)),
        "redefining adults");
    assertEquals("DROPPED", wire.line("segdrop dk"), where("dropping dk"));
    defined.remove("dk");
    assertEquals("NOT_FOUND", wire.line("segdrop dk"), where("dropping dk twice"));
    checkAgainstModel("after deletes, overwrites, a redefinition and a drop");
    define(
        new SegmentDef(
            "dk",
            "country == \"DK\" and \"beta\" not in tags",
            (p, now) -> cmp(p.attr("country"), "==", "DK") && !inSet("beta", p.attr("tags"))),
        "defining dk again");

    advanceAndCatchUp(DAY + random.nextLong(2 * DAY));
    checkAgainstModel("after the clock moved a day or two");

    for (int i = 0; i < 300; i++) {
      if (random.nextInt(4) == 0) {
        randomWrite("late write " + i);
      } else {
        randomUpdate(randomKey(), "late update " + i);
      }
    }
    checkAgainstModel("after updates at the new time");

    advanceAndCatchUp(20 * 3_600_000L + random.nextLong(20 * 3_600_000L));
    checkAgainstModel("after the clock crossed another midnight");
  }

  private String randomKey() {
    return "p:" + random.nextInt(KEY_SPACE);
  }

  private void define(SegmentDef s, String phase) {
    long size = wire.define(s.name(), s.expression());
    defined.remove(s.name()); // a redefinition moves to the end of the definition order
    defined.put(s.name(), s);
    assertEquals(modelMembers(s.cond()).size(), size, where(phase + ": DEFINED size"));
  }

  // ---------------------------------------------------------------------------------------------
  // Writes, each applied to the node and to the model

  private Prof randomProfile() {
    Prof p = new Prof();
    long now = now();
    if (random.nextInt(10) < 8) {
      p.attrs.put("country", pick(COUNTRIES));
    }
    int ageKind = random.nextInt(20);
    if (ageKind < 14) {
      p.attrs.put("age", (long) random.nextInt(80));
    } else if (ageKind < 16) {
      p.attrs.put("age", random.nextInt(80) + (random.nextBoolean() ? 0.5 : 0.0));
    } else if (ageKind < 17) {
      p.attrs.put("age", "unknown");
    }
    if (random.nextInt(10) < 7) {
      p.attrs.put("tags", randomTags(random.nextInt(4)));
    }
    int vipKind = random.nextInt(20);
    if (vipKind < 10) {
      p.attrs.put("vip", random.nextBoolean());
    } else if (vipKind < 11) {
      p.attrs.put("vip", "yes");
    }
    if (random.nextBoolean()) {
      p.attrs.put("last_seen", new Ts(now - random.nextLong(6 * DAY) / 1000 * 1000));
    }
    if (random.nextInt(10) < 3) {
      p.attrs.put("visits", (long) random.nextInt(10));
    }
    if (random.nextInt(10) < 6) {
      int buckets = 1 + random.nextInt(4);
      for (int i = 0; i < buckets; i++) {
        long time = now - random.nextInt(40) * DAY;
        int events = 1 + random.nextInt(3);
        boolean valued = random.nextInt(4) != 0;
        for (int e = 0; e < events; e++) {
          p.addPurchase(time, valued ? (double) (1 + random.nextInt(100)) : null);
        }
      }
    }
    return p;
  }

  private LinkedHashSet<String> randomTags(int n) {
    LinkedHashSet<String> tags = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      tags.add(pick(TAGS));
    }
    return tags;
  }

  private void storeProfile(String key, Prof p, String phase) {
    boolean withMarks = !p.marks.isEmpty();
    long exptime = 0;
    if (random.nextInt(8) == 0) {
      exptime = 3_600L * (1 + random.nextInt(96));
      p.expiresAtSeconds = Math.floorDiv(now(), 1000L) + exptime;
    }
    String reply = wire.set(key, 0, exptime, profileJson(p, withMarks));
    assertEquals("STORED", reply, where(phase + ": set " + key));
    profiles.put(key, p);
    opaque.remove(key);
  }

  /** Deletes, opaque overwrites, whole re-sets (some restoring producer marks), bad profiles. */
  private void randomWrite(String phase) {
    String key = randomKey();
    int kind = random.nextInt(10);
    if (kind < 3) {
      boolean present = profiles.containsKey(key) || opaque.contains(key);
      assertEquals(
          present ? "DELETED" : "NOT_FOUND",
          wire.line("delete " + key),
          where(phase + ": delete " + key));
      profiles.remove(key);
      opaque.remove(key);
    } else if (kind < 5) {
      String reply = wire.set(key, 0, 0, "plain value " + key);
      assertEquals("STORED", reply, where(phase + ": opaque set " + key));
      profiles.remove(key);
      opaque.add(key);
    } else if (kind < 6) {
      // With the profile flags a truncated profile is refused; without, it is an opaque value.
      boolean strict = random.nextBoolean();
      String reply = wire.set(key, strict ? 0x77680002 : 0, 0, "{\"country\": \"DK\", \"age\": ");
      if (strict) {
        assertTrue(
            reply.startsWith("CLIENT_ERROR bad profile: "),
            where(phase + ": truncated profile for " + key + ": " + reply));
      } else {
        assertEquals(
            "STORED", reply, where(phase + ": truncated JSON as an opaque value for " + key));
        profiles.remove(key);
        opaque.add(key);
      }
    } else {
      Prof p = randomProfile();
      Prof old = profiles.get(key);
      if (old != null && !old.marks.isEmpty() && random.nextBoolean()) {
        p.marks.putAll(old.marks); // a refill that restores exactly-once
      }
      storeProfile(key, p, phase);
    }
  }

  /**
   * A random Update JSON, applied to a copy of the model with the documented rules in the
   * documented order (set, unset, incr, add, remove, events); any clash rejects all of it.
   */
  private void randomUpdate(String key, String phase) {
    Prof current = profiles.get(key);
    Prof next = current == null ? new Prof() : current.copy();
    long now = now();
    boolean clash = false;
    List<String> members = new ArrayList<>();

    if (random.nextInt(3) == 0) {
      LinkedHashMap<String, Object> set = new LinkedHashMap<>();
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        switch (random.nextInt(7)) {
          case 0 -> set.put("country", random.nextInt(10) == 0 ? "dk" : pick(COUNTRIES));
          case 1 -> set.put("age", (long) random.nextInt(80));
          case 2 ->
              set.put(
                  "age",
                  random.nextInt(10) == 0
                      ? (Object) "unknown"
                      : (Object) (random.nextInt(80) + 0.5));
          case 3 -> set.put("vip", random.nextBoolean());
          case 4 -> set.put("last_seen", new Ts(now - random.nextLong(5 * DAY) / 1000 * 1000));
          case 5 -> set.put("tags", randomTags(random.nextInt(3)));
          default -> set.put("visits", (long) random.nextInt(5));
        }
      }
      StringBuilder b = new StringBuilder("\"set\": {");
      set.forEach(
          (name, value) -> {
            b.append(b.charAt(b.length() - 1) == '{' ? "" : ", ")
                .append(json(name))
                .append(": ")
                .append(jsonValue(value));
            next.attrs.put(name, value instanceof Set<?> s ? new LinkedHashSet<>(s) : value);
          });
      members.add(b.append('}').toString());
    }
    if (random.nextInt(7) == 0) {
      List<String> names =
          new ArrayList<>(
              List.of(pick(new String[] {"age", "tags", "country", "last_seen", "nosuch"})));
      if (random.nextBoolean()) {
        names.add("vip");
      }
      StringBuilder b = new StringBuilder("\"unset\": [");
      for (int i = 0; i < names.size(); i++) {
        b.append(i == 0 ? "" : ", ").append(json(names.get(i)));
        next.attrs.remove(names.get(i));
      }
      members.add(b.append(']').toString());
    }
    if (random.nextInt(4) == 0) {
      String name = pick(new String[] {"visits", "visits", "age", "age", "country", "vip"});
      Number delta =
          random.nextInt(4) == 0
              ? (Number) (random.nextInt(5) + 0.5)
              : (Number) (long) (random.nextInt(7) - 2);
      Object cur = next.attr(name);
      if (cur == null) {
        next.attrs.put(name, delta);
      } else if (cur instanceof Long c && delta instanceof Long d) {
        next.attrs.put(name, c + d);
      } else if (cur instanceof Double c) {
        next.attrs.put(name, c + delta.doubleValue());
      } else {
        clash = true; // incrementing a string, boolean or set, or an integer by a float
      }
      members.add("\"incr\": {" + json(name) + ": " + delta + "}");
    }
    if (random.nextInt(5) == 0) {
      String name = random.nextInt(6) == 0 ? "country" : "tags";
      LinkedHashSet<String> elements = randomTags(1 + random.nextInt(2));
      Object cur = next.attr(name);
      if (cur == null) {
        next.attrs.put(name, new LinkedHashSet<>(elements));
      } else if (cur instanceof Set<?>) {
        @SuppressWarnings("unchecked")
        Set<String> s = (Set<String>) cur;
        s.addAll(elements);
      } else {
        clash = true;
      }
      members.add("\"add\": {" + json(name) + ": " + jsonValue(elements) + "}");
    }
    if (random.nextInt(6) == 0) {
      String name = random.nextInt(6) == 0 ? "age" : "tags";
      LinkedHashSet<String> elements = randomTags(1 + random.nextInt(2));
      Object cur = next.attr(name);
      if (cur instanceof Set<?> s) {
        s.removeAll(elements);
      } else if (cur != null) {
        clash = true;
      }
      members.add("\"remove\": {" + json(name) + ": " + jsonValue(elements) + "}");
    }
    if (random.nextInt(3) == 0) {
      StringBuilder b = new StringBuilder("\"events\": [");
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        boolean purchase = random.nextInt(10) != 0;
        Double value = random.nextInt(5) < 3 ? (double) (1 + random.nextInt(100)) : null;
        int when = random.nextInt(40);
        long time;
        String timeJson;
        if (when < 10) {
          time = now;
          timeJson = null; // the node's current time
        } else if (when == 10) {
          time = now - 90 * DAY; // older than the retention: accepted and dropped
          timeJson = Instant.ofEpochMilli(time).toString();
        } else if (when == 11) {
          time = now + 3 * DAY; // more than a day ahead: rejected
          timeJson = Instant.ofEpochMilli(time).toString();
          clash = true;
        } else {
          time = now - random.nextLong(40 * DAY) / 1000 * 1000;
          timeJson = Instant.ofEpochMilli(time).toString();
        }
        if (purchase && when != 10 && when != 11) {
          next.addPurchase(time, value);
        }
        b.append(b.charAt(b.length() - 1) == '[' ? "" : ", ")
            .append("{\"name\": ")
            .append(purchase ? "\"purchase\"" : "\"view\"")
            .append(value == null ? "" : ", \"value\": " + value.longValue())
            .append(timeJson == null ? "" : ", \"time\": \"" + timeJson + "\"")
            .append("}");
      }
      members.add(b.append(']').toString());
    }
    boolean replay = false;
    if (!clash && random.nextInt(10) < 3) {
      String producer = pick(PRODUCERS);
      Long mark = current == null ? null : current.marks.get(producer);
      long seq;
      if (mark != null && random.nextInt(4) == 0) {
        seq = 1 + random.nextLong(mark);
        replay = true;
      } else {
        seq = (mark == null ? 0 : mark) + 1 + random.nextInt(2);
        next.marks.put(producer, seq);
      }
      members.add("\"producer\": " + json(producer) + ", \"seq\": " + seq);
    }
    java.util.Collections.shuffle(
        members, random); // member order in the object is not the applying order
    String body = "{" + String.join(", ", members) + "}";

    String reply = wire.update(key, body);
    String context = where(phase + ": update " + key + " " + body);
    if (opaque.contains(key)) {
      assertTrue(reply.startsWith("CLIENT_ERROR not a profile: "), context + ": " + reply);
    } else if (replay) {
      assertEquals("IGNORED", reply, context);
    } else if (clash) {
      assertTrue(reply.startsWith("CLIENT_ERROR bad update: "), context + ": " + reply);
    } else {
      assertEquals("UPDATED", reply, context);
      profiles.put(key, next);
    }
  }

  private <T> T pick(T[] options) {
    return options[random.nextInt(options.length)];
  }

  // ---------------------------------------------------------------------------------------------
  // JSON as the test writes it

  private static String profileJson(Prof p, boolean withMarks) {
    StringBuilder b = new StringBuilder("{");
    p.attrs.forEach(
        (name, value) ->
            b.append(b.length() == 1 ? "" : ", ")
                .append(json(name))
                .append(": ")
                .append(jsonValue(value)));
    if (!p.purchases.isEmpty()) {
      b.append(b.length() == 1 ? "" : ", ").append("\"$events\": {\"purchase\": {");
      boolean first = true;
      for (Map.Entry<Long, double[]> day : p.purchases.entrySet()) {
        double[] bucket = day.getValue();
        b.append(first ? "" : ", ")
            .append('"')
            .append(LocalDate.ofEpochDay(day.getKey()))
            .append("\": [");
        b.append((long) bucket[0]);
        if (bucket[1] != 0 || bucket[2] != 0) {
          b.append(", ").append(bucket[1]).append(", ").append(bucket[2]);
        }
        b.append(']');
        first = false;
      }
      b.append("}}");
    }
    if (withMarks) {
      b.append(b.length() == 1 ? "" : ", ").append("\"$producers\": {");
      boolean first = true;
      for (Map.Entry<String, Long> mark : p.marks.entrySet()) {
        b.append(first ? "" : ", ")
            .append(json(mark.getKey()))
            .append(": ")
            .append(mark.getValue());
        first = false;
      }
      b.append('}');
    }
    return b.append('}').toString();
  }

  private static String json(String s) {
    return "\"" + s + "\""; // the test's names and strings need no escaping
  }

  private static String jsonValue(Object value) {
    return switch (value) {
      case String s -> json(s);
      case Long l -> Long.toString(l);
      case Double d -> Double.toString(d);
      case Boolean bool -> Boolean.toString(bool);
      case Ts ts -> json(Instant.ofEpochMilli(ts.millis()).toString());
      case Set<?> set -> {
        StringBuilder b = new StringBuilder("[");
        for (Object element : set) {
          b.append(b.length() == 1 ? "" : ", ").append(json((String) element));
        }
        yield b.append(']').toString();
      }
      default -> throw new IllegalArgumentException("value " + value);
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Queries: random segment algebra and random filters, with their brute-force answers

  private Set<String> modelMembers(Cond cond) {
    long now = now();
    Set<String> out = new TreeSet<>();
    profiles.forEach(
        (key, p) -> {
          if (cond.test(p, now)) {
            out.add(key);
          }
        });
    return out;
  }

  /** A segment query and its members; precedence: or (1) < xor (2) < and (3) < not (4) < name. */
  record Query(String text, int precedence, Set<String> members) {}

  private Query randomQuery(int depth) {
    List<String> names = new ArrayList<>(defined.keySet());
    Query q;
    int kind = depth <= 0 ? 0 : random.nextInt(6);
    switch (kind) {
      case 0, 1 -> {
        String name = names.get(random.nextInt(names.size()));
        q = new Query(name, 5, modelMembers(defined.get(name).cond()));
      }
      case 2 -> {
        Query inner = randomQuery(depth - 1);
        Set<String> members = new TreeSet<>(profiles.keySet());
        members.removeAll(inner.members());
        q = new Query("not " + wrap(inner, 4), 4, members);
      }
      default -> {
        String op = pick(new String[] {"and", "or", "xor"});
        int precedence =
            switch (op) {
              case "or" -> 1;
              case "xor" -> 2;
              default -> 3;
            };
        Query left = randomQuery(depth - 1);
        Query right = randomQuery(depth - 1);
        Set<String> members = new TreeSet<>(left.members());
        switch (op) {
          case "and" -> members.retainAll(right.members());
          case "or" -> members.addAll(right.members());
          default -> {
            Set<String> both = new HashSet<>(left.members());
            both.retainAll(right.members());
            members.addAll(right.members());
            members.removeAll(both);
          }
        }
        q =
            new Query(
                wrap(left, precedence) + " " + op + " " + wrap(right, precedence),
                precedence,
                members);
      }
    }
    return q;
  }

  /** Parenthesises when the precedence requires it, and now and then when it does not. */
  private String wrap(Query q, int needed) {
    return q.precedence() < needed || random.nextInt(8) == 0 ? "(" + q.text() + ")" : q.text();
  }

  private String wrap(Expr e, int needed) {
    return e.precedence() < needed || random.nextInt(8) == 0 ? "(" + e.text() + ")" : e.text();
  }

  private Expr randomFilter(int depth) {
    int kind = depth <= 0 ? 0 : random.nextInt(6);
    switch (kind) {
      case 0, 1, 2 -> {
        return randomAtom();
      }
      case 3 -> {
        Expr inner = randomFilter(depth - 1);
        return new Expr("not " + wrap(inner, NOT), NOT, (p, now) -> !inner.cond().test(p, now));
      }
      default -> {
        boolean and = random.nextBoolean();
        Expr left = randomFilter(depth - 1);
        Expr right = randomFilter(depth - 1);
        int precedence = and ? AND : OR;
        String text = wrap(left, precedence) + (and ? " and " : " or ") + wrap(right, precedence);
        return new Expr(
            text,
            precedence,
            and
                ? (p, now) -> left.cond().test(p, now) && right.cond().test(p, now)
                : (p, now) -> left.cond().test(p, now) || right.cond().test(p, now));
      }
    }
  }

  private Expr randomAtom() {
    String[] ops = {"==", "!=", "<", "<=", ">", ">="};
    String op = pick(ops);
    switch (random.nextInt(13)) {
      case 0 -> {
        String c = pick(COUNTRIES);
        String o = pick(new String[] {"==", "!=", "<", ">="});
        return atom("country " + o + " " + json(c), (p, now) -> cmp(p.attr("country"), o, c));
      }
      case 1 -> {
        String a = pick(COUNTRIES);
        String b = pick(COUNTRIES);
        boolean negated = random.nextBoolean();
        return atom(
            "country " + (negated ? "not in" : "in") + " [" + json(a) + ", " + json(b) + "]",
            (p, now) ->
                negated != (cmp(p.attr("country"), "==", a) || cmp(p.attr("country"), "==", b)));
      }
      case 2 -> {
        String[] literals = {"-1", "0", "17", "18", "18.0", "29.5", "30", "45", "79.5"};
        String lit = pick(literals);
        Number n =
            lit.contains(".") ? (Number) Double.parseDouble(lit) : (Number) Long.parseLong(lit);
        return atom("age " + op + " " + lit, (p, now) -> cmp(p.attr("age"), op, n));
      }
      case 3 -> {
        String t = pick(TAGS);
        boolean negated = random.nextBoolean();
        return atom(
            json(t) + (negated ? " not in" : " in") + " tags",
            (p, now) -> negated != inSet(t, p.attr("tags")));
      }
      case 4 -> {
        String name = pick(new String[] {"age", "tags", "country", "last_seen", "vip", "nosuch"});
        return atom("exists(" + name + ")", (p, now) -> p.attrs.containsKey(name));
      }
      case 5, 6 -> {
        int days = pick(new Integer[] {1, 7, 30});
        long k = random.nextInt(4);
        return atom(
            "count(purchase, " + days + "d) " + op + " " + k,
            (p, now) -> cmp(p.count(days, now), op, k));
      }
      case 7 -> {
        String lit = pick(new String[] {"0", "50", "100.5", "150"});
        double s = Double.parseDouble(lit);
        return atom("sum(purchase, 30d) " + op + " " + lit, (p, now) -> cmp(p.sum(30, now), op, s));
      }
      case 8 -> {
        String lit = pick(new String[] {"10", "40.5", "50.25"});
        double a = Double.parseDouble(lit);
        int days = pick(new Integer[] {7, 30});
        return atom(
            "avg(purchase, " + days + "d) " + op + " " + lit,
            (p, now) -> cmp(p.avg(days, now), op, a));
      }
      case 9 -> {
        int form = random.nextInt(3);
        return switch (form) {
          case 0 -> atom("vip", (p, now) -> Boolean.TRUE.equals(p.attr("vip")));
          case 1 -> atom("vip == false", (p, now) -> cmp(p.attr("vip"), "==", false));
          default -> atom("vip != true", (p, now) -> cmp(p.attr("vip"), "!=", true));
        };
      }
      case 10 -> {
        int days = 1 + random.nextInt(4);
        return atom(
            "last_seen " + op + " now() - " + days + "d",
            (p, now) -> cmp(p.attr("last_seen"), op, new Ts(now - days * DAY)));
      }
      case 11 -> {
        long literal = Instant.parse("2026-11-19T00:00:00Z").toEpochMilli();
        String text = random.nextBoolean() ? "2026-11-19" : "2026-11-19T02:00:00+02:00";
        return atom(
            "last_seen " + op + " " + text,
            (p, now) -> cmp(p.attr("last_seen"), op, new Ts(literal)));
      }
      default -> {
        long k = random.nextInt(8);
        return atom("visits " + op + " " + k, (p, now) -> cmp(p.attr("visits"), op, k));
      }
    }
  }

  private static Expr atom(String text, Cond cond) {
    return new Expr(text, ATOM, cond);
  }

  // ---------------------------------------------------------------------------------------------
  // The check

  private void checkAgainstModel(String phase) {
    // seglist: every defined segment, its expression and its size.
    wire.connection().send("seglist\r\n");
    Map<String, Long> listed = new LinkedHashMap<>();
    while (true) {
      String line = wire.connection().readLine();
      if (line.equals("END\r\n")) {
        break;
      }
      String[] parts = line.trim().split(" ");
      assertEquals("SEGMENT", parts[0], where(phase + ": seglist line " + line));
      byte[] expression = wire.connection().read(Integer.parseInt(parts[3]));
      assertEquals("\r\n", wire.connection().readLine());
      assertEquals(
          defined.get(parts[1]).expression(),
          new String(expression, StandardCharsets.UTF_8),
          where(phase + ": seglist " + parts[1]));
      listed.put(parts[1], Long.parseLong(parts[2]));
    }
    Map<String, Long> expectedSizes = new LinkedHashMap<>();
    defined.forEach((name, s) -> expectedSizes.put(name, (long) modelMembers(s.cond()).size()));
    assertEquals(
        new TreeMap<>(expectedSizes), new TreeMap<>(listed), where(phase + ": seglist sizes"));

    for (int i = 0; i < 25; i++) {
      Query q = randomQuery(1 + random.nextInt(3));
      String context = where(phase + ": segment query [" + q.text() + "]");
      assertEquals(q.members().size(), wire.count("segcount", q.text()), context);
      int limit = PAGE_LIMITS[random.nextInt(PAGE_LIMITS.length)];
      assertSameKeys(
          q.members(),
          wire.members("segmembers", q.text(), limit),
          () -> context + " paged by " + limit);
      String virtual = "_whack/size/" + ProfileWire.percentEncode(q.text());
      if (i % 5 == 0 && virtual.length() <= 250) {
        assertEquals(
            Long.toString(q.members().size()), wire.get(virtual), context + " as " + virtual);
      }
    }
    for (int i = 0; i < 20; i++) {
      Expr f = randomFilter(1 + random.nextInt(3));
      Set<String> expected = modelMembers(f.cond());
      String context = where(phase + ": filter [" + f.text() + "]");
      assertEquals(expected.size(), wire.count("filtercount", f.text()), context);
      int limit = PAGE_LIMITS[random.nextInt(PAGE_LIMITS.length)];
      assertSameKeys(
          expected,
          wire.members("filtermembers", f.text(), limit),
          () -> context + " paged by " + limit);
      String virtual = "_whack/count/" + ProfileWire.percentEncode(f.text());
      if (i % 5 == 0 && virtual.length() <= 250) {
        assertEquals(Long.toString(expected.size()), wire.get(virtual), context + " as " + virtual);
      }
    }
    long now = now();
    for (int i = 0; i < 25; i++) {
      String key = randomKey();
      Prof p = profiles.get(key);
      Set<String> expected = new TreeSet<>();
      if (p != null) {
        defined.forEach(
            (name, s) -> {
              if (s.cond().test(p, now)) {
                expected.add(name);
              }
            });
      }
      String context =
          where(
              phase
                  + ": segments of "
                  + key
                  + " "
                  + (p == null ? "(absent)" : profileJson(p, true)));
      assertEquals(expected, new TreeSet<>(wire.segof(key)), context);
      if (i % 5 == 0) {
        String of = wire.get("_whack/of/" + key);
        assertEquals(
            expected,
            of == null || of.isEmpty() ? Set.of() : new TreeSet<>(Arrays.asList(of.split(","))),
            context + " as _whack/of");
        String segment = defined.keySet().iterator().next();
        assertEquals(
            expected.contains(segment) ? "1" : "0",
            wire.get("_whack/in/" + segment + "/" + key),
            context + " as _whack/in/" + segment);
      }
    }
  }

  private static void assertSameKeys(
      Set<String> expected, List<String> actual, Supplier<String> context) {
    Set<String> got = new TreeSet<>(actual);
    if (!expected.equals(got)) {
      Set<String> missing = new TreeSet<>(expected);
      missing.removeAll(got);
      Set<String> extra = new TreeSet<>(got);
      extra.removeAll(expected);
      fail(context.get() + ": missing " + missing + ", unexpected " + extra);
    }
  }
}

package dev.whack.node.tenant;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Tenant isolation on one real node, over real sockets: no operation of one tenant ever returns or
 * changes anything of another. Random sequences of item writes (text, meta and binary: set, add,
 * replace, append, prepend, with profiles among the values), deletes, reads, incr/decr, touch,
 * profile updates, segment and dimension definitions and drops, {@code flush_all}, snapshots, a
 * tenant dropped and created again under its name, and restarts from the data directory are sent by
 * the default tenant and three others over one small key set, one small segment-name set and one
 * small dimension-name set shared by all of them, so that every name collides.
 *
 * <p>Each tenant has a model of its own, which only its own operations change; after every
 * operation every tenant's whole view ({@link View}: its keys with values and flags, the virtual
 * keys, {@code seglist}, {@code segcount} and {@code segmembers} of every segment name, {@code
 * dimlist}, {@code itemdump}, {@code segdump} and the binary SegList) must equal its model:
 * whatever tenant A did, tenant B answers as if A did not exist.
 *
 * <p>No expiry and small values, so nothing depends on time or eviction. Every try starts on fresh
 * connections from empty tenants (the named ones dropped and created again, the default one flushed
 * and its segments and dimensions dropped), which the first check confirms. About 40 tries of up to
 * 100 operations take 15 to 25 s on two cores.
 */
class TenantIsolationProperties {
  /** Index 0 is the default tenant; its user is the node's admin, an admin of no tenant. */
  private static final List<String> TENANTS = List.of(Tenant.DEFAULT, "red", "blue", "green");

  private static final List<String> KEYS = List.of("k0", "k1", "k2", "k3");
  private static final List<String> SEGMENTS = List.of("s0", "s1", "s2");
  private static final List<String> DIMENSIONS = List.of("d0", "d1");

  /** Each named tenant's memory, carved out of the node's (1 GiB by default). */
  private static final long TENANT_MEMORY = 16L << 20;

  private static final String DIMENSION = "{\"property\":\"color\"}";

  /** Opaque values: numbers for incr/decr, words that are not. */
  private static final List<String> PLAIN_VALUES = List.of("0", "7", "42", "100", "abc", "x");

  /** Values that a set, add or replace stores as profiles, and the attributes they hold. */
  private static final Map<String, Map<String, Long>> PROFILE_VALUES =
      Map.of(
          "{\"age\":12}", attributes("age", 12L),
          "{\"age\":45,\"n\":3}", attributes("age", 45L, "n", 3L),
          "{\"n\":1}", attributes("n", 1L));

  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

  private static Path dir;
  private static Path users;
  private static EmbeddedNode node;
  private static final RawConnection[] text = new RawConnection[TENANTS.size()];
  private static final RawConnection[] binary = new RawConnection[TENANTS.size()];
  private static final Model[] models = new Model[TENANTS.size()];

  @BeforeContainer
  static void start() throws IOException {
    dir = Files.createTempDirectory("tenant-isolation");
    users = TestUsers.write(dir);
    StringBuilder more = new StringBuilder();
    for (String tenant : TENANTS.subList(1, TENANTS.size())) {
      String user = user(TENANTS.indexOf(tenant));
      more.append(TestUsers.line(user, TestUsers.password(user), Role.ADMIN))
          .append(" tenant=")
          .append(tenant)
          .append('\n');
    }
    Files.writeString(users, Files.readString(users) + more);
    startNode();
  }

  @AfterContainer
  static void stop() throws IOException {
    closeConnections();
    if (node != null) {
      node.close();
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Property(tries = 40)
  void noTenantSeesOrChangesAnotherTenantsData(@ForAll("sequences") List<Op> ops) {
    reset();
    checkEveryView("at the start (dropped and created again, or flushed)");
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      run(op);
      checkEveryView("after step " + i + ": " + op);
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  /**
   * One request by one tenant, or a change of the node; {@code toString} is what shrinking shows.
   */
  sealed interface Op {}

  enum Wire {
    TEXT,
    META,
    BINARY
  }

  enum Verb {
    SET("set", 'S', 0x01),
    ADD("add", 'E', 0x02),
    REPLACE("replace", 'R', 0x03),
    APPEND("append", 'A', 0x0e),
    PREPEND("prepend", 'P', 0x0f);

    final String word;
    final char metaMode;
    final int opcode;

    Verb(String word, char metaMode, int opcode) {
      this.word = word;
      this.metaMode = metaMode;
      this.opcode = opcode;
    }

    boolean concatenates() {
      return this == APPEND || this == PREPEND;
    }
  }

  record Store(int tenant, Wire wire, Verb verb, String key, int flags, String value)
      implements Op {
    @Override
    public String toString() {
      return who(tenant, wire) + verb.word + " " + key + " flags " + flags + " \"" + value + "\"";
    }
  }

  record Delete(int tenant, Wire wire, String key) implements Op {
    @Override
    public String toString() {
      return who(tenant, wire) + "delete " + key;
    }
  }

  record Read(int tenant, Wire wire, String key) implements Op {
    @Override
    public String toString() {
      return who(tenant, wire) + "get " + key;
    }
  }

  record Arith(int tenant, boolean incr, String key, int delta) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + (incr ? "incr " : "decr ") + key + " " + delta;
    }
  }

  record Touch(int tenant, String key) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "touch " + key + " 0";
    }
  }

  enum Change {
    SET_AGE,
    INCR_N,
    UNSET_AGE
  }

  record Update(int tenant, String key, Change change, long amount) implements Op {
    String json() {
      return switch (change) {
        case SET_AGE -> "{\"set\": {\"age\": " + amount + "}}";
        case INCR_N -> "{\"incr\": {\"n\": " + amount + "}}";
        case UNSET_AGE -> "{\"unset\": [\"age\"]}";
      };
    }

    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "update " + key + " " + json();
    }
  }

  /** The segment expressions, and what each means for a profile's attributes. */
  enum Expr {
    OLD("age > 30", a -> a.containsKey("age") && a.get("age") > 30),
    FREQUENT("n >= 2", a -> a.containsKey("n") && a.get("n") >= 2),
    AGED("exists(age)", a -> a.containsKey("age")),
    UNCOUNTED("not exists(n)", a -> !a.containsKey("n"));

    final String text;
    final Predicate<Map<String, Long>> matches;

    Expr(String text, Predicate<Map<String, Long>> matches) {
      this.text = text;
      this.matches = matches;
    }
  }

  record SegDef(int tenant, String name, Expr expr) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "segdef " + name + " " + expr.text;
    }
  }

  record SegDrop(int tenant, String name) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "segdrop " + name;
    }
  }

  record Flush(int tenant) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "flush_all";
    }
  }

  record DimDef(int tenant, String name) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "dimdef " + name + " " + DIMENSION;
    }
  }

  record DimDrop(int tenant, String name) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "dimdrop " + name;
    }
  }

  /** A snapshot of the tenant's data directory (a restart then reads it, and its log after it). */
  record Snapshot(int tenant) implements Op {
    @Override
    public String toString() {
      return who(tenant, Wire.TEXT) + "snapshot";
    }
  }

  /** {@code tenant drop} and {@code tenant create} of a named tenant: it starts empty again. */
  record Recreate(int tenant) implements Op {
    @Override
    public String toString() {
      return "admin: tenant drop " + TENANTS.get(tenant) + ", tenant create " + TENANTS.get(tenant);
    }
  }

  /** The node stops and starts again from its data directory, every tenant with it. */
  record Restart() implements Op {
    @Override
    public String toString() {
      return "restart the node";
    }
  }

  private static String who(int tenant, Wire wire) {
    return TENANTS.get(tenant)
        + (wire == Wire.TEXT ? "" : " " + wire.name().toLowerCase(Locale.ROOT))
        + ": ";
  }

  @Provide
  Arbitrary<List<Op>> sequences() {
    Arbitrary<Integer> tenant = Arbitraries.integers().between(0, TENANTS.size() - 1);
    Arbitrary<String> key = Arbitraries.of(KEYS);
    Arbitrary<Wire> wire = Arbitraries.of(Wire.class);
    Arbitrary<String> segment = Arbitraries.of(SEGMENTS);
    List<String> storable = new ArrayList<>(PLAIN_VALUES);
    storable.addAll(new TreeSet<>(PROFILE_VALUES.keySet()));
    Arbitrary<Op> store =
        Combinators.combine(
                tenant,
                wire,
                Arbitraries.frequency(
                    List.of(
                        Tuple.of(4, Verb.SET),
                        Tuple.of(2, Verb.ADD),
                        Tuple.of(1, Verb.REPLACE),
                        Tuple.of(1, Verb.APPEND),
                        Tuple.of(1, Verb.PREPEND))),
                key,
                Arbitraries.of(0, 5),
                Arbitraries.of(storable),
                Arbitraries.of(PLAIN_VALUES))
            .as(
                (t, w, v, k, f, value, plain) ->
                    new Store(
                        t, w, v, k, v.concatenates() ? 0 : f, v.concatenates() ? plain : value));
    Arbitrary<Op> delete = Combinators.combine(tenant, wire, key).as(Delete::new);
    Arbitrary<Op> read = Combinators.combine(tenant, wire, key).as(Read::new);
    Arbitrary<Op> arith =
        Combinators.combine(
                tenant, Arbitraries.of(true, false), key, Arbitraries.integers().between(0, 60))
            .as(Arith::new);
    Arbitrary<Op> touch = Combinators.combine(tenant, key).as(Touch::new);
    Arbitrary<Op> update =
        Combinators.combine(
                tenant, key, Arbitraries.of(Change.class), Arbitraries.longs().between(-2, 50))
            .as((t, k, c, n) -> new Update(t, k, c, c == Change.INCR_N ? n % 4 : n));
    Arbitrary<Op> segdef =
        Combinators.combine(tenant, segment, Arbitraries.of(Expr.class)).as(SegDef::new);
    Arbitrary<Op> segdrop = Combinators.combine(tenant, segment).as(SegDrop::new);
    Arbitrary<Op> flush = tenant.map(Flush::new);
    Arbitrary<String> dimension = Arbitraries.of(DIMENSIONS);
    Arbitrary<Op> dimdef = Combinators.combine(tenant, dimension).as(DimDef::new);
    Arbitrary<Op> dimdrop = Combinators.combine(tenant, dimension).as(DimDrop::new);
    Arbitrary<Op> snapshot = tenant.map(Snapshot::new);
    Arbitrary<Op> recreate =
        Arbitraries.integers().between(1, TENANTS.size() - 1).map(Recreate::new);
    Arbitrary<Op> restart = Arbitraries.just(new Restart());
    return Arbitraries.frequencyOf(
            List.of(
                Tuple.of(14, store),
                Tuple.of(4, delete),
                Tuple.of(3, read),
                Tuple.of(4, arith),
                Tuple.of(1, touch),
                Tuple.of(10, update),
                Tuple.of(4, segdef),
                Tuple.of(2, segdrop),
                Tuple.of(1, flush),
                Tuple.of(1, dimdef),
                Tuple.of(1, dimdrop),
                Tuple.of(1, snapshot),
                Tuple.of(1, recreate),
                Tuple.of(1, restart)))
        .list()
        .ofMinSize(1)
        .ofMaxSize(100)
        .withSizeDistribution(RandomDistribution.uniform());
  }

  // ---- the model -----------------------------------------------------------------------------

  /** An item: an opaque value, or a profile (then {@code value} is its canonical JSON). */
  private record Item(int flags, String value, Map<String, Long> profile) {
    static Item opaque(int flags, String value) {
      return new Item(flags, value, null);
    }

    static Item ofProfile(int flags, Map<String, Long> attributes) {
      StringBuilder json = new StringBuilder("{");
      attributes.forEach(
          (name, v) ->
              json.append(json.length() > 1 ? "," : "")
                  .append('"')
                  .append(name)
                  .append("\":")
                  .append(v));
      return new Item(flags, json.append('}').toString(), new LinkedHashMap<>(attributes));
    }
  }

  enum Stored {
    STORED,
    NOT_STORED,
    IS_PROFILE
  }

  /** One tenant's keys and segments, as only its own operations change them. */
  private static final class Model {
    final Map<String, Item> items = new TreeMap<>();
    final Map<String, Expr> segments = new TreeMap<>();
    final TreeSet<String> dimensions = new TreeSet<>();

    Stored store(Verb verb, String key, int flags, String value) {
      Item old = items.get(key);
      Map<String, Long> profile = PROFILE_VALUES.get(value);
      Item item = profile == null ? Item.opaque(flags, value) : Item.ofProfile(flags, profile);
      switch (verb) {
        case SET -> items.put(key, item);
        case ADD -> {
          if (old != null) {
            return Stored.NOT_STORED;
          }
          items.put(key, item);
        }
        case REPLACE -> {
          if (old == null) {
            return Stored.NOT_STORED;
          }
          items.put(key, item);
        }
        case APPEND, PREPEND -> {
          if (old == null) {
            return Stored.NOT_STORED;
          }
          if (old.profile() != null) {
            return Stored.IS_PROFILE;
          }
          String joined = verb == Verb.APPEND ? old.value() + value : value + old.value();
          items.put(key, Item.opaque(old.flags(), joined));
        }
      }
      return Stored.STORED;
    }

    /** The reply to incr/decr, memcached's rules (docs/protocol.md, "incr/decr"). */
    String arith(String key, boolean incr, int delta) {
      Item old = items.get(key);
      if (old == null) {
        return "NOT_FOUND";
      }
      if (old.profile() != null) {
        return "CLIENT_ERROR cannot increment or decrement a profile";
      }
      BigInteger number = unsigned(old.value());
      if (number == null) {
        return "CLIENT_ERROR cannot increment or decrement non-numeric value";
      }
      BigInteger result =
          incr
              ? number.add(BigInteger.valueOf(delta)).mod(TWO_TO_64)
              : number.subtract(BigInteger.valueOf(delta)).max(BigInteger.ZERO);
      String digits = result.toString();
      String stored =
          digits.length() < old.value().length()
              ? digits + " ".repeat(old.value().length() - digits.length())
              : digits;
      items.put(key, Item.opaque(old.flags(), stored));
      return digits;
    }

    /** memcached's safe_strtoull: leading spaces, digits, then the end or a space. */
    private static BigInteger unsigned(String value) {
      int i = 0;
      while (i < value.length() && value.charAt(i) == ' ') {
        i++;
      }
      int start = i;
      while (i < value.length() && Character.isDigit(value.charAt(i))) {
        i++;
      }
      if (i == start || (i < value.length() && value.charAt(i) != ' ')) {
        return null;
      }
      BigInteger n = new BigInteger(value.substring(start, i));
      return n.compareTo(TWO_TO_64) >= 0 ? null : n;
    }

    String update(String key, Change change, long amount) {
      Item old = items.get(key);
      if (old != null && old.profile() == null) {
        return "CLIENT_ERROR not a profile";
      }
      Map<String, Long> attributes =
          old == null ? new LinkedHashMap<>() : new LinkedHashMap<>(old.profile());
      switch (change) {
        case SET_AGE -> attributes.put("age", amount);
        case INCR_N -> attributes.merge("n", amount, Long::sum);
        case UNSET_AGE -> attributes.remove("age");
      }
      items.put(key, Item.ofProfile(old == null ? 0 : old.flags(), attributes));
      return "UPDATED";
    }

    long size(Expr expr) {
      return items.values().stream()
          .filter(i -> i.profile() != null && expr.matches.test(i.profile()))
          .count();
    }

    /** What {@link #readView} must read from the node. */
    View view() {
      Map<String, String> answers = new LinkedHashMap<>();
      Map<String, String> values = new TreeMap<>();
      for (String key : KEYS) {
        Item item = items.get(key);
        if (item != null) {
          values.put(key, item.flags() + " " + item.value());
        }
        TreeSet<String> of = new TreeSet<>();
        if (item != null && item.profile() != null) {
          segments.forEach(
              (name, expr) -> {
                if (expr.matches.test(item.profile())) {
                  of.add(name);
                }
              });
        }
        values.put("_whack/of/" + key, "0 " + String.join(",", of));
      }
      Map<String, String> list = new TreeMap<>();
      segments.forEach(
          (name, expr) -> {
            values.put("_whack/size/" + name, "0 " + size(expr));
            list.put(name, size(expr) + " " + expr.text);
          });
      values.put("_whack/count/exists(age)", "0 " + size(Expr.AGED));
      answers.put("get", values.toString());
      answers.put("seglist", list.toString());
      for (String name : SEGMENTS) {
        Expr expr = segments.get(name);
        String unknown = "CLIENT_ERROR unknown segment " + name;
        answers.put("segcount " + name, expr == null ? unknown : "COUNT " + size(expr));
        TreeSet<String> members = new TreeSet<>();
        items.forEach(
            (key, item) -> {
              if (expr != null && item.profile() != null && expr.matches.test(item.profile())) {
                members.add(key);
              }
            });
        answers.put("segmembers " + name, expr == null ? unknown : members.toString());
      }
      answers.put("dimlist", dimensions.toString());
      Map<String, String> opaque = new TreeMap<>();
      Map<String, String> profiles = new TreeMap<>();
      items.forEach(
          (key, item) -> {
            if (item.profile() == null) {
              opaque.put(key, item.flags() + " 0 " + item.value());
            } else {
              profiles.put(key, item.value());
            }
          });
      answers.put("itemdump", opaque.toString());
      answers.put("segdump", profiles.toString());
      answers.put("binary seglist", list.toString());
      return new View(answers);
    }
  }

  /**
   * What a tenant's connections read back, question by question: {@code get} of every key and
   * virtual key (key to "flags value"; {@code _whack/of} with its segment names sorted), {@code
   * seglist} (name to "size expression"), {@code segcount} and {@code segmembers} of every segment
   * name, {@code dimlist} (the names), {@code itemdump} (key to "flags ttl value"), {@code segdump}
   * (key to Profile JSON) and the binary SegList.
   */
  private record View(Map<String, String> answers) {
    @Override
    public String toString() {
      StringBuilder out = new StringBuilder();
      answers.forEach((q, a) -> out.append("\n  ").append(q).append(": ").append(a));
      return out.toString();
    }
  }

  // ---- running it ----------------------------------------------------------------------------

  private static void run(Op op) {
    switch (op) {
      case Store s -> store(s);
      case Delete d -> {
        boolean had = models[d.tenant()].items.remove(d.key()) != null;
        switch (d.wire()) {
          case TEXT ->
              assertEquals(
                  had ? "DELETED" : "NOT_FOUND",
                  ask(d.tenant(), "delete " + d.key() + "\r\n"),
                  op::toString);
          case META ->
              assertEquals(
                  had ? "HD" : "NF", ask(d.tenant(), "md " + d.key() + "\r\n"), op::toString);
          case BINARY -> {
            BinaryPacket p = binaryAsk(d.tenant(), 0x04, new byte[0], d.key(), "");
            assertEquals(had ? 0 : 1, p.status(), () -> op + ": " + p);
          }
        }
      }
      case Read r -> read(r);
      case Arith a -> {
        String expected = models[a.tenant()].arith(a.key(), a.incr(), a.delta());
        String verb = a.incr() ? "incr " : "decr ";
        assertEquals(
            expected, ask(a.tenant(), verb + a.key() + " " + a.delta() + "\r\n"), op::toString);
      }
      case Touch t -> {
        boolean has = models[t.tenant()].items.containsKey(t.key());
        assertEquals(
            has ? "TOUCHED" : "NOT_FOUND",
            ask(t.tenant(), "touch " + t.key() + " 0\r\n"),
            op::toString);
      }
      case Update u -> {
        String expected = models[u.tenant()].update(u.key(), u.change(), u.amount());
        String reply = ask(u.tenant(), withBlock("update " + u.key(), u.json(), ""));
        assertTrue(
            reply.startsWith(expected), () -> op + ": expected " + expected + ", got " + reply);
      }
      case SegDef s -> {
        Model m = models[s.tenant()];
        m.segments.put(s.name(), s.expr());
        assertEquals(
            "DEFINED " + m.size(s.expr()),
            ask(s.tenant(), withBlock("segdef " + s.name(), s.expr().text, "")),
            op::toString);
      }
      case SegDrop s -> {
        boolean had = models[s.tenant()].segments.remove(s.name()) != null;
        assertEquals(
            had ? "DROPPED" : "NOT_FOUND",
            ask(s.tenant(), "segdrop " + s.name() + "\r\n"),
            op::toString);
      }
      case Flush f -> {
        models[f.tenant()].items.clear();
        assertEquals("OK", ask(f.tenant(), "flush_all\r\n"), op::toString);
      }
      case DimDef d -> {
        models[d.tenant()].dimensions.add(d.name());
        assertEquals(
            "DEFINED",
            ask(d.tenant(), withBlock("dimdef " + d.name(), DIMENSION, "")),
            op::toString);
      }
      case DimDrop d -> {
        boolean had = models[d.tenant()].dimensions.remove(d.name());
        assertEquals(
            had ? "DROPPED" : "NOT_FOUND",
            ask(d.tenant(), "dimdrop " + d.name() + "\r\n"),
            op::toString);
      }
      case Snapshot n -> {
        String reply = ask(n.tenant(), "snapshot\r\n");
        assertTrue(reply.startsWith("SNAPSHOT "), () -> op + ": " + reply);
      }
      case Recreate r -> recreate(r.tenant());
      case Restart r -> {
        closeConnections();
        node.close();
        node = null;
        startNode();
        for (int t = 0; t < TENANTS.size(); t++) {
          login(t);
        }
      }
    }
  }

  private static void store(Store s) {
    Stored stored = models[s.tenant()].store(s.verb(), s.key(), s.flags(), s.value());
    int length = s.value().getBytes(UTF_8).length;
    switch (s.wire()) {
      case TEXT -> {
        String line = s.verb().word + " " + s.key() + " " + s.flags() + " 0 " + length;
        String expected =
            switch (stored) {
              case STORED -> "STORED";
              case NOT_STORED -> "NOT_STORED";
              case IS_PROFILE -> "CLIENT_ERROR cannot append or prepend to a profile";
            };
        assertEquals(expected, ask(s.tenant(), line + "\r\n" + s.value() + "\r\n"), s::toString);
      }
      case META -> {
        String line =
            "ms "
                + s.key()
                + " "
                + length
                + (s.verb().concatenates() ? "" : " F" + s.flags())
                + " M"
                + s.verb().metaMode;
        String expected =
            switch (stored) {
              case STORED -> "HD";
              case NOT_STORED -> "NS";
              case IS_PROFILE -> "CLIENT_ERROR cannot append or prepend to a profile";
            };
        assertEquals(expected, ask(s.tenant(), line + "\r\n" + s.value() + "\r\n"), s::toString);
      }
      case BINARY -> {
        byte[] extras =
            s.verb().concatenates()
                ? new byte[0]
                : ByteBuffer.allocate(8).putInt(s.flags()).putInt(0).array();
        BinaryPacket p = binaryAsk(s.tenant(), s.verb().opcode, extras, s.key(), s.value());
        int expected =
            switch (stored) {
              case STORED -> 0;
              case NOT_STORED ->
                  switch (s.verb()) {
                    case ADD -> 0x02;
                    case REPLACE -> 0x01;
                    default -> 0x05;
                  };
              case IS_PROFILE -> 0x04;
            };
        assertEquals(expected, p.status(), () -> s + ": " + p);
      }
    }
  }

  private static void read(Read r) {
    Item item = models[r.tenant()].items.get(r.key());
    switch (r.wire()) {
      case TEXT -> {
        RawConnection c = text[r.tenant()];
        c.send("get " + r.key() + "\r\n");
        Map<String, String> values = readValues(c);
        assertEquals(
            item == null ? Map.of() : Map.of(r.key(), item.flags() + " " + item.value()),
            values,
            r::toString);
      }
      case META -> {
        RawConnection c = text[r.tenant()];
        c.send("mg " + r.key() + " v f\r\n");
        String head = line(c);
        if (item == null) {
          assertEquals("EN", head, r::toString);
        } else {
          byte[] value = item.value().getBytes(UTF_8);
          assertEquals("VA " + value.length + " f" + item.flags(), head, r::toString);
          assertEquals(
              item.value(),
              new String(c.read(value.length + 2), UTF_8).substring(0, value.length),
              r::toString);
        }
      }
      case BINARY -> {
        BinaryPacket p = binaryAsk(r.tenant(), 0x00, new byte[0], r.key(), "");
        if (item == null) {
          assertEquals(1, p.status(), () -> r + ": " + p);
        } else {
          assertEquals(0, p.status(), () -> r + ": " + p);
          assertEquals(
              item.flags() + " " + item.value(),
              ByteBuffer.wrap(p.extras()).getInt() + " " + p.valueText(),
              r::toString);
        }
      }
    }
  }

  private static void recreate(int tenant) {
    String name = TENANTS.get(tenant);
    assertEquals("DROPPED", ask(0, "tenant drop " + name + "\r\n"));
    assertTrue(text[tenant].isClosedByPeer(), "the dropped tenant's text connection was closed");
    assertTrue(
        binary[tenant].isClosedByPeer(), "the dropped tenant's binary connection was closed");
    text[tenant].close();
    binary[tenant].close();
    assertEquals("CREATED", ask(0, "tenant create " + name + " memory=" + TENANT_MEMORY + "\r\n"));
    models[tenant] = new Model();
    login(tenant);
  }

  /**
   * Every tenant empty, on fresh connections (a failed try may have left replies unread, or the
   * node stopped): the named tenants dropped and created again, the default one flushed and its
   * segments and dimensions dropped.
   */
  private static void reset() {
    closeConnections();
    if (node == null) {
      startNode();
    }
    login(0);
    for (int t = 1; t < TENANTS.size(); t++) {
      String name = TENANTS.get(t);
      String dropped = ask(0, "tenant drop " + name + "\r\n");
      assertTrue(dropped.equals("DROPPED") || dropped.equals("NOT_FOUND"), dropped);
      assertEquals(
          "CREATED", ask(0, "tenant create " + name + " memory=" + TENANT_MEMORY + "\r\n"));
      login(t);
    }
    assertEquals("OK", ask(0, "flush_all\r\n"));
    for (String name : SEGMENTS) {
      String reply = ask(0, "segdrop " + name + " force\r\n");
      assertTrue(reply.equals("DROPPED") || reply.equals("NOT_FOUND"), reply);
    }
    for (String name : DIMENSIONS) {
      String reply = ask(0, "dimdrop " + name + "\r\n");
      assertTrue(reply.equals("DROPPED") || reply.equals("NOT_FOUND"), reply);
    }
    for (int t = 0; t < TENANTS.size(); t++) {
      models[t] = new Model();
    }
  }

  private static void checkEveryView(String when) {
    for (int t = 0; t < TENANTS.size(); t++) {
      View expected = models[t].view();
      View actual = readView(t);
      assertEquals(expected, actual, TENANTS.get(t) + "'s view " + when);
    }
  }

  /**
   * The tenant's view in one round trip on each of its connections: every question pipelined (the
   * dumps' first pages too; a dump that says there is more is paged on afterwards).
   */
  private static View readView(int tenant) {
    RawConnection c = text[tenant];
    StringBuilder request = new StringBuilder("get");
    for (String key : KEYS) {
      request.append(' ').append(key).append(" _whack/of/").append(key);
    }
    for (String name : SEGMENTS) {
      request.append(" _whack/size/").append(name);
    }
    request.append(" _whack/count/exists(age)\r\nseglist\r\n");
    for (String name : SEGMENTS) {
      request.append(withBlock("segcount", name, "")).append(withBlock("segmembers", name, " 100"));
    }
    request.append("dimlist\r\nitemdump 100\r\nsegdump 0 100\r\n\r\n");
    c.send(request.toString());
    binary[tenant].send(request(0x64, 0, 0, new byte[0], new byte[0], new byte[0])); // SegList
    Map<String, String> answers = new LinkedHashMap<>();
    Map<String, String> values = new TreeMap<>(readValues(c));
    values.replaceAll(
        (key, value) -> {
          if (!key.startsWith("_whack/of/")) {
            return value;
          }
          int space = value.indexOf(' ');
          String names = value.substring(space + 1);
          TreeSet<String> sorted =
              new TreeSet<>(names.isEmpty() ? List.of() : List.of(names.split(",")));
          return value.substring(0, space) + " " + String.join(",", sorted);
        });
    answers.put("get", values.toString());
    Map<String, String> seglist = new TreeMap<>();
    for (String head = line(c); !head.equals("END"); head = line(c)) {
      String[] f = head.split(" ");
      assertEquals("SEGMENT", f[0], head);
      seglist.put(f[1], f[2] + " " + block(c, Integer.parseInt(f[3])));
    }
    answers.put("seglist", seglist.toString());
    for (String name : SEGMENTS) {
      answers.put("segcount " + name, line(c));
      String head = line(c);
      if (head.startsWith("CLIENT_ERROR")) {
        answers.put("segmembers " + name, head);
        continue;
      }
      TreeSet<String> members = new TreeSet<>();
      for (; !head.equals("END") && !head.startsWith("NEXT "); head = line(c)) {
        members.add(head.startsWith("KEY ") ? head.substring(4) : head);
      }
      answers.put("segmembers " + name, head.equals("END") ? members.toString() : members + head);
    }
    TreeSet<String> dimensions = new TreeSet<>();
    for (String head = line(c); !head.equals("END"); head = line(c)) {
      dimensions.add(head.split(" ")[1]);
    }
    answers.put("dimlist", dimensions.toString());
    Map<String, String> items = new TreeMap<>();
    String itemCursor = itemPage(c, items);
    Map<String, String> profiles = new TreeMap<>();
    String profileCursor = profilePage(c, profiles);
    while (itemCursor != null) {
      c.send("itemdump 100 " + itemCursor + "\r\n");
      itemCursor = itemPage(c, items);
    }
    while (profileCursor != null) {
      c.send("segdump 0 100 " + profileCursor + "\r\n\r\n");
      profileCursor = profilePage(c, profiles);
    }
    answers.put("itemdump", items.toString());
    answers.put("segdump", profiles.toString());
    Map<String, String> binarySeglist = new TreeMap<>();
    for (BinaryPacket p = BinaryPacket.read(binary[tenant]); !p.isEmpty(); ) {
      assertEquals(0, p.status(), p::toString);
      binarySeglist.put(p.keyText(), ByteBuffer.wrap(p.extras()).getLong() + " " + p.valueText());
      p = BinaryPacket.read(binary[tenant]);
    }
    answers.put("binary seglist", binarySeglist.toString());
    return new View(answers);
  }

  /**
   * One page of {@code itemdump} into {@code items} (key to "flags ttl value"); its NEXT cursor.
   */
  private static String itemPage(RawConnection c, Map<String, String> items) {
    for (String head = line(c); !head.equals("END"); head = line(c)) {
      String[] f = head.split(" ");
      if (f[0].equals("NEXT")) {
        return f[1];
      }
      assertEquals("ITEM", f[0], head);
      items.put(f[1], f[2] + " " + f[3] + " " + block(c, Integer.parseInt(f[4])));
    }
    return null;
  }

  /** One page of {@code segdump} into {@code profiles} (key to JSON); its NEXT cursor. */
  private static String profilePage(RawConnection c, Map<String, String> profiles) {
    for (String head = line(c); !head.equals("END"); head = line(c)) {
      String[] f = head.split(" ");
      if (f[0].equals("NEXT")) {
        return f[1];
      }
      assertEquals("PROFILE", f[0], head);
      profiles.put(f[1], block(c, Integer.parseInt(f[2])));
    }
    return null;
  }

  /** A data block of {@code length} bytes and its "\r\n", as text. */
  private static String block(RawConnection c, int length) {
    return new String(c.read(length + 2), 0, length, UTF_8);
  }

  /** The hits of a get, key to "flags value", up to its END. */
  private static Map<String, String> readValues(RawConnection c) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String head = line(c); !head.equals("END"); head = line(c)) {
      String[] f = head.split(" ");
      assertEquals("VALUE", f[0], head);
      int length = Integer.parseInt(f[3]);
      values.put(f[1], f[2] + " " + new String(c.read(length + 2), 0, length, UTF_8));
    }
    return values;
  }

  // ---- the node and its connections ----------------------------------------------------------

  private static String user(int tenant) {
    return tenant == 0 ? "admin" : TENANTS.get(tenant) + "-admin";
  }

  /** Starts the node (again) on the data directory, with every tenant saved there. */
  private static void startNode() {
    node = EmbeddedNode.start(c -> c.authFile(users).dataDir(dir.resolve("data")));
  }

  /** Logs the tenant's user in on a text and a binary connection. */
  private static void login(int tenant) {
    String user = user(tenant);
    RawConnection c = node.connect();
    c.send(TestUsers.textAuth(user));
    assertEquals("STORED", line(c), user + " logs in");
    text[tenant] = c;
    RawConnection b = node.connect();
    b.send(
        request(
            0x21,
            0,
            0,
            new byte[0],
            bytes("PLAIN"),
            bytes("\0" + user + "\0" + TestUsers.password(user))));
    BinaryPacket p = BinaryPacket.read(b);
    assertEquals(0, p.status(), () -> user + " logs in over binary: " + p);
    binary[tenant] = b;
  }

  private static void closeConnections() {
    for (int t = 0; t < TENANTS.size(); t++) {
      if (text[t] != null) {
        text[t].close();
        text[t] = null;
      }
      if (binary[t] != null) {
        binary[t].close();
        binary[t] = null;
      }
    }
  }

  private static String ask(int tenant, String request) {
    text[tenant].send(request);
    return line(text[tenant]);
  }

  private static BinaryPacket binaryAsk(
      int tenant, int opcode, byte[] extras, String key, String value) {
    binary[tenant].send(request(opcode, 0, 0, extras, bytes(key), bytes(value)));
    return BinaryPacket.read(binary[tenant]);
  }

  /**
   * A command whose data block follows its line: {@code command}, the block's byte count, then
   * {@code rest} of the line.
   */
  private static String withBlock(String command, String data, String rest) {
    return command + " " + data.getBytes(UTF_8).length + rest + "\r\n" + data + "\r\n";
  }

  private static String line(RawConnection c) {
    return c.readLine().strip();
  }

  private static Map<String, Long> attributes(Object... nameThenValue) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < nameThenValue.length; i += 2) {
      m.put((String) nameThenValue[i], (Long) nameThenValue[i + 1]);
    }
    return m;
  }
}

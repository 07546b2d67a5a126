package dev.whack.node.profiles;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.int4;
import static dev.whack.node.testing.BinaryPacket.read;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.Attribute;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The profile and segment opcodes of the binary protocol (0x60-0x6b, docs/protocol.md "Binary
 * opcodes") as raw packets on a real socket: each response's header fields, extras, key and value,
 * the opaque echoed on every response of a multi-response answer, quiet opcodes that stay quiet,
 * errors with Whack's reason as the body, and shapes that do not fit the opcode answered "Invalid
 * arguments" and closed, as memcached does for its own opcodes.
 */
class BinaryProfileOpcodesTest {
  private static final int GET = 0x00;
  private static final int SET = 0x01;
  private static final int INCREMENT = 0x05;
  private static final int NOOP = 0x0a;
  private static final int GETK = 0x0c;
  private static final int GAT = 0x1d;
  private static final int APPEND = 0x0e;
  private static final int UPDATE = 0x60;
  private static final int UPDATEQ = 0x61;
  private static final int SEG_DEFINE = 0x62;
  private static final int SEG_DROP = 0x63;
  private static final int SEG_LIST = 0x64;
  private static final int SEG_COUNT = 0x65;
  private static final int SEG_MEMBERS = 0x66;
  private static final int SEG_OF = 0x67;
  private static final int FILTER_COUNT = 0x68;
  private static final int FILTER_MEMBERS = 0x69;
  private static final int WATCH = 0x6a;
  private static final int UNWATCH = 0x6b;

  private static final int OK = 0x00;
  private static final int NOT_FOUND = 0x01;
  private static final int TOO_LARGE = 0x03;
  private static final int INVALID = 0x04;
  private static final int PROTOBUF_FLAGS = 0x77680001;
  private static final byte[] NONE = new byte[0];

  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;
  private int nextOpaque = 0x1000;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Packets

  /** Sends one request and reads its single response, checking opcode and opaque. */
  private BinaryPacket call(int opcode, byte[] extras, byte[] key, byte[] value) {
    int opaque = nextOpaque++;
    conn.send(request(opcode, opaque, 0, extras, key, value));
    BinaryPacket p = read(conn);
    assertEquals(opcode, p.opcode(), p::toString);
    assertEquals(opaque, p.opaque(), () -> "opaque echoed: " + p);
    return p;
  }

  /**
   * Sends one request and reads responses until the empty one that ends a multi-response answer.
   */
  private List<BinaryPacket> callMany(int opcode, byte[] extras, byte[] key, byte[] value) {
    int opaque = nextOpaque++;
    conn.send(request(opcode, opaque, 0, extras, key, value));
    List<BinaryPacket> out = new ArrayList<>();
    while (true) {
      BinaryPacket p = read(conn);
      assertEquals(opcode, p.opcode(), p::toString);
      assertEquals(opaque, p.opaque(), () -> "every response carries the opaque: " + p);
      assertEquals(OK, p.status(), p::toString);
      if (p.key().length == 0 && p.value().length == 0 && p.extras().length == 0) {
        return out;
      }
      out.add(p);
    }
  }

  private void assertError(BinaryPacket p, int status, String bodyPrefix) {
    assertEquals(status, p.status(), p::toString);
    assertEquals(0, p.extras().length, p::toString);
    assertEquals(0, p.key().length, p::toString);
    assertTrue(
        p.valueText().startsWith(bodyPrefix),
        () -> "body of " + p + " should start with " + bodyPrefix);
  }

  private void assertStillAnswering(RawConnection c) {
    c.send(request(NOOP, 0x4e4f, 0, NONE, NONE, NONE));
    BinaryPacket p = read(c);
    assertEquals(NOOP, p.opcode(), p::toString);
    assertEquals(0x4e4f, p.opaque());
  }

  private void set(String key, int flags, String json) {
    byte[] extras = ByteBuffer.allocate(8).putInt(flags).putInt(0).array();
    BinaryPacket p = call(SET, extras, bytes(key), bytes(json));
    assertEquals(OK, p.status(), p::toString);
  }

  private long define(String name, String expression) {
    BinaryPacket p = call(SEG_DEFINE, NONE, bytes(name), bytes(expression));
    assertEquals(OK, p.status(), p::toString);
    assertEquals(0, p.key().length);
    assertEquals(0, p.extras().length);
    return p.valueLong();
  }

  private long count(int opcode, String body) {
    BinaryPacket p = call(opcode, NONE, NONE, bytes(body));
    assertEquals(OK, p.status(), p::toString);
    return p.valueLong();
  }

  /** Pages with SegMembers/FilterMembers until the cursor response's key is empty. */
  private List<String> members(int opcode, String body, int limit) {
    List<String> keys = new ArrayList<>();
    byte[] cursor = NONE;
    for (int pages = 0; pages < 10_000; pages++) {
      List<BinaryPacket> page = new ArrayList<>();
      int opaque = nextOpaque++;
      conn.send(request(opcode, opaque, 0, int4(limit), cursor, bytes(body)));
      // Members, then the cursor response; a page never holds more than `limit` members.
      for (int i = 0; i <= limit; i++) {
        BinaryPacket p = read(conn);
        assertEquals(opcode, p.opcode(), p::toString);
        assertEquals(opaque, p.opaque(), p::toString);
        assertEquals(OK, p.status(), p::toString);
        assertEquals(0, p.extras().length, p::toString);
        assertEquals(0, p.value().length, () -> "member and cursor responses carry no value: " + p);
        page.add(p);
        if (i == limit || p.key().length == 0) {
          break;
        }
      }
      BinaryPacket last = page.remove(page.size() - 1);
      for (BinaryPacket member : page) {
        keys.add(member.keyText());
      }
      if (last.key().length == 0) {
        return keys;
      }
      assertEquals(limit, page.size(), "a cursor comes only after a full page");
      cursor = last.key();
    }
    throw new AssertionError("paging never ended");
  }

  private BinaryPacket update(int opcode, byte[] extras, String key, byte[] body) {
    return call(opcode, extras, bytes(key), body);
  }

  // ---------------------------------------------------------------------------------------------
  // Update and UpdateQ

  @Test
  void shouldAnswerAnAppliedUpdateWithExtrasOneAndAReplayedSequenceWithExtrasZero() {
    assertEquals(0, define("dk", "country == \"DK\""));
    BinaryPacket applied =
        update(
            UPDATE,
            NONE,
            "user:1",
            bytes("{\"set\":{\"country\":\"DK\"},\"producer\":\"p\",\"seq\":1}"));
    assertEquals(OK, applied.status(), applied::toString);
    assertArrayEquals(int4(1), applied.extras(), "1: applied");
    assertEquals(0, applied.key().length);
    assertEquals(0, applied.value().length);
    assertNotEquals(0, applied.cas(), "an applied update carries the profile's new cas");
    assertEquals(1, count(SEG_COUNT, "dk"));

    BinaryPacket replay =
        update(
            UPDATE,
            NONE,
            "user:1",
            bytes("{\"set\":{\"country\":\"SE\"},\"producer\":\"p\",\"seq\":1}"));
    assertEquals(OK, replay.status(), replay::toString);
    assertArrayEquals(int4(0), replay.extras(), "0: ignored as a replay");
    assertEquals(1, count(SEG_COUNT, "dk"), "a replay changes nothing");

    BinaryPacket next =
        update(
            UPDATE,
            NONE,
            "user:1",
            bytes("{\"set\":{\"country\":\"SE\"},\"producer\":\"p\",\"seq\":2}"));
    assertArrayEquals(int4(1), next.extras());
    assertNotEquals(applied.cas(), next.cas(), "every applied update changes the cas");
    assertEquals(0, count(SEG_COUNT, "dk"));

    BinaryPacket get = call(GET, NONE, bytes("user:1"), NONE);
    assertEquals(OK, get.status());
    assertArrayEquals(int4(0), get.extras(), "a profile created by an update has flags 0");
    assertEquals("{\"country\":\"SE\",\"$producers\":{\"p\":2}}", get.valueText());
    assertEquals(next.cas(), get.cas());
  }

  @Test
  void shouldStaySilentOnASuccessfulUpdateQAndStillAnswerItsErrors() {
    set("plain-before", 0, "opaque");
    int ok = nextOpaque++;
    int clash = nextOpaque++;
    int opaqueItem = nextOpaque++;
    ByteArrayOutputStream batch = new ByteArrayOutputStream();
    batch.writeBytes(
        request(UPDATEQ, ok, 0, NONE, bytes("user:1"), bytes("{\"incr\":{\"visits\":1}}")));
    batch.writeBytes(
        request(UPDATEQ, clash, 0, NONE, bytes("user:1"), bytes("{\"add\":{\"visits\":[\"x\"]}}")));
    batch.writeBytes(request(UPDATEQ, opaqueItem, 0, NONE, bytes("plain-before"), bytes("{}")));
    batch.writeBytes(request(NOOP, 0x4e4f, 0, NONE, NONE, NONE));
    conn.send(batch.toByteArray());
    BinaryPacket first = read(conn);
    assertEquals(clash, first.opaque(), () -> "the successful UpdateQ must stay silent: " + first);
    assertError(first, INVALID, "bad update: ");
    BinaryPacket second = read(conn);
    assertEquals(opaqueItem, second.opaque(), second::toString);
    assertError(second, INVALID, "not a profile");
    BinaryPacket noop = read(conn);
    assertEquals(NOOP, noop.opcode(), noop::toString);
    assertEquals(
        "{\"visits\":1}",
        call(GET, NONE, bytes("user:1"), NONE).valueText(),
        "only the first UpdateQ applied");
  }

  @Test
  void shouldReadAnUpdateAsProtobufOnlyWhenItsExtrasCarryTheProfileFlags() {
    define("dk", "country == \"DK\"");
    // Update.key is field 1: a 123-byte key makes the message begin with the bytes "\n{".
    Update update =
        Update.newBuilder()
            .setKey("k".repeat(123))
            .addSet(
                Attribute.newBuilder()
                    .setName("country")
                    .setValue(Value.newBuilder().setStringValue("DK")))
            .build();
    byte[] body = update.toByteArray();
    assertEquals('\n', body[0]);
    assertEquals('{', body[1]);
    BinaryPacket asJson = update(UPDATE, NONE, "user:1", body);
    assertError(asJson, INVALID, "bad update: ");
    assertEquals(
        NOT_FOUND, call(GET, NONE, bytes("user:1"), NONE).status(), "nothing half-applied");
    BinaryPacket asProtobuf = update(UPDATE, int4(PROTOBUF_FLAGS), "user:1", body);
    assertEquals(OK, asProtobuf.status(), asProtobuf::toString);
    assertArrayEquals(int4(1), asProtobuf.extras());
    assertEquals(1, count(SEG_COUNT, "dk"));
    BinaryPacket json = update(UPDATE, int4(0), "user:2", bytes("{\"set\":{\"country\":\"DK\"}}"));
    assertArrayEquals(int4(1), json.extras(), "extras with other flags: the body is JSON");
    assertEquals(2, count(SEG_COUNT, "dk"));
  }

  @Test
  void shouldRejectABadOrClashingUpdateWithItsReasonAndApplyNoneOfIt() {
    set("user:1", 0, "{\"country\":\"DK\",\"visits\":1}");
    assertError(update(UPDATE, NONE, "user:1", bytes("{\"set\":")), INVALID, "bad update: ");
    assertError(
        update(
            UPDATE,
            NONE,
            "user:1",
            bytes("{\"set\":{\"country\":\"SE\"},\"incr\":{\"country\":1}}")),
        INVALID,
        "bad update: ");
    assertError(update(UPDATE, NONE, "user:1", bytes("{\"bogus\":1}")), INVALID, "bad update: ");
    assertEquals(
        "{\"country\":\"DK\",\"visits\":1}", call(GET, NONE, bytes("user:1"), NONE).valueText());
  }

  // ---------------------------------------------------------------------------------------------
  // Segments

  @Test
  void shouldDefineWithAnEightByteSizeAndDropWithNotFoundWhenAbsent() {
    set("user:1", 0, "{\"country\":\"DK\"}");
    set("user:2", 0, "{\"country\":\"DK\"}");
    set("user:3", 0, "{\"country\":\"SE\"}");
    assertEquals(2, define("dk", "country == \"DK\""), "backfilled before the answer");
    assertEquals(1, define("dk", "country == \"SE\""), "a redefinition replaces");
    BinaryPacket dropped = call(SEG_DROP, NONE, bytes("dk"), NONE);
    assertEquals(OK, dropped.status(), dropped::toString);
    assertEquals(0, dropped.extras().length + dropped.key().length + dropped.value().length);
    assertError(call(SEG_DROP, NONE, bytes("dk"), NONE), NOT_FOUND, "Not found");
    assertError(call(SEG_COUNT, NONE, NONE, bytes("dk")), INVALID, "unknown segment dk");
  }

  @Test
  void shouldDropASegmentOthersReadOnlyWithForceAsItsValue() {
    set("user:1", 0, "{\"country\":\"DK\"}");
    assertEquals(1, define("dk", "country == \"DK\""));
    assertEquals(1, define("dk_too", "in_segment(\"dk\")"));
    assertError(
        call(SEG_DROP, NONE, bytes("dk"), NONE),
        INVALID,
        "segment dk is read by dk_too (in_segment, entered or time_in); drop those first, or drop it with force to"
            + " drop them too");
    assertError(call(SEG_DROP, NONE, bytes("dk"), bytes("forcE")), INVALID, "");
    assertEquals(OK, call(SEG_DROP, NONE, bytes("dk"), bytes("force")).status());
    assertTrue(callMany(SEG_LIST, NONE, NONE, NONE).isEmpty(), "the reader went with it");
  }

  @Test
  void shouldListEverySegmentWithItsSizeInExtrasThenAnEmptyResponse() {
    assertTrue(
        callMany(SEG_LIST, NONE, NONE, NONE).isEmpty(), "no segments: just the empty response");
    set("user:1", 0, "{\"country\":\"DK\",\"age\":40}");
    set("user:2", 0, "{\"country\":\"DK\",\"age\":10}");
    define("dk", "country == \"DK\"");
    define("adults", "age >= 18");
    define("go_del-1.x:y", "exists(age)");
    List<BinaryPacket> list = callMany(SEG_LIST, NONE, NONE, NONE);
    assertEquals(3, list.size(), list::toString);
    String[][] expected = {
      {"dk", "2", "country == \"DK\""},
      {"adults", "1", "age >= 18"},
      {"go_del-1.x:y", "2", "exists(age)"}
    };
    for (int i = 0; i < expected.length; i++) {
      BinaryPacket p = list.get(i);
      assertEquals(expected[i][0], p.keyText(), p::toString);
      assertEquals(8, p.extras().length, p::toString);
      assertEquals(
          Long.parseLong(expected[i][1]), ByteBuffer.wrap(p.extras()).getLong(), p::toString);
      assertEquals(expected[i][2], p.valueText(), p::toString);
    }
  }

  @Test
  void shouldCountAQueryAndPageItsMembersUntilAnEmptyCursor() {
    define("even", "n >= 0 and parity == 0");
    define("big", "n >= 20");
    Set<String> evenNotBig = new TreeSet<>();
    Set<String> all = new TreeSet<>();
    for (int i = 0; i < 37; i++) {
      set("user:" + i, 0, "{\"n\":" + i + ",\"parity\":" + i % 2 + "}");
      all.add("user:" + i);
      if (i % 2 == 0 && i < 20) {
        evenNotBig.add("user:" + i);
      }
    }
    assertEquals(evenNotBig.size(), count(SEG_COUNT, "even and not big"));
    assertEquals(0, count(SEG_COUNT, "even and not even"));
    assertEquals(37 - evenNotBig.size(), count(SEG_COUNT, "not (even and not big)"));
    for (int limit : new int[] {1, 2, 3, 9, 10, 100}) {
      List<String> got = members(SEG_MEMBERS, "even and not big", limit);
      assertEquals(evenNotBig, new TreeSet<>(got), "limit " + limit);
      assertEquals(evenNotBig.size(), got.size(), "no member twice, limit " + limit);
      List<String> single = members(SEG_MEMBERS, "big", limit);
      assertEquals(17, new HashSet<>(single).size(), "single segment, limit " + limit);
      assertEquals(17, single.size());
    }
    List<String> everyone = members(SEG_MEMBERS, "even or not even", 5);
    assertEquals(all, new TreeSet<>(everyone));
  }

  @Test
  void shouldListTheSegmentsOfAKeyThenAnEmptyResponse() {
    define("dk", "country == \"DK\"");
    define("adults", "age >= 18");
    define("young", "age < 18");
    set("user:1", 0, "{\"country\":\"DK\",\"age\":31}");
    List<String> names = new ArrayList<>();
    for (BinaryPacket p : callMany(SEG_OF, NONE, bytes("user:1"), NONE)) {
      assertEquals(0, p.extras().length + p.value().length, p::toString);
      names.add(p.keyText());
    }
    assertEquals(List.of("dk", "adults"), names);
    assertTrue(
        callMany(SEG_OF, NONE, bytes("nobody"), NONE).isEmpty(),
        "a missing key: just the empty response");
  }

  @Test
  void shouldGiveEachMembershipsEnteredTimeWhenSegOfAsksSince() {
    define("dk", "country == \"DK\"");
    set("user:1", 0, "{\"country\":\"DK\"}");
    long at = clock.millis();
    clock.advanceMillis(1_500);
    define("adults", "age >= 18");
    set("user:1", 0, "{\"country\":\"DK\",\"age\":31}");
    List<String> got = new ArrayList<>();
    for (BinaryPacket p : callMany(SEG_OF, NONE, bytes("user:1"), bytes("since"))) {
      assertEquals(8, p.value().length, p::toString);
      got.add(p.keyText() + " " + ByteBuffer.wrap(p.value()).getLong());
    }
    assertEquals(List.of("dk " + at, "adults " + (at + 1_000)), got, "kept to the second");
    assertError(call(SEG_OF, NONE, bytes("user:1"), bytes("sincE")), INVALID, "");
  }

  @Test
  void shouldCountAndPageAnAdHocFilter() {
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < 23; i++) {
      String tags = i % 3 == 0 ? "[\"vip\"]" : "[]";
      set("user:" + i, 0, "{\"age\":" + (10 + i) + ",\"tags\":" + tags + "}");
      if (i % 3 == 0 && 10 + i > 15) {
        expected.add("user:" + i);
      }
    }
    String filter = "\"vip\" in tags and age > 15";
    assertEquals(expected.size(), count(FILTER_COUNT, filter));
    for (int limit : new int[] {1, 4, 50}) {
      assertEquals(
          expected, new TreeSet<>(members(FILTER_MEMBERS, filter, limit)), "limit " + limit);
    }
    assertEquals(0, count(FILTER_COUNT, "exists(nosuch)"));
    assertTrue(members(FILTER_MEMBERS, "exists(nosuch)", 3).isEmpty());
  }

  @Test
  void shouldStoreAJsonValueWithSetAndReturnItCanonicallyWithItsFlags() {
    define("dk", "country == \"DK\"");
    set("user:1", 0x1234, " {\"country\": \"DK\", \"seen\": \"2026-11-20T12:00:00+02:00\"} ");
    BinaryPacket get = call(GET, NONE, bytes("user:1"), NONE);
    assertEquals(OK, get.status(), get::toString);
    assertArrayEquals(int4(0x1234), get.extras(), "the flags the client gave");
    assertEquals("{\"country\":\"DK\",\"seen\":\"2026-11-20T10:00:00Z\"}", get.valueText());
    BinaryPacket getk = call(GETK, NONE, bytes("user:1"), NONE);
    assertEquals("user:1", getk.keyText());
    assertEquals(get.valueText(), getk.valueText());
    assertEquals(1, count(SEG_COUNT, "dk"));
    BinaryPacket size = call(GET, NONE, bytes("_whack/size/dk"), NONE);
    assertArrayEquals(int4(0), size.extras());
    assertEquals("1", size.valueText(), "a virtual key over binary Get");
    BinaryPacket in = call(GET, NONE, bytes("_whack/in/dk/user:1"), NONE);
    assertEquals("1", in.valueText());
    BinaryPacket unknown = call(GETK, NONE, bytes("_whack/size/nosuch"), NONE);
    assertEquals(NOT_FOUND, unknown.status(), "an unknown segment is a miss");
    assertEquals("_whack/size/nosuch", unknown.keyText());
  }

  /**
   * Reserved keys follow one rule in every protocol: binary GAT answered a miss where text gat
   * answered from the segments, and Update created a profile under the key that no get could read.
   */
  @Test
  void shouldAnswerAVirtualKeyOverGatAndRefuseAnUpdateOfOne() {
    define("dk", "country == \"DK\"");
    set("user:1", 0, "{\"country\":\"DK\"}");
    BinaryPacket gat = call(GAT, int4(100), bytes("_whack/size/dk"), NONE);
    assertEquals(OK, gat.status(), gat::toString);
    assertEquals("1", gat.valueText());
    assertError(
        call(UPDATE, NONE, bytes("_whack/x"), bytes("{\"set\":{\"country\":\"DK\"}}")),
        INVALID,
        "reserved key");
    assertEquals(1, count(SEG_COUNT, "dk"), "no profile under the reserved key");
  }

  @Test
  void shouldStoreAProtobufProfileUnderItsFlagsAndReturnItInProtobuf() throws Exception {
    define("dk", "country == \"DK\"");
    dev.whack.proto.Profile profile =
        dev.whack.proto.Profile.newBuilder()
            .addAttributes(
                Attribute.newBuilder()
                    .setName("country")
                    .setValue(Value.newBuilder().setStringValue("DK")))
            .build();
    set("pb", PROTOBUF_FLAGS, "");
    assertEquals(
        OK, call(GET, NONE, bytes("pb"), NONE).status(), "an empty protobuf is an empty profile");
    byte[] extras = ByteBuffer.allocate(8).putInt(PROTOBUF_FLAGS).putInt(0).array();
    assertEquals(OK, call(SET, extras, bytes("pb"), profile.toByteArray()).status());
    assertEquals(1, count(SEG_COUNT, "dk"));
    BinaryPacket get = call(GET, NONE, bytes("pb"), NONE);
    assertArrayEquals(int4(PROTOBUF_FLAGS), get.extras());
    assertEquals(profile, dev.whack.proto.Profile.parseFrom(get.value()));
    assertError(call(SET, extras, bytes("pb"), bytes("not a protobuf")), INVALID, "bad profile: ");
    assertEquals(
        profile,
        dev.whack.proto.Profile.parseFrom(call(GET, NONE, bytes("pb"), NONE).value()),
        "the old profile stays");
  }

  @Test
  void shouldLeaveAProfileAndItsSegmentsAloneWhenACasDoesNotMatch() {
    define("dk", "country == \"DK\"");
    set("user:1", 0, "{\"country\":\"DK\"}");
    long cas = call(GET, NONE, bytes("user:1"), NONE).cas();
    byte[] extras = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
    int opaque = nextOpaque++;
    conn.send(
        request(SET, opaque, cas + 1, extras, bytes("user:1"), bytes("{\"country\":\"SE\"}")));
    BinaryPacket stale = read(conn);
    assertEquals(0x02, stale.status(), stale::toString);
    assertEquals(1, count(SEG_COUNT, "dk"), "a refused cas changes no segment");
    conn.send(request(SET, opaque, cas, extras, bytes("user:1"), bytes("{\"country\":\"SE\"}")));
    BinaryPacket fresh = read(conn);
    assertEquals(OK, fresh.status(), fresh::toString);
    assertNotEquals(cas, fresh.cas());
    assertEquals(0, count(SEG_COUNT, "dk"));
    BinaryPacket add = call(0x02, extras, bytes("user:1"), bytes("{\"country\":\"DK\"}"));
    assertEquals(0x02, add.status(), "Add over an existing profile: " + add);
    BinaryPacket replace = call(0x03, extras, bytes("user:2"), bytes("{\"country\":\"DK\"}"));
    assertEquals(NOT_FOUND, replace.status(), "Replace of a missing key: " + replace);
    assertEquals(0, count(SEG_COUNT, "dk"), "neither Add nor Replace stored anything");
  }

  @Test
  void shouldRefuseToAppendToOrIncrementAProfileWithTheReason() {
    set("user:1", 0, "{\"n\":1}");
    assertError(
        call(APPEND, NONE, bytes("user:1"), bytes("x")),
        INVALID,
        "cannot append or prepend to a profile");
    byte[] incrExtras = ByteBuffer.allocate(20).putLong(1).putLong(0).putInt(0).array();
    assertError(
        call(INCREMENT, incrExtras, bytes("user:1"), NONE),
        INVALID,
        "cannot increment or decrement a profile");
    byte[] setExtras = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
    assertError(call(SET, setExtras, bytes("_whack/size/x"), bytes("1")), INVALID, "reserved key");
    byte[] profileExtras = ByteBuffer.allocate(8).putInt(0x77680002).putInt(0).array();
    assertError(
        call(SET, profileExtras, bytes("user:1"), bytes("{\"n\":")), INVALID, "bad profile: ");
    assertEquals("{\"n\":1}", call(GET, NONE, bytes("user:1"), NONE).valueText());
  }

  // ---------------------------------------------------------------------------------------------
  // Bad input

  @Test
  void shouldAnswerBadExpressionsQueriesAndCursorsWithTheReasonAndKeepServing() {
    define("dk", "country == \"DK\"");
    assertError(
        call(SEG_DEFINE, NONE, bytes("broken"), bytes("country == ")),
        INVALID,
        "bad expression at position 11: ");
    assertError(
        call(FILTER_COUNT, NONE, NONE, bytes("age >")), INVALID, "bad expression at position 5: ");
    assertError(
        call(FILTER_MEMBERS, int4(10), NONE, bytes("(age > 1")),
        INVALID,
        "bad expression at position 8: ");
    assertError(
        call(SEG_COUNT, NONE, NONE, bytes("dk and")), INVALID, "bad expression at position 6: ");
    assertError(
        call(SEG_MEMBERS, int4(10), NONE, bytes("dk or nosuch")),
        INVALID,
        "unknown segment nosuch");
    assertError(
        call(SEG_DEFINE, NONE, bytes("and"), bytes("exists(a)")), INVALID, "bad segment name and");
    assertError(
        call(SEG_DEFINE, NONE, bytes("9lives"), bytes("exists(a)")),
        INVALID,
        "bad segment name 9lives");
    assertError(
        call(SEG_MEMBERS, int4(10), bytes("not-a-cursor"), bytes("dk")), INVALID, "bad cursor");
    BinaryPacket zero = call(SEG_MEMBERS, int4(0), NONE, bytes("dk"));
    assertError(zero, INVALID, "");
    assertTrue(zero.valueText().contains("limit"), zero::toString);
    BinaryPacket negative = call(FILTER_MEMBERS, int4(-1), NONE, bytes("exists(a)"));
    assertError(negative, INVALID, "");
    assertTrue(negative.valueText().contains("limit"), negative::toString);
    assertTrue(
        callMany(SEG_LIST, NONE, NONE, NONE).size() == 1,
        "nothing was defined from a rejected expression");
    assertStillAnswering(conn);
  }

  @Test
  void shouldRefuseAnExpressionOver64KiBWithoutReadingItAsARequest() {
    byte[] huge = new byte[70_000];
    // Bytes that would parse as requests if the node resynchronised inside the skipped value.
    for (int i = 0; i < huge.length; i++) {
      huge[i] = (byte) 0x80;
    }
    assertError(call(SEG_DEFINE, NONE, bytes("big"), huge), TOO_LARGE, "Too large.");
    assertStillAnswering(conn);
    assertTrue(callMany(SEG_LIST, NONE, NONE, NONE).isEmpty());
  }

  static Stream<Arguments> badShapes() {
    byte[] k = bytes("k");
    byte[] v = bytes("exists(a)");
    return Stream.of(
        Arguments.of("Update without a key", request(UPDATE, 1, 0, NONE, NONE, bytes("{}"))),
        Arguments.of("Update without a value", request(UPDATE, 1, 0, NONE, k, NONE)),
        Arguments.of(
            "Update with 8 bytes of extras", request(UPDATE, 1, 0, new byte[8], k, bytes("{}"))),
        Arguments.of("UpdateQ without a value", request(UPDATEQ, 1, 0, NONE, k, NONE)),
        Arguments.of("SegDefine without a name", request(SEG_DEFINE, 1, 0, NONE, NONE, v)),
        Arguments.of("SegDefine without an expression", request(SEG_DEFINE, 1, 0, NONE, k, NONE)),
        Arguments.of(
            "SegDefine with 8 bytes of extras", request(SEG_DEFINE, 1, 0, new byte[8], k, v)),
        Arguments.of(
            "SegDefine's dry run without an expression",
            request(SEG_DEFINE, 1, 0, int4(1), k, NONE)),
        Arguments.of("SegDrop with a value", request(SEG_DROP, 1, 0, NONE, k, v)),
        Arguments.of("SegDrop without a name", request(SEG_DROP, 1, 0, NONE, NONE, NONE)),
        Arguments.of("SegList with a key", request(SEG_LIST, 1, 0, NONE, k, NONE)),
        Arguments.of("SegList with a value", request(SEG_LIST, 1, 0, NONE, NONE, v)),
        Arguments.of("SegCount without a query", request(SEG_COUNT, 1, 0, NONE, NONE, NONE)),
        Arguments.of("SegCount with a key", request(SEG_COUNT, 1, 0, NONE, k, v)),
        Arguments.of("SegMembers without a limit", request(SEG_MEMBERS, 1, 0, NONE, NONE, v)),
        Arguments.of(
            "SegMembers with 8 bytes of extras", request(SEG_MEMBERS, 1, 0, new byte[8], NONE, v)),
        Arguments.of("SegMembers without a query", request(SEG_MEMBERS, 1, 0, int4(5), k, NONE)),
        Arguments.of("SegOf without a key", request(SEG_OF, 1, 0, NONE, NONE, NONE)),
        Arguments.of("SegOf with a value", request(SEG_OF, 1, 0, NONE, k, v)),
        Arguments.of("FilterCount with extras", request(FILTER_COUNT, 1, 0, int4(5), NONE, v)),
        Arguments.of("FilterMembers without a limit", request(FILTER_MEMBERS, 1, 0, NONE, NONE, v)),
        Arguments.of("Watch without names", request(WATCH, 1, 0, NONE, NONE, NONE)),
        Arguments.of("Unwatch with a value", request(UNWATCH, 1, 0, NONE, NONE, v)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badShapes")
  void shouldAnswerInvalidArgumentsAndCloseWhenTheShapeDoesNotFitTheOpcode(
      String name, byte[] request) {
    try (RawConnection c = node.connect()) {
      // A NoOp right behind it must never be answered: the connection ends at the bad header.
      c.send(request).send(request(NOOP, 2, 0, NONE, NONE, NONE));
      BinaryPacket p = read(c);
      assertEquals(request[1] & 0xff, p.opcode(), p::toString);
      assertEquals(1, p.opaque(), p::toString);
      assertError(p, INVALID, "Invalid arguments");
      assertTrue(c.isClosedByPeer(), name + ": the connection must be closed");
    }
    assertStillAnswering(conn);
  }

  // ---------------------------------------------------------------------------------------------
  // Watch

  @Test
  void shouldStreamChangesToABinaryWatcherWithItsOpaqueUntilUnwatch() {
    define("dk", "country == \"DK\"");
    try (RawConnection watcher = node.connect()) {
      watcher.send(request(WATCH, 0x77, 0, NONE, NONE, bytes("dk")));
      BinaryPacket ok = read(watcher);
      assertEquals(WATCH, ok.opcode());
      assertEquals(OK, ok.status(), ok::toString);
      assertEquals(0x77, ok.opaque());
      set("user:1", 0, "{\"country\":\"DK\"}");
      set("user:1", 0, "{\"country\":\"SE\"}");
      for (int enter : new int[] {1, 0}) {
        BinaryPacket change = read(watcher);
        assertEquals(WATCH, change.opcode(), change::toString);
        assertEquals(OK, change.status(), change::toString);
        assertEquals(0x77, change.opaque(), "changes carry the watch's opaque");
        assertEquals("user:1", change.keyText());
        assertEquals("dk", change.valueText());
        assertEquals(9, change.extras().length);
        assertEquals(enter, change.extras()[0], enter == 1 ? "enter" : "leave");
        assertEquals(clock.millis(), ByteBuffer.wrap(change.extras(), 1, 8).getLong());
      }
      watcher.send(request(UNWATCH, 0x78, 0, NONE, NONE, NONE));
      BinaryPacket unwatched = read(watcher);
      assertEquals(UNWATCH, unwatched.opcode(), unwatched::toString);
      assertEquals(0x78, unwatched.opaque());
      set("user:1", 0, "{\"country\":\"DK\"}");
      assertStillAnswering(watcher); // the NoOp comes back first: no change after the unwatch
      watcher.send(request(WATCH, 0x79, 0, NONE, NONE, bytes("dk nosuch")));
      assertError(read(watcher), INVALID, "unknown segment nosuch");
    }
  }
}

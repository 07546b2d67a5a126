package dev.whack.node.cluster;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.int4;
import static dev.whack.node.testing.BinaryPacket.read;
import static dev.whack.node.testing.BinaryPacket.request;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.HashRing;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The binary segment opcodes asked of one node of three answer for the whole cluster, as the text
 * commands do (docs/cluster.md): counts and sizes summed over the members, a definition and a drop
 * reaching every member, member pages walking every member behind one cursor, and a profile's
 * segments from its owner.
 */
class BinaryClusterSegmentsTest {
  private static final int SET = 0x01;
  private static final int NOOP = 0x0a;
  private static final int SEG_DEFINE = 0x62;
  private static final int SEG_DROP = 0x63;
  private static final int SEG_LIST = 0x64;
  private static final int SEG_COUNT = 0x65;
  private static final int SEG_MEMBERS = 0x66;
  private static final int SEG_OF = 0x67;
  private static final int FILTER_COUNT = 0x68;
  private static final int FILTER_MEMBERS = 0x69;
  private static final int OK = 0x00;
  private static final int NOT_FOUND = 0x01;
  private static final int INVALID = 0x04;
  private static final int TEMPORARY_FAILURE = 0x86;
  private static final byte[] NONE = new byte[0];
  private static final int PROFILES = 300;

  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private List<String> members;

  /** Each profile's country and age, as stored. */
  private final Map<String, String> countries = new HashMap<>();

  private final Map<String, Integer> ages = new HashMap<>();
  private int nextOpaque = 0x2000;

  @BeforeEach
  void start() throws IOException {
    int[] ports = ForwardingTest.freePorts(3);
    members = new ArrayList<>();
    for (int port : ports) {
      members.add("127.0.0.1:" + port);
    }
    for (int port : ports) {
      nodes.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
    }
    ForwardingTest.awaitConnected(nodes);
    Random random = new Random(11);
    String[] choices = {"DK", "SE", "NO"};
    try (RawConnection text = nodes.get(2).connect()) {
      for (int i = 0; i < PROFILES; i++) {
        String key = "p" + i;
        countries.put(key, choices[random.nextInt(3)]);
        ages.put(key, random.nextInt(90));
        String json = "{\"country\":\"" + countries.get(key) + "\",\"age\":" + ages.get(key) + "}";
        text.send("set " + key + " 0 0 " + json.length() + "\r\n" + json + "\r\n");
        assertEquals("STORED\r\n", text.readLine());
      }
    }
  }

  @AfterEach
  void stop() {
    nodes.forEach(EmbeddedNode::close);
  }

  @Test
  void shouldAnswerBinarySegmentOpcodesForTheWholeClusterFromOneNode() {
    Set<String> danes = keysWhere(k -> countries.get(k).equals("DK"));
    Set<String> old = keysWhere(k -> ages.get(k) >= 60);
    Set<String> youngNotSwedes = keysWhere(k -> ages.get(k) < 30 && !countries.get(k).equals("SE"));
    try (RawConnection bin = nodes.get(0).connect()) {
      BinaryPacket defined = call(bin, SEG_DEFINE, NONE, bytes("dk"), bytes("country == \"DK\""));
      assertEquals(OK, defined.status(), defined::toString);
      assertEquals(danes.size(), defined.valueLong(), "backfill sizes add up over the members");
      BinaryPacket definedOld = call(bin, SEG_DEFINE, NONE, bytes("old"), bytes("age >= 60"));
      assertEquals(old.size(), definedOld.valueLong());
      for (EmbeddedNode node : nodes) {
        assertEquals(List.of("dk", "old"), localSegments(node), "defined on every member");
      }

      assertEquals(danes.size(), count(bin, SEG_COUNT, "dk"));
      assertEquals(
          danes.stream().filter(old::contains).count(), count(bin, SEG_COUNT, "dk and old"));
      String filter = "age < 30 and country != \"SE\"";
      assertEquals(youngNotSwedes.size(), count(bin, FILTER_COUNT, filter));

      List<BinaryPacket> list = callMany(bin, SEG_LIST, NONE, NONE, NONE);
      assertEquals(2, list.size(), list::toString);
      assertEquals("dk", list.get(0).keyText());
      assertEquals(danes.size(), ByteBuffer.wrap(list.get(0).extras()).getLong());
      assertEquals("country == \"DK\"", list.get(0).valueText());
      assertEquals("old", list.get(1).keyText());
      assertEquals(old.size(), ByteBuffer.wrap(list.get(1).extras()).getLong());

      Set<String> union = new HashSet<>(danes);
      union.addAll(old);
      assertEquals(union, pageAll(bin, SEG_MEMBERS, "dk or old", 7));
      assertEquals(youngNotSwedes, pageAll(bin, FILTER_MEMBERS, filter, 5));
      assertEquals(danes, pageAll(bin, SEG_MEMBERS, "dk", 100_000), "one page per member");

      String elsewhere =
          keyOwnedByAnotherThan(0, k -> countries.get(k).equals("DK") && ages.get(k) >= 60);
      List<BinaryPacket> in = callMany(bin, SEG_OF, NONE, bytes(elsewhere), NONE);
      assertEquals(
          List.of("dk", "old"),
          in.stream().map(BinaryPacket::keyText).sorted().toList(),
          elsewhere);
      List<BinaryPacket> since = callMany(bin, SEG_OF, NONE, bytes(elsewhere), bytes("since"));
      assertEquals(
          in.stream().map(BinaryPacket::keyText).toList(),
          since.stream().map(BinaryPacket::keyText).toList(),
          "SegOf since forwarded to the owner as SegOf is");
      for (BinaryPacket p : since) {
        long entered = ByteBuffer.wrap(p.value()).getLong();
        assertTrue(
            entered > 0 && entered % 1000 == 0 && entered <= System.currentTimeMillis(),
            p.toString());
      }

      assertEquals(OK, call(bin, SEG_DROP, NONE, bytes("old"), NONE).status());
      assertEquals(NOT_FOUND, call(bin, SEG_DROP, NONE, bytes("old"), NONE).status());
      for (EmbeddedNode node : nodes) {
        assertEquals(List.of("dk"), localSegments(node), "dropped on every member");
      }
    }
  }

  @Test
  void shouldAnswerClusterErrorsInBinaryTermsAndKeepRepliesInRequestOrder() {
    try (RawConnection bin = nodes.get(1).connect()) {
      BinaryPacket defined = call(bin, SEG_DEFINE, NONE, bytes("dk"), bytes("country == \"DK\""));
      assertEquals(OK, defined.status(), defined::toString);
      // Pipelined: each answer waits for the members, yet comes back in request order.
      ByteArrayOutputStream pipeline = new ByteArrayOutputStream();
      pipeline.writeBytes(request(SEG_COUNT, 1, 0, NONE, NONE, bytes("dk")));
      pipeline.writeBytes(request(SEG_COUNT, 2, 0, NONE, NONE, bytes("nosuch")));
      pipeline.writeBytes(request(NOOP, 3, 0, NONE, NONE, NONE));
      pipeline.writeBytes(request(SEG_MEMBERS, 4, 0, int4(10), bytes("x"), bytes("dk")));
      pipeline.writeBytes(request(FILTER_COUNT, 5, 0, NONE, NONE, bytes("age >")));
      pipeline.writeBytes(request(SEG_DROP, 6, 0, NONE, bytes("nosuch"), NONE));
      pipeline.writeBytes(request(FILTER_COUNT, 7, 0, NONE, NONE, bytes("age >= 0")));
      bin.send(pipeline.toByteArray());
      BinaryPacket count = read(bin);
      assertEquals(1, count.opaque());
      assertEquals(countries.values().stream().filter("DK"::equals).count(), count.valueLong());
      BinaryPacket unknown = read(bin);
      assertEquals(2, unknown.opaque());
      assertEquals(INVALID, unknown.status(), unknown::toString);
      assertEquals("unknown segment nosuch", unknown.valueText());
      assertEquals(3, read(bin).opaque());
      BinaryPacket badCursor = read(bin);
      assertEquals(4, badCursor.opaque());
      assertEquals(INVALID, badCursor.status(), badCursor::toString);
      assertEquals("bad cursor", badCursor.valueText());
      BinaryPacket badExpression = read(bin);
      assertEquals(5, badExpression.opaque());
      assertEquals(INVALID, badExpression.status(), badExpression::toString);
      assertTrue(badExpression.valueText().startsWith("bad expression"), badExpression::toString);
      BinaryPacket notFound = read(bin);
      assertEquals(6, notFound.opaque());
      assertEquals(NOT_FOUND, notFound.status(), notFound::toString);
      BinaryPacket all = read(bin);
      assertEquals(7, all.opaque());
      assertEquals(PROFILES, all.valueLong());
    }
  }

  @Test
  void shouldFailASegmentQuestionNamingAStoppedMemberRatherThanAnswerForPart() {
    try (RawConnection bin = nodes.get(0).connect()) {
      BinaryPacket defined = call(bin, SEG_DEFINE, NONE, bytes("dk"), bytes("country == \"DK\""));
      assertEquals(OK, defined.status(), defined::toString);
      nodes.get(2).close();
      for (int opcode : new int[] {SEG_COUNT, FILTER_COUNT, SEG_LIST}) {
        byte[] body = opcode == SEG_LIST ? NONE : bytes(opcode == SEG_COUNT ? "dk" : "age > 1");
        BinaryPacket failed = call(bin, opcode, NONE, NONE, body);
        assertEquals(TEMPORARY_FAILURE, failed.status(), failed::toString);
        assertTrue(failed.valueText().contains(members.get(2)), failed::toString);
      }
      // Pages name members by their index in ring order (sorted names).
      List<String> ring = members.stream().sorted().toList();
      String stopped = ring.indexOf(members.get(2)) + ":";
      BinaryPacket page = call(bin, SEG_MEMBERS, int4(10), bytes(stopped), bytes("dk"));
      assertEquals(TEMPORARY_FAILURE, page.status(), page::toString);
      assertTrue(page.valueText().contains(members.get(2)), page::toString);
      String up = ring.indexOf(members.get(1)) + ":";
      List<BinaryPacket> upPage =
          callMany(bin, SEG_MEMBERS, int4(100_000), bytes(up), bytes("dk"), true);
      assertFalse(upPage.isEmpty(), "a member that is up still answers its page");
      call(bin, NOOP, NONE, NONE, NONE); // and the connection goes on
    }
  }

  @Test
  void shouldListAKeyOfAnotherMemberByteForByteWhateverItsBytes() {
    HashRing ring = HashRing.of(members);
    byte[] key = null;
    for (int i = 0; key == null; i++) {
      byte[] candidate = ("\u00fc k%" + i).getBytes(UTF_8);
      if (!ring.owner(candidate).equals(members.get(0))) {
        key = candidate;
      }
    }
    try (RawConnection bin = nodes.get(0).connect();
        RawConnection text = nodes.get(0).connect()) {
      byte[] setExtras = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
      BinaryPacket stored = call(bin, SET, setExtras, key, bytes("{\"country\":\"FI\"}"));
      assertEquals(OK, stored.status(), stored::toString);
      assertEquals(
          OK, call(bin, SEG_DEFINE, NONE, bytes("fi"), bytes("country == \"FI\"")).status());
      List<BinaryPacket> page = callMany(bin, SEG_MEMBERS, int4(100_000), NONE, bytes("fi"), true);
      List<byte[]> listed = new ArrayList<>();
      while (!page.isEmpty()) {
        for (BinaryPacket p : page.subList(0, page.size() - 1)) {
          listed.add(p.key());
        }
        byte[] cursor = page.get(page.size() - 1).key();
        page =
            cursor.length == 0
                ? List.of()
                : callMany(bin, SEG_MEMBERS, int4(100_000), cursor, bytes("fi"), true);
      }
      assertEquals(1, listed.size());
      assertEquals(Arrays.toString(key), Arrays.toString(listed.get(0)), "the key's own bytes");
      String escaped = "%C3%BC%20k%25" + new String(key, UTF_8).substring(4);
      StringBuilder lines = new StringBuilder();
      String line = "NEXT 0:\r\n";
      while (line.startsWith("NEXT ")) {
        text.send("segmembers 2 100000 " + line.substring(5) + "fi\r\n");
        while ((line = text.readLine()).startsWith("KEY ")) {
          lines.append(line);
        }
      }
      assertEquals("END\r\n", line);
      assertTrue(lines.toString().contains("KEY " + escaped + "\r\n"), lines::toString);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private Set<String> keysWhere(java.util.function.Predicate<String> test) {
    Set<String> keys = new HashSet<>();
    for (String key : countries.keySet()) {
      if (test.test(key)) {
        keys.add(key);
      }
    }
    return keys;
  }

  private String keyOwnedByAnotherThan(int node, java.util.function.Predicate<String> test) {
    HashRing ring = HashRing.of(members);
    for (String key : keysWhere(test)) {
      if (!ring.owner(key).equals(members.get(node))) {
        return key;
      }
    }
    throw new AssertionError("no such key on another member");
  }

  /** The segments a node holds itself, by name, from the text command {@code local seglist}. */
  private static List<String> localSegments(EmbeddedNode node) {
    List<String> names = new ArrayList<>();
    try (RawConnection text = node.connect()) {
      text.send("local seglist\r\n");
      String line;
      while (!(line = text.readLine()).equals("END\r\n")) {
        names.add(line.split(" ")[1]);
        text.readLine(); // the expression
      }
    }
    return names;
  }

  private long count(RawConnection c, int opcode, String expression) {
    BinaryPacket p = call(c, opcode, NONE, NONE, bytes(expression));
    assertEquals(OK, p.status(), p::toString);
    return p.valueLong();
  }

  /** Pages until the cursor response's key is empty; every key comes once. */
  private Set<String> pageAll(RawConnection c, int opcode, String expression, int limit) {
    Set<String> keys = new HashSet<>();
    byte[] cursor = NONE;
    Set<String> cursors = new HashSet<>();
    for (int pages = 0; pages < 1_000; pages++) {
      List<BinaryPacket> page = callMany(c, opcode, int4(limit), cursor, bytes(expression), true);
      BinaryPacket last = page.remove(page.size() - 1);
      assertTrue(page.size() <= limit, "at most the limit");
      for (BinaryPacket member : page) {
        assertTrue(keys.add(member.keyText()), () -> "repeated " + member);
      }
      if (last.key().length == 0) {
        return keys;
      }
      assertTrue(cursors.add(last.keyText()), () -> "a cursor seen before: " + last);
      assertNotEquals(-1, last.keyText().indexOf(':'), "a cluster cursor <member>:<cursor>");
      cursor = last.key();
    }
    throw new AssertionError("paging never ended");
  }

  private BinaryPacket call(RawConnection c, int opcode, byte[] extras, byte[] key, byte[] value) {
    int opaque = nextOpaque++;
    c.send(request(opcode, opaque, 0, extras, key, value));
    BinaryPacket p = read(c);
    assertEquals(opcode, p.opcode(), p::toString);
    assertEquals(opaque, p.opaque(), p::toString);
    return p;
  }

  private List<BinaryPacket> callMany(
      RawConnection c, int opcode, byte[] extras, byte[] key, byte[] value) {
    List<BinaryPacket> responses = callMany(c, opcode, extras, key, value, false);
    responses.remove(responses.size() - 1);
    return responses;
  }

  /**
   * Responses until the closing one (empty, or for a page the one without a value after the
   * members), which is included.
   */
  private List<BinaryPacket> callMany(
      RawConnection c, int opcode, byte[] extras, byte[] key, byte[] value, boolean page) {
    int opaque = nextOpaque++;
    c.send(request(opcode, opaque, 0, extras, key, value));
    List<BinaryPacket> out = new ArrayList<>();
    while (true) {
      BinaryPacket p = read(c);
      assertEquals(opcode, p.opcode(), p::toString);
      assertEquals(opaque, p.opaque(), p::toString);
      assertEquals(OK, p.status(), p::toString);
      out.add(p);
      boolean closing =
          page
              ? p.key().length == 0 || isCursor(p.keyText())
              : p.key().length == 0 && p.value().length == 0 && p.extras().length == 0;
      if (closing) {
        return out;
      }
    }
  }

  /** A cluster cursor is {@code <member>:<cursor>}; no profile key here looks like one. */
  private static boolean isCursor(String key) {
    return key.matches("[0-9]+:.*");
  }
}

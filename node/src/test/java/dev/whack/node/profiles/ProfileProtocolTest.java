package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Profiles and segments over the text protocol, on a real node and a raw socket. */
class ProfileProtocolTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

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

  private void set(String key, String json) {
    set(key, 0, json);
  }

  private void set(String key, int exptime, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    conn.send("set " + key + " 0 " + exptime + " " + body.length + "\r\n" + json + "\r\n");
    assertEquals("STORED\r\n", conn.readLine());
  }

  private String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  private void define(String name, String expression, long expectedSize) {
    conn.send(block("segdef " + name + " <n>", expression));
    assertEquals("DEFINED " + expectedSize + "\r\n", conn.readLine());
  }

  private String segof(String key) {
    conn.send("segof " + key + "\r\n");
    StringBuilder names = new StringBuilder();
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      assertTrue(line.startsWith("IN "), line);
      names.append(names.isEmpty() ? "" : ",").append(line, 3, line.length() - 2);
    }
    return names.toString();
  }

  private long count(String query) {
    conn.send(block("segcount <n>", query));
    String line = conn.readLine();
    assertTrue(line.startsWith("COUNT "), line);
    return Long.parseLong(line.substring(6, line.length() - 2));
  }

  @Test
  void shouldStoreAJsonValueAsAProfileAndReturnItCanonically() {
    set("user:1", "{ \"country\": \"DK\", \"age\": 31, \"tags\": [\"vip\"] }");
    conn.send("get user:1\r\n");
    String json = "{\"country\":\"DK\",\"age\":31,\"tags\":[\"vip\"]}";
    assertEquals("VALUE user:1 0 " + json.length() + "\r\n", conn.readLine());
    assertEquals(json + "\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }

  @Test
  void shouldPlaceAProfileInEverySegmentItMatches() {
    define("dk", "country == \"DK\"", 0);
    define("adults", "age >= 18", 0);
    set("user:1", "{\"country\":\"DK\",\"age\":31}");
    set("user:2", "{\"country\":\"SE\",\"age\":12}");
    assertEquals("dk,adults", segof("user:1"));
    assertEquals("", segof("user:2"));
    assertEquals(1, count("dk and adults"));
    define("young", "age < 18", 1); // backfilled over what exists
  }

  @Test
  void shouldMoveAProfileBetweenSegmentsOnUpdate() {
    define("dk", "country == \"DK\"", 0);
    define("buyers", "count(purchase, 30d) >= 2", 0);
    set("user:1", "{\"country\":\"SE\"}");
    conn.send(block("update user:1 <n>", "{\"set\":{\"country\":\"DK\"}}"));
    assertEquals("UPDATED\r\n", conn.readLine());
    assertEquals("dk", segof("user:1"));
    String purchase =
        "{\"events\":[{\"name\":\"purchase\",\"value\":10}],\"producer\":\"shop\",\"seq\":1}";
    conn.send(block("update user:1 <n>", purchase));
    assertEquals("UPDATED\r\n", conn.readLine());
    conn.send(block("update user:1 <n>", purchase));
    assertEquals(
        "IGNORED\r\n", conn.readLine(), "a replayed producer sequence is not counted twice");
    assertEquals("dk", segof("user:1"));
    conn.send(block("update user:1 <n>", purchase.replace("\"seq\":1", "\"seq\":2")));
    assertEquals("UPDATED\r\n", conn.readLine());
    assertEquals("dk,buyers", segof("user:1"));
  }

  @Test
  void shouldCreateAProfileWhenUpdatingAMissingKey() {
    define("dk", "country == \"DK\"", 0);
    conn.send(block("update fresh <n>", "{\"set\":{\"country\":\"DK\"}}"));
    assertEquals("UPDATED\r\n", conn.readLine());
    assertEquals("dk", segof("fresh"));
    conn.send("get fresh\r\n");
    assertEquals("VALUE fresh 0 16\r\n", conn.readLine());
    assertEquals("{\"country\":\"DK\"}\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }

  @Test
  void shouldRemoveADeletedProfileFromItsSegments() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", "{\"country\":\"DK\"}");
    conn.send("delete user:1\r\n");
    assertEquals("DELETED\r\n", conn.readLine());
    assertEquals(0, count("dk"));
  }

  @Test
  void shouldRemoveAnExpiredProfileFromItsSegmentsOnTimeWithoutARead() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", 10, "{\"country\":\"DK\"}");
    clock.advanceSeconds(9);
    node.node().runTimers();
    assertEquals(1, count("dk"));
    clock.advanceSeconds(1);
    node.node().runTimers();
    assertEquals(0, count("dk"), "expiry must not wait for the next read");
  }

  @Test
  void shouldRemoveProfilesOnFlushAndWhenOverwrittenByAnOpaqueValue() {
    define("dk", "country == \"DK\"", 0);
    set("a", "{\"country\":\"DK\"}");
    set("b", "{\"country\":\"DK\"}");
    conn.send("set a 0 0 5\r\nplain\r\n");
    assertEquals("STORED\r\n", conn.readLine());
    assertEquals(1, count("dk"));
    conn.send("flush_all\r\n");
    assertEquals("OK\r\n", conn.readLine());
    assertEquals(0, count("dk"));
  }

  @Test
  void shouldFollowTimeDependentSegmentsAsTheClockMoves() {
    define("recent", "last_seen > now() - 7d", 0);
    set("user:1", "{\"last_seen\":\"2026-11-19T10:00:00Z\"}");
    assertEquals(1, count("recent"));
    clock.advanceSeconds(6 * 24 * 3600);
    node.node().runTimers();
    assertEquals(0, count("recent"), "seen 7 days ago: left the segment when its answer changed");
  }

  @Test
  void shouldStreamEachEnterAndLeaveOnceAndInOrder() {
    define("dk", "country == \"DK\"", 0);
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      set("user:1", "{\"country\":\"DK\"}");
      conn.send(block("update user:1 <n>", "{\"set\":{\"country\":\"SE\"}}"));
      assertEquals("UPDATED\r\n", conn.readLine());
      conn.send(block("update user:1 <n>", "{\"set\":{\"country\":\"DK\"}}"));
      assertEquals("UPDATED\r\n", conn.readLine());
      conn.send("delete user:1\r\n");
      assertEquals("DELETED\r\n", conn.readLine());
      long now = clock.millis();
      assertEquals("CHANGE enter dk user:1 " + now + "\r\n", watcher.readLine());
      assertEquals("CHANGE leave dk user:1 " + now + "\r\n", watcher.readLine());
      assertEquals("CHANGE enter dk user:1 " + now + "\r\n", watcher.readLine());
      assertEquals("CHANGE leave dk user:1 " + now + "\r\n", watcher.readLine());
      watcher.send("unwatch\r\n");
      assertEquals("UNWATCHED\r\n", watcher.readLine());
    }
  }

  @Test
  void shouldPageMembersWithACursor() {
    define("all", "exists(n)", 0);
    for (int i = 0; i < 25; i++) {
      set("user:" + i, "{\"n\":" + i + "}");
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    String cursor = "";
    int pages = 0;
    while (true) {
      conn.send(block("segmembers <n> 10" + (cursor.isEmpty() ? "" : " " + cursor), "all"));
      pages++;
      String line;
      while ((line = conn.readLine()).startsWith("KEY ")) {
        assertTrue(seen.add(line.substring(4, line.length() - 2)), "repeated " + line);
      }
      if (line.equals("END\r\n")) {
        break;
      }
      assertTrue(line.startsWith("NEXT "), line);
      cursor = line.substring(5, line.length() - 2);
    }
    assertEquals(25, seen.size());
    assertEquals(3, pages);
  }

  @Test
  void shouldListDropAndCountWithFilters() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", "{\"country\":\"DK\",\"age\":40}");
    set("user:2", "{\"country\":\"DK\",\"age\":20}");
    conn.send("seglist\r\n");
    assertEquals("SEGMENT dk 2 15\r\n", conn.readLine());
    assertEquals("country == \"DK\"\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    conn.send(block("filtercount <n>", "age > 30"));
    assertEquals("COUNT 1\r\n", conn.readLine());
    conn.send(block("filtermembers <n> 10", "age > 30"));
    assertEquals("KEY user:1\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    conn.send("segdrop dk\r\nsegdrop dk\r\n");
    assertEquals("DROPPED\r\n", conn.readLine());
    assertEquals("NOT_FOUND\r\n", conn.readLine());
  }

  @Test
  void shouldDumpWholeProfilesWithTheirEventsPageByPage() {
    set("a", "{\"country\":\"DK\"}");
    conn.send(
        block(
            "update a <n>",
            "{\"events\":[{\"name\":\"buy\",\"value\":2}],\"producer\":\"p\",\"seq\":3}"));
    assertEquals("UPDATED\r\n", conn.readLine());
    set("b", "{\"country\":\"SE\"}");
    conn.send("segdump 0 1\r\n\r\n");
    String a =
        "{\"country\":\"DK\",\"$events\":{\"buy\":{\"$first\":\"2026-11-20T10:00:00Z\","
            + "\"$last\":\"2026-11-20T10:00:00Z\",\"2026-11-20\":[1,2.0,4.0]}},\"$producers\":{\"p\":3}}";
    assertEquals("PROFILE a " + a.length() + "\r\n", conn.readLine());
    assertEquals(a + "\r\n", conn.readLine());
    String next = conn.readLine();
    assertTrue(next.startsWith("NEXT "), next);
    conn.send("segdump 0 1 " + next.substring(5, next.length() - 2) + "\r\n\r\n");
    assertEquals("PROFILE b 16\r\n", conn.readLine());
    assertEquals("{\"country\":\"SE\"}\r\n", conn.readLine());
    next = conn.readLine();
    if (next.startsWith("NEXT ")) { // a full page may be followed by an empty last one
      conn.send("segdump 0 1 " + next.substring(5, next.length() - 2) + "\r\n\r\n");
      next = conn.readLine();
    }
    assertEquals("END\r\n", next);
  }

  @Test
  void shouldAnswerVirtualKeysForPlainClients() {
    define("dk", "country == \"DK\"", 0);
    define("adults", "age >= 18", 0);
    set("user:1", "{\"country\":\"DK\",\"age\":31}");
    set("user:2", "{\"country\":\"DK\",\"age\":3}");
    conn.send(
        "get _whack/size/dk _whack/size/dk%20and%20not%20adults _whack/in/dk/user:2"
            + " _whack/of/user:1 _whack/count/age%20%3E%2010 _whack/size/nope\r\n");
    assertEquals("VALUE _whack/size/dk 0 1\r\n", conn.readLine());
    assertEquals("2\r\n", conn.readLine());
    assertEquals("VALUE _whack/size/dk%20and%20not%20adults 0 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    assertEquals("VALUE _whack/in/dk/user:2 0 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    assertEquals("VALUE _whack/of/user:1 0 9\r\n", conn.readLine());
    assertEquals("dk,adults\r\n", conn.readLine());
    assertEquals("VALUE _whack/count/age%20%3E%2010 0 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine(), "an unknown segment is a miss");
  }

  /**
   * A reserved key is decided once for every command: text get and meta get answer it from the
   * segments, and nothing creates an item under it. Before, {@code mg} missed it, {@code update}
   * created a profile there and {@code ma N} an item, neither of which any get could read.
   */
  @Test
  void shouldAnswerReservedKeysAlikeAndNeverStoreUnderThem() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", "{\"country\":\"DK\"}");
    conn.send("mg _whack/size/dk v\r\n");
    assertEquals("VA 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    conn.send("gat 100 _whack/of/user:1\r\n");
    assertEquals("VALUE _whack/of/user:1 0 2\r\n", conn.readLine());
    assertEquals("dk\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());

    conn.send(block("update _whack/x <n>", "{\"set\":{\"country\":\"DK\"}}"));
    assertEquals("CLIENT_ERROR reserved key\r\n", conn.readLine());
    conn.send("ma _whack/n N0 J5 v\r\n");
    assertEquals("NF\r\n", conn.readLine());
    conn.send("mg _whack/n N0 v\r\n");
    assertEquals("EN\r\n", conn.readLine(), "a virtual key that names nothing is a miss");
    assertEquals(1, count("dk"), "no profile was created under a reserved key");
    conn.send("stats\r\n");
    String curr = null;
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      if (line.startsWith("STAT curr_items ")) {
        curr = line;
      }
    }
    assertEquals("STAT curr_items 1\r\n", curr);
  }

  @Test
  void shouldRejectBadInputWithClientErrorsAndChangeNothing() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", "{\"country\":\"DK\",\"visits\":1}");
    conn.send("set user:1 2003304450 0 12\r\n{\"country\": \r\n"); // the JSON profile flags
    String line = conn.readLine();
    assertTrue(line.startsWith("CLIENT_ERROR bad profile: "), line);
    conn.send(block("update user:1 <n>", "{\"incr\":{\"country\":1}}"));
    line = conn.readLine();
    assertTrue(line.startsWith("CLIENT_ERROR bad update: "), line);
    conn.send(block("segdef broken <n>", "country == "));
    line = conn.readLine();
    assertTrue(line.startsWith("CLIENT_ERROR bad expression at position 11: "), line);
    conn.send(block("segcount <n>", "nosuch and dk"));
    assertEquals("CLIENT_ERROR unknown segment nosuch\r\n", conn.readLine());
    conn.send("append user:1 0 0 1\r\nx\r\nincr user:1 1\r\n");
    assertEquals("CLIENT_ERROR cannot append or prepend to a profile\r\n", conn.readLine());
    assertEquals("CLIENT_ERROR cannot increment or decrement a profile\r\n", conn.readLine());
    conn.send("set plain 0 0 1\r\nx\r\n");
    assertEquals("STORED\r\n", conn.readLine());
    conn.send(block("update plain <n>", "{\"set\":{\"a\":1}}"));
    assertEquals("CLIENT_ERROR not a profile: the value is not a JSON object\r\n", conn.readLine());
    conn.send("set _whack/size/dk 0 0 1\r\nx\r\n");
    assertEquals("CLIENT_ERROR reserved key\r\n", conn.readLine());
    conn.send("watch nosuch\r\n");
    assertEquals("CLIENT_ERROR unknown segment nosuch\r\n", conn.readLine());
    conn.send("segdef big 70000\r\n" + "x".repeat(70000) + "\r\nsegof user:1\r\n");
    assertEquals("CLIENT_ERROR expression too long\r\n", conn.readLine());
    assertEquals("IN dk\r\n", conn.readLine(), "the profile is untouched and the connection works");
    assertEquals("END\r\n", conn.readLine());
    conn.send("get user:1\r\n");
    assertEquals("VALUE user:1 0 27\r\n", conn.readLine());
    assertEquals("{\"country\":\"DK\",\"visits\":1}\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }

  @Test
  void shouldKeepTheEncodingAProfileWasWrittenIn() throws Exception {
    dev.whack.proto.Profile profile =
        dev.whack.proto.Profile.newBuilder()
            .addAttributes(
                dev.whack.proto.Attribute.newBuilder()
                    .setName("country")
                    .setValue(dev.whack.proto.Value.newBuilder().setStringValue("DK")))
            .build();
    byte[] bytes = profile.toByteArray();
    conn.send("set pb " + Keyspace.PROTOBUF_PROFILE_FLAGS + " 0 " + bytes.length + "\r\n");
    conn.send(bytes).send("\r\n");
    assertEquals("STORED\r\n", conn.readLine());
    define("dk", "country == \"DK\"", 1);
    conn.send("get pb\r\n");
    assertEquals(
        "VALUE pb " + (Keyspace.PROTOBUF_PROFILE_FLAGS & 0xFFFFFFFFL) + " " + bytes.length + "\r\n",
        conn.readLine());
    byte[] value = conn.read(bytes.length);
    assertEquals(profile, dev.whack.proto.Profile.parseFrom(value));
    assertEquals("\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }

  /**
   * memcached's meta {@code I} on a set: "if supplied CAS is older than item's CAS, store the item
   * but mark it stale" (protocol.txt). The flag was dropped on the way to a profile's store, so a
   * late profile write was refused with EX instead.
   */
  @Test
  void shouldStoreALateProfileWriteMarkedStaleWithMetaI() {
    define("dk", "country == \"DK\"", 0);
    set("user:1", "{\"country\":\"SE\"}");
    conn.send("mg user:1 c\r\n");
    String hit = conn.readLine();
    assertTrue(hit.startsWith("HD c"), hit);
    long oldCas = Long.parseLong(hit.substring(4, hit.length() - 2));
    set("user:1", "{\"country\":\"NO\"}");

    String late = "{\"country\":\"DK\"}";
    conn.send("ms user:1 " + late.length() + " I C" + oldCas + "\r\n" + late + "\r\n");
    assertEquals("HD\r\n", conn.readLine());
    conn.send("mg user:1 v\r\n");
    assertEquals("VA " + late.length() + " X W\r\n", conn.readLine());
    assertEquals(late + "\r\n", conn.readLine());
    assertEquals("dk", segof("user:1"), "the stale profile is the stored one");

    conn.send("ms user:1 " + late.length() + " C" + oldCas + "\r\n" + late + "\r\n");
    assertEquals("EX\r\n", conn.readLine(), "without I an older cas is still refused");
  }
}

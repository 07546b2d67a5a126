package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, finding 1, "Name tables lock the node": attribute, event and producer names lived in
 * node-wide tables of 65,536 entries that were never freed and were copied whole for every new
 * name, so one update of 100k new names held an event loop for minutes and left the node refusing
 * every new attribute name for good, and 65,536 producers did the same to every update with a new
 * producer. Each test speaks to a real node over a socket.
 */
class NameTablesTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    wire = new ProfileWire(node.connect());
  }

  @AfterEach
  void stop() {
    wire.connection().close();
    node.close();
  }

  private long stat(String name) {
    String value = wire.stat(name);
    assertTrue(value != null, "stats has no " + name);
    return Long.parseLong(value);
  }

  /** Sends {@code n} update commands, pipelined in batches, and returns their replies in order. */
  private List<String> updates(int n, IntFunction<String> key, IntFunction<String> body) {
    List<String> replies = new ArrayList<>(n);
    int batch = 2_000;
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      StringBuilder sb = new StringBuilder();
      for (int i = from; i < to; i++) {
        sb.append(ProfileWire.block("update " + key.apply(i) + " <n>", body.apply(i)));
      }
      wire.connection().send(sb.toString().getBytes(StandardCharsets.UTF_8));
      for (int i = from; i < to; i++) {
        replies.add(ProfileWire.strip(wire.connection().readLine()));
      }
    }
    return replies;
  }

  private static void assertAll(String expected, List<String> replies) {
    for (int i = 0; i < replies.size(); i++) {
      assertEquals(expected, replies.get(i), "reply " + i);
    }
  }

  @Test
  void shouldRefuseAnUpdateOfHundredThousandNewAttributesAtOnceAndKeepServingOthers() {
    StringBuilder body = new StringBuilder("{\"set\":{");
    for (int i = 0; i < 100_000; i++) {
      body.append(i == 0 ? "" : ",").append('"').append(Integer.toString(i, 36)).append("\":0");
    }
    String update = ProfileWire.block("update big <n>", body.append("}}").toString());
    assertTrue(update.length() < 1 << 20, "under the default item size limit");
    wire.connection().send(update);
    // The old table took minutes of one event loop for this; every other connection is served.
    for (int c = 0; c < 4; c++) {
      try (RawConnection other = node.connect()) {
        other.send("set plain 0 0 1\r\nx\r\n");
        assertEquals("STORED\r\n", other.readLine());
      }
    }
    String refused = ProfileWire.strip(wire.connection().readLine());
    assertTrue(
        refused.startsWith("CLIENT_ERROR bad update: invalid JSON at line 1, column ")
            && refused.endsWith(
                ": too many attributes: an update holds at most 1024 attribute operations"),
        refused); // where the 1025th attribute stands: the rest is not even read
    assertEquals(0, stat("attribute_names"), "nothing interned");
    assertEquals("UPDATED", wire.update("small", "{\"set\":{\"fresh\":1}}"));
    assertEquals(1, stat("attribute_names"));
  }

  @Test
  void shouldReclaimTheNamesOfDeletedUpdatedExpiredAndFlushedProfiles() {
    assertEquals(0, wire.define("keep", "exists(kept)"));
    for (int i = 0; i < 200; i++) {
      StringBuilder json = new StringBuilder("{");
      for (int j = 0; j < 5; j++) {
        json.append('"')
            .append("u")
            .append(i)
            .append("_a")
            .append(j)
            .append("\":")
            .append(j)
            .append(',');
      }
      json.append("\"$events\":{\"ev").append(i).append("\":{\"2026-11-20\":[1]}}}");
      assertEquals("STORED", wire.set("u" + i, 0, i == 199 ? 60 : 0, json.toString()));
    }
    assertEquals(1 + 200 * 5, stat("attribute_names"));
    assertEquals(200, stat("event_names"));
    for (int i = 0; i < 100; i++) {
      assertEquals("DELETED", wire.line("delete u" + i));
    }
    assertEquals(1 + 100 * 5, stat("attribute_names"));
    assertEquals(100, stat("event_names"));
    assertEquals(
        "UPDATED",
        wire.update(
            "u100", "{\"unset\":[\"u100_a0\",\"u100_a1\",\"u100_a2\",\"u100_a3\",\"u100_a4\"]}"));
    assertEquals("STORED", wire.set("u101", 0, 0, "{\"other\":1}"));
    assertEquals(
        "CLIENT_ERROR bad update: cannot increment attribute \"u102_a0\": it holds a string",
        wire.update(
            "u102",
            "{\"set\":{\"new1\":1,\"new2\":2,\"u102_a0\":\"s\"},\"incr\":{\"u102_a0\":1}}"));
    assertEquals(
        1 + 98 * 5 + 1, stat("attribute_names"), "the rejected update left no name behind");
    clock.advanceMillis(61_000);
    node.node().runTimers(); // u199 expires
    assertEquals(1 + 97 * 5 + 1, stat("attribute_names"));
    assertEquals(99 - 1, stat("event_names"), "u101 was replaced without events, u199 expired");
    assertEquals("OK", wire.line("flush_all"));
    assertEquals(1, stat("attribute_names"), "the segment still reads \"kept\"");
    assertEquals(0, stat("event_names"));
    assertEquals("DROPPED", wire.line("segdrop keep"));
    assertEquals(0, stat("attribute_names"));
    assertEquals("STORED", wire.set("again", 0, 0, "{\"brand_new\":1}"));
    assertEquals(1, stat("attribute_names"));
  }

  /**
   * The soak found the node-wide table still a trap: profiles that stay alive hold their names, so
   * one writer that put 500 new names into each update filled all 65,536 names within 131 updates,
   * and every profile with a new name was refused from then on. Names now count against {@code
   * --memory} like items: a writer inventing names evicts the least recently used profiles, whose
   * names go with them, and a new name is still accepted afterwards.
   */
  @Test
  void shouldEvictProfilesRatherThanRefuseNewNamesWhenInventedNamesFillTheMemory() {
    long memory = 16 << 20;
    EmbeddedNode small = EmbeddedNode.startWithClock(clock, c -> c.memoryBytes(memory));
    try (RawConnection conn = small.connect()) {
      ProfileWire w = new ProfileWire(conn);
      String pad = "n".repeat(150);
      int profiles = 150; // 150,000 names of about 160 characters: some 70 MB of names
      for (int p = 0; p < profiles; p++) {
        StringBuilder json = new StringBuilder("{");
        for (int j = 0; j < 1000; j++) {
          json.append(j == 0 ? "" : ",").append('"').append(pad).append(p).append('_').append(j);
          json.append("\":1");
        }
        assertEquals("STORED", w.set("inventor" + p, 0, 0, json.append('}').toString()), "p" + p);
      }
      assertEquals("STORED", w.set("fresh", 0, 0, "{\"a_name_never_seen\":1}"));
      assertEquals("{\"a_name_never_seen\":1}", w.get("fresh"));
      long names = Long.parseLong(w.stat("attribute_names"));
      long nameBytes = Long.parseLong(w.stat("name_bytes"));
      long items = Long.parseLong(w.stat("bytes"));
      assertTrue(Long.parseLong(w.stat("evictions")) > 0, "old profiles were evicted");
      assertTrue(names < 100_000, names + " names in use");
      assertTrue(items + nameBytes <= memory, items + " + " + nameBytes + " bytes over " + memory);
    } finally {
      small.close();
    }
  }

  @Test
  void shouldKeepAcceptingNewProducersAfterSeventyThousandOnOneKey() {
    int n = 70_000;
    assertAll(
        "UPDATED",
        updates(n, i -> "one", i -> "{\"incr\":{\"n\":1},\"producer\":\"p" + i + "\",\"seq\":1}"));
    String json = wire.get("one");
    assertTrue(json.startsWith("{\"n\":70000,\"$producers\":{\"p69936\":1,"), json);
    assertEquals(64, json.split("\"p\\d+\":").length - 1, "a profile keeps at most 64 marks");
    String replay = "{\"incr\":{\"n\":1},\"producer\":\"p69999\",\"seq\":1}";
    assertEquals("IGNORED", wire.update("one", replay), "a recent producer's replay is caught");
    assertEquals(
        "UPDATED",
        wire.update("one", "{\"incr\":{\"n\":1},\"producer\":\"p0\",\"seq\":1}"),
        "the oldest marks made room: documented trade-off of a bounded profile");
  }

  @Test
  void shouldKeepAcceptingNewProducersAfterSeventyThousandOverManyKeysAndAFlush() {
    int n = 70_000;
    assertAll(
        "UPDATED",
        updates(n, i -> "k" + i, i -> "{\"set\":{\"v\":1},\"producer\":\"p" + i + "\",\"seq\":1}"));
    assertEquals("IGNORED", wire.update("k5", "{\"set\":{\"v\":2},\"producer\":\"p5\",\"seq\":1}"));
    assertEquals("OK", wire.line("flush_all"));
    assertEquals(
        "UPDATED", wire.update("k5", "{\"set\":{\"v\":2},\"producer\":\"fresh\",\"seq\":1}"));
  }

  @Test
  void shouldForgetAProducerMarkNotAdvancedForLongerThanItsAge() {
    String first = "{\"incr\":{\"n\":1},\"producer\":\"p1\",\"seq\":5}";
    assertEquals("UPDATED", wire.update("user", first));
    assertEquals("IGNORED", wire.update("user", first));
    clock.advanceMillis(30L * 86_400_000 + 1_000); // the default age is 30 days
    assertEquals("UPDATED", wire.update("user", "{\"producer\":\"p2\",\"seq\":1}"));
    assertEquals("{\"n\":1,\"$producers\":{\"p2\":1}}", wire.get("user"));
    assertEquals(
        "UPDATED", wire.update("user", first), "the forgotten mark no longer stops a replay");
    assertEquals("{\"n\":2,\"$producers\":{\"p2\":1,\"p1\":5}}", wire.get("user"));
  }

  @Test
  void shouldForgetProducerMarksAfterTheAgeTheNodeWasStartedWith() {
    try (EmbeddedNode hourly =
            EmbeddedNode.startWithClock(clock, c -> c.producerMarkAgeSeconds(3_600));
        RawConnection conn = hourly.connect()) {
      ProfileWire w = new ProfileWire(conn);
      String update = "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":1}";
      assertEquals("UPDATED", w.update("user", update));
      clock.advanceMillis(3_599_000);
      assertEquals("IGNORED", w.update("user", update), "a replay does not advance the mark");
      clock.advanceMillis(2_000);
      assertEquals("UPDATED", w.update("user", update));
      assertEquals("{\"n\":2,\"$producers\":{\"p\":1}}", w.get("user"));
    }
  }

  @Test
  void shouldRejectAProfileOrUpdateBeyondTheAttributeLimitAndKeepWhatIsStored() {
    StringBuilder json = new StringBuilder("{");
    for (int i = 0; i < 1024; i++) {
      json.append(i == 0 ? "" : ",").append("\"a").append(i).append("\":1");
    }
    String full = json + "}";
    assertEquals("STORED", wire.set("full", 0, 0, full));
    String reply = wire.set("full", 0x77680002, 0, json + ",\"one_more\":1}"); // the profile flags
    assertTrue(
        reply.startsWith("CLIENT_ERROR bad profile: ")
            && reply.endsWith("too many attributes: a profile holds at most 1024"),
        reply);
    assertEquals(
        "CLIENT_ERROR bad update: too many attributes: a profile holds at most 1024",
        wire.update("full", "{\"set\":{\"a5\":2,\"one_more\":1}}"));
    assertEquals(full, wire.get("full"));
    assertEquals(1024, stat("attribute_names"));
  }
}

package dev.whack.node.profiles;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import dev.whack.proto.Value;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, finding 4: a profile grown by updates reached 24.6 MB under a 1 MiB {@code
 * --max-item-size}, so a {@code get} returned a value no memcached client expects, the memory cap
 * could not evict it, and {@code me} said {@code size=56}. A profile's size is what a read returns
 * (its JSON, or its protobuf for a protobuf item); no write may make it larger than the limit.
 */
class ProfileSizeLimitTest {
  private static final int MAX_ITEM_SIZE = 16 * 1024;
  private static final long MEMORY_BYTES = 1L << 20;
  private static final String TOO_LARGE = "SERVER_ERROR object too large for cache";
  private static final int PROTOBUF_FLAGS = 0x77680001;
  private static final String PAD = "x".repeat(1000);

  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node =
        EmbeddedNode.startWithClock(
            ManualClock.at("2026-11-20T10:00:00Z"),
            c -> c.maxItemSize(MAX_ITEM_SIZE).memoryBytes(MEMORY_BYTES));
    conn = node.connect();
    wire = new ProfileWire(conn);
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** A 1 KB attribute per update; the update says which step it was in "n". */
  private static String grow(int step) {
    return "{\"set\":{\"n\":" + step + ",\"a" + step + "\":\"" + PAD + "\"}}";
  }

  @Test
  void shouldRejectUpdateThatGrowsProfilePastMaxItemSize() {
    assertEquals(0, wire.define("grown", "n >= 0"));
    String before = null;
    String refusal = null;
    int step = 0;
    for (; step < 40 && refusal == null; step++) { // 40 KB offered against a 16 KiB limit
      String reply = wire.update("big", grow(step));
      if (reply.equals("UPDATED")) {
        before = wire.get("big");
        assertTrue(before.length() <= MAX_ITEM_SIZE, "get returned " + before.length() + " bytes");
      } else {
        refusal = reply;
      }
    }
    assertEquals(TOO_LARGE, refusal, "an update past the limit is refused");
    assertNotNull(before);
    assertTrue(before.length() > MAX_ITEM_SIZE - 1200, "the profile grew to near the limit first");

    String casBefore = gets("big");
    assertEquals(TOO_LARGE, wire.update("big", grow(step)), "and refused again");
    assertEquals(before, wire.get("big"), "a refused update applies nothing");
    assertEquals(casBefore, gets("big"), "nor changes the cas");
    assertTrue(before.contains("\"n\":" + (step - 2) + ","), "n is from the last update applied");
    assertEquals(1, wire.count("segcount", "grown"));
    assertTrue(Long.parseLong(wire.stat("store_too_large")) >= 2);

    // Smaller updates still apply, and so does everything else.
    assertEquals("UPDATED", wire.update("big", "{\"incr\":{\"n\":1}}"));
    assertEquals("STORED", wire.set("other", 0, 0, "plain"));
  }

  @Test
  void shouldRejectBinaryUpdateThatGrowsProfilePastMaxItemSize() {
    int status = 0;
    int step = 0;
    try (RawConnection binary = node.connect()) {
      for (; step < 40 && status == 0; step++) {
        BinaryPacket p = binary(binary, 0x60, new byte[0], "big", grow(step).getBytes(UTF_8));
        status = p.status();
        if (status != 0) {
          assertEquals("Too large.", new String(p.value(), UTF_8));
        }
      }
    }
    assertEquals(0x03, status, "status Too large once the profile would pass the limit");
    String value = wire.get("big");
    assertTrue(value.length() <= MAX_ITEM_SIZE, value.length() + " bytes");
    assertTrue(value.contains("\"n\":" + (step - 2) + ","), "the refused update applied nothing");
  }

  /**
   * Canonical JSON can be longer than the document that was set: {@code 1e5} renders as {@code
   * 100000.0}. A set is refused when the rendering is over the limit, and like any value over the
   * limit it removes the old value where memcached 1.6.18 does: after a text or binary set, and
   * after an {@code ms} in any mode (recorded: {@code set p 0 0 1\r\na\r\nms p 1048577 MA\r\n...}
   * answers {@code SERVER_ERROR object too large for cache} and {@code get p} then misses).
   */
  @Test
  void shouldRejectSetOfProfileWhoseRenderingIsLargerThanMaxItemSize() {
    StringBuilder json = new StringBuilder("{");
    // names of ten characters keep the count under a profile's 1024 attributes
    for (int i = 0; json.length() < MAX_ITEM_SIZE - 20; i++) {
      json.append(i == 0 ? "" : ",").append(String.format("\"f%09d\":1e5", i));
    }
    String document = json.append('}').toString();
    assertTrue(document.length() <= MAX_ITEM_SIZE);

    assertEquals("STORED", wire.set("p", 0, 0, "{\"old\":1}"));
    assertEquals(TOO_LARGE, wire.set("p", 0, 0, document));
    assertNull(wire.get("p"), "a set refused for size removes the old value");

    for (String mode : new String[] {"MS", "MR"}) {
      assertEquals("STORED", wire.set("p", 0, 0, "{\"old\":1}"));
      conn.send(ProfileWire.block("ms p <n> " + mode, document));
      assertEquals(TOO_LARGE + "\r\n", conn.readLine(), "ms " + mode);
      assertNull(wire.get("p"), "ms " + mode);
    }
    assertEquals("STORED", wire.set("p", 0, 0, "{\"old\":1}"));
    conn.send(ProfileWire.block("ms p <n> ME", "y".repeat(MAX_ITEM_SIZE + 1)));
    assertEquals(TOO_LARGE + "\r\n", conn.readLine(), "ms of a plain value over the limit");
    assertNull(wire.get("p"), "ms of a plain value over the limit, in any mode");

    // The rendering is measured when the profile is written, so a condition that fails first is
    // answered as such; a write that would happen is refused.
    assertEquals("STORED", wire.set("p", 0, 0, "{\"old\":1}"));
    assertEquals("NOT_STORED", wire.call("add p 0 0 <n>", document), "add of an existing key");
    assertEquals(TOO_LARGE, wire.call("add q 0 0 <n>", document), "add of a new key");
    assertNull(wire.get("q"));
    assertEquals(TOO_LARGE, wire.call("replace p 0 0 <n>", document), "replace");
    assertEquals("{\"old\":1}", wire.get("p"), "only a set removes the old value, as memcached");

    try (RawConnection binary = node.connect()) {
      byte[] extras = ByteBuffer.allocate(8).putInt(0).putInt(0).array();
      BinaryPacket p = binary(binary, 0x01, extras, "p", document.getBytes(UTF_8));
      assertEquals(0x03, p.status(), "binary Set");
      assertEquals("Too large.", new String(p.value(), UTF_8));
    }
    assertNull(wire.get("p"), "binary Set removes the old value");
  }

  /**
   * What counts is what a get returns: a string of control characters is six bytes a character in
   * JSON and one in protobuf, so the same updates fit a protobuf profile and not a JSON one.
   */
  @Test
  void shouldMeasureAProfileInTheEncodingAGetReturns() {
    String controls = "\\u0001".repeat(2000);
    Profile small =
        Profile.newBuilder()
            .addAttributes(
                Attribute.newBuilder().setName("x").setValue(Value.newBuilder().setIntValue(1)))
            .build();
    String header = "set proto " + PROTOBUF_FLAGS + " 0 " + small.getSerializedSize() + "\r\n";
    conn.send(header.getBytes(UTF_8));
    conn.send(small.toByteArray()).send("\r\n");
    assertEquals("STORED\r\n", conn.readLine());
    assertEquals("STORED", wire.set("json", 0, 0, "{\"x\":1}"));
    for (String key : new String[] {"json", "proto"}) {
      assertEquals("UPDATED", wire.update(key, "{\"set\":{\"c1\":\"" + controls + "\"}}"), key);
    }
    assertEquals(TOO_LARGE, wire.update("json", "{\"set\":{\"c2\":\"" + controls + "\"}}"));
    assertEquals("UPDATED", wire.update("proto", "{\"set\":{\"c2\":\"" + controls + "\"}}"));
    assertTrue(value("proto").length <= MAX_ITEM_SIZE);
    assertTrue(value("json").length <= MAX_ITEM_SIZE);
  }

  /**
   * The cap holds while a profile grows: each update charges its growth, evicting other items as a
   * set would, and the growth stops at the item size limit, so the cache never holds more than
   * {@code --memory} (before: 64.8 MB held under {@code --memory 16m}).
   */
  @Test
  void shouldKeepMemoryUnderTheCapWhileUpdatesGrowAProfile() {
    StringBuilder fill = new StringBuilder();
    for (int i = 0; i < 1200; i++) {
      fill.append(ProfileWire.block("set fill:" + i + " 0 0 <n>", PAD));
    }
    conn.send(fill.toString());
    for (int i = 0; i < 1200; i++) {
      assertEquals("STORED\r\n", conn.readLine());
    }
    long evictionsBefore = Long.parseLong(wire.stat("evictions"));
    for (int key = 0; key < 60; key++) { // 60 profiles of up to 16 KiB: about the whole cap
      for (int step = 0; step < 20; step++) {
        String reply = wire.update("grow:" + key, grow(step));
        assertTrue(reply.equals("UPDATED") || reply.equals(TOO_LARGE), reply);
        long bytes = Long.parseLong(wire.stat("bytes"));
        assertTrue(bytes <= MEMORY_BYTES, "grow:" + key + " step " + step + ": " + bytes + " B");
      }
    }
    assertTrue(Long.parseLong(wire.stat("evictions")) > evictionsBefore, "growth evicts");
    String last = wire.get("grow:59");
    assertNotNull(last, "the profile just written is never its own victim");
    assertTrue(last.length() <= MAX_ITEM_SIZE);
  }

  /** memcached's {@code me} prints the item's size with its value: for a profile, its rendering. */
  @Test
  void shouldReportTheRenderedSizeOfAProfileInMe() {
    assertEquals("STORED", wire.set("pk", 0, 0, "{\"a\":1}"));
    assertEquals("UPDATED", wire.update("pk", grow(1)));
    int length = value("pk").length;
    assertTrue(length > 1000);
    conn.send("me pk\r\n");
    String me = conn.readLine();
    assertTrue(
        me.endsWith(" size=" + (2 + length + 59) + "\r\n"), () -> me + " for " + length + " bytes");
    conn.send("mg pk s\r\n");
    assertEquals("HD s" + length + "\r\n", conn.readLine());
  }

  // ---------------------------------------------------------------------------------------------

  private String gets(String key) {
    conn.send("gets " + key + "\r\n");
    String header = conn.readLine();
    String[] parts = header.trim().split(" ");
    conn.read(Integer.parseInt(parts[3]) + 2);
    assertEquals("END\r\n", conn.readLine());
    return parts[4];
  }

  private byte[] value(String key) {
    conn.send("get " + key + "\r\n");
    String header = conn.readLine();
    String[] parts = header.trim().split(" ");
    byte[] value = conn.read(Integer.parseInt(parts[3]));
    conn.read(2);
    assertEquals("END\r\n", conn.readLine());
    return value;
  }

  /** One binary request and its response, on a connection that speaks the binary protocol. */
  private static BinaryPacket binary(
      RawConnection binary, int opcode, byte[] extras, String key, byte[] value) {
    binary.send(BinaryPacket.request(opcode, 7, 0, extras, key.getBytes(UTF_8), value));
    return BinaryPacket.read(binary);
  }
}

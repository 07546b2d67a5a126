package dev.whack.node.profiles;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A memcached key is a string of bytes: the text protocol takes any bytes but space and control
 * characters, the binary protocol any bytes at all. Segment answers name profiles by key, so the
 * key a member listing, {@code segof} or a watch gives back must be the very bytes the profile was
 * stored under, and no key may break the framing of a text reply.
 */
class ProfileKeyBytesTest {
  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node = EmbeddedNode.startWithClock(ManualClock.at("2026-11-20T10:00:00Z"), c -> {});
    conn = node.connect();
    wire = new ProfileWire(conn);
    assertEquals(0, wire.define("dk", "country == \"DK\""));
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** Sends text whose key bytes are given as ISO-8859-1 characters, one char per byte. */
  private void sendBytes(String latin1) {
    conn.send(latin1.getBytes(ISO_8859_1));
  }

  private static String latin1(byte[] bytes) {
    return new String(bytes, ISO_8859_1);
  }

  private static byte[] binarySet(byte[] key, String json) {
    byte[] value = json.getBytes(UTF_8);
    ByteBuffer b = ByteBuffer.allocate(24 + 8 + key.length + value.length);
    b.put((byte) 0x80).put((byte) 0x01).putShort((short) key.length).put((byte) 8).put((byte) 0);
    b.putShort((short) 0).putInt(8 + key.length + value.length).putInt(0).putLong(0);
    b.putInt(0).putInt(0).put(key).put(value);
    return b.array();
  }

  private static byte[] binarySegMembers(String query) {
    byte[] value = query.getBytes(UTF_8);
    ByteBuffer b = ByteBuffer.allocate(24 + 4 + value.length);
    b.put((byte) 0x80).put((byte) 0x66).putShort((short) 0).put((byte) 4).put((byte) 0);
    b.putShort((short) 0).putInt(4 + value.length).putInt(0).putLong(0).putInt(100).put(value);
    return b.array();
  }

  /** The member keys of a binary SegMembers answer, as raw bytes in latin-1 form. */
  private static List<String> readBinaryMembers(RawConnection c) {
    List<String> keys = new ArrayList<>();
    while (true) {
      ByteBuffer h = ByteBuffer.wrap(c.read(24));
      assertEquals(0, h.getShort(6), "status");
      int keyLength = h.getShort(2) & 0xffff;
      byte[] body = c.read(h.getInt(8));
      if (keyLength == 0) {
        return keys;
      }
      keys.add(
          latin1(
              java.util.Arrays.copyOfRange(body, h.get(4) & 0xff, (h.get(4) & 0xff) + keyLength)));
    }
  }

  private static final String ESCAPED_UTF8_KEY = "user:%C3%B6%E2%98%83";

  @Test
  void shouldGiveBackAUtf8KeyExactlyInMembersSegofVirtualKeysAndWatch() {
    String key = latin1("user:\u00f6\u2603".getBytes(UTF_8)); // two- and three-byte UTF-8
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      sendBytes("set " + key + " 0 0 16\r\n{\"country\":\"DK\"}\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      String change = watcher.readLine();
      assertTrue(change.startsWith("CHANGE enter dk " + ESCAPED_UTF8_KEY + " "), change);
    }
    sendBytes(
        "segmembers 2 10\r\ndk\r\nfiltermembers 15 10\r\nexists(country)\r\nsegof " + key + "\r\n");
    // Listings percent-encode every byte outside printable ASCII (docs/protocol.md).
    assertEquals("KEY " + ESCAPED_UTF8_KEY + "\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    assertEquals("KEY " + ESCAPED_UTF8_KEY + "\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    assertEquals("IN dk\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    assertEquals("dk", wire.get("_whack/of/user:%C3%B6%E2%98%83"));
    try (RawConnection binary = node.connect()) {
      binary.send(binarySegMembers("dk"));
      assertEquals(List.of(key), readBinaryMembers(binary));
    }
  }

  @Test
  void shouldGiveBackAKeyThatIsNotUtf8ByteForByte() {
    String key = "caf\u00e9"; // one byte 0xE9: valid in a memcached key, not UTF-8
    sendBytes("set " + key + " 0 0 16\r\n{\"country\":\"DK\"}\r\nget " + key + "\r\n");
    assertEquals("STORED\r\n", conn.readLine());
    assertEquals(
        "VALUE " + key + " 0 16\r\n", conn.readLine(), "the key is stored under its bytes");
    assertEquals("{\"country\":\"DK\"}\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    sendBytes("segmembers 2 10\r\ndk\r\n");
    assertEquals("KEY caf%E9\r\n", conn.readLine(), "the member's key, its byte escaped");
    assertEquals("END\r\n", conn.readLine());
    sendBytes("filtermembers 15 10\r\nexists(country)\r\n");
    assertEquals("KEY caf%E9\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    try (RawConnection binary = node.connect()) {
      binary.send(binarySegMembers("dk"));
      assertEquals(List.of(key), readBinaryMembers(binary));
    }
  }

  @Test
  void shouldKeepATextListingParseableWhenABinaryKeyHoldsCrLf() {
    try (RawConnection binary = node.connect()) {
      binary.send(binarySet("evil\r\nEND".getBytes(UTF_8), "{\"country\":\"DK\"}"));
      ByteBuffer h = ByteBuffer.wrap(binary.read(24));
      assertEquals(0, h.getShort(6), "binary keys may hold any bytes");
      binary.read(h.getInt(8));
    }
    assertEquals(1, wire.count("segcount", "dk"));
    conn.send("segmembers 2 10\r\ndk\r\nversion\r\n");
    int members = 0;
    String line;
    while ((line = conn.readLine()).startsWith("KEY ")) {
      members++;
    }
    assertEquals("END\r\n", line);
    assertEquals(1, members, "one member, one KEY line");
    String next = conn.readLine();
    assertTrue(next.startsWith("VERSION "), "the reply after the listing: " + next);
  }

  @Test
  void shouldAnswerSegofAndVirtualKeysForTheExactKeyOnly() {
    wire.set("user:1", 0, 0, "{\"country\":\"DK\"}");
    assertEquals(List.of("dk"), wire.segof("user:1"));
    assertEquals(List.of(), wire.segof("user:10"), "no prefix match");
    assertEquals(List.of(), wire.segof("USER:1"), "keys are case-sensitive");
    assertEquals("1", wire.get("_whack/in/dk/user:1"));
    assertEquals("0", wire.get("_whack/in/dk/user%3A10"));
    assertEquals("1", wire.get("_whack/in/dk/user%3A1"), "the key part is percent-decoded too");
    assertArrayEquals("dk".getBytes(UTF_8), wire.get("_whack/of/user:1").getBytes(UTF_8));
  }
}

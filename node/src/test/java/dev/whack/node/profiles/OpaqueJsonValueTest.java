package dev.whack.node.profiles;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * JSON documents that are not profiles, written through plain memcached paths (text {@code
 * set}/{@code add}/{@code replace}/{@code cas}, meta {@code ms}, binary Set), are kept byte for
 * byte as memcached keeps any bytes (issue 12: they used to be refused as bad profiles, and with
 * {@code noreply} lost silently). The profile flags keep the strict path: a bad profile is refused
 * with its reason. An {@code update} of such a value says why it is not a profile.
 */
class OpaqueJsonValueTest {
  /** Nested objects, nulls and number lists: ordinary JSON that Profile JSON does not take. */
  static List<String> documents() {
    return List.of(
        "{\"a\":{\"b\":1}}",
        "{\"a\":null}",
        "{\"ids\":[1,2,3]}",
        "{ \"a\" : {\"b\":1} ,\n\"c\":[]}");
  }

  private static final int JSON_PROFILE_FLAGS = 0x77680002;

  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node = EmbeddedNode.start();
    conn = node.connect();
    wire = new ProfileWire(conn);
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldStoreJsonThatIsNotAProfileByteForByteThroughTextCommands(String json) {
    assertEquals("STORED", wire.set("k", 7, 0, json));
    assertGetReturns("k", 7, json);
    assertEquals("NOT_STORED", wire.call("add k 0 0 <n>", json));
    assertEquals("STORED", wire.call("add k2 3 0 <n>", json));
    assertGetReturns("k2", 3, json);
    assertEquals("STORED", wire.call("replace k2 4 0 <n>", json));
    assertGetReturns("k2", 4, json);
    conn.send("gets k\r\n");
    String header = conn.readLine();
    String cas = header.trim().substring(header.trim().lastIndexOf(' ') + 1);
    conn.read(json.getBytes(UTF_8).length + 2);
    assertEquals("END\r\n", conn.readText("END\r\n"));
    assertEquals("EXISTS", wire.call("cas k 0 0 <n> " + (Long.parseLong(cas) + 99), json));
    assertEquals("STORED", wire.call("cas k 5 0 <n> " + cas, json));
    assertGetReturns("k", 5, json);
    assertEquals("0", statAfterDrain("profiles"));
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldStoreJsonThatIsNotAProfileWithNoreplyAndLoseNothing(String json) {
    conn.send(ProfileWire.block("set k 0 0 <n> noreply", json).getBytes(UTF_8));
    conn.send(ProfileWire.block("set k2 0 0 <n> noreply", json).getBytes(UTF_8));
    assertGetReturns("k", 0, json);
    assertGetReturns("k2", 0, json);
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldStoreJsonThatIsNotAProfileByteForByteThroughMetaSet(String json) {
    byte[] body = json.getBytes(UTF_8);
    assertEquals("HD", wire.call("ms k <n> F9", json));
    conn.send("mg k v f\r\n");
    assertEquals("VA " + body.length + " f9", conn.readLine().trim());
    assertArrayEquals(body, conn.read(body.length));
    assertEquals("\r\n", conn.readText("\r\n"));
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldStoreJsonThatIsNotAProfileByteForByteThroughBinarySet(String json) {
    byte[] extras = ByteBuffer.allocate(8).putInt(11).putInt(0).array();
    byte[] body = json.getBytes(UTF_8);
    conn.send(BinaryPacket.request(0x01, 1, 0, extras, "k".getBytes(UTF_8), body));
    assertEquals(0, status(readBinary()));
    conn.send(BinaryPacket.request(0x00, 2, 0, new byte[0], "k".getBytes(UTF_8), new byte[0]));
    byte[] get = readBinary();
    assertEquals(0, status(get));
    assertEquals(11, ByteBuffer.wrap(get, 24, 4).getInt(), "the flags");
    assertArrayEquals(body, Arrays.copyOfRange(get, 28, get.length));
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldRefuseJsonThatIsNotAProfileWithTheReasonWhenTheFlagsAskForAProfile(String json) {
    assertEquals("STORED", wire.set("user:1", JSON_PROFILE_FLAGS, 0, "{\"n\":1}"));
    String reply = wire.set("user:1", JSON_PROFILE_FLAGS, 0, json);
    assertTrue(reply.startsWith("CLIENT_ERROR bad profile: "), reply);
    assertTrue(reply.length() > "CLIENT_ERROR bad profile: ".length() + 5, reply);
    String ms = wire.call("ms user:1 <n> F" + Integer.toUnsignedString(JSON_PROFILE_FLAGS), json);
    assertTrue(ms.startsWith("CLIENT_ERROR bad profile: "), ms);
    assertGetReturns("user:1", 0, "{\"n\":1}"); // stored with flags 0, as plain clients read them
    String notJson = wire.set("user:1", JSON_PROFILE_FLAGS, 0, "plain text");
    assertTrue(notJson.startsWith("CLIENT_ERROR bad profile: "), notJson);
  }

  @ParameterizedTest
  @MethodSource("documents")
  void shouldAnswerNotAProfileWithTheReasonToAnUpdateOfOpaqueJson(String json) {
    assertEquals("STORED", wire.set("k", 0, 0, json));
    String strict = wire.set("strict", JSON_PROFILE_FLAGS, 0, json);
    String reason = strict.substring("CLIENT_ERROR bad profile: ".length());
    String reply = wire.update("k", "{\"set\":{\"n\":1}}");
    assertEquals("CLIENT_ERROR not a profile: " + reason, reply);
    assertGetReturns("k", 0, json);
  }

  @Test
  void shouldAnswerNotAProfileWithTheReasonToAnUpdateOfAnOpaqueValue() {
    assertEquals("STORED", wire.set("k", 0, 0, "hello"));
    assertEquals(
        "CLIENT_ERROR not a profile: the value is not a JSON object",
        wire.update("k", "{\"set\":{\"n\":1}}"));
  }

  @Test
  void shouldStillTakeAValidProfileWrittenWithPlainFlagsAsAProfile() {
    wire.define("dk", "country == \"DK\"");
    assertEquals("STORED", wire.set("user:1", 0, 0, "{\"country\":\"DK\"}"));
    assertEquals("STORED", wire.set("doc", 0, 0, "{\"a\":null}"));
    assertEquals("UPDATED", wire.update("user:1", "{\"set\":{\"n\":1}}"));
    assertEquals("1", statAfterDrain("opaque_json_stores"));
    assertEquals("1", statAfterDrain("profiles"));
  }

  private String statAfterDrain(String name) {
    conn.send("stats\r\n");
    String found = null;
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      String[] parts = line.trim().split(" ");
      if (parts[1].equals(name)) {
        found = parts[2];
      }
    }
    return found;
  }

  private void assertGetReturns(String key, int flags, String json) {
    byte[] body = json.getBytes(UTF_8);
    conn.send("get " + key + "\r\n");
    assertEquals(
        "VALUE " + key + " " + Integer.toUnsignedString(flags) + " " + body.length,
        conn.readLine().trim());
    assertArrayEquals(body, conn.read(body.length), "the value byte for byte");
    assertEquals("\r\nEND\r\n", conn.readText("\r\nEND\r\n"));
  }

  private byte[] readBinary() {
    byte[] header = conn.read(24);
    int bodyLength = ByteBuffer.wrap(header).getInt(8);
    byte[] body = conn.read(bodyLength);
    byte[] all = Arrays.copyOf(header, 24 + bodyLength);
    System.arraycopy(body, 0, all, 24, bodyLength);
    return all;
  }

  private static int status(byte[] response) {
    return ByteBuffer.wrap(response).getShort(6) & 0xffff;
  }
}

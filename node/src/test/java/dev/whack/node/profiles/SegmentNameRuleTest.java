package dev.whack.node.profiles;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackClient;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, finding 5: binary SegDefine accepted {@code ünïcödé}, which text {@code segdef}
 * refused; afterwards {@code segof} printed {@code ?n?c?d?}, text {@code segdrop} answered {@code
 * NOT_FOUND}, {@code _whack/in/<name>/key} missed and {@code watch} said {@code unknown segment}.
 * Text {@code segdef ê} was accepted too, as the two Latin-1 letters its UTF-8 bytes read as. One
 * rule now holds on every path: a segment name is ASCII (docs/segments.md).
 */
class SegmentNameRuleTest {
  private static final String UNICODE = "ünïcödé";

  /** UTF-8 C3 AA: two bytes that are both letters when read as Latin-1 (Ã and ª). */
  private static final String LATIN_LETTERS = "ê";

  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node = EmbeddedNode.start();
    conn = node.connect();
    wire = new ProfileWire(conn);
    assertEquals("STORED", wire.set("user:1", 0, 0, "{\"a\":1}"));
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  @Test
  void shouldRejectNonAsciiSegmentNamesOnEveryPath() {
    for (String name : List.of(UNICODE, LATIN_LETTERS, "caf\u00e9", "x\u00aa")) {
      assertBadName(wire.call("segdef " + name + " <n>", "exists(a)"), "text segdef " + name);
      try (RawConnection binary = node.connect()) {
        Response define = binary(binary, 0x62, name, "exists(a)");
        assertEquals(0x04, define.status, "binary SegDefine " + name);
        assertTrue(define.body.startsWith("bad segment name "), define.body);
        Response drop = binary(binary, 0x63, name, "");
        assertEquals(0x04, drop.status, "binary SegDrop " + name);
        assertTrue(drop.body.startsWith("bad segment name "), drop.body);
        Response watch = binary(binary, 0x6a, "", name);
        assertEquals(0x04, watch.status, "binary Watch " + name);
        assertTrue(watch.body.startsWith("bad segment name "), watch.body);
      }
      assertBadName(wire.line("segdrop " + name), "text segdrop " + name);
      try (RawConnection watcher = node.connect()) {
        watcher.send(("watch " + name + "\r\n").getBytes(UTF_8));
        assertBadName(strip(watcher.readLine()), "watch " + name);
      }
      String count = wire.call("segcount <n>", name);
      assertTrue(count.startsWith("CLIENT_ERROR "), "segcount " + name + ": " + count);
      assertNull(wire.get("_whack/in/" + ProfileWire.percentEncode(name) + "/user:1"));
      assertNull(wire.get("_whack/size/" + ProfileWire.percentEncode(name)));
    }
    assertEquals(List.of(), wire.segof("user:1"), "nothing was defined");
    assertEquals("END", wire.line("seglist"));
  }

  @Test
  void shouldKeepAcceptingEveryAsciiNameCharacter() {
    String name = "_Seg-1.b:C";
    assertEquals(1, wire.define(name, "exists(a)"));
    assertEquals(List.of(name), wire.segof("user:1"));
    assertEquals("1", wire.get("_whack/in/" + name + "/user:1"));
    assertEquals(1, wire.count("segcount", name + " and " + name));
    assertEquals("DROPPED", wire.line("segdrop " + name));
  }

  @Test
  void shouldTellTheJavaClientWhyANonAsciiNameIsRefused() throws Exception {
    try (WhackClient client = WhackClient.builder().servers(List.of(node.address())).build()) {
      for (CompletableFuture<?> call :
          List.of(
              client.segments().define(UNICODE, "exists(a)"), client.segments().drop(UNICODE))) {
        ServerErrorException e = assertInstanceOf(ServerErrorException.class, failure(call));
        assertTrue(e.serverMessage().startsWith("bad segment name "), e.serverMessage());
      }
    }
  }

  private static Throwable failure(CompletableFuture<?> future) throws Exception {
    try {
      throw new AssertionError("expected a failure, got " + future.get(10, TimeUnit.SECONDS));
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  private static void assertBadName(String reply, String what) {
    assertTrue(reply.startsWith("CLIENT_ERROR bad segment name "), what + ": " + reply);
  }

  private static String strip(String line) {
    return line.substring(0, line.length() - 2);
  }

  private record Response(int status, String body) {}

  private static Response binary(RawConnection c, int opcode, String key, String value) {
    c.send(
        BinaryPacket.request(
            opcode, 9, 0, new byte[0], key.getBytes(UTF_8), value.getBytes(UTF_8)));
    ByteBuffer h = ByteBuffer.wrap(c.read(24));
    int skip = (h.getShort(2) & 0xffff) + (h.get(4) & 0xff);
    byte[] body = c.read(h.getInt(8));
    return new Response(
        h.getShort(6) & 0xffff, new String(Arrays.copyOfRange(body, skip, body.length), UTF_8));
  }
}

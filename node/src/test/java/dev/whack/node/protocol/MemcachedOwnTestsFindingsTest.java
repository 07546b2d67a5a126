package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What memcached 1.6.18's own t/ tests (scripts/memcached-t) found Whack answering differently,
 * over real sockets, each against what memcached answers. Each test starts its own node, as the
 * detail statistics are node-wide.
 */
class MemcachedOwnTestsFindingsTest {

  @Test
  void shouldCloseWithoutAReplyWhenARequestLineLooksLikeHttp() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      for (String line :
          List.of("GET / HTTP/1.0", "PUT /asdf/asd/fasdfasdf/sadf HTTP/1.1", "DELETE HTTP/1.1")) {
        try (RawConnection conn = node.connect()) {
          conn.send(line + "\r\n");
          assertEquals("", conn.readToEnd(), line);
        }
      }
      try (RawConnection conn = node.connect()) {
        conn.send("version\r\n");
        assertTrue(conn.readLine().startsWith("VERSION "));
      }
    }
  }

  @Test
  void shouldStaySilentAboutAMalformedDeleteThatSaidNoreply() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection conn = node.connect()) {
      conn.send("add k 0 0 1\r\nx\r\ndelete k 10 noreply\r\nadd k 0 0 1\r\nx\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      assertEquals("NOT_STORED\r\n", conn.readLine(), "the delete's error must not be sent");
    }
  }

  @Test
  void shouldRefuseASlabsAutomoveLevelThatIsNotANumber() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection conn = node.connect()) {
      conn.send("slabs automove invalid\r\nslabs automove 1\r\n");
      assertEquals("CLIENT_ERROR bad command line format\r\n", conn.readLine());
      assertEquals("OK\r\n", conn.readLine());
    }
  }

  @Test
  void shouldCountGetsSetsAndDeletesPerKeyPrefixWhileDetailIsOn() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection conn = node.connect()) {
      conn.send("stats detail dump\r\n");
      assertEquals("END\r\n", conn.readLine());
      conn.send("set foo:0 0 0 1\r\nx\r\n"); // before detail is on: not counted
      assertEquals("STORED\r\n", conn.readLine());
      conn.send("stats detail on\r\n");
      assertEquals("OK\r\n", conn.readLine());
      conn.send(
          "set foo:1 0 0 1\r\nx\r\nget foo:1 foo:2 bar\r\ndelete foo:3\r\nstats detail dump\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      assertEquals("VALUE foo:1 0 1\r\n", conn.readLine());
      assertEquals("x\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine());
      assertEquals("NOT_FOUND\r\n", conn.readLine());
      assertEquals("PREFIX foo get 2 hit 1 set 1 del 1\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine());
      conn.send("stats settings\r\n");
      assertTrue(readStats(conn).contains("STAT detail_enabled yes\r\n"));
      conn.send("stats reset\r\nstats detail dump\r\nstats detail off\r\nget foo:1\r\n");
      assertEquals("RESET\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine(), "a reset forgets the prefixes");
      assertEquals("OK\r\n", conn.readLine());
      assertEquals("VALUE foo:1 0 1\r\n", conn.readLine());
      assertEquals("x\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine());
      conn.send("stats detail dump\r\nstats detail\r\nstats detail sideways\r\n");
      assertEquals("END\r\n", conn.readLine(), "nothing is counted while detail is off");
      assertEquals("CLIENT_ERROR usage: stats detail on|off|dump\r\n", conn.readLine());
      assertEquals("CLIENT_ERROR usage: stats detail on|off|dump\r\n", conn.readLine());
    }
  }

  @Test
  void shouldSwitchDetailOnAndDumpItThroughTheBinaryStatCommand() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection conn = node.connect()) {
      // The bytes memcached 1.6.18 sends for the same requests (its set carries its own cas).
      conn.send(binary(0x10, "detail on", new byte[0], ""));
      assertEquals("81100000000000000000000000000000" + "0000000000000000", hex(conn.read(24)));
      conn.send(binary(0x01, "a:b", new byte[8], "x"));
      assertEquals(0, ByteBuffer.wrap(conn.read(24)).getShort(6), "set status");
      conn.send(binary(0x00, "a:c", new byte[0], ""));
      assertEquals(1, ByteBuffer.wrap(conn.read(24 + 9)).getShort(6), "get status");
      conn.send(binary(0x04, "a:b", new byte[0], ""));
      assertEquals(0, ByteBuffer.wrap(conn.read(24)).getShort(6), "delete status");
      conn.send(binary(0x10, "detail dump", new byte[0], ""));
      assertEquals(
          "81100008000000000000002f000000000000000000000000"
              + hex("detailed" + "PREFIX a get 1 hit 0 set 1 del 1\r\nEND\r\n")
              + "811000000000000000000000000000000000000000000000",
          hex(conn.read(24 + 8 + 39 + 24)));
      conn.send(binary(0x10, "detail sideways", new byte[0], ""));
      assertEquals(
          "811000000000000100000009000000000000000000000000" + hex("Not found"),
          hex(conn.read(24 + 9)));
    }
  }

  @Test
  void shouldCountConnectionsRefusedPastTheLimit() {
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.maxConnections(2));
        RawConnection first = node.connect();
        RawConnection second = node.connect()) {
      first.send("version\r\n").readLine(); // both are counted as open before the third
      second.send("version\r\n").readLine();
      try (RawConnection refused = node.connect()) {
        assertEquals("ERROR Too many open connections\r\n", refused.readLine());
      }
      first.send("stats\r\n");
      assertTrue(readStats(first).contains("STAT rejected_connections 1\r\n"));
    }
  }

  private static String readStats(RawConnection conn) {
    StringBuilder all = new StringBuilder();
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      all.append(line);
    }
    return all.toString();
  }

  private static byte[] binary(int opcode, String key, byte[] extras, String value) {
    byte[] k = key.getBytes(StandardCharsets.US_ASCII);
    byte[] v = value.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(24 + extras.length + k.length + v.length);
    b.put((byte) 0x80).put((byte) opcode).putShort((short) k.length).put((byte) extras.length);
    b.put((byte) 0).putShort((short) 0).putInt(extras.length + k.length + v.length);
    b.putInt(0).putLong(0).put(extras).put(k).put(v);
    return b.array();
  }

  private static String hex(byte[] bytes) {
    return java.util.HexFormat.of().formatHex(bytes);
  }

  private static String hex(String text) {
    return hex(text.getBytes(StandardCharsets.ISO_8859_1));
  }
}

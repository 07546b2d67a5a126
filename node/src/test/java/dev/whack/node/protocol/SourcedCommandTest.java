package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.Test;

/**
 * The {@code sourced} text command (docs/protocol.md): a record of an ordered source applied once
 * by its producer mark, for updates, whole profiles and deletes, with memcached-style errors for a
 * bad line, after which the connection goes on.
 */
class SourcedCommandTest {
  private static String sourced(String key, long seq, String kind, String body) {
    return "sourced "
        + key
        + " kafka:t:0 "
        + seq
        + " "
        + kind
        + " "
        + body.length()
        + "\r\n"
        + body
        + "\r\n";
  }

  private static String get(RawConnection c, String key) {
    c.send("get " + key + "\r\n");
    String header = c.readLine();
    if (header.equals("END\r\n")) {
      return null;
    }
    int bytes = Integer.parseInt(header.trim().substring(header.trim().lastIndexOf(' ') + 1));
    String value = new String(c.read(bytes + 2), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals("END\r\n", c.readLine());
    return value.trim();
  }

  @Test
  void shouldApplyEachPositionOnceWhateverTheKind() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection c = node.connect()) {
      c.send(sourced("p", 5, "update-json", "{\"incr\":{\"n\":1}}"));
      assertEquals("STORED\r\n", c.readLine());
      c.send(sourced("p", 5, "update-json", "{\"incr\":{\"n\":1}}"));
      assertEquals("IGNORED\r\n", c.readLine());
      c.send(sourced("p", 4, "profile-json", "{\"n\":100}"));
      assertEquals("IGNORED\r\n", c.readLine(), "an older whole profile does not replace a newer");
      c.send(sourced("p", 6, "profile-json", "{\"n\":100}"));
      assertEquals("STORED\r\n", c.readLine());
      assertEquals("{\"n\":100,\"$producers\":{\"kafka:t:0\":6}}", get(c, "p"));
      c.send(sourced("p", 6, "delete", ""));
      assertEquals("IGNORED\r\n", c.readLine());
      c.send(sourced("p", 7, "delete", ""));
      assertEquals("DELETED\r\n", c.readLine());
      c.send(sourced("p", 8, "delete", ""));
      assertEquals("NOT_FOUND\r\n", c.readLine());
      c.send(sourced("q", 1, "update-json", "{\"producer\":\"x\",\"seq\":1}"));
      assertTrue(c.readLine().startsWith("CLIENT_ERROR bad update: an update from a source"));
      c.send(sourced("q", 1, "profile-json", "{\"a\":"));
      assertTrue(c.readLine().startsWith("CLIENT_ERROR bad profile"));
      c.send(sourced("q", 1, "patch", "{}"));
      assertEquals("CLIENT_ERROR bad command line format\r\n", c.readLine());
      c.send(sourced("q", -1, "update-json", "{}"));
      assertEquals("CLIENT_ERROR bad command line format\r\n", c.readLine());
      c.send("sourced q kafka:t:0 1 update-json 2 noreply\r\n{}\r\nmn\r\n");
      assertEquals("MN\r\n", c.readLine());
      assertEquals("{\"$producers\":{\"kafka:t:0\":1}}", get(c, "q"));
      c.send("sourced q kafka:t:0 1\r\n");
      assertEquals("ERROR\r\n", c.readLine());
    }
  }
}

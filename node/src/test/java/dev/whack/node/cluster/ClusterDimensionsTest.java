package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A dimension defined or dropped on any member of a three-node cluster is defined or dropped on
 * every member, so the events of keys that live on the others are counted too; a refused definition
 * reaches none.
 */
class ClusterDimensionsTest {
  private static final String COLOR = "{\"property\":\"color\",\"event\":\"view\"}";
  private static final String COLOR_LINE =
      "DIMENSION color {\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\","
          + "\"max_categories\":64}\r\n";

  private final List<EmbeddedNode> cluster = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    int[] ports = ForwardingTest.freePorts(3);
    List<String> members = new ArrayList<>();
    for (int port : ports) {
      members.add("127.0.0.1:" + port);
    }
    for (int port : ports) {
      cluster.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
    }
    ForwardingTest.awaitConnected(cluster);
  }

  @AfterEach
  void stop() {
    cluster.forEach(EmbeddedNode::close);
  }

  private static String ask(RawConnection c, String request) {
    c.send(request);
    return c.readLine();
  }

  private static String list(RawConnection c, String command) {
    c.send(command + "\r\n");
    StringBuilder all = new StringBuilder();
    for (String line = c.readLine(); ; line = c.readLine()) {
      all.append(line);
      if (line.equals("END\r\n")) {
        return all.toString();
      }
    }
  }

  @Test
  void shouldDefineOnOneMemberAndCountOnEveryMembersKeys() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection c1 = cluster.get(1).connect();
        RawConnection c2 = cluster.get(2).connect()) {
      assertEquals(
          "DEFINED\r\n", ask(c0, "dimdef color " + COLOR.length() + "\r\n" + COLOR + "\r\n"));
      for (RawConnection c : List.of(c0, c1, c2)) {
        assertEquals(COLOR_LINE + "END\r\n", list(c, "local dimlist"), "every member has it");
      }
      assertEquals(COLOR_LINE + "END\r\n", list(c1, "dimlist"), "merged by name: once");
      for (int i = 0; i < 60; i++) {
        String update =
            "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\""
                + (i % 2 == 0 ? "red" : "blue")
                + "\"}}]}";
        assertEquals(
            "UPDATED\r\n",
            ask(c2, "update p" + i + " " + update.length() + "\r\n" + update + "\r\n"));
      }
      for (int i = 0; i < 60; i++) {
        c1.send("get p" + i + "\r\n");
        c1.readLine();
        String json = c1.readLine();
        assertEquals("END\r\n", c1.readLine());
        assertTrue(
            json.contains(
                "\"$dimensions\":{\"color\":{\"2026-11-20\":{\"".replace("2026-11-20", day(json))
                    + (i % 2 == 0 ? "red" : "blue")
                    + "\":1}}}"),
            json);
      }
      long total = 0;
      for (RawConnection c : List.of(c0, c1, c2)) {
        String count = ask(c, "local filtercount 4\r\ntrue\r\n");
        long n = Long.parseLong(count.substring("COUNT ".length()).strip());
        assertTrue(n > 0, "the keys live on every member: " + count);
        total += n;
      }
      assertEquals(60, total);
      // A refusal here or on any member defines nothing anywhere.
      assertEquals(
          "CLIENT_ERROR unknown field \"prop\"\r\n", ask(c1, "dimdef size 10\r\n{\"prop\":1}\r\n"));
      assertEquals(COLOR_LINE + "END\r\n", list(c0, "dimlist"));
      assertEquals("DROPPED\r\n", ask(c1, "dimdrop color\r\n"));
      assertEquals("NOT_FOUND\r\n", ask(c2, "dimdrop color\r\n"));
      for (RawConnection c : List.of(c0, c1, c2)) {
        assertEquals("END\r\n", list(c, "local dimlist"), "dropped on every member");
      }
    }
  }

  /**
   * The day a profile's event landed on (the node's clock is the wall clock here): its first day
   * bucket's, the only one.
   */
  private static String day(String json) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"(\\d{4}-\\d{2}-\\d{2})\":\\[").matcher(json);
    assertTrue(m.find(), json);
    return m.group(1);
  }
}

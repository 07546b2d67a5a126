package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code segdistinct} asked of one node of a three-node cluster merges every member's union, and
 * answers exactly what one node holding the same profiles answers: set unions and sketch merges
 * lose nothing to the split, so even an approximate answer is the same number.
 */
class ClusterSegmentDistinctTest {
  private static final byte[] PRODUCTS =
      "{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\",\"precision\":6}"
          .getBytes(StandardCharsets.UTF_8);

  private final List<EmbeddedNode> cluster = new ArrayList<>();
  private EmbeddedNode single;

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
    single = EmbeddedNode.start();
    // dimensions are not yet defined cluster-wide: each node is told
    for (EmbeddedNode n : cluster) {
      n.node().engine().defineDimension("products", PRODUCTS);
    }
    single.node().engine().defineDimension("products", PRODUCTS);
  }

  @AfterEach
  void stop() {
    cluster.forEach(EmbeddedNode::close);
    single.close();
  }

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  @Test
  void shouldMergeTheMembersUnionsIntoWhatOneNodeAnswers() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection c1 = cluster.get(1).connect();
        RawConnection one = single.connect()) {
      for (RawConnection c : List.of(c0, one)) {
        c.send(block("segdef heavy <n>", "tier == \"heavy\""));
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      Random random = new Random(11);
      for (int i = 0; i < 200; i++) {
        boolean heavy = i % 10 == 0; // a tenth view 40 products a day: sketches at precision 6
        StringBuilder b =
            new StringBuilder("{\"set\":{\"tier\":\"" + (heavy ? "heavy" : "light") + "\",")
                .append("\"city\":\"c")
                .append(random.nextInt(150))
                .append("\"},\"events\":[");
        int views = heavy ? 40 : 1 + random.nextInt(3);
        for (int v = 0; v < views; v++) {
          b.append(v == 0 ? "" : ",")
              .append("{\"name\":\"view\",\"properties\":{\"product\":\"p")
              .append(random.nextInt(heavy ? 5000 : 50))
              .append("\"}}");
        }
        String update = b.append("]}").toString();
        for (RawConnection c : List.of(c1, one)) {
          c.send(block("update u" + i + " <n>", update));
          assertEquals("UPDATED\r\n", c.readLine());
        }
      }
      for (String[] ask :
          List.of(
              new String[] {"heavy", "city"},
              new String[] {"not heavy", "products 30d"},
              new String[] {"heavy", "view.product 7"},
              new String[] {"heavy or not heavy", "products"})) {
        String command = block("segdistinct <n> " + ask[1], ask[0]);
        one.send(command);
        c0.send(command);
        String expected = one.readLine();
        assertEquals(expected, c0.readLine(), String.join(" / ", ask));
      }
      one.send(block("segdistinct <n> products", "heavy"));
      String approximate = one.readLine();
      assertEquals(true, approximate.endsWith(" approximate\r\n"), approximate);
      one.send(block("segdistinct <n> products", "not heavy"));
      assertEquals("DISTINCT 50 exact\r\n", one.readLine());
    }
  }
}

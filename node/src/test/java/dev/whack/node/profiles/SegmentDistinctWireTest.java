package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code segdistinct} over a real socket: whole reply lines, good and bad forms. */
class SegmentDistinctWireTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    node.node()
        .engine()
        .defineDimension(
            "products",
            "{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\",\"precision\":6}"
                .getBytes(StandardCharsets.UTF_8));
    conn = node.connect();
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  private void view(String key, String tier, int from, int to) {
    StringBuilder b = new StringBuilder("{\"set\":{\"tier\":\"" + tier + "\"},\"events\":[");
    for (int i = from; i < to; i++) {
      b.append(i == from ? "" : ",")
          .append("{\"name\":\"view\",\"properties\":{\"product\":\"p")
          .append(i)
          .append("\"}}");
    }
    conn.send(block("update " + key + " <n>", b.append("]}").toString()));
    assertEquals("UPDATED\r\n", conn.readLine());
  }

  @Test
  void shouldAnswerTheDistinctValuesOfASegmentsMembersExactlyWhileSmall() {
    conn.send(block("segdef gold <n>", "tier == \"gold\""));
    assertEquals("DEFINED 0\r\n", conn.readLine());
    view("a", "gold", 0, 5);
    view("b", "gold", 3, 9);
    view("c", "silver", 100, 110);
    conn.send(block("segdistinct <n> products 30d", "gold"));
    assertEquals("DISTINCT 9 exact\r\n", conn.readLine());
    conn.send(block("segdistinct <n> view.product", "gold or not gold"));
    assertEquals("DISTINCT 19 exact\r\n", conn.readLine());
    conn.send(block("segdistinct <n> tier 1", "gold or not gold"));
    assertEquals("DISTINCT 2 exact\r\n", conn.readLine());
    // the union members send each other: one 32-bit hash (of "gold"), pinned since hashes travel
    conn.send(block("local segdistinct <n> tier union", "gold"));
    assertEquals("UNION AgwcCtg=\r\n", conn.readLine());
  }

  @Test
  void shouldSayApproximateOnceAMembersDayIsASketch() {
    conn.send(block("segdef gold <n>", "tier == \"gold\""));
    assertEquals("DEFINED 0\r\n", conn.readLine());
    view("a", "gold", 0, 200); // past the threshold of 16 at precision 6
    conn.send(block("segdistinct <n> products 1d", "gold"));
    String line = conn.readLine();
    assertEquals(true, line.matches("DISTINCT \\d+ approximate\r\n"), line);
  }

  @Test
  void shouldRefuseBadFormsWithAReplyAndStayInStep() {
    conn.send(block("segdistinct <n> products 0d", "gold"));
    assertEquals("CLIENT_ERROR bad window\r\n", conn.readLine());
    conn.send(block("segdistinct <n> products 9999d", "nosuch"));
    assertEquals("CLIENT_ERROR window must be 1..60 days, was 9999\r\n", conn.readLine());
    conn.send(block("segdistinct <n> products", "nosuch"));
    assertEquals("CLIENT_ERROR unknown segment nosuch\r\n", conn.readLine());
    conn.send("segdistinct 4\r\n");
    assertEquals("ERROR\r\n", conn.readLine());
    conn.send(block("segdistinct <n> products 3x", "gold"));
    assertEquals("CLIENT_ERROR bad window\r\n", conn.readLine());
    conn.send("version\r\n");
    assertEquals(true, conn.readLine().startsWith("VERSION "));
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * in_segment and bucket through the text protocol: definitions, a watcher of a segment that only
 * follows another, filters, and the drop rule (refused while others read it, force drops them).
 */
class SegmentsOfSegmentsWireTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  private void set(String key, String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    conn.send("set " + key + " 0 0 " + body.length + "\r\n" + json + "\r\n");
    assertEquals("STORED\r\n", conn.readLine());
  }

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  private String ask(String command, String body) {
    conn.send(block(command, body));
    return conn.readLine();
  }

  @Test
  void shouldTellTheWatcherOfASegmentThatFollowsAnother() {
    set("user:1", "{\"spend\":50,\"country\":\"DK\"}");
    assertEquals("DEFINED 0\r\n", ask("segdef vip <n>", "spend > 100"));
    assertEquals(
        "DEFINED 0\r\n", ask("segdef vip_dk <n>", "in_segment(\"vip\") and country == \"DK\""));
    long now = clock.millis();
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch vip_dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      conn.send(block("update user:1 <n>", "{\"set\":{\"spend\":500}}"));
      assertEquals("UPDATED\r\n", conn.readLine());
      assertEquals("CHANGE enter vip_dk user:1 " + now + "\r\n", watcher.readLine());
    }
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "in_segment(\"vip_dk\")"));
  }

  @Test
  void shouldRefuseAReadOfAnUnknownSegmentWithItsPosition() {
    assertEquals(
        "CLIENT_ERROR bad expression at position 11: no segment vip is defined\r\n",
        ask("segdef x <n>", "in_segment(\"vip\")"));
    assertEquals(
        "CLIENT_ERROR bad expression at position 11: no segment vip is defined\r\n",
        ask("filtercount <n>", "in_segment(\"vip\")"));
  }

  @Test
  void shouldDropASegmentOthersReadOnlyWithForce() {
    assertEquals("DEFINED 0\r\n", ask("segdef vip <n>", "spend > 100"));
    assertEquals("DEFINED 0\r\n", ask("segdef vip_dk <n>", "in_segment(\"vip\")"));
    conn.send("segdrop vip\r\n");
    assertEquals(
        "CLIENT_ERROR segment vip is read by vip_dk (in_segment, entered or time_in); drop those first, or drop it"
            + " with force to drop them too\r\n",
        conn.readLine());
    conn.send("segdrop vip forced\r\nsegdrop vip force noreply\r\nseglist\r\n");
    assertEquals("ERROR\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine(), "both went");
  }

  @Test
  void shouldCountAStableHoldout() {
    for (int i = 0; i < 1000; i++) {
      set("user:" + i, "{\"n\":1}");
    }
    String held = ask("segdef holdout <n>", "bucket(100) < 10");
    long size = Long.parseLong(held.substring("DEFINED ".length(), held.length() - 2));
    assertEquals(true, size > 60 && size < 140, held);
    assertEquals(
        "COUNT " + (1000 - size) + "\r\n", ask("filtercount <n>", "not in_segment(\"holdout\")"));
  }
}

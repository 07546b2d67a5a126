package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Time in segment through the text protocol: {@code segof KEY since}, entered and time_in. */
class TimeInSegmentWireTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00.700Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  private String ask(String command, String body) {
    int n = body.getBytes(StandardCharsets.UTF_8).length;
    conn.send(command.replace("<n>", Integer.toString(n)) + "\r\n" + body + "\r\n");
    return conn.readLine();
  }

  @Test
  void shouldAnswerSegofSinceWithEachMembershipsEnteredMillisAndKeepPlainSegofAsItWas() {
    assertEquals("DEFINED 0\r\n", ask("segdef vip <n>", "spend > 100"));
    assertEquals("DEFINED 0\r\n", ask("segdef loyal <n>", "time_in(vip) > 7d"));
    assertEquals("STORED\r\n", ask("set user:1 0 0 <n>", "{\"spend\":500}"));
    long at = clock.millis() / 1000 * 1000; // kept to the second
    conn.send("segof user:1\r\n");
    assertEquals("IN vip\r\n", conn.readLine(), "byte-identical for existing clients");
    assertEquals("END\r\n", conn.readLine());
    conn.send("segof user:1 since\r\n");
    assertEquals("IN vip " + at + "\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    conn.send("segof nobody since\r\nsegof user:1 later\r\nsegof user:1 since since\r\n");
    assertEquals("END\r\n", conn.readLine());
    assertEquals("ERROR\r\n", conn.readLine());
    assertEquals("ERROR\r\n", conn.readLine());
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "entered(vip) <= now()"));
    assertEquals(
        "CLIENT_ERROR bad expression at position 0: time_in(...) is only compared with a duration,"
            + " like time_in(vip) > 7d (or use entered(vip), a timestamp)\r\n",
        ask("filtercount <n>", "time_in(vip)"));
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.SnapshotFixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node restored from a snapshot that main wrote before dimension counts were kept day-major
 * (718f022, {@code src/test/resources/snapshots/main-718f022-dimensions}: dimensions colour
 * (categorical, at most 8 values), price (numeric), product (distinct) and gone (dropped after the
 * writes); a {@code set} of user:prefs with counts on two days and an {@code update} of user:live
 * with twelve views over six days). Its profiles are upgraded as they load: they read, count,
 * answer segments and survive the next snapshot exactly as that node served them.
 */
class LegacyDimensionsSnapshotTest {
  /** What the node that wrote the snapshot answered for the two profiles. */
  private static final String PREFS =
      "{\"country\":\"DK\",\"$events\":{\"view\":{\"$first\":\"2026-12-01T00:00:00Z\","
          + "\"$last\":\"2026-12-05T00:00:00Z\",\"2026-12-01\":[3],\"2026-12-05\":[2]}},"
          + "\"$dimensions\":{\"colour\":{\"2026-12-01\":{\"blue\":1,\"red\":2},"
          + "\"2026-12-05\":{\"green\":1,\"red\":1}},\"price\":{\"2026-12-01\":{\"10000..20000\":3},"
          + "\"2026-12-05\":{\"..10000\":1,\"50000..\":1}}}}";

  private static final String LIVE =
      "{\"$events\":{\"view\":{\"$first\":\"2026-12-01T10:00:00Z\",\"$last\":\"2026-12-06T10:00:00Z\","
          + "\"2026-12-01\":[2],\"2026-12-02\":[2],\"2026-12-03\":[2],\"2026-12-04\":[2],"
          + "\"2026-12-05\":[2],\"2026-12-06\":[2]}},\"$dimensions\":{\"colour\":{"
          + "\"2026-12-01\":{\"red\":1,\"yellow\":1},\"2026-12-02\":{\"blue\":1,\"pink\":1},"
          + "\"2026-12-03\":{\"green\":1,\"other\":1},\"2026-12-04\":{\"black\":1,\"other\":1},"
          + "\"2026-12-05\":{\"red\":1,\"white\":1},\"2026-12-06\":{\"blue\":1,\"grey\":1}},"
          + "\"price\":{\"2026-12-01\":{\"..10000\":1,\"20000..50000\":1},"
          + "\"2026-12-02\":{\"10000..20000\":1,\"50000..\":1},"
          + "\"2026-12-03\":{\"10000..20000\":1,\"50000..\":1},"
          + "\"2026-12-04\":{\"20000..50000\":1,\"50000..\":1},"
          + "\"2026-12-05\":{\"20000..50000\":1,\"50000..\":1},"
          + "\"2026-12-06\":{\"20000..50000\":1,\"50000..\":1}},"
          + "\"product\":{\"2026-12-01\":{\"$distinct\":2,\"$sketch\":\"BPF6J7P1arOB\"},"
          + "\"2026-12-02\":{\"$distinct\":2,\"$sketch\":\"BJrhzBf1arOB\"},"
          + "\"2026-12-03\":{\"$distinct\":2,\"$sketch\":\"BJrhzBfuTMzm\"},"
          + "\"2026-12-04\":{\"$distinct\":2,\"$sketch\":\"BLXEm8/uTMzm\"},"
          + "\"2026-12-05\":{\"$distinct\":2,\"$sketch\":\"BLXEm8/Ah2UW\"},"
          + "\"2026-12-06\":{\"$distinct\":2,\"$sketch\":\"BIdc9Z3Ah2UW\"}}}}";

  @TempDir Path dir;
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    SnapshotFixtures.copy("main-718f022-dimensions", dir);
    clock = ManualClock.at("2026-12-07T20:00:00Z");
    restart();
  }

  private void restart() {
    if (node != null) {
      conn.close();
      node.close();
    }
    node = EmbeddedNode.startWithClock(clock, c -> c.dataDir(dir));
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

  private String get(String key) {
    conn.send("get " + key + "\r\n");
    String head = conn.readLine();
    if (head.equals("END\r\n")) {
      return null;
    }
    String value = conn.readLine();
    assertEquals("END\r\n", conn.readLine());
    return value.substring(0, value.length() - 2);
  }

  private String segof(String key) {
    conn.send("segof " + key + "\r\n");
    StringBuilder b = new StringBuilder();
    for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
      b.append(line.strip()).append(';');
    }
    return b.toString();
  }

  @Test
  void shouldServeTheProfilesOfTheOlderLayoutAsTheNodeThatWroteThemDid() {
    assertEquals(PREFS, get("user:prefs"));
    assertEquals(LIVE, get("user:live"));
    assertEquals("DEFINED 1\r\n", ask("segdef red <n>", "share(colour, \"red\", 30d) > 0.25"));
    assertEquals("DEFINED 2\r\n", ask("segdef pricey <n>", "share(price, \"50000..\", 30d) > 0.1"));
    assertEquals("IN red;IN pricey;", segof("user:prefs"));
    assertEquals("IN pricey;", segof("user:live"));
    assertEquals("DEFINED 1\r\n", ask("segdef viewers <n>", "distinct(product, 30d) > 0"));
    assertEquals("DISTINCT 7 exact\r\n", ask("segdistinct <n> product 30", "viewers"));
  }

  @Test
  void shouldCountOnAndKeepEverythingThroughTheNextSnapshot() {
    assertEquals("DEFINED 1\r\n", ask("segdef red <n>", "share(colour, \"red\", 30d) > 0.25"));
    assertEquals(
        "UPDATED\r\n",
        ask(
            "update user:live <n>",
            "{\"events\":[{\"name\":\"view\",\"time\":\"2026-12-07T10:00:00Z\",\"properties\":"
                + "{\"colour\":\"red\",\"price\":60000,\"product\":\"car-9\"}},"
                + "{\"name\":\"view\",\"time\":\"2026-12-07T11:00:00Z\",\"properties\":"
                + "{\"colour\":\"red\",\"price\":1000,\"product\":\"car-0\"}}]}"));
    assertEquals("IN red;", segof("user:live")); // 4 red of 14
    String live = get("user:live");
    String expected =
        LIVE.replace("\"$last\":\"2026-12-06T10:00:00Z\"", "\"$last\":\"2026-12-07T11:00:00Z\"")
            .replace("\"2026-12-06\":[2]}", "\"2026-12-06\":[2],\"2026-12-07\":[2]}")
            .replace(
                "\"2026-12-06\":{\"blue\":1,\"grey\":1}}",
                "\"2026-12-06\":{\"blue\":1,\"grey\":1},\"2026-12-07\":{\"red\":2}}")
            .replace(
                "\"2026-12-06\":{\"20000..50000\":1,\"50000..\":1}}",
                "\"2026-12-06\":{\"20000..50000\":1,\"50000..\":1},"
                    + "\"2026-12-07\":{\"..10000\":1,\"50000..\":1}}");
    // the distinct days are compared by their counts below (a new day's sketch is the node's)
    assertEquals(
        expected.substring(0, expected.indexOf("\"product\"")),
        live.substring(0, live.indexOf("\"product\"")));
    assertTrue(live.contains("\"2026-12-07\":{\"$distinct\":2,"), live);
    assertEquals("DISTINCT 8 exact\r\n", ask("segdistinct <n> product 30", "red"));
    conn.send("snapshot\r\n");
    assertEquals("SNAPSHOT", conn.readLine().split(" ")[0]);
    restart();
    assertEquals(PREFS, get("user:prefs"));
    assertEquals(live, get("user:live"));
    assertEquals("IN red;", segof("user:live"));
    assertEquals("DISTINCT 8 exact\r\n", ask("segdistinct <n> product 30", "red"));
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
 * Computed traits over the text protocol on a node restored from a snapshot that main wrote before
 * they existed (3f991b4, {@code src/test/resources/snapshots/main-3f991b4}: a clean stop after a
 * {@code set} of user:legacy with two buy days and a view day, and an {@code update} of user:events
 * with two valued buys and a value-less page view). Its series are in the older layout: they read
 * with the documented defaults, become exact as writes touch them, and survive the next restart.
 */
class ComputedTraitsWireTest {
  @TempDir Path dir;
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    SnapshotFixtures.copy("main-3f991b4", dir);
    clock = ManualClock.at("2026-12-08T10:00:00Z");
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

  @Test
  void shouldReadASnapshotOfTheOlderLayoutWithItsDocumentedDefaults() {
    assertEquals(
        "{\"country\":\"DK\",\"$events\":{\"buy\":{\"$first\":\"2026-11-19T00:00:00Z\","
            + "\"$last\":\"2026-11-20T00:00:00Z\",\"2026-11-19\":[3,60.0,1400.0],"
            + "\"2026-11-20\":[1,42.5,1806.25]},\"view\":{\"$first\":\"2026-11-20T00:00:00Z\","
            + "\"$last\":\"2026-11-20T00:00:00Z\",\"2026-11-20\":[2]}}}",
        get("user:legacy"));
    // 19 days back reach 2026-11-20: user:legacy's one buy of 42.5 there has it as min and max;
    // user:events' two buys of that day were kept without their min and max: missing.
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "max(buy, 19d) == 42.5"));
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "min(buy, 19d) == 42.5"));
    assertEquals("COUNT 0\r\n", ask("filtercount <n>", "max(buy, 20d) > 0 or min(buy, 20d) > 0"));
    assertEquals("COUNT 2\r\n", ask("filtercount <n>", "count(buy, 20d) >= 2"));
    assertEquals("COUNT 0\r\n", ask("filtercount <n>", "max(view, 30d) > 0 or min(page, 30d) < 0"));
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "first_time(view) == 2026-11-20"));
    assertEquals(
        "COUNT 0\r\n", ask("filtercount <n>", "exists(country) and last_time(page) > 2000-01-01"));
    assertEquals("COUNT 1\r\n", ask("filtercount <n>", "last_time(page) == 2026-12-07"));
  }

  @Test
  void shouldKeepMinMaxAndTimesExactOnceWrittenFollowTheClockAndSurviveARestart() throws Exception {
    assertEquals(
        "UPDATED\r\n",
        ask(
            "update user:events <n>",
            "{\"events\":[{\"name\":\"buy\",\"value\":99.0,\"time\":\"2026-12-08T09:30:00.250Z\"},"
                + "{\"name\":\"buy\",\"time\":\"2026-12-08T09:00:00Z\"},"
                + "{\"name\":\"buy\",\"value\":-3,\"time\":\"2026-12-07T23:59:59.999Z\"}]}"));
    String events =
        "{\"$events\":{\"buy\":{\"$first\":\"2026-11-20T00:00:00Z\","
            + "\"$last\":\"2026-12-08T09:30:00.250Z\",\"2026-11-20\":[2,40.0,1000.0],"
            + "\"2026-12-07\":[1,-3.0,9.0],\"2026-12-08\":[2,99.0,9801.0,99.0,99.0]},"
            + "\"page\":{\"$first\":\"2026-12-07T00:00:00Z\",\"$last\":\"2026-12-07T00:00:00Z\","
            + "\"2026-12-07\":[1]}}}";
    assertEquals(events, get("user:events"));
    assertEquals(
        "COUNT 1\r\n", ask("filtercount <n>", "max(buy, 1d) == 99 and min(buy, 1d) == 99.0"));
    assertEquals(
        "COUNT 1\r\n", ask("filtercount <n>", "max(buy, 2d) == 99 and min(buy, 2d) == -3"));
    assertEquals("DEFINED 1\r\n", ask("segdef recent <n>", "last_time(buy) > now() - 1h"));
    assertEquals("DEFINED 1\r\n", ask("segdef big <n>", "max(buy, 2d) >= 50"));
    assertEquals("DEFINED 1\r\n", ask("segdef old <n>", "first_time(buy) < 2026-11-20T00:00:00Z"));
    // The instant last_time + 1h, exactly: true a millisecond before, false at it.
    clock.advanceMillis(30 * 60_000 + 249);
    node.node().runTimers();
    assertEquals("COUNT 1\r\n", count("recent"));
    clock.advanceMillis(1);
    node.node().runTimers();
    assertEquals("COUNT 0\r\n", count("recent"));
    // The 99 of 2026-12-08 leaves a 2-day window at 2026-12-10T00:00Z.
    clock.advanceMillis(2 * 86_400_000L - 10 * 3_600_000L - 30 * 60_000 - 250 - 1);
    node.node().runTimers();
    assertEquals("COUNT 1\r\n", count("big"));
    clock.advanceMillis(1);
    node.node().runTimers();
    assertEquals("COUNT 0\r\n", count("big"));
    conn.close();
    node.close();
    node = EmbeddedNode.startWithClock(clock, c -> c.dataDir(dir));
    conn = node.connect();
    assertEquals(events, get("user:events"));
  }

  private String count(String segment) {
    return ask("segcount <n>", segment);
  }
}

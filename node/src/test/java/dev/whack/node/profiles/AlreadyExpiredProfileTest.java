package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * memcached keeps an item stored with a negative expiry, or an absolute one in the past, "already
 * expired, so nobody ever reads it". A profile like that must never be counted by a segment nor
 * announced to a watcher, and a profile that a {@code touch} expires on the spot must leave its
 * segments with it. The node's background timer is off (a manual-clock node) so that what the
 * commands themselves do is what the test sees.
 */
class AlreadyExpiredProfileTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    clock = ManualClock.at("2026-11-20T10:00:00Z");
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
    wire = new ProfileWire(conn);
    assertEquals(0, wire.define("dk", "country == \"DK\""));
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  @Test
  void shouldLeaveSegmentsOnTheTimerTurnAfterAnExpiryComes() {
    assertEquals("STORED", wire.set("soon", 0, 5, "{\"country\":\"DK\"}"));
    assertEquals(1, wire.count("segcount", "dk"));
    clock.advanceSeconds(5);
    node.node().runTimers();
    assertEquals(0, wire.count("segcount", "dk"));
    assertNull(wire.get("soon"));
    assertEquals("STORED", wire.set("past", 0, 0, "{\"country\":\"DK\"}"));
    assertEquals("TOUCHED", wire.line("touch past -1"));
    node.node().runTimers();
    assertEquals(0, wire.count("segcount", "dk"), "gone by the next timer turn at the latest");
  }

  @Test
  void shouldNeverCountOrAnnounceAProfileStoredAlreadyExpired() {
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      assertEquals("STORED", wire.set("gone", 0, -1, "{\"country\":\"DK\"}"));
      assertEquals("STORED", wire.set("past", 0, 2_592_001, "{\"country\":\"DK\"}"));
      assertNull(wire.get("gone"));
      assertEquals(0, wire.count("segcount", "dk"), "nobody can read them: no segment counts them");
      assertEquals(0, wire.count("filtercount", "exists(country)"));
      assertEquals("STORED", wire.set("sentinel", 0, 0, "{\"country\":\"DK\"}"));
      String first = watcher.readLine();
      assertEquals(
          "CHANGE enter dk sentinel " + clock.millis() + "\r\n",
          first,
          "no change for an expired profile");
    }
  }

  @Test
  void shouldTakeAProfileOutOfItsSegmentsWhenATouchExpiresIt() {
    assertEquals("STORED", wire.set("u", 0, 0, "{\"country\":\"DK\"}"));
    assertEquals("TOUCHED", wire.line("touch u -1"));
    assertEquals(0, wire.count("segcount", "dk"));
    assertEquals("", wire.get("_whack/of/u"));
    assertNull(wire.get("u"));
  }
}

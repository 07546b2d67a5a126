package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.SegmentException;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.testing.ManualClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 18's time in segment: entered(s), time_in(s) and the entered times kept per membership. */
class TimeInSegmentTest {
  private static final long DAY = 86_400_000L;

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00.250Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void update(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.updateJson(k(key), b, 0, b.length);
  }

  /** The clock's time as an entered time is kept: to the second. */
  private long second() {
    return clock.millis() / 1000 * 1000;
  }

  private long entered(String key, String segment) {
    for (SegmentMembership m : engine.membershipsOf(k(key))) {
      if (m.segment().equals(segment)) {
        return m.enteredMillis();
      }
    }
    return -1;
  }

  @Test
  void shouldRememberWhenEachMembershipBeganAndForgetItOnLeaving() {
    engine.define("vip", "spend > 100");
    engine.define("dk", "country == \"DK\"");
    update("a", "{\"set\":{\"spend\":150}}");
    long vipAt = second();
    clock.advanceMillis(5_000);
    update("a", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals(
        List.of(new SegmentMembership("vip", vipAt), new SegmentMembership("dk", second())),
        engine.membershipsOf(k("a")));
    clock.advanceMillis(5_000);
    update("a", "{\"set\":{\"spend\":200}}");
    assertEquals(vipAt, entered("a", "vip"), "still a member: an update is no entry");
    update("a", "{\"set\":{\"spend\":1}}");
    assertEquals(List.of("dk"), engine.segmentsOf(k("a")));
    clock.advanceMillis(5_000);
    update("a", "{\"set\":{\"spend\":500}}");
    assertEquals(second(), entered("a", "vip"), "re-entered: the new time");
    assertEquals(List.of(), engine.membershipsOf(k("nobody")));
  }

  @Test
  void shouldExitOnTimeExactlyWhenTimeInPassesItsDuration() {
    engine.define("vip", "spend > 100");
    engine.define("loyal", "time_in(vip) > 7d");
    engine.define("new_vip", "time_in(\"vip\") <= 7d");
    update("a", "{\"set\":{\"spend\":150}}");
    long at = second();
    assertFalse(engine.inSegment("loyal", k("a")));
    assertTrue(engine.inSegment("new_vip", k("a")));
    try (Subscription sub = engine.subscribe(List.of("loyal", "new_vip"), null)) {
      // time_in > 7d holds from entered + 7d + 1 ms: the timer comes back then, not before.
      assertEquals(at + 7 * DAY + 1, engine.nextReevaluationMillis());
      clock.advanceMillis(at + 7 * DAY - clock.millis());
      engine.runDueReevaluations();
      assertNull(sub.poll(), "exactly 7 days in: not more than 7 days yet");
      clock.advanceMillis(1);
      engine.runDueReevaluations();
      assertEquals(new SegmentChange("loyal", "a", true, clock.millis()), sub.poll());
      assertEquals(new SegmentChange("new_vip", "a", false, clock.millis()), sub.poll());
      assertNull(sub.poll());
      assertEquals(Long.MAX_VALUE, engine.nextReevaluationMillis(), "nothing more to wait for");
      // Leaving vip leaves loyal in the same write; coming back starts the count again.
      update("a", "{\"set\":{\"spend\":1}}");
      assertEquals(new SegmentChange("loyal", "a", false, clock.millis()), sub.poll());
      update("a", "{\"set\":{\"spend\":150}}");
      assertEquals(new SegmentChange("new_vip", "a", true, clock.millis()), sub.poll());
      assertNull(sub.poll());
      assertFalse(engine.inSegment("loyal", k("a")));
    }
  }

  @Test
  void shouldMeanElapsedTimeOpDurationForEveryOperatorOnEitherSide() {
    engine.define("vip", "spend > 100");
    update("a", "{\"set\":{\"spend\":150}}");
    long entered = second();
    String[] ops = {">", ">=", "<", "<=", "==", "!="};
    String[] mirrored = {"<", "<=", ">", ">=", "==", "!="};
    long hour = 3_600_000L;
    for (long elapsed : new long[] {hour - 1, hour, hour + 1}) {
      clock.advanceMillis(entered + elapsed - clock.millis());
      int cmp = Long.compare(elapsed, hour);
      boolean[] want = {cmp > 0, cmp >= 0, cmp < 0, cmp <= 0, cmp == 0, cmp != 0};
      for (int i = 0; i < ops.length; i++) {
        String where = "time_in(vip) " + ops[i] + " 1h after " + elapsed + " ms";
        assertEquals(want[i] ? 1 : 0, engine.filterCount("time_in(vip) " + ops[i] + " 1h"), where);
        assertEquals(
            want[i] ? 1 : 0, engine.filterCount("1h " + mirrored[i] + " time_in(vip)"), where);
        assertEquals(0, engine.filterCount("time_in(vip) " + ops[i] + " 1h and not exists(spend)"));
      }
    }
    update("b", "{\"set\":{\"spend\":1}}");
    for (String op : ops) {
      assertEquals(
          0,
          engine.filterCount("time_in(vip) " + op + " 1h and spend < 100"),
          "a non-member has no time in it: " + op);
    }
  }

  @Test
  void shouldCompareEnteredWithTimesAndTreatANonMemberAsMissing() {
    engine.define("vip", "spend > 100");
    engine.define("early", "entered(vip) < 2026-11-21");
    engine.define("not_early", "not (entered(vip) < 2026-11-21)");
    engine.define("old_vip", "entered(vip) < now() - 1d");
    update("a", "{\"set\":{\"spend\":150}}");
    update("b", "{\"set\":{\"spend\":5}}");
    assertEquals(List.of("a"), engine.members("early", null, 10).keys());
    assertEquals(List.of("b"), engine.members("not_early", null, 10).keys(), "missing: false");
    assertEquals(1, engine.filterCount("entered(vip) >= 2026-11-20T10:00:00Z"));
    assertEquals(0, engine.filterCount("time_in(vip) > 1s"));
    clock.advanceMillis(DAY + 1_000);
    engine.runDueReevaluations();
    assertEquals(List.of("a"), engine.members("old_vip", null, 10).keys());
    assertEquals(1, engine.filterCount("time_in(vip) > 1d"), "filters read it too");
    assertEquals(1, engine.filterCount("1d < time_in(vip)"), "either side");
  }

  @Test
  void shouldKeepEnteredTimesAcrossARedefinitionAndGiveNewMembersTheBackfillTime() {
    engine.define("vip", "spend > 100");
    engine.define("loyal", "time_in(vip) > 1d");
    update("a", "{\"set\":{\"spend\":150}}");
    update("b", "{\"set\":{\"spend\":60}}");
    long aAt = second();
    clock.advanceMillis(2 * DAY);
    engine.runDueReevaluations();
    assertEquals(List.of("a"), engine.members("loyal", null, 10).keys());
    engine.define("vip", "spend > 50");
    assertEquals(aAt, entered("a", "vip"), "a redefinition is no entry");
    assertEquals(second(), entered("b", "vip"), "a new member enters at the backfill");
    assertEquals(List.of("a"), engine.members("loyal", null, 10).keys());
    assertEquals(second() + DAY + 1, engine.nextReevaluationMillis());
  }

  @Test
  void shouldGiveATimedEntryTheTimeItFellDueWhenAReplayedWriteCatchesUp() {
    engine.define("vip", "spend > 100");
    engine.define("loyal", "time_in(vip) > 1h");
    update("a", "{\"set\":{\"spend\":150}}");
    update("b", "{\"set\":{\"spend\":150}}");
    long at = second();
    engine.engine().catchUpTimedChanges(true); // as a log's replay does
    clock.advanceMillis(3 * 3_600_000L); // the timer, due at entered + 1h + 1 ms, has not run
    update("a", "{\"set\":{\"x\":1}}");
    assertEquals(at + 3_600_000L, entered("a", "loyal"), "at the time it fell due");
    engine.engine().catchUpTimedChanges(false);
    assertEquals(-1, entered("b", "loyal"), "b is not written: its timer has not run yet");
    assertEquals(1, engine.engine().runDueReevaluationsAtTheirTimes(clock.millis()), "b");
    assertEquals(at + 3_600_000L, entered("b", "loyal"), "at its time too");
  }

  @Test
  void shouldReadEnteredTimesLikeInSegment() {
    ExpressionException unknown =
        assertThrows(ExpressionException.class, () -> engine.define("x", "time_in(vip) > 1d"));
    assertEquals("bad expression at position 8: no segment vip is defined", unknown.getMessage());
    engine.define("vip", "spend > 100");
    engine.define("loyal", "entered(vip) < now() - 7d");
    assertThrows(SegmentException.class, () -> engine.drop("vip"));
    ExpressionException cycle =
        assertThrows(ExpressionException.class, () -> engine.define("vip", "time_in(loyal) > 1d"));
    assertTrue(cycle.getMessage().contains("cycle"), cycle.getMessage());
    assertEquals(List.of("loyal", "vip"), engine.drop("vip", true));
  }

  @Test
  void shouldRefuseTimeInThatIsNotComparedWithADuration() {
    engine.define("vip", "spend > 100");
    assertEquals(
        "bad expression at position 0: time_in(...) is only compared with a duration, like"
            + " time_in(vip) > 7d (or use entered(vip), a timestamp)",
        assertThrows(ExpressionException.class, () -> engine.filterCount("time_in(vip)"))
            .getMessage());
    assertEquals(
        "bad expression at position 15: time_in(...) is compared with a duration, like"
            + " time_in(vip) > 7d; found something else",
        assertThrows(ExpressionException.class, () -> engine.filterCount("time_in(vip) > 7"))
            .getMessage());
    assertThrows(ExpressionException.class, () -> engine.filterCount("\"x\" in [time_in(vip)]"));
    assertThrows(ExpressionException.class, () -> engine.filterCount("spend in time_in(vip)"));
    assertEquals(
        "bad expression at position 8: expected a condition, found a timestamp (compare it with"
            + " something)",
        assertThrows(ExpressionException.class, () -> engine.filterCount("entered(vip)"))
            .getMessage());
  }
}

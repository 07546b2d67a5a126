package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.SegmentException;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.testing.ManualClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 18's audience features in the language: in_segment (segments of segments) and bucket. */
class SegmentsOfSegmentsTest {
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void update(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.updateJson(k(key), b, 0, b.length);
  }

  @Test
  void shouldFollowTheSegmentItReadsOnEveryUpdate() {
    engine.define("vip", "spend > 100");
    engine.define("vip_dk", "in_segment(\"vip\") and country == \"DK\"");
    try (Subscription sub = engine.subscribe(List.of("vip_dk"), null)) {
      update("a", "{\"set\":{\"country\":\"DK\",\"spend\":50}}");
      assertNull(sub.poll(), "not vip yet");
      // The update touches only spend, which vip_dk does not read: it follows vip's change.
      update("a", "{\"set\":{\"spend\":150}}");
      assertEquals(new SegmentChange("vip_dk", "a", true, clock.millis()), sub.poll());
      update("a", "{\"set\":{\"spend\":10}}");
      assertEquals(new SegmentChange("vip_dk", "a", false, clock.millis()), sub.poll());
      assertNull(sub.poll());
    }
  }

  @Test
  void shouldFollowAChainOfSegmentsAndTheClockThroughIt() {
    engine.define("recent", "last_seen > now() - 1d");
    engine.define("recent_dk", "in_segment(\"recent\") and country == \"DK\"");
    engine.define("lapsed_dk", "country == \"DK\" and not in_segment(\"recent_dk\")");
    update("a", "{\"set\":{\"country\":\"DK\",\"last_seen\":\"2026-11-20T09:00:00Z\"}}");
    assertTrue(engine.inSegment("recent_dk", k("a")));
    assertFalse(engine.inSegment("lapsed_dk", k("a")));
    // Only time moves: recent's timer re-evaluates what reads it, through the chain.
    clock.advanceMillis(Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertFalse(engine.inSegment("recent", k("a")));
    assertFalse(engine.inSegment("recent_dk", k("a")));
    assertTrue(engine.inSegment("lapsed_dk", k("a")));
  }

  @Test
  void shouldReadTheNewMembersAfterARedefinition() {
    update("a", "{\"set\":{\"spend\":150}}");
    update("b", "{\"set\":{\"spend\":50}}");
    engine.define("vip", "spend > 100");
    engine.define("not_vip", "not in_segment(\"vip\")");
    assertEquals(List.of("b"), engine.members("not_vip", null, 10).keys());
    engine.define("vip", "spend > 10");
    assertEquals(0, engine.count("not_vip"), "every profile is vip now");
    assertEquals(List.of("vip", "not_vip"), names(), "a reader stays after what it reads");
  }

  @Test
  void shouldRefuseAnUnknownSegmentAndACycleWithTheirPositions() {
    ExpressionException unknown =
        assertThrows(
            ExpressionException.class, () -> engine.define("x", "a == 1 or in_segment(\"nope\")"));
    assertEquals("bad expression at position 21: no segment nope is defined", unknown.getMessage());
    ExpressionException self =
        assertThrows(ExpressionException.class, () -> engine.define("x", "in_segment(\"x\")"));
    assertEquals(
        "bad expression at position 11: a segment cannot be defined by its own members",
        self.getMessage());
    engine.define("a", "spend > 1");
    engine.define("b", "in_segment(\"a\")");
    engine.define("c", "in_segment(`b`)");
    ExpressionException cycle =
        assertThrows(
            ExpressionException.class, () -> engine.define("a", "vip or in_segment(\"c\")"));
    assertEquals(
        "bad expression at position 18: segments would read each other in a cycle:"
            + " a -> c -> b -> a (each reads the next)",
        cycle.getMessage());
    assertEquals("spend > 1", engine.segment("a").expression(), "nothing was redefined");
    assertNull(engine.segment("x"));
  }

  @Test
  void shouldKeepALongChainInOrderAndFindItsCycle() {
    KeyedEngine big = new KeyedEngine(new EngineConfig().clock(clock).maxSegments(3000));
    big.define("c0", "spend > 1");
    for (int i = 1; i < 3000; i++) {
      big.define("c" + i, "in_segment(\"c" + (i - 1) + "\")");
    }
    byte[] b = "{\"set\":{\"spend\":5}}".getBytes(UTF_8);
    big.updateJson(k("a"), b, 0, b.length);
    assertTrue(big.inSegment("c2999", k("a")), "the change went down the whole chain");
    ExpressionException cycle =
        assertThrows(ExpressionException.class, () -> big.define("c0", "in_segment(\"c2999\")"));
    String why = cycle.getMessage();
    assertTrue(
        why.startsWith(
            "bad expression at position 11: segments would read each other in a cycle:"
                + " c0 -> c2999 -> c2998 -> "),
        why.substring(0, 200));
    assertTrue(why.endsWith(" -> c1 -> c0 (each reads the next)"), why);
    assertEquals(3001, cycle.getMessage().split(" -> ").length, "every link named once");
  }

  @Test
  void shouldRefuseToDropAReadSegmentUnlessForcedAndThenDropItsReaders() {
    engine.define("a", "spend > 1");
    engine.define("b", "in_segment(\"a\")");
    engine.define("c", "in_segment(\"b\") or vip");
    engine.define("d", "vip");
    SegmentException refused = assertThrows(SegmentException.class, () -> engine.drop("a"));
    assertEquals(
        "segment a is read by b, c (in_segment, entered or time_in); drop those first, or drop it with force to drop"
            + " them too",
        refused.getMessage());
    assertEquals(List.of("a", "b", "c", "d"), names());
    assertEquals(List.of("c", "b", "a"), engine.drop("a", true));
    assertEquals(List.of("d"), names());
    assertEquals(List.of(), engine.drop("a", true), "gone");
  }

  @Test
  void shouldAnswerAFilterThatReadsASegment() {
    engine.define("vip", "spend > 100");
    update("a", "{\"set\":{\"spend\":150,\"country\":\"DK\"}}");
    update("b", "{\"set\":{\"spend\":150,\"country\":\"SE\"}}");
    update("c", "{\"set\":{\"spend\":1,\"country\":\"DK\"}}");
    assertEquals(1, engine.filterCount("in_segment(\"vip\") and country == \"DK\""));
    assertEquals(List.of("c"), engine.filterMembers("not in_segment(\"vip\")", null, 10).keys());
    ExpressionException unknown =
        assertThrows(ExpressionException.class, () -> engine.filterCount("in_segment(\"x\")"));
    assertEquals("bad expression at position 11: no segment x is defined", unknown.getMessage());
  }

  @Test
  void shouldRefuseInADryRunWhatADefinitionWouldRefuse() {
    engine.define("a", "spend > 1");
    engine.define("b", "in_segment(\"a\")");
    update("x", "{\"set\":{\"spend\":5}}");
    assertEquals(
        new SegmentDryRun(1, List.of("x")),
        engine.engine().dryRun("c", "in_segment(\"b\")", 10),
        "a reader of a reader");
    ExpressionException cycle =
        assertThrows(
            ExpressionException.class, () -> engine.engine().dryRun("a", "in_segment(\"b\")", 10));
    assertTrue(cycle.getMessage().contains("a -> b -> a"), cycle.getMessage());
    assertThrows(
        ExpressionException.class, () -> engine.engine().dryRun("x", "in_segment(\"x\")", 10));
  }

  @Test
  void shouldSplitKeysIntoStableEvenBuckets() {
    int profiles = 20_000;
    for (int i = 0; i < profiles; i++) {
      update("user:" + i, "{\"set\":{\"n\":1}}");
    }
    engine.define("holdout", "bucket(100) < 10");
    engine.define("other_holdout", "bucket(100, \"2027\") < 10");
    long held = engine.count("holdout");
    // 10% of 20,000 is 2,000 with a standard deviation of about 42: 5 of them either way.
    assertTrue(Math.abs(held - 2_000) < 210, "about a tenth: " + held);
    long both = engine.count("holdout and other_holdout");
    assertTrue(Math.abs(both - 200) < 75, "a salt draws an independent split: " + both);
    assertEquals(profiles - held, engine.count("not holdout"), "campaign and not holdout is exact");
    // Pinned: a key's bucket must never change between versions, nodes or restarts.
    assertEquals(
        List.of("user:135", "user:327", "user:902"),
        engine.filterMembers("bucket(1000) == 7 or bucket(1000, \"x\") == 7", null, 3).keys());
  }

  @Test
  void shouldRefuseABadBucket() {
    assertEquals(
        "bad expression at position 7: the number of buckets is 1 to 1000000000, found 0",
        assertThrows(ExpressionException.class, () -> engine.filterCount("bucket(0) < 1"))
            .getMessage());
    assertEquals(
        "bad expression at position 11: expected a salt string (like \"holdout-2026\") in"
            + " bucket(...), found '3'",
        assertThrows(ExpressionException.class, () -> engine.filterCount("bucket(10, 3) < 1"))
            .getMessage());
  }

  private List<String> names() {
    return engine.segments().stream().map(SegmentInfo::name).toList();
  }
}

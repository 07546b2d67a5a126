package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.SegmentException;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.engine.segment.UnknownSegmentException;
import dev.whack.node.testing.ManualClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ProfileEngineTest {
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void put(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.putJson(k(key), b, 0, b.length);
  }

  private WriteResult update(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    return engine.updateJson(k(key), b, 0, b.length);
  }

  private String get(String key) {
    byte[] json = engine.getJson(k(key));
    return json == null ? null : new String(json, UTF_8);
  }

  @Test
  void shouldReturnAProfileReflectingEveryUpdate() {
    put("u1", "{\"country\":\"DK\",\"visits\":1}");
    update("u1", "{\"incr\":{\"visits\":2},\"add\":{\"tags\":[\"vip\"]}}");
    assertEquals("{\"country\":\"DK\",\"visits\":3,\"tags\":[\"vip\"]}", get("u1"));
    assertEquals("u1", engine.get(k("u1")).getKey());
  }

  @Test
  void shouldCreateAProfileOnItsFirstUpdate() {
    WriteResult r = update("new", "{\"set\":{\"a\":1}}");
    assertTrue(r.created());
    assertTrue(r.footprintBytes() > 0);
    assertEquals(1, engine.size());
  }

  @Test
  void shouldAcknowledgeAndIgnoreAReplayedSequence() {
    assertTrue(update("u", "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":1}").applied());
    assertFalse(update("u", "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":1}").applied());
    assertEquals("{\"n\":1,\"$producers\":{\"p\":1}}", get("u"));
  }

  @Test
  void shouldRejectATypeClashWithNothingHalfApplied() {
    put("u", "{\"country\":\"DK\"}");
    engine.define("dk", "country == \"DK\"");
    assertThrows(
        InvalidProfileException.class,
        () -> update("u", "{\"set\":{\"country\":\"SE\"},\"incr\":{\"country\":1}}"));
    assertEquals("{\"country\":\"DK\"}", get("u"));
    assertEquals(1, engine.count("dk"));
  }

  @Test
  void shouldRejectMalformedJsonWithItsPosition() {
    JsonFormatException e =
        assertThrows(JsonFormatException.class, () -> update("u", "{\"set\":{\"a\":}}"));
    assertEquals(1, e.line());
    assertEquals(0, engine.size());
  }

  @Test
  void shouldBackfillOnDefineAndTrackUpdatesAfterwards() {
    put("a", "{\"country\":\"DK\"}");
    put("b", "{\"country\":\"SE\"}");
    SegmentInfo info = engine.define("dk", "country == \"DK\"");
    assertEquals(1, info.size());
    update("b", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals(2, engine.count("dk"));
    update("a", "{\"unset\":[\"country\"]}");
    assertEquals(List.of("b"), engine.members("dk", null, 10).keys());
    assertEquals(List.of("dk"), engine.segmentsOf(k("b")));
  }

  @Test
  void shouldRemoveADeletedProfileFromEverySegment() {
    put("a", "{\"country\":\"DK\",\"vip\":true}");
    engine.define("dk", "country == \"DK\"");
    engine.define("vip", "vip");
    assertTrue(engine.remove(k("a")));
    assertEquals(0, engine.count("dk"));
    assertEquals(0, engine.count("vip"));
    assertNull(get("a"));
    assertFalse(engine.remove(k("a")));
  }

  @Test
  void shouldRefuseABadSegmentAndDefineNothing() {
    engine.define("dk", "country == \"DK\"");
    assertThrows(ExpressionException.class, () -> engine.define("bad", "country =="));
    SegmentException e = assertThrows(SegmentException.class, () -> engine.define("and", "true"));
    assertTrue(e.getMessage().startsWith("bad segment name and"), e.getMessage());
    assertEquals(1, engine.segments().size());
    assertTrue(engine.drop("dk"));
    assertFalse(engine.drop("dk"));
  }

  @Test
  void shouldReplaceASegmentOnRedefinitionAndKeepTheOldOneWhenTheNewExpressionIsBad() {
    put("a", "{\"country\":\"DK\"}");
    put("b", "{\"country\":\"SE\"}");
    engine.define("nordic", "country == \"DK\"");
    assertThrows(ExpressionException.class, () -> engine.define("nordic", "country in"));
    assertEquals(List.of("a"), engine.members("nordic", null, 10).keys());
    SegmentInfo info = engine.define("nordic", "country in [\"DK\", \"SE\"]");
    assertEquals(2, info.size());
    assertEquals(1, engine.segments().size());
    assertTrue(engine.inSegment("nordic", k("b")));
    put("b", "{\"country\":\"US\"}");
    assertFalse(engine.inSegment("nordic", k("b")));
  }

  @Test
  void shouldNameAnUnknownSegmentAndABadCursor() {
    UnknownSegmentException e =
        assertThrows(UnknownSegmentException.class, () -> engine.count("nope or nope2"));
    assertEquals("unknown segment nope", e.getMessage());
    assertThrows(UnknownSegmentException.class, () -> engine.inSegment("nope", k("a")));
    engine.define("x", "true");
    InvalidCursorException c =
        assertThrows(InvalidCursorException.class, () -> engine.members("x", "zz", 10));
    assertEquals("bad cursor", c.getMessage());
  }

  @Test
  void shouldAnswerSegmentAlgebra() {
    for (int i = 0; i < 100; i++) {
      put("u" + i, "{\"n\":" + i + "}");
    }
    engine.define("even", "n in [0,2,4,6,8,10,12,14,16,18]");
    engine.define("small", "n < 10");
    assertEquals(5, engine.count("even and small"));
    assertEquals(15, engine.count("even or small"));
    assertEquals(10, engine.count("even xor small"));
    assertEquals(5, engine.count("small and not even"));
    assertEquals(90, engine.count("not small"));
    assertEquals(5, engine.members("small and not even", null, 100).keys().size());
    ExpressionException e =
        assertThrows(ExpressionException.class, () -> engine.count("small and (even"));
    assertEquals(15, e.position());
  }

  @Test
  void shouldPageMembersWithACursorReturningEachOnce() {
    for (int i = 0; i < 250; i++) {
      put("u" + i, "{\"x\":true}");
    }
    engine.define("x", "x");
    Set<String> seen = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      MembersPage page = engine.members("x", cursor, 100);
      for (String key : page.keys()) {
        assertTrue(seen.add(key), "returned twice: " + key);
      }
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);
    assertEquals(250, seen.size());
    assertTrue(pages >= 3);
  }

  @Test
  void shouldPageOverRemovedOrdinalsWithoutSkippingMembers() {
    for (int i = 0; i < 10; i++) {
      put("u" + i, "{\"x\":true}");
    }
    engine.define("x", "x");
    Set<String> all = new HashSet<>();
    String cursor = null;
    do {
      MembersPage page = engine.members(null, cursor, 3);
      all.addAll(page.keys());
      cursor = page.nextCursor();
    } while (cursor != null);
    assertEquals(10, all.size());
  }

  @Test
  void shouldFilterAdHocWithoutDefiningAnything() {
    put("a", "{\"age\":30}");
    put("b", "{\"age\":40}");
    assertEquals(1, engine.filterCount("age > 35"));
    assertEquals(List.of("b"), engine.filterMembers("age > 35", null, 10).keys());
    assertEquals(0, engine.filterCount("unknown_attribute == 1"));
    assertEquals(0, engine.segments().size());
  }

  @Test
  void shouldLeaveARecencySegmentWhenTimePassesWithoutAnyUpdate() {
    put("a", "{\"last_seen\":\"2026-11-19T10:00:00Z\"}");
    engine.define("recent", "last_seen > now() - 2d");
    assertEquals(1, engine.count("recent"));
    clock.advanceMillis(Days.MILLIS_PER_DAY - 1);
    engine.runDueReevaluations();
    assertEquals(1, engine.count("recent"));
    clock.advanceMillis(1);
    assertEquals(1, engine.runDueReevaluations());
    assertEquals(0, engine.count("recent"));
  }

  @Test
  void shouldLeaveAWindowSegmentAtTheMidnightItsEventsAge() {
    update("a", "{\"events\":[{\"name\":\"buy\"},{\"name\":\"buy\"},{\"name\":\"buy\"}]}");
    engine.define("buyers", "count(buy, 7d) >= 3");
    assertEquals(1, engine.count("buyers"));
    clock.advanceMillis(6 * Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertEquals(1, engine.count("buyers"));
    clock.advanceMillis(Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertEquals(0, engine.count("buyers"));
    assertEquals(Long.MAX_VALUE, engine.nextReevaluationMillis());
  }

  @Test
  void shouldEnterAWindowSegmentAtTheMidnightAFutureDatedEventBegins() {
    update("a", "{\"events\":[{\"name\":\"buy\",\"time\":\"2026-11-21T00:30:00Z\"}]}");
    engine.define("today_buyers", "count(buy, 1d) >= 1");
    engine.define("no_buys", "count(buy, 1d) < 1");
    assertEquals(0, engine.count("today_buyers"));
    assertEquals(1, engine.count("no_buys"));
    clock.advanceMillis(14 * 3_600_000L - 1); // 2026-11-20T23:59:59.999Z
    engine.runDueReevaluations();
    assertEquals(0, engine.count("today_buyers"));
    clock.advanceMillis(1);
    engine.runDueReevaluations();
    assertEquals(1, engine.count("today_buyers"));
    assertEquals(0, engine.count("no_buys"));
    clock.advanceMillis(Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertEquals(0, engine.count("today_buyers"));
  }

  @Test
  void shouldLeaveADecayedSegmentOnlyOnceTheScoreHasFallen() {
    update("a", "{\"events\":[" + "{\"name\":\"view\"},".repeat(7) + "{\"name\":\"view\"}]}");
    engine.define(
        "engaged", "decayed(view, 1d) > 1.0"); // 8, halving daily: above 1 for 2 more days
    assertEquals(1, engine.count("engaged"));
    assertTrue(engine.nextReevaluationMillis() >= clock.millis() + Days.MILLIS_PER_DAY);
    for (int day = 1; day <= 2; day++) {
      clock.advanceMillis(Days.MILLIS_PER_DAY);
      engine.runDueReevaluations();
      assertEquals(1, engine.count("engaged"), "day " + day);
    }
    clock.advanceMillis(Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertEquals(0, engine.count("engaged"));
  }

  @Test
  void shouldTellSubscribersWhoEnteredAndLeft() {
    engine.define("dk", "country == \"DK\"");
    try (Subscription sub = engine.subscribe(List.of("dk"), null)) {
      update("a", "{\"set\":{\"country\":\"DK\"}}");
      update("a", "{\"set\":{\"country\":\"SE\"}}");
      SegmentChange enter = sub.poll();
      SegmentChange leave = sub.poll();
      assertEquals(new SegmentChange("dk", "a", true, clock.millis()), enter);
      assertEquals(new SegmentChange("dk", "a", false, clock.millis()), leave);
      assertNull(sub.poll());
    }
  }

  @Test
  void shouldCountWhatASlowSubscriberMissedWithoutBlockingIngestion() {
    // One ring of 4 KiB: a change of a key "u<i>" takes 24 bytes, so 1,000 of them lap it.
    KeyedEngine small =
        new KeyedEngine(
            new EngineConfig().clock(clock).changeBufferBytes(4096).changeBufferStripes(1));
    small.define("dk", "country == \"DK\"");
    Subscription sub = small.subscribe(List.of("dk"), null);
    for (int i = 0; i < 1000; i++) {
      byte[] body = "{\"set\":{\"country\":\"DK\"}}".getBytes(UTF_8);
      small.updateJson(k("u" + i), body, 0, body.length);
    }
    List<SegmentChange> got = new ArrayList<>();
    sub.drainTo(got, 2000);
    long missed = sub.takeMissed();
    assertEquals(1000, got.size() + missed, "every change is either read or counted as missed");
    assertTrue(got.size() >= 100, "it keeps most of what the ring still holds: " + got.size());
    for (int i = 0; i < got.size(); i++) {
      assertEquals("u" + (1000 - got.size() + i), got.get(i).key(), "the newest, in order");
    }
    assertEquals(0, sub.takeMissed());
    assertNull(sub.poll());
    sub.close();
  }

  @Test
  void shouldNotCountChangesOfUnwatchedSegmentsAsMissed() {
    KeyedEngine small =
        new KeyedEngine(
            new EngineConfig().clock(clock).changeBufferBytes(4096).changeBufferStripes(1));
    small.define("busy", "n >= 0");
    small.define("quiet", "q == true");
    Subscription busy = small.subscribe(List.of("busy"), null);
    Subscription quiet = small.subscribe(List.of("quiet"), null);
    byte[] body = "{\"set\":{\"n\":1}}".getBytes(UTF_8);
    for (int i = 0; i < 1000; i++) {
      small.updateJson(k("b" + i), body, 0, body.length); // laps the quiet reader many times
    }
    byte[] flag = "{\"set\":{\"q\":true}}".getBytes(UTF_8);
    small.updateJson(k("q"), flag, 0, flag.length);
    assertEquals("q", quiet.poll().key());
    assertEquals(0, quiet.takeMissed(), "what it lost was none of its own");
    assertNull(quiet.poll());
    busy.poll();
    assertTrue(busy.takeMissed() > 0, "the busy reader, lapped, lost some of its own");
    busy.close();
    quiet.close();
  }

  @Test
  void shouldWakeOnlyASubscriberThatArmedItself() {
    engine.define("dk", "country == \"DK\"");
    int[] wakes = new int[1];
    Subscription sub = engine.subscribe(List.of("dk"), () -> wakes[0]++);
    update("a", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals(0, wakes[0], "not armed: ingestion does not call it");
    assertFalse(sub.arm(), "a change is waiting: read it rather than wait");
    assertEquals("a", sub.poll().key());
    assertTrue(sub.arm());
    update("b", "{\"set\":{\"country\":\"DK\"}}");
    update("c", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals(1, wakes[0], "woken once, by the first change after it armed");
    assertEquals(2, sub.lag());
    sub.close();
  }

  @Test
  void shouldDumpProfilesThatLoadBackIntoAnEqualEngine() {
    update(
        "a",
        "{\"set\":{\"country\":\"DK\"},\"events\":[{\"name\":\"buy\",\"value\":2.0}],"
            + "\"producer\":\"p\",\"seq\":3}");
    put("b", "{\"tags\":[\"x\"]}");
    engine.define("dk", "country == \"DK\"");
    KeyedEngine copy = new KeyedEngine(new EngineConfig().clock(clock));
    copy.define("dk", "country == \"DK\"");
    for (dev.whack.proto.Profile p : engine.all()) {
      copy.put(k(p.getKey()), p);
    }
    assertEquals(get("a"), new String(copy.getJson(k("a")), UTF_8));
    assertEquals(get("b"), new String(copy.getJson(k("b")), UTF_8));
    assertEquals(1, copy.count("dk"));
    assertFalse(
        copy.update(
                k("a"),
                dev.whack.node.engine.json.UpdateJson.parse(
                    "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":3}".getBytes(UTF_8)))
            .applied());
  }

  @Test
  void shouldEmptyEverySegmentOnRemoveAll() {
    put("a", "{\"country\":\"DK\"}");
    put("b", "{\"country\":\"DK\"}");
    engine.define("dk", "country == \"DK\"");
    assertEquals(2, engine.removeAll());
    assertEquals(0, engine.size());
    assertEquals(0, engine.count("dk"));
    put("c", "{\"country\":\"DK\"}");
    assertEquals(List.of("c"), engine.members("dk", null, 10).keys());
  }

  @Test
  void shouldKeepIngestingWhenAChangeListenerThrows() {
    engine.define("dk", "country == \"DK\"");
    Subscription sub =
        engine.subscribe(
            List.of("dk"),
            () -> {
              throw new IllegalStateException("listener bug");
            });
    assertTrue(sub.arm());
    update("a", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals("a", sub.poll().key());
    assertTrue(sub.arm());
    update("b", "{\"set\":{\"country\":\"DK\"}}");
    assertEquals(2, engine.count("dk"));
    assertEquals(1, sub.lag());
    assertEquals(2, sub.listenerFailures());
    sub.close();
  }

  @Test
  void shouldReadEventWindowsAndDecayChosenAtReadTime() {
    update(
        "a",
        "{\"events\":[{\"name\":\"view\",\"value\":2.0},{\"name\":\"view\",\"value\":4.0},"
            + "{\"name\":\"view\",\"value\":9.0,\"time\":\"2026-11-13T10:00:00Z\"}]}");
    EventStats week = engine.eventStats(k("a"), "view", 7, 7 * Days.MILLIS_PER_DAY);
    assertEquals(2, week.count());
    assertEquals(6.0, week.sum());
    assertEquals(3.0, week.average());
    assertEquals(1.0, week.variance());
    assertEquals(2.5, week.decayed(), 1e-9); // 2 today + 1 a week ago at half weight
    EventStats month = engine.eventStats(k("a"), "view", 30, Days.MILLIS_PER_DAY);
    assertEquals(3, month.count());
    assertEquals(0, engine.eventStats(k("a"), "nothing", 7, 1).count());
    assertNull(engine.eventStats(k("nobody"), "view", 7, 1));
    assertThrows(IllegalArgumentException.class, () -> engine.eventStats(k("a"), "view", 61, 1));
  }

  @Test
  void shouldRejectConfigurationMistakesBeforeStarting() {
    assertThrows(
        IllegalArgumentException.class, () -> new KeyedEngine(new EngineConfig().lockStripes(3)));
    assertThrows(
        IllegalArgumentException.class, () -> new KeyedEngine(new EngineConfig().retentionDays(0)));
  }

  @Test
  void shouldRejectKeysLongerThan250Bytes() {
    byte[] key = new byte[251];
    java.util.Arrays.fill(key, (byte) 'k');
    assertThrows(
        InvalidProfileException.class,
        () -> engine.update(key, dev.whack.proto.Update.getDefaultInstance()));
  }

  /**
   * An engine used from a thread that outlives it (a test runner, a shared pool) can still be
   * collected: the thread keeps its per-thread scratch, but the scratch must not keep the engine.
   */
  @Test
  void shouldLetAnEngineGoWhileTheThreadThatUsedItLives() throws InterruptedException {
    java.lang.ref.WeakReference<KeyedEngine> dropped = useAndDropAnEngine();
    for (int i = 0; i < 50 && dropped.get() != null; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertNull(dropped.get(), "the engine is still reachable from this thread");
  }

  private static java.lang.ref.WeakReference<KeyedEngine> useAndDropAnEngine() {
    KeyedEngine used = new KeyedEngine(new EngineConfig());
    used.updateJson("k".getBytes(UTF_8), "{\"set\":{\"a\":1}}".getBytes(UTF_8), 0, 15);
    used.putJson("p".getBytes(UTF_8), "{\"b\":2}".getBytes(UTF_8), 0, 7);
    return new java.lang.ref.WeakReference<>(used);
  }
}

package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.testing.ManualClock;
import dev.whack.proto.Update;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Per-profile limits instead of node-wide traps (issue 13, finding 1): a write past a limit is
 * rejected alone, before it interns anything; producer marks make room instead, oldest first, and
 * expire; names nothing uses any more are freed.
 */
class ProfileLimitsTest {
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine =
      new KeyedEngine(
          new EngineConfig()
              .clock(clock)
              .retentionDays(7)
              .maxAttributesPerProfile(3)
              .maxEventSeriesPerProfile(2)
              .maxProducersPerProfile(2)
              .producerMarkAge(Duration.ofHours(1)));
  private static final byte[] KEY = "user".getBytes(UTF_8);

  private void put(String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.putJson(KEY, b, 0, b.length);
  }

  private WriteResult update(String json) {
    byte[] b = json.getBytes(UTF_8);
    return engine.updateJson(KEY, b, 0, b.length);
  }

  private String get() {
    byte[] json = engine.getJson(KEY);
    return json == null ? null : new String(json, UTF_8);
  }

  private int attributeNames() {
    return engine.stats().attributeNames();
  }

  @Test
  void shouldRejectAnUpdateNamingMoreAttributesThanAProfileHoldsBeforeInterningAny() {
    InvalidProfileException e =
        assertThrows(
            InvalidProfileException.class,
            () -> update("{\"set\":{\"a\":1,\"b\":1},\"incr\":{\"c\":1},\"add\":{\"d\":[\"x\"]}}"));
    assertEquals(
        "too many attributes: an update holds at most 3 attribute operations", e.getMessage());
    assertEquals(0, attributeNames());
    assertNull(get());
  }

  @Test
  void shouldRejectAnAttributeBeyondTheProfileLimitAndKeepTheProfile() {
    put("{\"a\":1,\"b\":2,\"c\":3}");
    InvalidProfileException e =
        assertThrows(InvalidProfileException.class, () -> update("{\"set\":{\"a\":9,\"d\":4}}"));
    assertEquals("too many attributes: a profile holds at most 3", e.getMessage());
    assertEquals("{\"a\":1,\"b\":2,\"c\":3}", get());
    assertEquals(3, attributeNames(), "d was never interned");
    update("{\"unset\":[\"c\"],\"set\":{\"a\":9},\"incr\":{\"d\":4}}"); // unset makes room first
    assertEquals("{\"a\":9,\"b\":2,\"d\":4}", get());
    assertEquals(3, attributeNames());
    JsonFormatException rejected =
        assertThrows(JsonFormatException.class, () -> put("{\"a\":1,\"b\":2,\"c\":3,\"e\":4}"));
    assertEquals(
        "invalid JSON at line 1, column 24: too many attributes: a profile holds at most 3",
        rejected.getMessage());
    assertEquals("{\"a\":9,\"b\":2,\"d\":4}", get());
  }

  @Test
  void shouldNotCountSeriesPastTheRetentionAgainstTheSeriesLimit() {
    update("{\"events\":[{\"name\":\"old\"},{\"name\":\"kept\"}]}");
    assertThrows(InvalidProfileException.class, () -> update("{\"events\":[{\"name\":\"new\"}]}"));
    clock.advanceMillis(6L * 86_400_000);
    update("{\"events\":[{\"name\":\"kept\"}]}");
    clock.advanceMillis(2L * 86_400_000); // "old" has only a day past the 7-day retention now
    update("{\"events\":[{\"name\":\"new\"}]}");
    // "kept" keeps its first time, on a day pruned since (docs/segments.md, first_time)
    assertEquals(
        "{\"$events\":{\"kept\":{\"$first\":\"2026-11-20T10:00:00Z\",\"$last\":\"2026-11-26T10:00:00Z\","
            + "\"2026-11-26\":[1]},\"new\":{\"$first\":\"2026-11-28T10:00:00Z\","
            + "\"$last\":\"2026-11-28T10:00:00Z\",\"2026-11-28\":[1]}}}",
        get());
    assertEquals(2, engine.stats().eventNames(), "the pruned series gave its name back");
  }

  @Test
  void shouldDropTheLeastRecentlyAdvancedProducerMarkWhenAProfileHoldsTheMost() {
    update("{\"producer\":\"a\",\"seq\":1}");
    clock.advanceMillis(1_000);
    update("{\"producer\":\"b\",\"seq\":1}");
    clock.advanceMillis(1_000);
    update("{\"producer\":\"a\",\"seq\":2}"); // a advanced after b
    clock.advanceMillis(1_000);
    update("{\"producer\":\"c\",\"seq\":1}");
    assertEquals("{\"$producers\":{\"a\":2,\"c\":1}}", get());
    assertEquals(false, update("{\"producer\":\"a\",\"seq\":2}").applied());
    assertEquals(true, update("{\"producer\":\"b\",\"seq\":1}").applied(), "b was forgotten");
  }

  @Test
  void shouldForgetProducerMarksOlderThanTheirAgeAndRejectPutsWithTooMany() {
    update("{\"producer\":\"a\",\"seq\":5}");
    clock.advanceMillis(3_601_000);
    assertEquals(true, update("{\"producer\":\"a\",\"seq\":5}").applied());
    JsonFormatException e =
        assertThrows(
            JsonFormatException.class, () -> put("{\"$producers\":{\"a\":1,\"b\":1,\"c\":1}}"));
    assertEquals(
        "invalid JSON at line 1, column 32: too many producers: a profile holds at most 2"
            + " producer marks",
        e.getMessage());
  }

  @Test
  void shouldKeepTheNamesASegmentReadsUntilItIsDropped() {
    engine.define("s", "exists(a) and count(e, 3d) >= 1");
    put("{\"a\":1,\"b\":1,\"$events\":{\"e\":{\"2026-11-20\":[1]},\"f\":{\"2026-11-20\":[1]}}}");
    engine.remove(KEY);
    assertEquals(1, attributeNames());
    assertEquals(1, engine.stats().eventNames());
    engine.define("s", "exists(b)"); // the redefinition gives the old expression's names back
    assertEquals(1, attributeNames());
    assertEquals(0, engine.stats().eventNames());
    engine.drop("s");
    assertEquals(0, attributeNames());
  }

  @Test
  void shouldInternNothingForAFilterOrARejectedWrite() {
    put("{\"a\":1}");
    assertEquals(1, engine.filterCount("exists(a) or exists(zzz) or count(e, 1d) > 0"));
    engine.filterMembers("x > 1", null, 10);
    assertThrows(
        InvalidProfileException.class,
        () ->
            engine.update(
                KEY,
                Update.newBuilder()
                    .addUnset("a")
                    .addIncr(
                        dev.whack.proto.Increment.newBuilder()
                            .setName("new")
                            .setFloatDelta(Double.NaN))
                    .build()));
    assertThrows(JsonFormatException.class, () -> put("{\"b\":1,\"c\":\"x\",\"d\":nul}"));
    assertEquals(1, attributeNames());
    assertEquals(0, engine.stats().eventNames());
    assertEquals("{\"a\":1}", get());
  }
}

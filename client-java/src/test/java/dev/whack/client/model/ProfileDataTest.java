package dev.whack.client.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/**
 * The typed profile's JSON rules without a node (docs/profiles.md): what it refuses, with what
 * message, and the exact forms it writes. The node-side equivalence is ClientTypedProfilesTest.
 */
class ProfileDataTest {
  private static IllegalArgumentException badJson(String json) {
    return assertThrows(IllegalArgumentException.class, () -> ProfileData.parse(json));
  }

  @Test
  void shouldRefuseNamesTheNodeRefuses() {
    ProfileData.Builder b = ProfileData.builder();
    assertEquals(
        "attribute name is empty",
        assertThrows(IllegalArgumentException.class, () -> b.set("", 1)).getMessage());
    assertEquals(
        "attribute name \"$events\" starts with '$', which is reserved",
        assertThrows(IllegalArgumentException.class, () -> b.set("$events", 1)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.set("x".repeat(201), 1));
    b.set("x".repeat(200), 1);
    assertThrows(IllegalArgumentException.class, () -> b.producer("", 1));
    assertThrows(IllegalArgumentException.class, () -> b.producer("p", -1));
    assertThrows(IllegalArgumentException.class, () -> b.set("s", (String) null));
  }

  @Test
  void shouldRefuseFloatsThatAreNotFinite() {
    for (double d : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      assertThrows(IllegalArgumentException.class, () -> ProfileData.builder().set("f", d));
      assertThrows(IllegalArgumentException.class, () -> ProfileUpdate.of().incr("f", d));
      assertThrows(IllegalArgumentException.class, () -> UpdateEvent.named("e").value(d));
      assertThrows(IllegalArgumentException.class, () -> DayTotals.ofValues(0, d));
    }
  }

  @Test
  void shouldKeepTimestampsToTheMillisecondWithinYears0000To9999() {
    Instant micros = Instant.parse("2026-11-20T10:00:00.123456Z");
    ProfileData p = ProfileData.builder().set("t", micros).build();
    assertEquals(Instant.parse("2026-11-20T10:00:00.123Z"), p.timestamp("t").orElseThrow());
    assertEquals("{\"t\":\"2026-11-20T10:00:00.123Z\"}", p.toJson());
    assertEquals(
        "{\"a\":\"0000-01-01T00:00:00Z\",\"b\":\"9999-12-31T23:59:59.999Z\",\"c\":\"2026-11-20T10:00:00.250Z\"}",
        ProfileData.builder()
            .set("a", Instant.parse("0000-01-01T00:00:00Z"))
            .set("b", Instant.parse("9999-12-31T23:59:59.999Z"))
            .set("c", Instant.parse("2026-11-20T10:00:00.25Z"))
            .build()
            .toJson());
    assertThrows(
        IllegalArgumentException.class,
        () -> ProfileData.builder().set("t", Instant.parse("+10000-01-01T00:00:00Z")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ProfileData.builder().set("t", Instant.parse("-0001-12-31T23:59:59Z")));
  }

  @Test
  void shouldWriteAStringOfTheTimestampShapeSoThatItStaysAString() {
    ProfileData p =
        ProfileData.builder()
            .set("s", "2026-11-20T10:00:00Z")
            .set("t", Instant.parse("2026-11-20T10:00:00Z"))
            .stringSet("set", "2026-11-20T10:00:00Z")
            .build();
    // Set elements are always strings: no timestamp detection inside arrays.
    assertEquals(
        "{\"s\":{\"$string\":\"2026-11-20T10:00:00Z\"},\"t\":\"2026-11-20T10:00:00Z\","
            + "\"set\":[\"2026-11-20T10:00:00Z\"]}",
        p.toJson());
    assertEquals(p, ProfileData.parse(p.toJson()));
    assertEquals(Optional.of(AttributeType.STRING), p.type("s"));
  }

  @Test
  void shouldReadHandWrittenProfileJsonOfEveryForm() {
    ProfileData p =
        ProfileData.parse(
            "{ \"t\": \"2026-11-20T12:00:00.5+02:00\", \"i\": 31, \"f\": 31.0, \"e\": 2.5e3,"
                + " \"b\": false, \"set\": [\"x\", \"y\", \"x\"], \"empty\": [],"
                + " \"$dimensions\": {\"color\": {\"2026-11-20\": {\"blue\": 1, \"red\": 2}}},"
                + " \"$events\": {\"buy\": {\"2026-11-19\": [2, 99.0, 4900.5],"
                + " \"2026-11-20\": [1, 3.5, 12.25], \"2026-11-18\": [4]}},"
                + " \"$producers\": {\"shop-1\": 42} }");
    assertEquals(Instant.parse("2026-11-20T10:00:00.500Z"), p.timestamp("t").orElseThrow());
    assertEquals(31, p.longValue("i").orElseThrow());
    assertEquals(31.0, p.doubleValue("f").orElseThrow());
    assertEquals(2500.0, p.doubleValue("e").orElseThrow());
    assertEquals(Optional.of(false), p.booleanValue("b"));
    assertEquals(List.of("x", "y"), List.copyOf(p.stringSet("set").orElseThrow()));
    assertTrue(p.stringSet("empty").orElseThrow().isEmpty());
    assertEquals(
        Optional.of("{\"color\":{\"2026-11-20\":{\"blue\":1,\"red\":2}}}"), p.dimensionsJson());

    EventHistory buy = p.event("buy").orElseThrow();
    assertEquals(
        List.of(
            LocalDate.parse("2026-11-18"),
            LocalDate.parse("2026-11-19"),
            LocalDate.parse("2026-11-20")),
        List.copyOf(buy.days().keySet()));
    // Without $first and $last, the midnights of the oldest and newest days.
    assertEquals(Instant.parse("2026-11-18T00:00:00Z"), buy.first());
    assertEquals(Instant.parse("2026-11-20T00:00:00Z"), buy.last());
    DayTotals unknownRange = buy.days().get(LocalDate.parse("2026-11-19"));
    assertEquals(OptionalDouble.empty(), unknownRange.min());
    DayTotals one = buy.days().get(LocalDate.parse("2026-11-20"));
    assertEquals(OptionalDouble.of(3.5), one.min());
    assertFalse(buy.days().get(LocalDate.parse("2026-11-18")).hasValues());
    assertEquals(7, buy.totalCount());

    assertEquals(
        "{\"t\":\"2026-11-20T10:00:00.500Z\",\"i\":31,\"f\":31.0,\"e\":2500.0,\"b\":false,"
            + "\"set\":[\"x\",\"y\"],\"empty\":[],"
            + "\"$events\":{\"buy\":{\"$first\":\"2026-11-18T00:00:00Z\","
            + "\"$last\":\"2026-11-20T00:00:00Z\",\"2026-11-18\":[4],"
            + "\"2026-11-19\":[2,99.0,4900.5],\"2026-11-20\":[1,3.5,12.25]}},"
            + "\"$dimensions\":{\"color\":{\"2026-11-20\":{\"blue\":1,\"red\":2}}},"
            + "\"$producers\":{\"shop-1\":42}}",
        p.toJson());
  }

  @Test
  void shouldWriteEachDayInTheShortestFormThatReadsBackAsIt() {
    assertEquals("[3]", DayTotals.count(3).toString());
    assertEquals("[1, 5.0, 25.0]", DayTotals.ofValues(0, 5.0).toString());
    // One value among value-less events, or a value of 0: min and max must be said.
    assertEquals("[2, 5.0, 25.0, 5.0, 5.0]", DayTotals.ofValues(1, 5.0).toString());
    assertEquals("[1, 0.0, 0.0, 0.0, 0.0]", DayTotals.ofValues(0, 0.0).toString());
    assertEquals("[2, 3.0, 5.0]", DayTotals.of(2, 3.0, 5.0).toString());
    assertEquals("[2, 3.0, 5.0, 1.0, 2.0]", DayTotals.ofValues(0, 1.0, 2.0).toString());
    assertEquals(DayTotals.count(2), DayTotals.of(2, 0.0, 0.0));
    assertThrows(IllegalArgumentException.class, () -> DayTotals.of(2, 3.0, 5.0, 2.0, 1.0));
    assertThrows(IllegalArgumentException.class, () -> DayTotals.count(-1));
    assertThrows(IllegalArgumentException.class, () -> DayTotals.count(DayTotals.MAX_COUNT + 1));
  }

  @Test
  void shouldRefuseBadProfileJsonSayingWhereAndWhy() {
    assertEquals(
        "bad profile JSON at line 1, column 7: null is not a value",
        badJson("{\"a\": null}").getMessage());
    assertTrue(badJson("{\"a\": 1, \"a\": 2}").getMessage().contains("Duplicate field 'a'"));
    assertTrue(badJson("{\"$x\": 1}").getMessage().contains("starts with '$'"));
    assertTrue(badJson("[1]").getMessage().endsWith("expected a profile object"));
    assertTrue(
        badJson("{} {}").getMessage().endsWith("unexpected content after the end of the object"));
    assertTrue(badJson("{\"a\": 1e400}").getMessage().endsWith("out of range for a 64-bit float"));
    assertTrue(
        badJson("{\"a\": 99999999999999999999}").getMessage().endsWith("does not fit in 64 bits"));
    assertTrue(
        badJson("{\"a\": {\"b\": 1}}").getMessage().contains("nested objects are not values"));
    assertTrue(badJson("{\"a\": [1]}").getMessage().endsWith("set elements must be strings"));
    assertTrue(
        badJson("{\"a\": \"2026-11-20T10:00:00.0001Z\"}")
            .getMessage()
            .contains("finer than a millisecond"));
    assertTrue(
        badJson("{\"a\": \"2026-02-30T10:00:00Z\"}").getMessage().contains("invalid timestamp"));
    assertTrue(
        badJson("{\"$events\": {\"e\": {\"2026-11-20\": [1, 2.0]}}}")
            .getMessage()
            .endsWith("a day has 1, 3 or 5 numbers, got 2"));
    assertTrue(
        badJson(
                "{\"$events\": {\"e\": {\"$first\": \"2026-11-20T00:00:00Z\", \"2026-11-20\": [1]}}}")
            .getMessage()
            .contains("has one of \"$first\" and \"$last\""));
    assertTrue(
        badJson("{\"$events\": {\"e\": {\"20261120\": [1]}}}")
            .getMessage()
            .endsWith("\"20261120\" is not a YYYY-MM-DD day"));
    assertTrue(badJson("{\"a\":").getMessage().startsWith("bad profile JSON at line 1"));
  }

  @Test
  void shouldBuildUpdatesAsTheDocumentedJson() {
    assertEquals("{}", ProfileUpdate.of().toJson());
    assertTrue(ProfileUpdate.of().isEmpty());
    assertEquals(
        "{\"incr\":{\"n\":3,\"f\":1.5}}",
        ProfileUpdate.of().incr("n", 1).incr("n", 2).incr("f", 1).incr("f", 0.5).toJson());
    assertEquals(
        "{\"add\":{\"s\":[\"a\",\"b\"]},\"remove\":{\"s\":[\"c\"]}}",
        ProfileUpdate.of().remove("s", "c").add("s", "a").add("s", "b", "a").toJson());
    IllegalArgumentException overflow =
        assertThrows(
            IllegalArgumentException.class,
            () -> ProfileUpdate.of().incr("n", Long.MAX_VALUE).incr("n", 1));
    assertTrue(overflow.getMessage().contains("beyond 64 bits"), overflow.getMessage());
    assertEquals(
        "{\"set\":{\"when\":\"2026-11-20T10:00:00Z\",\"s\":{\"$string\":\"2026-11-20T10:00:00Z\"}},"
            + "\"events\":[{\"name\":\"v\",\"properties\":{\"t\":[\"x\"],\"b\":true}}],"
            + "\"producer\":\"p\",\"seq\":0}",
        ProfileUpdate.of()
            .producer("p", 0)
            .event(UpdateEvent.named("v").stringSetProperty("t", "x").property("b", true))
            .set("when", Instant.parse("2026-11-20T10:00:00Z"))
            .set("s", "2026-11-20T10:00:00Z")
            .toJson());
    assertThrows(IllegalArgumentException.class, () -> ProfileUpdate.of().producer("p", -1));
    assertThrows(IllegalArgumentException.class, () -> UpdateEvent.named(""));
  }

  @Test
  void shouldEscapeAsTheNodeDoes() {
    ProfileData p =
        ProfileData.builder().set("s", "\"\\\u0000\u001f😀é").stringSet("set", "😀").build();
    // Beyond the BMP: escaped in a string value, raw in a set (the node's jackson generators).
    assertEquals("{\"s\":\"\\\"\\\\\\u0000\\u001F\\uD83D\\uDE00é\",\"set\":[\"😀\"]}", p.toJson());
    assertEquals(p, ProfileData.parse(p.toJson()));
    assertEquals(p, ProfileData.parse(p.toJsonBytes()));
  }
}

package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.dimension.DimensionException;
import dev.whack.node.testing.ManualClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 18's preference dimensions: defined as data, counted per profile and day from events. */
class DimensionsTest {
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void update(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.updateJson(k(key), b, 0, b.length);
  }

  private String json(String key) {
    return new String(engine.getJson(k(key)), UTF_8);
  }

  /** The profile's {@code "$dimensions"} member, or "" when it has none. */
  private String dimensions(String key) {
    String json = json(key);
    int at = json.indexOf("\"$dimensions\":");
    return at < 0 ? "" : json.substring(at + "\"$dimensions\":".length(), json.length() - 1);
  }

  private void define(String name, String spec) {
    engine.engine().defineDimension(name, spec.getBytes(UTF_8));
  }

  @Test
  void shouldCountEventPropertiesPerDayInTheDimensionsThatCountThem() {
    define("color", "{\"property\":\"color\",\"event\":\"view\"}");
    define("price", "{\"property\":\"price\",\"bounds\":[10000,20000]}");
    update(
        "a",
        "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"red\",\"price\":23500}},"
            + "{\"name\":\"view\",\"properties\":{\"color\":\"red\",\"price\":9000.5}},"
            + "{\"name\":\"buy\",\"properties\":{\"color\":\"blue\",\"price\":15000}}]}");
    clock.advanceMillis(86_400_000L);
    update("a", "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"blue\"}}]}");
    assertEquals(
        "{\"color\":{\"2026-11-20\":{\"red\":2},\"2026-11-21\":{\"blue\":1}},"
            + "\"price\":{\"2026-11-20\":{\"..10000\":1,\"10000..20000\":1,\"20000..\":1}}}",
        dimensions("a"));
  }

  /**
   * A property read by several dimensions (for different events, of different kinds) counts in each
   * that counts its event; enough dimensions that the property index's buckets are shared.
   */
  @Test
  void shouldCountOnePropertyInEveryDimensionThatReadsIt() {
    define("viewed", "{\"property\":\"color\",\"event\":\"view\"}");
    define("bought", "{\"property\":\"color\",\"event\":\"buy\"}");
    define("any", "{\"property\":\"color\"}");
    define("colors", "{\"property\":\"color\",\"kind\":\"distinct\"}");
    for (int i = 0; i < 12; i++) {
      define("p" + i, "{\"property\":\"p" + i + "\"}");
    }
    update(
        "a",
        "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"red\",\"p3\":\"x\"}},"
            + "{\"name\":\"buy\",\"properties\":{\"p11\":\"y\",\"color\":\"blue\"}}]}");
    String dims = dimensions("a");
    assertTrue(
        dims.startsWith(
            "{\"viewed\":{\"2026-11-20\":{\"red\":1}},\"bought\":{\"2026-11-20\":{\"blue\":1}},"
                + "\"any\":{\"2026-11-20\":{\"blue\":1,\"red\":1}},"
                + "\"colors\":{\"2026-11-20\":{\"$distinct\":2,"),
        dims);
    assertTrue(
        dims.endsWith("\"p3\":{\"2026-11-20\":{\"x\":1}},\"p11\":{\"2026-11-20\":{\"y\":1}}}"),
        dims);
  }

  @Test
  void shouldRoundTripTheCountsThroughProfileJsonAndProtobuf() {
    define("color", "{\"property\":\"color\"}");
    update("a", "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"red\"}}]}");
    String dumped = json("a");
    byte[] b = dumped.getBytes(UTF_8);
    engine.putJson(k("b"), b, 0, b.length);
    assertEquals(dumped, json("b"));
    engine.put(k("c"), engine.get(k("a")).toBuilder().setKey("c").build());
    assertEquals(dumped, json("c"));
  }

  @Test
  void shouldRefuseACategoryGivenTwiceOnADay() {
    define("color", "{\"property\":\"color\"}");
    byte[] twice =
        "{\"$dimensions\":{\"color\":{\"2026-11-20\":{\"red\":1,\"red\":2}}}}".getBytes(UTF_8);
    var e =
        assertThrows(
            dev.whack.node.engine.json.JsonFormatException.class,
            () -> engine.putJson(k("a"), twice, 0, twice.length));
    assertTrue(e.getMessage().contains("Duplicate field 'red'"), e.getMessage());
    assertEquals(0, engine.size());
  }

  @Test
  void shouldCountValuesPastMaxCategoriesAsOther() {
    define("color", "{\"property\":\"color\",\"max_categories\":2}");
    for (String c : List.of("red", "blue", "green", "other", "red", "x".repeat(257))) {
      update("a", "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"" + c + "\"}}]}");
    }
    assertEquals(
        "{\"color\":{\"2026-11-20\":{\"blue\":1,\"other\":3,\"red\":2}}}", dimensions("a"));
    define("size", "{\"property\":\"size\"}");
    update(
        "b",
        "{\"events\":[{\"name\":\"view\",\"properties\":{\"size\":\"" + "x".repeat(257) + "\"}}]}");
    assertEquals(
        "{\"size\":{\"2026-11-20\":{\"other\":1}}}", dimensions("b"), "too long to number");
  }

  @Test
  void shouldForgetTheCountsOfADroppedDimension() {
    define("color", "{\"property\":\"color\"}");
    update("a", "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"red\"}}]}");
    assertTrue(engine.engine().dropDimension("color"));
    assertFalse(engine.engine().dropDimension("color"));
    assertEquals("", dimensions("a"));
    define("color", "{\"property\":\"color\"}");
    assertEquals("", dimensions("a"), "not the old counts");
  }

  @Test
  void shouldRefuseBadDefinitionsWithTheReason() {
    DimensionException e =
        assertThrows(
            DimensionException.class,
            () -> define("price", "{\"property\":\"price\",\"bounds\":[3,2]}"));
    assertEquals("\"bounds\" must be strictly increasing", e.getMessage());
    e = assertThrows(DimensionException.class, () -> define("1x", "{\"property\":\"p\"}"));
    assertEquals(
        "bad dimension name 1x: it must start with an ASCII letter or '_'", e.getMessage());
    e = assertThrows(DimensionException.class, () -> define("x", "{\"kind\":\"categorical\"}"));
    assertEquals("\"property\" (the event property to count) is required", e.getMessage());
  }

  private void view(String key, String color) {
    update(key, "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"" + color + "\"}}]}");
  }

  @Test
  void shouldKeepShareAndTopSegmentsExactAsEventsComeAndDaysLeaveTheWindow() {
    define("color", "{\"property\":\"color\"}");
    engine.define("mostly_red", "share(color, \"red\", 2d) > 0.5");
    engine.define("recent_blue", "top(color, 2d, 1d) == \"blue\"");
    view("a", "red");
    assertTrue(engine.inSegment("mostly_red", k("a")));
    assertFalse(engine.inSegment("recent_blue", k("a")));
    clock.advanceMillis(86_400_000L);
    engine.runDueReevaluations();
    view("a", "blue");
    // red yesterday weighs 1/2 with a one-day half-life, blue today 1; without decay they tie
    assertFalse(engine.inSegment("mostly_red", k("a")));
    assertTrue(engine.inSegment("recent_blue", k("a")));
    view("a", "red");
    view("a", "red");
    assertTrue(engine.inSegment("mostly_red", k("a")), "3 red of 4");
    assertFalse(engine.inSegment("recent_blue", k("a")), "red: 1/2 + 2 against blue's 1");
    clock.advanceMillis(2 * 86_400_000L);
    engine.runDueReevaluations();
    assertFalse(engine.inSegment("mostly_red", k("a")), "nothing in the window: no share");
    assertEquals(0, engine.count("mostly_red"));
  }

  @Test
  void shouldRefuseExpressionsOverDimensionsThatCannotBeRead() {
    define("price", "{\"property\":\"price\",\"bounds\":[100]}");
    var e =
        assertThrows(
            dev.whack.node.engine.expr.ExpressionException.class,
            () -> engine.define("x", "share(colour, \"red\", 7d) > 0.5"));
    assertEquals("bad expression at position 6: no dimension colour is defined", e.getMessage());
    e =
        assertThrows(
            dev.whack.node.engine.expr.ExpressionException.class,
            () -> engine.define("x", "share(price, \"cheap\", 7d) > 0.5"));
    assertTrue(e.getMessage().contains("dimension price is numeric"), e.getMessage());
    engine.define("cheap", "share(price, 50, 7d) > 0.5");
    update("a", "{\"events\":[{\"name\":\"buy\",\"properties\":{\"price\":20}}]}");
    assertTrue(engine.inSegment("cheap", k("a")));
    DimensionException d =
        assertThrows(DimensionException.class, () -> engine.engine().dropDimension("price"));
    assertEquals(
        "dimension price is read by segment cheap; drop those first to drop it", d.getMessage());
  }
}

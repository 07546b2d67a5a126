package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.dimension.DimensionException;
import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.testing.ManualClock;
import org.junit.jupiter.api.Test;

/** Issue 18's distinct counts: a third dimension kind, per profile and day, read over a window. */
class DistinctDimensionTest {
  private static final long DAY = 86_400_000L;
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void view(String key, String... products) {
    StringBuilder b = new StringBuilder("{\"events\":[");
    for (int i = 0; i < products.length; i++) {
      b.append(i == 0 ? "" : ",")
          .append("{\"name\":\"view\",\"properties\":{\"product\":")
          .append(products[i])
          .append("}}");
    }
    byte[] json = b.append("]}").toString().getBytes(UTF_8);
    engine.updateJson(k(key), json, 0, json.length);
  }

  private String json(String key) {
    return new String(engine.getJson(k(key)), UTF_8);
  }

  private DistinctCount distinct(String key, String dimension, int days) {
    return engine.distinct(k(key), dimension, days);
  }

  private void defineProducts(String extra) {
    engine
        .engine()
        .defineDimension(
            "products",
            ("{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\"" + extra + "}")
                .getBytes(UTF_8));
  }

  @Test
  void shouldCountDistinctValuesOverTheWindowExactlyWhileSmall() {
    defineProducts("");
    view("a", "\"p1\"", "\"p2\"", "\"p1\"", "7", "\"7\"", "true");
    clock.advanceMillis(DAY);
    view("a", "\"p2\"", "\"p3\"");
    assertEquals(new DistinctCount(5, true), distinct("a", "products", 2));
    assertEquals(new DistinctCount(2, true), distinct("a", "view.product", 1), "today only");
    clock.advanceMillis(DAY);
    assertEquals(new DistinctCount(2, true), distinct("a", "products", 2), "the first day left");
  }

  @Test
  void shouldTurnADayIntoASketchPastTheThresholdAndStayWithinTheError() {
    defineProducts(",\"precision\":8"); // threshold 64, error 4.9%
    String[] values = new String[1000];
    for (int i = 0; i < values.length; i++) {
      values[i] = "\"p" + i + "\"";
    }
    view("a", java.util.Arrays.copyOf(values, 64));
    assertEquals(new DistinctCount(64, true), distinct("a", "products", 1));
    view("a", values);
    DistinctCount c = distinct("a", "products", 1);
    assertFalse(c.exact());
    assertTrue(Math.abs(c.value() - 1000) < 3 * 0.049 * 1000, "estimate " + c.value());
    assertTrue(
        engine.footprint(k("a")) < 400, "one sketch of 256 bytes: " + engine.footprint(k("a")));
  }

  @Test
  void shouldRoundTripDistinctDaysThroughProfileJsonAndProtobuf() {
    defineProducts(",\"precision\":6");
    view("a", "\"x\"", "\"y\"");
    clock.advanceMillis(DAY);
    String[] many = new String[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = "\"v" + i + "\"";
    }
    view("a", many);
    String dumped = json("a");
    assertTrue(
        dumped.contains("\"products\":{\"2026-11-20\":{\"$distinct\":2,\"$sketch\":\"BF"), dumped);
    byte[] b = dumped.getBytes(UTF_8);
    engine.putJson(k("b"), b, 0, b.length);
    assertEquals(dumped, json("b"));
    engine.put(k("c"), engine.get(k("a")).toBuilder().setKey("c").build());
    assertEquals(dumped, json("c"));
    assertEquals(distinct("a", "products", 2), distinct("c", "products", 2));
    String dumpedFromProto =
        new String(dev.whack.node.engine.json.ProfileJson.write(engine.get(k("a"))), UTF_8);
    assertEquals(dumped, dumpedFromProto);
  }

  @Test
  void shouldRefuseASketchThatIsNotOneOfThisDimension() {
    defineProducts("");
    byte[] json =
        "{\"$dimensions\":{\"products\":{\"2026-11-20\":{\"$sketch\":\"BAAAAAE=\"}}}}"
            .getBytes(UTF_8);
    RuntimeException e =
        assertThrows(RuntimeException.class, () -> engine.putJson(k("a"), json, 0, json.length));
    assertTrue(
        e.getMessage().contains("dimension \"products\" has a set of 2 hashes in 4 bytes on day"),
        e.getMessage());
    byte[] counts = "{\"$dimensions\":{\"products\":{\"2026-11-20\":{\"x\":1}}}}".getBytes(UTF_8);
    e =
        assertThrows(
            RuntimeException.class, () -> engine.putJson(k("a"), counts, 0, counts.length));
    assertTrue(e.getMessage().contains("counts distinct values"), e.getMessage());
    InvalidProfileException fromProto =
        assertThrows(
            InvalidProfileException.class,
            () ->
                engine.put(
                    k("a"),
                    dev.whack.proto.Profile.newBuilder()
                        .addDimensions(
                            dev.whack.proto.DimensionCounts.newBuilder()
                                .setDimension("products")
                                .addDays(
                                    dev.whack.proto.DimensionDay.newBuilder()
                                        .setDay(20412)
                                        .setSketch(
                                            com.google.protobuf.ByteString.copyFrom(
                                                new byte[] {4, 0, 0, 0, 2, 0, 0, 0, 1}))))
                        .build()));
    assertEquals(
        "dimension \"products\" has hashes out of order on day 20412", fromProto.getMessage());
  }

  @Test
  void shouldKeepSegmentsReadingDistinctUpToDateOnWritesAndOnTime() {
    defineProducts("");
    engine.define("browsers", "distinct(view.product, 2d) >= 3");
    view("a", "\"p1\"", "\"p2\"");
    assertFalse(engine.inSegment("browsers", k("a")));
    clock.advanceMillis(DAY);
    view("a", "\"p3\"");
    assertTrue(engine.inSegment("browsers", k("a")));
    clock.advanceMillis(DAY);
    engine.runDueReevaluations();
    assertFalse(engine.inSegment("browsers", k("a")), "p1 and p2 left the window");
  }

  @Test
  void shouldRejectDistinctOfAnUndefinedDimensionAtItsPosition() {
    engine.engine().defineDimension("color", "{\"property\":\"color\"}".getBytes(UTF_8));
    ExpressionException e =
        assertThrows(
            ExpressionException.class, () -> engine.define("s", "distinct(view.nope, 30d) > 1"));
    assertEquals(9, e.position());
    e =
        assertThrows(
            ExpressionException.class, () -> engine.define("s", "distinct(color, 30d) > 1"));
    assertTrue(e.getMessage().contains("dimension color is categorical"), e.getMessage());
    defineProducts("");
    engine.define("s", "distinct(products, 30d) > 1");
    DimensionException refused =
        assertThrows(DimensionException.class, () -> engine.engine().dropDimension("products"));
    assertTrue(refused.getMessage().contains("read by segment s"), refused.getMessage());
  }

  @Test
  void shouldCountDistinctValuesAcrossASegmentsMembers() {
    defineProducts("");
    engine.define("all", "exists(tier)");
    for (int i = 0; i < 30; i++) {
      byte[] json =
          ("{\"set\":{\"tier\":\"t"
                  + (i % 3)
                  + "\"},\"events\":[{\"name\":\"view\","
                  + "\"properties\":{\"product\":\"p"
                  + (i % 7)
                  + "\"}}]}")
              .getBytes(UTF_8);
      engine.updateJson(k("k" + i), json, 0, json.length);
    }
    assertEquals(
        new DistinctCount(7, true), engine.engine().segmentDistinct("all", "products", 30));
    assertEquals(
        new DistinctCount(7, true), engine.engine().segmentDistinct("all", "view.product", 0));
    assertEquals(new DistinctCount(3, true), engine.engine().segmentDistinct("all", "tier", 0));
    assertEquals(new DistinctCount(0, true), engine.engine().segmentDistinct("all", "nothing", 0));
  }
}

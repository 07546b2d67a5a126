package dev.whack.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Preference reads over HTTP against a real node (docs/http.md): distributions with a window and a
 * half-life chosen by the request, and an item's affinity with the population's prior.
 */
class HttpPreferencesTest {
  private static final long DAY = 86_400_000L;
  private static final ManualClock CLOCK = ManualClock.at("2026-11-20T10:00:00Z");
  private static EmbeddedNode node;
  private static int http;

  @BeforeAll
  static void start() {
    http = FreePorts.take(1)[0];
    node = EmbeddedNode.startWithClock(CLOCK, c -> c.httpPort(http));
    try (RawConnection c = node.connect()) {
      define(c, "color", "{\"property\":\"color\",\"event\":\"view\"}");
      define(c, "price", "{\"property\":\"price\",\"bounds\":[10000,20000]}");
      view(c, "a", "red", 23500); // two days ago
      CLOCK.advanceMillis(2 * DAY);
      view(c, "a", "blue", 15000); // today
      view(c, "b", "blue", 15000);
      view(c, "b", "blue", 15000);
      view(c, "b", "green", 5000);
    }
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void define(RawConnection c, String name, String definition) {
    byte[] d = bytes(definition);
    c.send("dimdef " + name + " " + d.length + "\r\n").send(d).send("\r\n");
    assertEquals("DEFINED\r\n", c.readLine());
  }

  private static void view(RawConnection c, String key, String color, int price) {
    byte[] v =
        bytes(
            "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\""
                + color
                + "\",\"price\":"
                + price
                + "}}]}");
    c.send("update " + key + " " + v.length + "\r\n").send(v).send("\r\n");
    assertEquals("UPDATED\r\n", c.readLine());
  }

  private static HttpResponse<String> get(String path) {
    return HttpWire.get(http, path);
  }

  @Test
  void shouldWeighDaysByTheRequestsWindowAndHalfLife() {
    HttpResponse<String> all = get("/profiles/a?window=3d&dimensions=color");
    assertEquals(200, all.statusCode(), all.body());
    assertTrue(
        all.body()
            .endsWith(
                ",\"$preferences\":{\"color\":{\"total\":2.0,\"shares\":{\"blue\":0.5,\"red\":0.5}}}}"),
        all.body());
    // red is two days old: with a one-day half-life it weighs 1/4 against blue's 1
    HttpResponse<String> decayed = get("/profiles/a?window=3d&half_life=1d&dimensions=color,price");
    assertTrue(
        decayed
            .body()
            .endsWith(
                "\"$preferences\":{\"color\":{\"total\":1.25,\"shares\":{\"blue\":0.8,\"red\":0.2}},"
                    + "\"price\":{\"total\":1.25,\"shares\":{\"10000..20000\":0.8,\"20000..\":0.2}}}}"),
        decayed.body());
    HttpResponse<String> recent = get("/profiles/a?window=1d&dimensions=color");
    assertTrue(
        recent
            .body()
            .endsWith("\"$preferences\":{\"color\":{\"total\":1.0,\"shares\":{\"blue\":1.0}}}}"),
        recent.body());
  }

  @Test
  void shouldScoreAnItemsAffinityWithThePopulationsPrior() {
    // a's own: blue 1 of 1 today. Population today: blue 3, green 1 of 4. Prior strength 4:
    // (1 + 4 * 3/4) / (1 + 4) = 0.8 for blue; for price 10000..20000 the population has 3 of 4.
    HttpResponse<String> r = get("/profiles/a/affinity?color=blue&price=12000&window=1d&prior=4");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().startsWith("{\"key\":\"a\",\"affinity\":0.64"), r.body());
    assertTrue(
        r.body()
            .contains(
                "\"color\":{\"value\":\"blue\",\"category\":\"blue\",\"weight\":1.0,\"total\":1.0,"
                    + "\"population_share\":0.75,\"score\":0.8}"),
        r.body());
    // a profile with nothing counted gets the population's share
    HttpResponse<String> none = get("/profiles/b/affinity?color=red&window=1d&prior=4");
    assertTrue(none.body().contains("\"affinity\":0.0,"), none.body());
    HttpResponse<String> unknown = get("/profiles/a/affinity?colour=blue");
    assertEquals(400, unknown.statusCode());
    assertTrue(unknown.body().contains("no dimension colour is defined"), unknown.body());
    HttpResponse<String> noItem = get("/profiles/a/affinity?window=3d");
    assertEquals(400, noItem.statusCode());
    assertEquals(404, get("/profiles/nobody/affinity?color=red").statusCode());
  }
}

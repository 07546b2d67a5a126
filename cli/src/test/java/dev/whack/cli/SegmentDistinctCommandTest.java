package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code whack segment distinct} against a real node: distinct values of a distinct dimension
 * across a segment's members over a window, of an attribute, exact and in JSON, and the errors.
 */
class SegmentDistinctCommandTest {
  private static EmbeddedNode node;
  private static Cli cli;

  @BeforeAll
  static void start() {
    node = EmbeddedNode.start();
    cli = new Cli(node.address());
    assertEquals(
        0,
        cli.run(
                "dimension",
                "define",
                "products",
                "{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\"}")
            .exitCode());
    String[][] views = {
      {"u:1", "DK", "a"}, {"u:1", "DK", "b"}, {"u:2", "DK", "b"}, {"u:3", "SE", "c"}
    };
    for (String[] v : views) {
      Cli.Run r =
          cli.run(
              "update",
              v[0],
              "{\"set\":{\"country\":\""
                  + v[1]
                  + "\"},\"events\":[{\"name\":\"view\",\"properties\":{\"product\":\""
                  + v[2]
                  + "\"}}]}");
      assertEquals(0, r.exitCode(), r.toString());
    }
    assertEquals(0, cli.run("segment", "define", "dk", "country == \"DK\"").exitCode());
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void shouldCountTheDistinctValuesAcrossASegmentsMembers() {
    Cli.Run products = cli.run("segment", "distinct", "dk", "view.product", "--window", "30d");
    assertEquals(0, products.exitCode(), products.toString());
    assertEquals("2\n", products.out(), "a and b: b twice is one value");
    assertEquals("3\n", cli.run("segment", "distinct", "dk or not dk", "products").out());
    Cli.Run countries = cli.run("segment", "distinct", "dk or not dk", "country", "--json");
    assertEquals(
        "{\"query\":\"dk or not dk\",\"count\":2,\"exact\":true}\n",
        countries.out(),
        countries.err());
  }

  @Test
  void shouldExitWithTheReasonForABadWindowOrQuery() {
    Cli.Run window = cli.run("segment", "distinct", "dk", "products", "--window", "week");
    assertEquals(2, window.exitCode(), window.toString());
    assertTrue(window.err().contains("--window is a number of days like 30d"), window.err());
    Cli.Run unknown = cli.run("segment", "distinct", "nope", "products");
    assertEquals(1, unknown.exitCode(), unknown.toString());
    assertTrue(unknown.err().contains("unknown segment nope"), unknown.err());
  }
}

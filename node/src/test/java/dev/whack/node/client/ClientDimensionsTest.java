package dev.whack.node.client;

import static dev.whack.node.client.ClusterFixture.failure;
import static dev.whack.node.client.ClusterFixture.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.DimensionInfo;
import dev.whack.client.Dimensions;
import dev.whack.client.ServerErrorException;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dimensions through the Java client over three real nodes: a definition and a drop reach every
 * node, a listing names each dimension once with its canonical definition, and a refusal fails the
 * future with the node's reason, as {@code Segments} does.
 */
class ClientDimensionsTest {
  private static final String COLOR_CANONICAL =
      "{\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\",\"max_categories\":64}";

  private ClusterFixture cluster;
  private Dimensions dimensions;

  @BeforeEach
  void start() {
    cluster = new ClusterFixture();
    dimensions = cluster.client.dimensions();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void shouldDefineOnEveryNodeListOnceAndDropEverywhere() {
    value(dimensions.define("color", "{\"property\":\"color\",\"event\":\"view\"}"));
    value(dimensions.define("price", "{\"property\":\"price\",\"bounds\":[1,2]}"));
    for (EmbeddedNode node : cluster.nodes) {
      try (RawConnection c = node.connect()) {
        c.send("dimlist\r\n");
        assertEquals("DIMENSION color " + COLOR_CANONICAL + "\r\n", c.readLine(), node.address());
        assertTrue(c.readLine().startsWith("DIMENSION price "), node.address());
        assertEquals("END\r\n", c.readLine());
      }
    }
    assertEquals(
        List.of(
            new DimensionInfo("color", COLOR_CANONICAL),
            new DimensionInfo(
                "price", "{\"property\":\"price\",\"kind\":\"numeric\",\"bounds\":[1,2]}")),
        value(dimensions.list()));
    assertEquals(true, value(dimensions.drop("price")));
    assertEquals(false, value(dimensions.drop("price")));
    assertEquals(List.of(new DimensionInfo("color", COLOR_CANONICAL)), value(dimensions.list()));
    assertEquals(
        List.of(new DimensionInfo("color", COLOR_CANONICAL)),
        cluster.client.blocking().dimensions().list());
  }

  @Test
  void shouldFailWithTheNodesReasonWhenADefinitionIsRefused() {
    ServerErrorException bad =
        assertInstanceOf(
            ServerErrorException.class, failure(dimensions.define("size", "{\"size\":1}")));
    assertEquals("CLIENT_ERROR", bad.kind());
    assertEquals("unknown field \"size\"", bad.serverMessage());
    ServerErrorException name =
        assertInstanceOf(
            ServerErrorException.class, failure(dimensions.define("9", "{\"property\":\"x\"}")));
    assertTrue(name.serverMessage().startsWith("bad dimension name 9: "), name.serverMessage());
    assertInstanceOf(
        IllegalArgumentException.class, failure(dimensions.define("a b", "{\"property\":\"x\"}")));
    assertInstanceOf(IllegalArgumentException.class, failure(dimensions.drop("")));
    assertEquals(List.of(), value(dimensions.list()), "nothing was defined");
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code dimdef}, {@code dimdrop} and {@code dimlist} over a real socket, whole lines asserted
 * (docs/protocol.md, "Dimensions"): framed, limited and answered as {@code segdef}, {@code segdrop}
 * and {@code seglist} are.
 */
class DimensionCommandsWireTest {
  private static final String COLOR = "{\"property\":\"color\",\"event\":\"view\"}";
  private static final String COLOR_CANONICAL =
      "{\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\",\"max_categories\":64}";
  private static final String PRICE = "{ \"property\": \"price\", \"bounds\": [10000, 20000.5] }";
  private static final String PRICE_CANONICAL =
      "{\"property\":\"price\",\"kind\":\"numeric\",\"bounds\":[10000,20000.5]}";

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private EmbeddedNode node;
  private RawConnection c;

  @BeforeEach
  void start() {
    node = EmbeddedNode.startWithClock(clock, cfg -> {});
    c = node.connect();
  }

  @AfterEach
  void stop() {
    c.close();
    node.close();
  }

  private String ask(String request) {
    c.send(request);
    return c.readLine();
  }

  private String dimdef(String name, String json) {
    return ask("dimdef " + name + " " + json.length() + "\r\n" + json + "\r\n");
  }

  private String dimlist() {
    c.send("dimlist\r\n");
    StringBuilder all = new StringBuilder();
    for (String line = c.readLine(); ; line = c.readLine()) {
      all.append(line);
      if (line.equals("END\r\n")) {
        return all.toString();
      }
    }
  }

  @Test
  void shouldDefineListAndDropDimensionsInDefinitionOrderWithTheirCanonicalDefinitions() {
    assertEquals("END\r\n", dimlist());
    assertEquals("DEFINED\r\n", dimdef("price", PRICE));
    assertEquals("DEFINED\r\n", dimdef("color", COLOR));
    assertEquals(
        "DIMENSION price "
            + PRICE_CANONICAL
            + "\r\nDIMENSION color "
            + COLOR_CANONICAL
            + "\r\n"
            + "END\r\n",
        dimlist());
    assertEquals("DEFINED\r\n", dimdef("color", COLOR), "the same definition again");
    String narrower = "{\"property\":\"colour\",\"max_categories\":2}";
    assertEquals("DEFINED\r\n", dimdef("color", narrower), "a redefinition keeps its place");
    assertEquals(
        "DIMENSION price "
            + PRICE_CANONICAL
            + "\r\nDIMENSION color "
            + "{\"property\":\"colour\",\"kind\":\"categorical\",\"max_categories\":2}\r\n"
            + "END\r\n",
        dimlist());
    assertEquals("DROPPED\r\n", ask("dimdrop price\r\n"));
    assertEquals("NOT_FOUND\r\n", ask("dimdrop price\r\n"));
    assertEquals(
        "DIMENSION color {\"property\":\"colour\",\"kind\":\"categorical\",\"max_categories\":2}"
            + "\r\nEND\r\n",
        dimlist());
  }

  @Test
  void shouldCountEventsInADimensionDefinedOverTheWire() {
    assertEquals("DEFINED\r\n", dimdef("color", COLOR));
    String update =
        "{\"events\":[{\"name\":\"view\",\"properties\":{\"color\":\"red\"}},"
            + "{\"name\":\"buy\",\"properties\":{\"color\":\"blue\"}}]}";
    assertEquals("UPDATED\r\n", ask("update u " + update.length() + "\r\n" + update + "\r\n"));
    c.send("get u\r\n");
    c.readLine();
    String json = c.readLine();
    assertEquals("END\r\n", c.readLine());
    assertTrue(json.contains("\"$dimensions\":{\"color\":{\"2026-11-20\":{\"red\":1}}}"), json);
  }

  @Test
  void shouldRefuseBadDefinitionsWithTheReasonAndDefineNothing() {
    String truncated = dimdef("color", "{\"property\":");
    assertTrue(
        truncated.startsWith("CLIENT_ERROR bad dimension definition JSON: Unexpected end-of-input")
            && truncated.endsWith("\r\n")
            && truncated.indexOf('\n') == truncated.length() - 1,
        truncated);
    assertEquals(
        "CLIENT_ERROR unknown field \"colour\"\r\n", dimdef("color", "{\"colour\":\"red\"}"));
    assertEquals(
        "CLIENT_ERROR a numeric dimension needs \"bounds\"\r\n",
        dimdef("p", "{\"property\":\"p\",\"kind\":\"numeric\"}"));
    assertEquals(
        "CLIENT_ERROR bad dimension name 9lives: it must start with an ASCII letter or '_'\r\n",
        dimdef("9lives", COLOR));
    assertEquals(
        "CLIENT_ERROR bad dimension name a/b: it has '/'; use ASCII letters, digits, '_', '-',"
            + " '.' or ':'\r\n",
        dimdef("a/b", COLOR));
    assertEquals(
        "CLIENT_ERROR bad dimension name a/b: it has '/'; use ASCII letters, digits, '_', '-',"
            + " '.' or ':'\r\n",
        ask("dimdrop a/b\r\n"));
    assertEquals("END\r\n", dimlist(), "nothing was defined");
  }

  @Test
  void shouldRefuseTheSixtyFifthDimension() {
    for (int i = 0; i < 64; i++) {
      assertEquals("DEFINED\r\n", dimdef("d" + i, "{\"property\":\"p" + i + "\"}"));
    }
    assertEquals(
        "CLIENT_ERROR too many dimensions: a node holds at most 64\r\n",
        dimdef("d64", "{\"property\":\"p64\"}"));
    assertEquals("DEFINED\r\n", dimdef("d3", "{\"property\":\"q3\"}"), "a redefinition fits");
    assertEquals("DROPPED\r\n", ask("dimdrop d0\r\n"));
    assertEquals("DEFINED\r\n", dimdef("d64", "{\"property\":\"p64\"}"));
  }

  @Test
  void shouldFrameDataBlocksAsSegdefDoes() {
    assertEquals("ERROR\r\n", ask("dimdef color\r\n"));
    assertEquals("ERROR\r\n", ask("dimdef color 2 noreply extra\r\n"));
    assertEquals("CLIENT_ERROR bad command line format\r\n", ask("dimdef color -1\r\n"));
    // Too long: refused without being buffered, its block swallowed, the connection still usable.
    String big = "x".repeat(64 * 1024 + 1);
    assertEquals(
        "CLIENT_ERROR definition too long\r\n",
        ask("dimdef color " + big.length() + "\r\n" + big + "\r\n"));
    assertEquals(
        "CLIENT_ERROR bad data chunk\r\n",
        ask("dimdef color " + (COLOR.length() - 1) + "\r\n" + COLOR + "\r\n"));
    c.readLine(); // the rest of the line, read as a command
    // noreply hides the answer, errors included, as memcached's noreply does.
    c.send("dimdef color " + COLOR.length() + " noreply\r\n" + COLOR + "\r\n");
    c.send("dimdef 9 " + COLOR.length() + " noreply\r\n" + COLOR + "\r\n");
    c.send("dimdrop nothing noreply\r\n");
    assertEquals("DIMENSION color " + COLOR_CANONICAL + "\r\nEND\r\n", dimlist());
    assertEquals("ERROR\r\n", ask("dimdrop\r\n"));
    assertEquals("ERROR\r\n", ask("dimdrop a b\r\n"));
    assertEquals("ERROR\r\n", ask("dimlist all\r\n"));
    c.send("dimdrop color noreply\r\n");
    assertEquals("END\r\n", dimlist());
  }
}

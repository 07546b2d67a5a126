package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;

/** The node log's two line formats, byte for byte, at a fixed time. */
class NodeLogTest {
  private static final Instant AT = Instant.parse("2026-12-07T20:41:04.123456Z");

  @Test
  void shouldWriteUtcTimeToTheMillisecondAndAPaddedLevelInText() {
    assertEquals(
        "2026-12-07T20:41:04.123Z INFO  whack node listening on 127.0.0.1:11211\n",
        NodeLog.line(
            NodeLog.Format.TEXT,
            AT,
            NodeLog.Level.INFO,
            "whack node listening on 127.0.0.1:11211"));
    assertEquals(
        "2026-12-07T20:41:04.123Z ERROR whack node: a snapshot failed: disk full\n",
        NodeLog.line(
            NodeLog.Format.TEXT,
            AT,
            NodeLog.Level.ERROR,
            "whack node: a snapshot failed: disk full"));
  }

  @Test
  void shouldWriteTheMillisecondsEvenWhenTheyAreZero() {
    assertEquals(
        "2026-01-02T03:04:05.000Z WARN  x\n",
        NodeLog.line(
            NodeLog.Format.TEXT, Instant.parse("2026-01-02T03:04:05Z"), NodeLog.Level.WARN, "x"));
  }

  @Test
  void shouldWriteOneJsonObjectPerLineWithEveryAwkwardCharacterEscaped() {
    assertEquals(
        "{\"time\":\"2026-12-07T20:41:04.123Z\",\"level\":\"WARN\","
            + "\"message\":\"a \\\"quoted\\\" C:\\\\path\\nsecond line\\ttab \\u0001 ø\"}\n",
        NodeLog.line(
            NodeLog.Format.JSON,
            AT,
            NodeLog.Level.WARN,
            "a \"quoted\" C:\\path\nsecond line\ttab \u0001 ø"));
  }

  @Test
  void shouldWriteToTheGivenStreamInTheChosenFormat() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    NodeLog.Format before = NodeLog.format(NodeLog.Format.JSON);
    try {
      NodeLog.output(new PrintStream(bytes, true, StandardCharsets.UTF_8), InstantSource.fixed(AT));
      NodeLog.info("started");
    } finally {
      NodeLog.output(null, null);
      NodeLog.format(before);
    }
    assertEquals(
        "{\"time\":\"2026-12-07T20:41:04.123Z\",\"level\":\"INFO\",\"message\":\"started\"}\n",
        bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void shouldTakeTheFormatsByNameAndRefuseOthers() {
    assertEquals(NodeLog.Format.JSON, NodeLog.Format.parse("json"));
    assertEquals(NodeLog.Format.TEXT, NodeLog.Format.parse("TEXT"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NodeLog.Format.parse("xml"));
    assertEquals("--log-format must be text or json: xml", e.getMessage());
  }
}

package dev.whack.node.engine.segment;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target: segment queries (boolean algebra over segment names, {@link SegmentQuery}) as a
 * client sends them to {@code segcount} and {@code segmembers}. A query is counted and paged, or
 * refused with {@link ExpressionException} (a position inside the text) or {@link
 * UnknownSegmentException} (a name that is in the text), never anything else. Seeds in {@code
 * SegmentQueryFuzzTestInputs/parse/}.
 */
class SegmentQueryFuzzTest {
  private final KeyedEngine engine = newEngine();

  private static KeyedEngine newEngine() {
    KeyedEngine e =
        new KeyedEngine(new EngineConfig().clock(ManualClock.at("2026-11-20T10:00:00Z")));
    e.define("dk", "country == \"DK\"");
    e.define("adults", "age >= 18");
    e.define("vip_2", "\"vip\" in tags");
    e.define("a", "true");
    for (int i = 0; i < 5; i++) {
      byte[] doc =
          ("{\"country\":\""
                  + (i % 2 == 0 ? "DK" : "SE")
                  + "\",\"age\":"
                  + (10 * i)
                  + ",\"tags\":[\"vip\"]}")
              .getBytes(StandardCharsets.UTF_8);
      e.putJson(("k" + i).getBytes(StandardCharsets.UTF_8), doc, 0, doc.length);
    }
    return e;
  }

  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    try {
      engine.count(text);
      engine.members(text, null, 2);
    } catch (ExpressionException e) {
      assertTrue(
          e.position() >= 0 && e.position() <= text.length(),
          () -> "position outside the query (" + e.getMessage() + "): " + text);
    } catch (UnknownSegmentException e) {
      assertTrue(
          text.contains(e.name()),
          () -> "an unknown name not in the query (" + e.getMessage() + "): " + text);
    }
  }
}

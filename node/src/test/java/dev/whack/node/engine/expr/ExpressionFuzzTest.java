package dev.whack.node.engine.expr;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target: segment and filter expressions as a client sends them (docs/segments.md). The
 * compiler returns a compiled expression or throws {@link ExpressionException} with a position
 * inside the text, whether it interns the names it reads (a definition, here into small name tables
 * that fill up) or not (a filter); and evaluating a filter over profiles of every type, with event
 * series, answers or throws that same error, never anything else. Seeds in {@code
 * ExpressionFuzzTestInputs/compile/}.
 */
class ExpressionFuzzTest {
  private final KeyedEngine engine = newEngine();

  private static KeyedEngine newEngine() {
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine e = new KeyedEngine(new EngineConfig().clock(clock));
    put(
        e,
        "a",
        "{\"country\":\"DK\",\"age\":31,\"score\":1.5,\"vip\":true,\"tags\":[\"vip\",\"news\"],"
            + "\"last_seen\":\"2026-11-19T10:00:00Z\",\"$events\":{\"purchase\":{\"2026-11-19\":[2,99.0,4900.5]}}}");
    put(e, "b", "{\"country\":\"SE\",\"age\":-4,\"score\":-0.0,\"vip\":false,\"tags\":[]}");
    put(e, "c", "{}");
    return e;
  }

  private static void put(KeyedEngine e, String key, String json) {
    byte[] doc = json.getBytes(StandardCharsets.UTF_8);
    e.putJson(key.getBytes(StandardCharsets.UTF_8), doc, 0, doc.length);
  }

  @FuzzTest(maxDuration = "5m")
  void compile(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    Dictionaries names = Dictionaries.create(16);
    ExpressionCompiler compiler = new ExpressionCompiler(names.attributes(), names.events(), 60);
    try {
      compiler.compile(text, true);
    } catch (ExpressionException e) {
      assertInside(e, text);
    }
    try {
      engine.filterCount(text);
    } catch (ExpressionException e) {
      assertInside(e, text);
    }
  }

  private static void assertInside(ExpressionException e, String text) {
    assertTrue(
        e.position() >= 0 && e.position() <= text.length(),
        () -> "position outside the expression (" + e.getMessage() + "): " + text);
  }
}

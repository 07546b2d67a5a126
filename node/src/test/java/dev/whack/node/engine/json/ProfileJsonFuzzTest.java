package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target: Profile JSON as a client stores it. Streamed into the compact writer, the hot-path
 * reader ({@link ProfileJsonReader}) gives exactly the bytes, name tables and error of the jackson
 * reference ({@link ProfileJson#parse}), whose errors are {@link JsonFormatException}s positioned
 * inside the document; through the engine a put is stored or refused with an {@link
 * EngineException}, never anything else. Seeds in {@code ProfileJsonFuzzTestInputs/read/}.
 */
class ProfileJsonFuzzTest {
  private static final byte[] KEY = "user:1".getBytes(StandardCharsets.UTF_8);

  private final ProfileJsonReaderProperties agreement = new ProfileJsonReaderProperties();
  private final KeyedEngine engine = newEngine();

  private static KeyedEngine newEngine() {
    KeyedEngine e =
        new KeyedEngine(new EngineConfig().clock(ManualClock.at("2026-11-20T10:00:00Z")));
    e.define("dk", "country == \"DK\"");
    e.define("tagged", "\"t1\" in tags and count(buy, 30d) >= 1");
    return e;
  }

  @FuzzTest(maxDuration = "5m")
  void read(byte[] doc) {
    agreement.agree(
        ProfileJsonReaderProperties.Side.small(), ProfileJsonReaderProperties.Side.small(), doc);
    try {
      ProfileJson.parse(doc);
    } catch (JsonFormatException e) {
      assertTrue(
          e.offset() >= 0 && e.offset() <= doc.length && e.line() >= 1 && e.column() >= 0,
          () ->
              "a position outside the document ("
                  + e.getMessage()
                  + "): "
                  + ProfileJsonReaderProperties.show(doc));
    }
    try {
      engine.putJson(KEY, doc, 0, doc.length);
    } catch (EngineException refused) {
      // documented: not Profile JSON, a bad name or value, a limit
    }
  }
}

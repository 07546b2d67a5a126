package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.profile.UpdateOps;
import dev.whack.node.testing.ManualClock;
import dev.whack.proto.Update;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target: Update JSON as a client sends it. The hot-path reader ({@link UpdateJsonReader})
 * accepts exactly what the jackson reference ({@link UpdateJson#parse}) reads the same way, and
 * declines the rest; the reference reads a document or throws {@link JsonFormatException} with a
 * position inside it; and through the engine an update is applied or refused with an {@link
 * EngineException}, never anything else. Seeds in {@code UpdateJsonFuzzTestInputs/read/}.
 */
class UpdateJsonFuzzTest {
  private static final byte[] KEY = "user:1".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PROFILE =
      "{\"country\":\"DK\",\"age\":5,\"score\":1.5,\"tags\":[\"t1\",\"t2\"],\"a\":\"s\"}"
          .getBytes(StandardCharsets.UTF_8);

  private final UpdateJsonReader reader = new UpdateJsonReader();
  private final UpdateOps ops = new UpdateOps();
  private final KeyedEngine engine = newEngine();

  private static KeyedEngine newEngine() {
    KeyedEngine e =
        new KeyedEngine(new EngineConfig().clock(ManualClock.at("2026-11-20T10:00:00Z")));
    e.define("dk", "country == \"DK\"");
    e.define("buyers", "count(buy, 2d) >= 2");
    return e;
  }

  @FuzzTest(maxDuration = "5m")
  void read(byte[] doc) {
    Update expected = referenceOrNull(doc);
    if (reader.read(doc, 0, doc.length, ops)) {
      assertNotNull(
          expected,
          () -> "accepted what the reference rejects: " + UpdateJsonReaderProperties.show(doc));
      assertEquals(
          UpdateJsonReaderProperties.reference(doc),
          ops.toProto(),
          () -> "read differently: " + UpdateJsonReaderProperties.show(doc));
    }
    engine.putJson(KEY, PROFILE, 0, PROFILE.length);
    try {
      engine.updateJson(KEY, doc, 0, doc.length);
    } catch (EngineException refused) {
      // documented: a malformed body, a type clash, a limit
    }
  }

  /** The reference's reading, or null when it throws its documented, positioned error. */
  private static Update referenceOrNull(byte[] doc) {
    try {
      return UpdateJson.parse(doc);
    } catch (JsonFormatException e) {
      assertTrue(
          e.offset() >= 0 && e.offset() <= doc.length && e.line() >= 1 && e.column() >= 0,
          () ->
              "a position outside the document ("
                  + e.getMessage()
                  + "): "
                  + UpdateJsonReaderProperties.show(doc));
      return null;
    }
  }
}

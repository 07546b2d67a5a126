package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.UpdateOps;
import dev.whack.node.testing.ManualClock;
import dev.whack.proto.Update;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The hot-path Update JSON reader never disagrees with the reference reader ({@link
 * UpdateJson#parse}, jackson-core): whatever it accepts, the reference accepts with the same
 * operations, and through the engine every document has exactly the reference's effect or error.
 */
class UpdateJsonReaderProperties {
  private final UpdateJsonReader reader = new UpdateJsonReader();
  private final UpdateOps ops = new UpdateOps();

  /** The reference reading, or null when it rejects the document. */
  static Update reference(byte[] doc) {
    try {
      return UpdateJson.parse(doc);
    } catch (JsonFormatException e) {
      return null;
    }
  }

  static String show(byte[] doc) {
    return new String(doc, StandardCharsets.UTF_8) + " (hex " + HexFormat.of().formatHex(doc) + ")";
  }

  /** Reads {@code doc} both ways; returns whether the fast reader accepted it. */
  private boolean agree(byte[] doc) {
    Update expected = reference(doc);
    boolean accepted = reader.read(doc, 0, doc.length, ops);
    if (accepted) {
      assertNotNull(expected, () -> "accepted what the reference rejects: " + show(doc));
      assertEquals(expected, ops.toProto(), () -> "read differently: " + show(doc));
    }
    return accepted;
  }

  @Property(tries = 3000)
  void validDocumentsAreReadOnTheFastPathAsTheReferenceReadsThem(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] doc = UpdateDocuments.update(r, false).getBytes(StandardCharsets.UTF_8);
    assertNotNull(reference(doc), () -> "generator made an invalid document: " + show(doc));
    assertTrue(agree(doc), () -> "declined a plain valid document: " + show(doc));
  }

  @Property(tries = 3000)
  void documentsWithBadNamesAndValuesAreNeverAcceptedWrongly(@ForAll long seed) {
    agree(UpdateDocuments.update(new Random(seed), true).getBytes(StandardCharsets.UTF_8));
  }

  @Property(tries = 5000)
  void mutatedDocumentsAreNeverAcceptedWrongly(@ForAll long seed) {
    Random r = new Random(seed);
    agree(UpdateDocuments.mutate(r, UpdateDocuments.update(r, r.nextBoolean())));
  }

  @Property(tries = 1000)
  void arbitraryBytesAreNeverAcceptedWrongly(@ForAll byte[] doc) {
    agree(doc);
    byte[] wrapped = new byte[doc.length + 2];
    wrapped[0] = '{';
    System.arraycopy(doc, 0, wrapped, 1, doc.length);
    wrapped[wrapped.length - 1] = '}';
    agree(wrapped);
  }

  @Property(tries = 500)
  void aSliceIsReadWithinItsBoundsOnly(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] doc = UpdateDocuments.update(r, false).getBytes(StandardCharsets.UTF_8);
    byte[] padded = new byte[doc.length + 20];
    java.util.Arrays.fill(padded, (byte) '}');
    System.arraycopy(doc, 0, padded, 7, doc.length);
    assertTrue(reader.read(padded, 7, doc.length, ops), () -> show(doc));
    assertEquals(reference(doc), ops.toProto());
    assertEquals(false, reader.read(padded, 7, doc.length + 1, ops)); // one '}' too many
  }

  /**
   * Through the engine, Update JSON has exactly the effect (or the error, message and position
   * included) of the reference reading applied as protobuf; and only the documented exceptions ever
   * escape.
   */
  @Property(tries = 400)
  void theEngineAppliesJsonExactlyAsTheReferenceReadingOfIt(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine viaJson = new KeyedEngine(new EngineConfig().clock(clock));
    KeyedEngine viaProto = new KeyedEngine(new EngineConfig().clock(clock));
    for (KeyedEngine e : new KeyedEngine[] {viaJson, viaProto}) {
      e.define("dk", "country == \"DK\"");
      e.define("buyers", "count(buy, 2d) >= 2");
      e.define("tagged", "\"t1\" in tags");
      byte[] p =
          "{\"country\":\"DK\",\"age\":5,\"score\":1.5,\"tags\":[\"t1\",\"t2\"],\"a\":\"s\"}"
              .getBytes(StandardCharsets.UTF_8);
      e.putJson("k0".getBytes(StandardCharsets.UTF_8), p, 0, p.length);
    }
    for (int step = 0; step < 8; step++) {
      byte[] key = ("k" + r.nextInt(3)).getBytes(StandardCharsets.UTF_8);
      byte[] doc =
          switch (r.nextInt(3)) {
            case 0 -> UpdateDocuments.update(r, false).getBytes(StandardCharsets.UTF_8);
            case 1 -> UpdateDocuments.update(r, true).getBytes(StandardCharsets.UTF_8);
            default -> UpdateDocuments.mutate(r, UpdateDocuments.update(r, false));
          };
      String json = outcome(() -> viaJson.updateJson(key, doc, 0, doc.length));
      String proto = outcome(() -> viaProto.update(key, UpdateJson.parse(doc)));
      assertEquals(proto, json, () -> show(doc));
      assertEquals(text(viaProto.getJson(key)), text(viaJson.getJson(key)), () -> show(doc));
      for (String s : new String[] {"dk", "buyers", "tagged"}) {
        assertEquals(viaProto.count(s), viaJson.count(s), () -> s + " after " + show(doc));
      }
      clock.advanceMillis(r.nextInt(3_600_000));
    }
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** The result, or the documented error with everything it says; anything else fails. */
  private static String outcome(java.util.function.Supplier<WriteResult> write) {
    try {
      return write.get().toString();
    } catch (JsonFormatException e) {
      return "JsonFormatException " + e.getMessage() + " @" + e.offset();
    } catch (InvalidProfileException e) {
      return "InvalidProfileException " + e.getMessage();
    } catch (Throwable t) {
      fail("undocumented " + t, t);
      return null;
    }
  }
}

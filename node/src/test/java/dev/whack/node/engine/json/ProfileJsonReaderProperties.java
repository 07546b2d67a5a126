package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.node.engine.profile.ProfileCodec;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The hot-path Profile JSON reader never disagrees with the reference ({@link ProfileJson#parse(
 * byte[], int, int, dev.whack.node.engine.profile.ProfileSink)}, jackson-core): streamed into the
 * compact writer, a document it accepts gives exactly the bytes the reference gives (name ids
 * included, so the names were interned in the same order); a document it declines, read again by
 * the reference into the restarted writer, gives exactly the reference's bytes or error; and
 * through the engine every document has exactly the reference's effect or error.
 */
class ProfileJsonReaderProperties {
  static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z
  private static final byte[] KEY = "user:42".getBytes(StandardCharsets.UTF_8);

  private final ProfileJsonReader reader = new ProfileJsonReader();

  /** A writer with name tables of its own. */
  record Side(Dictionaries dict, ProfileWriter writer, StripeNames stripe) {
    static Side create(int maxNames) {
      Dictionaries dict = Dictionaries.create(maxNames);
      return new Side(dict, new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS), new StripeNames());
    }

    /** Small name tables: their limit is met now and then, part way through a document. */
    static Side small() {
      return create(40);
    }
  }

  /** What a put of {@code doc} gave: the compact bytes, or the reference's error. */
  private static String reference(Side s, byte[] doc) {
    return outcome(() -> referenceBytes(s, doc));
  }

  private static byte[] referenceBytes(Side s, byte[] doc) {
    ProfileJson.parse(doc, 0, doc.length, s.writer.startPut(NOW, null, s.stripe));
    return s.writer.finishPut(KEY);
  }

  private static String outcome(Supplier<byte[]> put) {
    try {
      return Arrays.toString(put.get());
    } catch (JsonFormatException e) {
      return "JsonFormatException " + e.getMessage() + " @" + e.offset();
    } catch (Throwable t) {
      fail("undocumented " + t, t);
      return null;
    }
  }

  /**
   * Puts {@code doc} through the fast reader on {@code fast} (and the reference when it declines)
   * and through the reference alone on {@code ref}; asserts the same outcome and the same name
   * tables. Returns whether the fast reader accepted it.
   */
  boolean agree(Side fast, Side ref, byte[] doc) {
    String expected = reference(ref, doc);
    boolean accepted =
        reader.read(doc, 0, doc.length, fast.writer.startPut(NOW, null, fast.stripe));
    String actual;
    if (accepted) {
      actual = outcome(() -> fast.writer.finishPut(KEY));
      assertTrue(
          !expected.startsWith("JsonFormatException"),
          () -> "accepted what the reference rejects (" + expected + "): " + show(doc));
    } else {
      actual = reference(fast, doc);
    }
    assertEquals(
        expected,
        actual,
        () -> (accepted ? "read differently: " : "after a decline: ") + show(doc));
    for (String table : new String[] {"attribute", "event"}) {
      assertEquals(
          names(ref.dict, table),
          names(fast.dict, table),
          () -> table + " names after " + show(doc));
    }
    return accepted;
  }

  /** The names in use, by id, with their reference counts. */
  private static String names(Dictionaries d, String which) {
    NameTable t = which.equals("attribute") ? d.attributes() : d.events();
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < t.idLimit(); i++) {
      if (t.nameOrNull(i) != null) {
        sb.append(i).append('=').append(t.nameOrNull(i)).append('*').append(t.refs(i)).append(' ');
      }
    }
    return sb.toString();
  }

  static String show(byte[] doc) {
    return UpdateJsonReaderProperties.show(doc);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Property(tries = 2000)
  void validProfilesAreReadOnTheFastPathAsTheReferenceReadsThem(@ForAll long seed) {
    Random r = new Random(seed);
    Side fast = Side.create(1000);
    Side ref = Side.create(1000);
    for (int i = 0; i < 4; i++) {
      byte[] doc = utf8(ProfileDocuments.profile(r, false));
      String expected = reference(Side.create(1000), doc);
      assertTrue(
          !expected.startsWith("JsonFormatException"),
          () -> "generator made an invalid document: " + expected + " " + show(doc));
      assertTrue(agree(fast, ref, doc), () -> "declined a plain valid document: " + show(doc));
    }
  }

  @Property(tries = 3000)
  void profilesWithBadNamesValuesAndMembersAreNeverAcceptedWrongly(@ForAll long seed) {
    Random r = new Random(seed);
    Side fast = Side.small();
    Side ref = Side.small();
    for (int i = 0; i < 4; i++) {
      agree(fast, ref, utf8(ProfileDocuments.profile(r, true)));
    }
  }

  @Property(tries = 5000)
  void mutatedProfilesAreNeverAcceptedWrongly(@ForAll long seed) {
    Random r = new Random(seed);
    Side fast = Side.small();
    Side ref = Side.small();
    for (int i = 0; i < 3; i++) {
      agree(fast, ref, UpdateDocuments.mutate(r, ProfileDocuments.profile(r, r.nextBoolean())));
    }
  }

  @Property(tries = 1000)
  void arbitraryBytesAreNeverAcceptedWrongly(@ForAll byte[] doc) {
    Side fast = Side.small();
    Side ref = Side.small();
    agree(fast, ref, doc);
    byte[] wrapped = new byte[doc.length + 2];
    wrapped[0] = '{';
    System.arraycopy(doc, 0, wrapped, 1, doc.length);
    wrapped[wrapped.length - 1] = '}';
    agree(fast, ref, wrapped);
  }

  @Property(tries = 500)
  void aSliceIsReadWithinItsBoundsOnly(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] doc = utf8(ProfileDocuments.profile(r, false));
    byte[] padded = new byte[doc.length + 20];
    Arrays.fill(padded, (byte) '}');
    System.arraycopy(doc, 0, padded, 7, doc.length);
    Side fast = Side.create(1000);
    Side ref = Side.create(1000);
    assertTrue(
        reader.read(padded, 7, doc.length, fast.writer.startPut(NOW, null, fast.stripe)),
        () -> show(doc));
    assertArrayEquals(
        utf8(reference(ref, doc)),
        utf8(outcome(() -> fast.writer.finishPut(KEY))),
        () -> show(doc));
    assertEquals(
        false,
        reader.read(padded, 7, doc.length + 1, fast.writer.startPut(NOW, null, fast.stripe)));
  }

  /**
   * Through the engine, a put of Profile JSON has exactly the effect of the reference reading (the
   * stored profile, every segment), or its error with message and position and no effect at all.
   */
  @Property(tries = 400)
  void theEnginePutsJsonExactlyAsTheReferenceReadsIt(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    String[] segments = {"country == \"DK\"", "count(buy, 30d) >= 1", "\"t1\" in tags", "age > 3"};
    // the engine under test, and one given the reference's compact profiles as protobuf
    KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));
    KeyedEngine oracle = new KeyedEngine(new EngineConfig().clock(clock));
    for (int i = 0; i < segments.length; i++) {
      engine.define("s" + i, segments[i]);
      oracle.define("s" + i, segments[i]);
    }
    Side ref = Side.create(engine.config().maxNames());
    for (int step = 0; step < 6; step++) {
      byte[] key = ("k" + r.nextInt(2)).getBytes(StandardCharsets.UTF_8);
      byte[] doc =
          switch (r.nextInt(3)) {
            case 0 -> utf8(ProfileDocuments.profile(r, false));
            case 1 -> utf8(ProfileDocuments.profile(r, true));
            default -> UpdateDocuments.mutate(r, ProfileDocuments.profile(r, false));
          };
      byte[] before = engine.getJson(key);
      long[] countsBefore = counts(engine, segments.length);
      String expected = reference(ref, doc);
      String actual = result(() -> engine.putJson(key, doc, 0, doc.length));
      if (expected.startsWith("JsonFormatException")) {
        assertEquals(expected, actual, () -> show(doc));
        assertArrayEquals(before, engine.getJson(key), () -> "a rejected put changed " + show(doc));
        assertArrayEquals(countsBefore, counts(engine, segments.length));
      } else {
        assertTrue(actual.startsWith("WriteResult"), () -> actual + " for " + show(doc));
        byte[] stored = referenceBytes(ref, doc);
        assertArrayEquals(
            ProfileCodec.toJson(stored, ref.dict), engine.getJson(key), () -> show(doc));
        oracle.put(key, ProfileCodec.toProto(stored, ref.dict));
        assertEquals(oracle.segmentsOf(key), engine.segmentsOf(key), () -> show(doc));
        assertArrayEquals(counts(oracle, segments.length), counts(engine, segments.length));
      }
    }
  }

  private static long[] counts(KeyedEngine e, int n) {
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = e.count("s" + i);
    }
    return out;
  }

  /** The result, or the documented error with everything it says; anything else fails. */
  private static String result(Supplier<WriteResult> write) {
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

  @Test
  void generatedProfilesReachEveryPartOfTheFormat() {
    Random r = new Random(1);
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      all.append(ProfileDocuments.profile(r, false));
    }
    String s = all.toString();
    for (String part :
        new String[] {"$events", "$producers", "$string", "[", "true", "T10:00:00"}) {
      assertTrue(s.contains(part), () -> "no " + part + " in 100 generated profiles");
    }
  }
}

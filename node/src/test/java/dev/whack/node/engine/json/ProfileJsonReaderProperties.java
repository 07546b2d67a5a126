package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.node.engine.profile.ProfileCodec;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileSink;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The hot-path Profile JSON reader never disagrees with the reference ({@link ProfileJson#parse(
 * byte[], int, int, dev.whack.node.engine.profile.ProfileSink)}, jackson-core): streamed into the
 * compact writer, a document it accepts gives exactly the sink calls and the bytes the reference
 * gives (name ids included, so the names were interned in the same order); a document it declines
 * has given the writer at most a prefix of the reference's calls and, read again by the reference
 * into the restarted writer, gives exactly the reference's bytes or error; and through the engine
 * every document has exactly the reference's effect or error. The writers define dimensions of each
 * kind ({@link ProfileDocuments#DIMENSION_DEFINITIONS}), so counts and sketches are kept and
 * checked.
 */
class ProfileJsonReaderProperties {
  static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z
  private static final byte[] KEY = "user:42".getBytes(StandardCharsets.UTF_8);

  private final ProfileJsonReader reader = new ProfileJsonReader();

  /**
   * A writer with name tables of its own, and the dimensions {@link
   * ProfileDocuments#DIMENSION_DEFINITIONS} (so the counts and sketches it is given are kept, and
   * checked).
   */
  record Side(Dictionaries dict, ProfileWriter writer, StripeNames stripe) {
    static Side create(int maxNames) {
      Dictionaries dict = Dictionaries.create(maxNames);
      for (String[] d : ProfileDocuments.DIMENSION_DEFINITIONS) {
        dict.dimensions().define(DimensionSpec.parse(d[0], utf8(d[1])));
      }
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

  /**
   * As {@link #reference(Side, byte[])}, with the sink calls the reference made in {@code calls}.
   */
  private static String reference(Side s, byte[] doc, SinkCalls calls) {
    return outcome(
        () -> {
          ProfileJson.parse(doc, 0, doc.length, calls.to(s.writer.startPut(NOW, null, s.stripe)));
          return s.writer.finishPut(KEY);
        });
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
   * tables, and that the fast reader made exactly the reference's sink calls (when it accepts) or a
   * prefix of them (when it declines). Returns whether the fast reader accepted it.
   */
  boolean agree(Side fast, Side ref, byte[] doc) {
    SinkCalls referenceCalls = new SinkCalls();
    String expected = reference(ref, doc, referenceCalls);
    SinkCalls fastCalls = new SinkCalls();
    boolean accepted =
        reader.read(doc, 0, doc.length, fastCalls.to(fast.writer.startPut(NOW, null, fast.stripe)));
    String actual;
    if (accepted) {
      actual = outcome(() -> fast.writer.finishPut(KEY));
      assertTrue(
          !expected.startsWith("JsonFormatException"),
          () -> "accepted what the reference rejects (" + expected + "): " + show(doc));
      assertEquals(
          referenceCalls.calls, fastCalls.calls, () -> "other sink calls for " + show(doc));
    } else {
      assertTrue(
          fastCalls.calls.size() <= referenceCalls.calls.size()
              && fastCalls.calls.equals(referenceCalls.calls.subList(0, fastCalls.calls.size())),
          () ->
              "declined after sink calls the reference does not make: "
                  + fastCalls.calls
                  + " against "
                  + referenceCalls.calls
                  + " for "
                  + show(doc));
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

  /**
   * {@code "$dimensions"} of every shape: duplicates at each level, bad and future days, counts of
   * every number form, sketches of every base64 spelling and some no dimension could keep, days of
   * the wrong kind, wrong nesting, and mutations of good ones.
   */
  @Property(tries = 3000)
  void profilesWithBadDimensionsAreNeverAcceptedWrongly(@ForAll long seed) {
    Random r = new Random(seed);
    Side fast = Side.create(1000);
    Side ref = Side.create(1000);
    for (int i = 0; i < 4; i++) {
      String doc = ProfileDocuments.dimensionsProfile(r, r.nextInt(4) != 0);
      agree(fast, ref, r.nextInt(3) == 0 ? UpdateDocuments.mutate(r, doc) : utf8(doc));
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
    for (String[] d : ProfileDocuments.DIMENSION_DEFINITIONS) { // as Side.create defines them
      engine.engine().defineDimension(d[0], utf8(d[1]));
      oracle.engine().defineDimension(d[0], utf8(d[1]));
    }
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
        new String[] {
          "$events",
          "$producers",
          "$string",
          "[",
          "true",
          "T10:00:00",
          "$dimensions",
          "$sketch",
          "$distinct",
          "\"colour\"",
          "\"price\"",
          "\"products\""
        }) {
      assertTrue(s.contains(part), () -> "no " + part + " in 100 generated profiles");
    }
  }

  /**
   * Records the calls made to a sink, text decoded (a name given as UTF-8 and one given as a string
   * record alike), and passes each on as it came.
   */
  static final class SinkCalls implements ProfileSink {
    final List<String> calls = new ArrayList<>();
    private ProfileSink to;

    ProfileSink to(ProfileSink sink) {
      to = sink;
      return this;
    }

    private static String text(byte[] utf8, int off, int len) {
      return new String(utf8, off, len, StandardCharsets.UTF_8);
    }

    @Override
    public void attribute(byte[] utf8, int off, int len) {
      calls.add("attribute " + text(utf8, off, len));
      to.attribute(utf8, off, len);
    }

    @Override
    public void attribute(String name) {
      calls.add("attribute " + name);
      to.attribute(name);
    }

    @Override
    public void stringValue(byte[] utf8, int off, int len) {
      calls.add("string " + text(utf8, off, len));
      to.stringValue(utf8, off, len);
    }

    @Override
    public void stringValue(String value) {
      calls.add("string " + value);
      to.stringValue(value);
    }

    @Override
    public void intValue(long value) {
      calls.add("int " + value);
      to.intValue(value);
    }

    @Override
    public void floatValue(double value) {
      calls.add("float " + value);
      to.floatValue(value);
    }

    @Override
    public void boolValue(boolean value) {
      calls.add("bool " + value);
      to.boolValue(value);
    }

    @Override
    public void timestampValue(long epochMillis) {
      calls.add("timestamp " + epochMillis);
      to.timestampValue(epochMillis);
    }

    @Override
    public void startSet() {
      calls.add("startSet");
      to.startSet();
    }

    @Override
    public void element(byte[] utf8, int off, int len) {
      calls.add("element " + text(utf8, off, len));
      to.element(utf8, off, len);
    }

    @Override
    public void element(String value) {
      calls.add("element " + value);
      to.element(value);
    }

    @Override
    public void endSet() {
      calls.add("endSet");
      to.endSet();
    }

    @Override
    public void event(byte[] utf8, int off, int len) {
      calls.add("event " + text(utf8, off, len));
      to.event(utf8, off, len);
    }

    @Override
    public void event(String name) {
      calls.add("event " + name);
      to.event(name);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares) {
      calls.add("bucket " + day + " " + count + " " + sum + " " + sumSquares);
      to.bucket(day, count, sum, sumSquares);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares, double min, double max) {
      calls.add(
          "bucket " + day + " " + count + " " + sum + " " + sumSquares + " " + min + " " + max);
      to.bucket(day, count, sum, sumSquares, min, max);
    }

    @Override
    public void dimensionCount(String dimension, int day, String category, long count) {
      calls.add("dimensionCount " + dimension + " " + day + " " + category + " " + count);
      to.dimensionCount(dimension, day, category, count);
    }

    @Override
    public void times(long firstMillis, long lastMillis) {
      calls.add("times " + firstMillis + " " + lastMillis);
      to.times(firstMillis, lastMillis);
    }

    @Override
    public void dimensionSketch(String dimension, int day, byte[] body) {
      calls.add(
          "dimensionSketch "
              + dimension
              + " "
              + day
              + " "
              + Base64.getEncoder().encodeToString(body));
      to.dimensionSketch(dimension, day, body);
    }

    @Override
    public void producer(byte[] utf8, int off, int len, long seq) {
      calls.add("producer " + text(utf8, off, len) + " " + seq);
      to.producer(utf8, off, len, seq);
    }

    @Override
    public void producer(String producer, long seq) {
      calls.add("producer " + producer + " " + seq);
      to.producer(producer, seq);
    }
  }
}

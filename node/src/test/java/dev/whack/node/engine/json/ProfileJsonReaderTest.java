package dev.whack.node.engine.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.StripeNames;
import dev.whack.node.testing.ManualClock;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class ProfileJsonReaderTest {
  private static final long NOW = ProfileJsonReaderProperties.NOW; // 2026-11-20T10:00:00Z
  private static final byte[] KEY = "user:42".getBytes(UTF_8);

  private final StripeNames stripe = new StripeNames();
  private final StripeNames refStripe = new StripeNames();
  private final ProfileJsonReader reader = new ProfileJsonReader();
  private final ProfileWriter writer =
      new ProfileWriter(Dictionaries.create(1000), 60, ProfileLimits.DEFAULTS);
  private final ProfileWriter refWriter =
      new ProfileWriter(Dictionaries.create(1000), 60, ProfileLimits.DEFAULTS);
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private boolean fast(String json) {
    byte[] b = json.getBytes(UTF_8);
    return reader.read(b, 0, b.length, writer.startPut(NOW, null, stripe));
  }

  private byte[] reference(String json) {
    byte[] b = json.getBytes(UTF_8);
    ProfileJson.parse(b, 0, b.length, refWriter.startPut(NOW, null, refStripe));
    return refWriter.finishPut(KEY);
  }

  private void put(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.putJson(key.getBytes(UTF_8), b, 0, b.length);
  }

  private String get(String key) {
    return new String(engine.getJson(key.getBytes(UTF_8)), UTF_8);
  }

  @Test
  void shouldReadTheDocsExampleOnTheFastPathExactlyAsTheReference() {
    String json =
        "{\"country\": \"DK\", \"age\": 31, \"tags\": [\"vip\", \"newsletter\"],"
            + " \"last_seen\": \"2026-11-20T10:00:00Z\",\n"
            + " \"$events\": {\"purchase\": {\"2026-11-19\": [2, 99.0, 4900.5], \"2026-11-20\": [1]}},\n"
            + " \"$producers\": {\"shop-1\": 42}}";
    assertTrue(fast(json));
    assertArrayEquals(reference(json), writer.finishPut(KEY));
  }

  @Test
  void shouldTypeEveryValueAndDecodeEscapesAsTheReferenceDoes() {
    String json =
        "{\"n\\u00e6vn\":\"a\\\"b\\\\c\\/d\\n\\t\\u00E9\\ud83d\\ude00\",\"ø\":\"😀é\","
            + "\"i\":-9223372036854775808,\"f\":31.0,\"e\":2.5e3,\"z\":-0.0,\"b\":false,\"t\":true,"
            + "\"ts\":\"2026-11-20T12:00:00.250+02:00\",\"s\":{ \"$string\" : \"2026-11-20T10:00:00Z\" },"
            + "\"set\":[\"x\",\"y\",\"x\",\"\\u0078\"],\"empty\":[],"
            + "\"$events\":{\"v\\u0069ew\":{\"2026-11-1\\u0039\":[1]},\"none\":{}},"
            + "\"$producers\":{\"p\\u00e9\":0}}";
    assertTrue(fast(json));
    byte[] fast = writer.finishPut(KEY);
    assertArrayEquals(reference(json), fast);
    put("u", json);
    assertEquals(
        "{\"nævn\":\"a\\\"b\\\\c/d\\n\\té\\uD83D\\uDE00\",\"ø\":\"\\uD83D\\uDE00é\",\"i\":-9223372036854775808,\"f\":31.0,"
            + "\"e\":2500.0,\"z\":-0.0,\"b\":false,\"t\":true,\"ts\":\"2026-11-20T10:00:00.250Z\","
            + "\"s\":{\"$string\":\"2026-11-20T10:00:00Z\"},\"set\":[\"x\",\"y\"],\"empty\":[],"
            + "\"$events\":{\"view\":{\"$first\":\"2026-11-19T00:00:00Z\","
            + "\"$last\":\"2026-11-19T00:00:00Z\",\"2026-11-19\":[1]}},\"$producers\":{\"pé\":0}}",
        get("u"));
  }

  /**
   * The point of reading {@code "$dimensions"}: a profile of the bench's preference preload (20
   * dimensions defined, counts on 1 to 4 days) is read on the fast path, into the same bytes and
   * with the same sink calls as the reference's.
   */
  @Test
  void shouldReadAPreferenceProfileOnTheFastPath() {
    ProfileWriter fastWriter = preferenceWriter();
    ProfileWriter slowWriter = preferenceWriter();
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 200; i++) {
      byte[] doc = ProfileDocuments.preferenceProfile(r).getBytes(UTF_8);
      var fastCalls = new ProfileJsonReaderProperties.SinkCalls();
      var slowCalls = new ProfileJsonReaderProperties.SinkCalls();
      assertTrue(
          reader.read(doc, 0, doc.length, fastCalls.to(fastWriter.startPut(NOW, null, stripe))),
          () -> "declined " + new String(doc, UTF_8));
      ProfileJson.parse(
          doc, 0, doc.length, slowCalls.to(slowWriter.startPut(NOW, null, refStripe)));
      assertEquals(slowCalls.calls, fastCalls.calls);
      assertTrue(fastCalls.calls.stream().anyMatch(c -> c.startsWith("dimensionCount make ")));
      byte[] slow = slowWriter.finishPut(KEY);
      assertArrayEquals(slow, fastWriter.finishPut(KEY));
      assertTrue(slow.length > 100, "the counts are kept");
    }
  }

  /**
   * Reading a preference profile makes a string per name only for names not seen lately (the reader
   * keeps recent ones' strings), a few per document here: under 1,500 bytes a document of 3 KB and
   * 150 counts, against about 10,000 with jackson.
   */
  @Test
  void shouldAllocateLittleForAPreferenceProfile() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    java.util.Random r = new java.util.Random(1);
    byte[][] docs = new byte[64][];
    for (int i = 0; i < docs.length; i++) {
      docs[i] = ProfileDocuments.preferenceProfile(r).getBytes(UTF_8);
    }
    SummingSink sink = new SummingSink();
    for (int i = 0; i < 20_000; i++) {
      byte[] d = docs[i % docs.length];
      assertTrue(reader.read(d, 0, d.length, sink));
    }
    int n = 10_000;
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < n; i++) {
      byte[] d = docs[i % docs.length];
      reader.read(d, 0, d.length, sink);
    }
    long perRead = (threads.getCurrentThreadAllocatedBytes() - before) / n;
    assertTrue(perRead < 1_500, "allocated " + perRead + " bytes per read");
    assertTrue(sink.sum != 0);
  }

  /** Sums what it is given. */
  private static final class SummingSink implements dev.whack.node.engine.profile.ProfileSink {
    long sum;

    @Override
    public void attribute(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void attribute(String name) {
      sum += name.length();
    }

    @Override
    public void stringValue(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void stringValue(String value) {
      sum += value.length();
    }

    @Override
    public void intValue(long value) {
      sum += value;
    }

    @Override
    public void floatValue(double value) {
      sum += (long) value;
    }

    @Override
    public void boolValue(boolean value) {
      sum++;
    }

    @Override
    public void timestampValue(long epochMillis) {
      sum += epochMillis;
    }

    @Override
    public void startSet() {
      sum++;
    }

    @Override
    public void element(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void element(String value) {
      sum += value.length();
    }

    @Override
    public void endSet() {
      sum++;
    }

    @Override
    public void event(byte[] utf8, int off, int len) {
      sum += len;
    }

    @Override
    public void event(String name) {
      sum += name.length();
    }

    @Override
    public void bucket(int day, long count, double s, double squares) {
      sum += day + count;
    }

    @Override
    public void bucket(int day, long count, double s, double squares, double min, double max) {
      sum += day + count;
    }

    @Override
    public void times(long firstMillis, long lastMillis) {
      sum += lastMillis - firstMillis;
    }

    @Override
    public void dimensionCount(String dimension, int day, String category, long count) {
      sum += dimension.length() + day + category.length() + count;
    }

    @Override
    public void dimensionSketch(String dimension, int day, byte[] body) {
      sum += dimension.length() + day + body.length;
    }

    @Override
    public void producer(byte[] utf8, int off, int len, long seq) {
      sum += len + seq;
    }

    @Override
    public void producer(String producer, long seq) {
      sum += producer.length() + seq;
    }
  }

  private static ProfileWriter preferenceWriter() {
    Dictionaries dict = Dictionaries.create(1000);
    for (String[] d : ProfileDocuments.PREFERENCE_DEFINITIONS) {
      dict.dimensions().define(DimensionSpec.parse(d[0], d[1].getBytes(UTF_8)));
    }
    return new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);
  }

  /**
   * Both kinds of dimension day, with names escaped, on the fast path: the counts reach the sink as
   * the reference gives them (a category may start with '$'), the sketches decoded as the reference
   * decodes them, {@code "$distinct"} read and not given.
   */
  @Test
  void shouldReadCountsAndSketchesAsTheReferenceDoes() {
    String json =
        "{\"$dimensions\": {\"c\\u006flour\": {\"2026-11-19\": {\"red\": 2, \"bl\\u0075e\": 0,"
            + " \"$100\": 3, \"$Sketch\": 4},"
            + " \"2026-11-20\": {}}, \"empty\": {},"
            + " \"products\": {\"2026-11-20\": {\"$distinct\": 1, \"$sketch\": \"AgAAAAE=\"},"
            + " \"2026-11-19\": {\"$sketch\": \"AgAAAAI\", \"$distinct\": -5},"
            + " \"2026-11-18\": {\"\\u0024distinct\": 3}},"
            + " \"\": {\"2026-11-20\": {\"\": 1, \"$sketch\": \"A\\/\\u0041\\u0041\"}}}}";
    String[] calls = {
      "dimensionCount colour 20776 red 2",
      "dimensionCount colour 20776 blue 0",
      "dimensionCount colour 20776 $100 3",
      "dimensionCount colour 20776 $Sketch 4",
      "dimensionSketch products 20777 AgAAAAE=",
      "dimensionSketch products 20776 AgAAAAI=",
      "dimensionCount  20777  1",
      "dimensionSketch  20777 A/AA"
    };
    byte[] b = json.getBytes(UTF_8);
    var fastCalls = new ProfileJsonReaderProperties.SinkCalls();
    var slowCalls = new ProfileJsonReaderProperties.SinkCalls();
    assertTrue(reader.read(b, 0, b.length, fastCalls.to(writer.startPut(NOW, null, stripe))));
    ProfileJson.parse(b, 0, b.length, slowCalls.to(refWriter.startPut(NOW, null, refStripe)));
    assertEquals(java.util.List.of(calls), slowCalls.calls);
    assertEquals(slowCalls.calls, fastCalls.calls);
    assertArrayEquals(refWriter.finishPut(KEY), writer.finishPut(KEY));
  }

  /** Duplicate detection is per object: one name may be an attribute, an event and a producer. */
  @Test
  void shouldAcceptTheSameNameInDifferentObjects() {
    String[] docs = {
      "{\"$events\":{\"x\":{}},\"x\":1}",
      "{\"$producers\":{\"x\":1},\"x\":1,\"$events\":{\"x\":{\"2026-11-20\":[1]}}}",
      "{\"x\":1,\"$events\":{\"x\":{\"2026-11-20\":[1]},\"y\":{\"2026-11-20\":[1]}},\"y\":2}",
    };
    for (String doc : docs) {
      assertTrue(fast(doc), doc);
      assertArrayEquals(reference(doc), writer.finishPut(KEY), doc);
    }
  }

  /**
   * The declines that matter: each document is left to the reference, which rejects it with its own
   * reason and position, through the engine as well.
   */
  @Test
  void shouldLeaveEveryRejectedDocumentToTheReference() {
    String[][] cases = {
      {"{\"a\":1,\"a\":2}", "Duplicate field 'a'"},
      {"{\"a\":1,\"\\u0061\":2}", "Duplicate field 'a'"},
      {
        "{\"$events\":{\"v\":{\"2026-11-19\":[1],\"2026-11-19\":[2]}}}",
        "Duplicate field '2026-11-19'"
      },
      {"{\"$events\":{\"v\":{},\"v\":{}}}", "Duplicate field 'v'"},
      {"{\"$producers\":{\"p\":1,\"p\":2}}", "Duplicate field 'p'"},
      {"{\"$events\":{},\"$events\":{}}", "Duplicate field '$events'"},
      {"{\"a\":null}", "null is not a value; use \"unset\" to remove an attribute"},
      {
        "{\"a\":{\"b\":1}}",
        "an object value must be {\"$string\": \"...\"}; nested objects are not values"
      },
      {"{\"a\":{\"$string\":\"x\",\"b\":1}}", "\"$string\" must be the only member of its object"},
      {"{\"n\":92233720368547758070}", "integer 92233720368547758070 does not fit in 64 bits"},
      {"{\"n\":1e400}", "number 1e400 is out of range for a 64-bit float"},
      {"{\"$x\":1}", "unknown reserved member \"$x\" (names starting with '$' are reserved)"},
      {"{\"a\":[\"x\",1]}", "set elements must be strings"},
      {
        "{\"$events\":{\"v\":{\"2026-11-22\":[1]}}}",
        "event series \"v\" has day 20779, more than a day in the future"
      },
      {"{\"$events\":{\"v\":{\"2026-11-19\":[1,2]}}}", "expected a number"},
      {
        "{\"$events\":{\"v\":{\"2026-02-30\":[1]}}}",
        "bucket day \"2026-02-30\" is not a valid date"
      },
      {"{\"$producers\":{\"p\":-1}}", "producer \"p\" has a negative seq"},
      {"{\"a\":false:1}", null},
      {"{\"a\":falsey}", null},
      {"{\"a\":1} {}", "unexpected content after the end of the object"},
      {"{\"$dimensions\":{},\"$dimensions\":{}}", "Duplicate field '$dimensions'"},
      {"{\"$dimensions\":{\"c\":{},\"c\":{}}}", "Duplicate field 'c'"},
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{},\"2026-11-19\":{}}}}",
        "Duplicate field '2026-11-19'"
      },
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":1,\"r\":2}}}}", "Duplicate field 'r'"},
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":\"QQ==\",\"$sketch\":\"QQ==\"}}}}",
        "Duplicate field '$sketch'"
      },
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$distinct\":1,\"$distinct\":1}}}}",
        "Duplicate field '$distinct'"
      },
      {
        "{\"$dimensions\":{\"c\":{\"2026-02-30\":{\"r\":1}}}}",
        "dimension day \"2026-02-30\" is not a valid date"
      },
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-1\":{\"r\":1}}}}",
        "dimension day \"2026-11-1\" is not a YYYY-MM-DD date"
      },
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-22\":{\"r\":1}}}}",
        "dimension \"c\" has day 20779, more than a day in the future"
      },
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":-1}}}}",
        "dimension \"c\" has a negative count on day 20776"
      },
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":1.0}}}}", "expected an integer"},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":\"1\"}}}}", "expected an integer"},
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":92233720368547758070}}}}",
        "integer 92233720368547758070 does not fit in 64 bits"
      },
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$distinct\":0.5}}}}", "expected an integer"},
      {
        "{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":1}}}}",
        "expected \"$sketch\" to be a base64 string"
      },
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":\"Q@==\"}}}}", null},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":\"QQ=\"}}}}", null},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":\"Q\"}}}}", null},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"$sketch\":\"QQ==QQ==\"}}}}", null},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":[1]}}}", "expected an object of category counts"},
      {"{\"$dimensions\":{\"c\":{\"2026-11-19\":{\"r\":{}}}}}", "expected an integer"},
      {"{\"$dimensions\":{\"c\":[]}}", "expected an object of days"},
      {"{\"$dimensions\":[]}", "expected \"$dimensions\" to be an object of dimensions"},
      {"[]", "expected a profile object"},
    };
    for (String[] c : cases) {
      String doc = c[0];
      assertFalse(fast(doc), doc);
      JsonFormatException e = assertThrows(JsonFormatException.class, () -> put("k", doc), doc);
      JsonFormatException ref = assertThrows(JsonFormatException.class, () -> reference(doc), doc);
      assertEquals(ref.getMessage(), e.getMessage(), doc);
      assertEquals(ref.offset(), e.offset(), doc);
      if (c[1] != null) {
        assertEquals(c[1], e.reason(), doc);
      }
      assertFalse(engine.contains("k".getBytes(UTF_8)), doc);
    }
    byte[] badUtf8 = {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'};
    assertFalse(reader.read(badUtf8, 0, badUtf8.length, writer.startPut(NOW, null, stripe)));
    JsonFormatException e =
        assertThrows(
            JsonFormatException.class, () -> engine.putJson(KEY, badUtf8, 0, badUtf8.length));
    assertEquals("Invalid UTF-8 start byte 0xff", e.reason());
    assertEquals(0, engine.size());
  }

  /**
   * Forms the fast reader leaves to the reference are still stored, at the old speed; and a
   * document declined after the writer had some of its pieces is written from a clean start.
   */
  @Test
  void shouldLeaveRareFormsToTheReferenceAndStillStoreThemWhole() {
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 300; i++) {
      many.append(i == 0 ? "" : ",").append("\"a").append(i).append("\":").append(i);
    }
    String[][] docs = {
      {"\uFEFF{\"bom\":1}", "{\"bom\":1}"},
      {
        "{\"a\":1,\"tags\":[\"x\"],\"lone\":\"\\ud800\"}",
        "{\"a\":1,\"tags\":[\"x\"],\"lone\":\"?\"}"
      },
      {
        "{\"a\":1,\"$events\":{\"buy\":{\"2026-11-20\":[1,123456789012345678901234,1]}}}",
        "{\"a\":1,\"$events\":{\"buy\":{\"$first\":\"2026-11-20T00:00:00Z\","
            + "\"$last\":\"2026-11-20T00:00:00Z\",\"2026-11-20\":[1,1.2345678901234569E23,1.0]}}}"
      },
      {many.append("}").toString(), null},
    };
    for (String[] d : docs) {
      assertFalse(fast(d[0]), d[0]);
      put("r", d[0]);
      if (d[1] != null) {
        assertEquals(d[1], get("r"), d[0]);
      }
    }
    assertTrue(get("r").startsWith("{\"a0\":0,\"a1\":1,"));
    assertTrue(get("r").endsWith(",\"a299\":299}"));
  }

  @Test
  void shouldAllocateLittleMoreThanTheNewProfilePerPut() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    engine.define("dk", "country == \"DK\"");
    engine.define("viewers", "count(view, 7d) >= 3");
    byte[][] docs = {
      ("{\"country\":\"DK\",\"age\":31,\"score\":2.5,\"vip\":true,\"tags\":[\"a\",\"b\"],"
              + "\"last_seen\":\"2026-11-20T10:00:00Z\",\"$events\":{\"view\":"
              + "{\"2026-11-18\":[2],\"2026-11-19\":[1]},\"buy\":{\"2026-11-19\":[1,9.5,90.25]}}}")
          .getBytes(UTF_8),
      "{\"country\":\"SE\",\"n\\u00e6vn\":\"x\",\"tags\":[]}".getBytes(UTF_8),
    };
    // Other profiles hold every name, as on a node: a name whose last profile drops it is freed,
    // and
    // interning it again allocates it again.
    for (int i = 0; i < docs.length; i++) {
      engine.putJson(("other" + i).getBytes(UTF_8), docs[i], 0, docs[i].length);
    }
    byte[] key = KEY;
    for (int i = 0; i < 20_000; i++) {
      byte[] d = docs[i % docs.length];
      engine.putJson(key, d, 0, d.length);
    }
    int n = 30_000;
    long bytes = 0;
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < n; i++) {
      byte[] d = docs[i % docs.length];
      bytes += engine.putJson(key, d, 0, d.length).footprintBytes();
    }
    long perPut = (threads.getCurrentThreadAllocatedBytes() - before) / n;
    long profile = bytes / n; // array bytes plus a fixed overhead: an upper bound of the array
    // the new profile array and the result record; the jackson path took about 3,000 bytes more
    assertTrue(perPut < profile + 200, "allocated " + perPut + " bytes per put");
  }
}

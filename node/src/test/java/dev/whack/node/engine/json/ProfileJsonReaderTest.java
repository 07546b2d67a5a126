package dev.whack.node.engine.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
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

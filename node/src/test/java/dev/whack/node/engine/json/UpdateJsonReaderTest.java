package dev.whack.node.engine.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.KeyedEngine;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.UpdateOps;
import dev.whack.node.testing.ManualClock;
import dev.whack.proto.Update;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class UpdateJsonReaderTest {
  private final UpdateJsonReader reader = new UpdateJsonReader();
  private final UpdateOps ops = new UpdateOps();
  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
  private final KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));

  private boolean fast(String json) {
    byte[] b = json.getBytes(UTF_8);
    return reader.read(b, 0, b.length, ops);
  }

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void update(String key, byte[] json) {
    engine.updateJson(k(key), json, 0, json.length);
  }

  private String get(String key) {
    return new String(engine.getJson(k(key)), UTF_8);
  }

  @Test
  void shouldReadTheBriefsExampleOnTheFastPathExactlyAsTheReference() {
    String json =
        "{\"set\": {\"country\": \"DK\", \"age\": 31},\n \"unset\": [\"trial_ends\"],\n"
            + " \"incr\": {\"visits\": 1},\n \"add\": {\"tags\": [\"vip\"]},\n"
            + " \"remove\": {\"tags\": [\"trial\"]},\n"
            + " \"events\": [{\"name\": \"purchase\", \"value\": 49.5, \"time\":"
            + " \"2026-11-20T10:00:00Z\",\n             \"properties\": {\"sku\": \"A-1\"}}],\n"
            + " \"producer\": \"shop-1\", \"seq\": 42}";
    assertTrue(fast(json));
    assertEquals(UpdateJsonReaderProperties.reference(json.getBytes(UTF_8)), ops.toProto());
  }

  @Test
  void shouldDecodeEscapesAndKeepUtf8AsIs() {
    assertTrue(
        fast(
            "{\"set\":{\"n\\u00e6vn\":\"a\\\"b\\\\c\\/d\\n\\t\\u00E9\\ud83d\\ude00\",\"ø\":\"😀é\"}}"));
    Update u = ops.toProto();
    assertEquals("nævn", u.getSet(0).getName());
    assertEquals("a\"b\\c/d\n\té😀", u.getSet(0).getValue().getStringValue());
    assertEquals("ø", u.getSet(1).getName());
    assertEquals("😀é", u.getSet(1).getValue().getStringValue());
  }

  @Test
  void shouldTypeValuesAsTheReferenceDoes() {
    assertTrue(
        fast(
            "{\"set\":{\"i\":-9223372036854775808,\"f\":31.0,\"e\":2.5e3,\"z\":-0.0,\"b\":false,"
                + "\"t\":\"2026-11-20T12:00:00.250+02:00\",\"s\":{\"$string\":\"2026-11-20T10:00:00Z\"},"
                + "\"set\":[\"x\",\"y\",\"x\"]}}"));
    Update u = ops.toProto();
    assertEquals(Long.MIN_VALUE, u.getSet(0).getValue().getIntValue());
    assertEquals(31.0, u.getSet(1).getValue().getFloatValue());
    assertEquals(2500.0, u.getSet(2).getValue().getFloatValue());
    assertEquals(
        Double.doubleToRawLongBits(-0.0),
        Double.doubleToRawLongBits(u.getSet(3).getValue().getFloatValue()));
    assertFalse(u.getSet(4).getValue().getBoolValue());
    assertEquals(1_795_168_800_250L, u.getSet(5).getValue().getTimestampMillis());
    assertEquals("2026-11-20T10:00:00Z", u.getSet(6).getValue().getStringValue());
    assertEquals(2, u.getSet(7).getValue().getStringSet().getValuesCount());
  }

  @Test
  void shouldComputeFloatsAsDoubleParseDoubleDoes() {
    String[] floats = {
      "0.1",
      "0.30000000000000004",
      "123456789012345.6",
      "1.7976931348623157e308",
      "4.9e-324",
      "2.2250738585072014E-308",
      "1e22",
      "1e23",
      "9007199254740993.0",
      "0.000001234",
      "5e-324",
      "123456789012345e-22",
      "1e-400",
      "3.141592653589793238462643383279"
    };
    for (String f : floats) {
      assertTrue(fast("{\"incr\":{\"x\":" + f + "}}"), f);
      assertEquals(
          Double.doubleToRawLongBits(Double.parseDouble(f)),
          Double.doubleToRawLongBits(ops.toProto().getIncr(0).getFloatDelta()),
          f);
    }
  }

  /** Malformed or unacceptable documents: the reference's message and position, exactly. */
  @Test
  void shouldReportEveryErrorWithTheReferencesReasonAndPosition() {
    Object[][] cases = {
      {
        "{\"set\":{\"a\":null}}", 1, 13, "null is not a value; use \"unset\" to remove an attribute"
      },
      {
        "{\n  \"set\": {\"a\": 1},\n  \"incr\": {\"b\": \"x\"}\n}",
        3,
        17,
        "an increment must be a number"
      },
      {"{\"set\":{\"a\":1,\"a\":2}}", 1, 18, "Duplicate field 'a'"},
      {"{\"seq\":-1}", 1, 8, "\"seq\" must not be negative"},
      {"{\"events\":[{\"value\":1}]}", 1, 22, "an event needs a \"name\""},
      {"{\"set\":{\"$a\":1}}", 1, 9, "attribute name \"$a\" starts with '$', which is reserved"},
      {
        "{\"set\":{\"t\":\"2026-02-30T00:00:00Z\"}}",
        1,
        13,
        "invalid timestamp \"2026-02-30T00:00:00Z\": no such date or time"
      },
      {"{\"set\":{\"a\":1}} {}", 1, 17, "unexpected content after the end of the object"},
      {"{\"incr\":{\"a\":01}}", 1, 15, "Invalid numeric value: Leading zeroes not allowed"},
      {
        "{\"sett\":{}}",
        1,
        9,
        "unknown update member \"sett\" (expected set, unset, incr, add, remove, events, producer,"
            + " seq)"
      },
      {"{\"set\":{\"a\":1e400}}", 1, 13, "number 1e400 is out of range for a 64-bit float"},
      {
        "{\"set\":{\"a\":92233720368547758070}}",
        1,
        13,
        "integer 92233720368547758070 does not fit in 64 bits"
      },
      {"{\"set\":{\"a\":\"\\x\"}}", 1, 15, "Unrecognized character escape 'x' (code 120)"},
      {
        "{\"set\":{\"a\":{\"b\":1}}}",
        1,
        14,
        "an object value must be {\"$string\": \"...\"}; nested objects are not values"
      },
      {"{\"set\":{\"a\":[1]}}", 1, 14, "set elements must be strings"},
      {"[]", 1, 1, "expected an update object"},
      {
        "{\"events\":[{\"name\":\"x\",\"time\":\"yesterday\"}]}",
        1,
        31,
        "event time \"yesterday\" is not an RFC 3339 timestamp"
      },
      {"{\"set\":{\"a\":\"\u0001\"}}", 1, 14, null},
      {"{\"set\":{\"a\":1}} x", 1, 17, null},
      {"{\"set\":{\"a\":1},}", 1, 16, null},
      {"{\"set\":{\"a\":1}", 1, 15, null},
    };
    for (Object[] c : cases) {
      String doc = (String) c[0];
      assertFalse(fast(doc), doc);
      byte[] b = doc.getBytes(UTF_8);
      JsonFormatException e = assertThrows(JsonFormatException.class, () -> update("u", b), doc);
      JsonFormatException ref =
          assertThrows(JsonFormatException.class, () -> UpdateJson.parse(b), doc);
      assertEquals(ref.getMessage(), e.getMessage(), doc);
      assertEquals(ref.offset(), e.offset(), doc);
      assertEquals((long) (int) c[1], e.line(), doc);
      assertEquals((long) (int) c[2], e.column(), doc);
      if (c[3] != null) {
        assertEquals(c[3], e.reason(), doc);
      }
    }
    byte[] badUtf8 = {
      '{', '"', 's', 'e', 't', '"', ':', '{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}', '}'
    };
    JsonFormatException e = assertThrows(JsonFormatException.class, () -> update("u", badUtf8));
    assertEquals("Invalid UTF-8 start byte 0xff", e.reason());
    assertEquals(15, e.column());
    assertEquals(0, engine.size());
  }

  @Test
  void shouldApplyNothingOfAnUpdateRejectedAfterReading() {
    byte[] base = "{\"n\":1,\"s\":\"x\"}".getBytes(UTF_8);
    engine.putJson(k("u"), base, 0, base.length);
    byte[] doc = "{\"set\":{\"n\":2},\"incr\":{\"s\":1}}".getBytes(UTF_8);
    assertTrue(reader.read(doc, 0, doc.length, ops));
    InvalidProfileException e = assertThrows(InvalidProfileException.class, () -> update("u", doc));
    assertEquals("cannot increment attribute \"s\": it holds a string", e.getMessage());
    assertEquals("{\"n\":1,\"s\":\"x\"}", get("u"));
  }

  /** Forms the fast reader leaves to the reference are still read, at the old speed. */
  @Test
  void shouldLeaveRareFormsToTheReferenceAndStillApplyThem() {
    StringBuilder many = new StringBuilder("{\"set\":{");
    for (int i = 0; i < 300; i++) {
      many.append(i == 0 ? "" : ",").append("\"a").append(i).append("\":").append(i);
    }
    String[] docs = {
      "\uFEFF{\"set\":{\"bom\":1}}",
      "{\"set\":{\"lone\":\"\\ud800\"}}",
      "{\"events\":[{\"name\":\"big\",\"value\":123456789012345678901234}]}",
      many.append("}}").toString(),
    };
    for (String doc : docs) {
      assertFalse(fast(doc), doc);
      byte[] b = doc.getBytes(UTF_8);
      update("r", b);
    }
    String json = get("r");
    assertTrue(json.startsWith("{\"bom\":1,\"lone\":\"?\",\"a0\":0,\"a1\":1,"), json);
    assertTrue(json.contains("\"2026-11-20\":[1,1.2345678901234569E23,"), json);
  }

  @Test
  void shouldAllocateLittleMoreThanTheNewProfilePerUpdate() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    engine.define("recent", "last_seen > now() - 1d");
    engine.define("viewers", "count(view, 7d) >= 3");
    byte[] base = "{\"country\":\"DK\",\"visits\":3}".getBytes(UTF_8);
    engine.putJson(k("u"), base, 0, base.length);
    byte[][] docs = {
      "{\"events\":[{\"name\":\"view\"}],\"set\":{\"last_seen\":\"2026-11-20T10:00:00Z\"}}"
          .getBytes(UTF_8),
      "{\"events\":[{\"name\":\"buy\",\"value\":49.5}],\"incr\":{\"visits\":1}}".getBytes(UTF_8),
      "{\"set\":{\"country\":\"SE\",\"age\":31},\"add\":{\"tags\":[\"vip\"]}}".getBytes(UTF_8),
    };
    for (int i = 0; i < 20_000; i++) {
      byte[] d = docs[i % docs.length];
      engine.updateJson(k("u"), d, 0, d.length);
    }
    byte[] key = k("u");
    int n = 30_000;
    long bytes = 0;
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < n; i++) {
      byte[] d = docs[i % docs.length];
      bytes += engine.updateJson(key, d, 0, d.length).footprintBytes();
    }
    long perUpdate = (threads.getCurrentThreadAllocatedBytes() - before) / n;
    long profile = bytes / n; // array bytes plus a fixed overhead: an upper bound of the array
    // the new profile array and the result record; the Jackson path took about 1,600 bytes more
    assertTrue(perUpdate < profile + 200, "allocated " + perUpdate + " bytes per update");
  }
}

package dev.whack.node.engine.json;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.proto.LoadRecord;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import org.junit.jupiter.api.Test;

class ProfileJsonTest {
  private static Profile parse(String json) {
    return ProfileJson.parse(json.getBytes(UTF_8));
  }

  private static String write(Profile p) {
    return new String(ProfileJson.write(p), UTF_8);
  }

  @Test
  void shouldTypeEveryJsonValueAndWriteItBackUnchanged() {
    String json =
        "{\"country\":\"DK\",\"age\":31,\"score\":31.0,\"vip\":true,"
            + "\"tags\":[\"vip\",\"newsletter\"],\"last_seen\":\"2026-11-20T10:00:00Z\"}";
    Profile p = parse(json);
    assertEquals(Value.KindCase.STRING_VALUE, p.getAttributes(0).getValue().getKindCase());
    assertEquals(Value.KindCase.INT_VALUE, p.getAttributes(1).getValue().getKindCase());
    assertEquals(Value.KindCase.FLOAT_VALUE, p.getAttributes(2).getValue().getKindCase());
    assertEquals(Value.KindCase.BOOL_VALUE, p.getAttributes(3).getValue().getKindCase());
    assertEquals(Value.KindCase.STRING_SET, p.getAttributes(4).getValue().getKindCase());
    assertEquals(1_795_168_800_000L, p.getAttributes(5).getValue().getTimestampMillis());
    assertEquals(json, write(p));
  }

  @Test
  void shouldKeepATimestampShapedStringAStringThroughTheEscape() {
    Profile p =
        Profile.newBuilder()
            .addAttributes(
                dev.whack.proto.Attribute.newBuilder()
                    .setName("note")
                    .setValue(Value.newBuilder().setStringValue("2026-01-01T00:00:00Z")))
            .build();
    String json = write(p);
    assertEquals("{\"note\":{\"$string\":\"2026-01-01T00:00:00Z\"}}", json);
    assertEquals(p, parse(json));
  }

  @Test
  void shouldNormaliseOffsetsToUtcAndKeepMilliseconds() {
    Profile p = parse("{\"t\":\"2026-11-20T12:00:00.250+02:00\"}");
    assertEquals("{\"t\":\"2026-11-20T10:00:00.250Z\"}", write(p));
  }

  @Test
  void shouldRoundTripEventSeriesAndProducerMarks() {
    String json =
        "{\"a\":1,\"$events\":{\"purchase\":{\"2026-11-19\":[2,99.0,4900.5],"
            + "\"2026-11-20\":[1]}},\"$producers\":{\"shop-1\":42}}";
    Profile p = parse(json);
    assertEquals(1, p.getEventsCount());
    assertEquals(2, p.getEvents(0).getBucketsCount());
    assertEquals(42, p.getProducers(0).getSeq());
    assertEquals(json, write(p));
  }

  @Test
  void shouldPositionTheErrorOfAnEmptyDocumentWhereItEnds() {
    // Found by ProfileJsonFuzzTest: with no token to point at, the error said column 0 and offset
    // -1, outside the document.
    JsonFormatException empty =
        assertThrows(JsonFormatException.class, () -> ProfileJson.parse(new byte[0]));
    assertEquals("invalid JSON at line 1, column 1: expected a profile object", empty.getMessage());
    assertEquals(0, empty.offset());
    JsonFormatException blank =
        assertThrows(JsonFormatException.class, () -> UpdateJson.parse(" \n\t".getBytes(UTF_8)));
    assertEquals("invalid JSON at line 2, column 2: expected an update object", blank.getMessage());
    assertEquals(3, blank.offset());
  }

  @Test
  void shouldRejectBytesThatLookLikeUtf32ButDoNotDecodeAsBadJson() {
    // Found by ProfileJsonFuzzTest: jackson reads a document whose first bytes have UTF-32's
    // zero pattern as UTF-32, and a code point above U+10FFFF then escaped as an
    // UncheckedIOException, through the protocol handlers, instead of a positioned error.
    byte[] doc = {'{', 0, 0, 0, 0, 0, 0, 0x16};
    JsonFormatException profile =
        assertThrows(JsonFormatException.class, () -> ProfileJson.parse(doc));
    assertTrue(profile.reason().startsWith("not valid text: "), profile.getMessage());
    JsonFormatException update =
        assertThrows(JsonFormatException.class, () -> UpdateJson.parse(doc));
    assertTrue(
        update.getMessage().startsWith("invalid JSON at line 1, column "), update.getMessage());
  }

  @Test
  void shouldRejectBytesInAnUnsupportedUcs4ByteOrderAsBadJson() {
    // Found by BinaryProtocolFuzzTest: an update body starting 00 00 FF 00 made jackson's encoding
    // detection throw, which escaped as an UncheckedIOException through the protocol handlers.
    byte[] doc = {0, 0, (byte) 0xff, 0, '{', '}', ' ', ' '};
    JsonFormatException e = assertThrows(JsonFormatException.class, () -> UpdateJson.parse(doc));
    assertTrue(
        e.getMessage().startsWith("invalid JSON at line 1, column 1: not valid text: "),
        e.getMessage());
    assertThrows(JsonFormatException.class, () -> ProfileJson.parse(doc));
  }

  @Test
  void shouldRejectTrailingGarbageWithItsPosition() {
    JsonFormatException e = assertThrows(JsonFormatException.class, () -> parse("{\"a\":1} x"));
    assertEquals(1, e.line());
    assertTrue(e.column() >= 8, e.getMessage());
  }

  @Test
  void shouldRejectNestedObjectsNullsAndReservedNames() {
    assertThrows(JsonFormatException.class, () -> parse("{\"a\":{\"b\":1}}"));
    assertThrows(JsonFormatException.class, () -> parse("{\"a\":null}"));
    assertThrows(JsonFormatException.class, () -> parse("{\"$a\":1}"));
    assertThrows(JsonFormatException.class, () -> parse("{\"a\":[1]}"));
    assertThrows(JsonFormatException.class, () -> parse("[1]"));
    assertThrows(JsonFormatException.class, () -> parse("{\"a\":1,\"a\":2}"));
  }

  @Test
  void shouldRejectIntegersBeyond64BitsAndInfiniteFloats() {
    JsonFormatException e =
        assertThrows(JsonFormatException.class, () -> parse("{\"n\":92233720368547758070}"));
    assertTrue(e.reason().contains("64 bits"), e.getMessage());
    assertThrows(JsonFormatException.class, () -> parse("{\"n\":1e400}"));
  }

  @Test
  void shouldRejectTimestampsFinerThanAMillisecondOrOutOfCalendar() {
    assertThrows(JsonFormatException.class, () -> parse("{\"t\":\"2026-11-20T10:00:00.0001Z\"}"));
    assertThrows(JsonFormatException.class, () -> parse("{\"t\":\"2026-13-20T10:00:00Z\"}"));
  }

  @Test
  void shouldParseTheBriefsUpdateExampleAndWriteItBack() {
    String json =
        "{\"set\":{\"country\":\"DK\",\"age\":31},\"unset\":[\"trial_ends\"],"
            + "\"incr\":{\"visits\":1},\"add\":{\"tags\":[\"vip\"]},\"remove\":{\"tags\":[\"trial\"]},"
            + "\"events\":[{\"name\":\"purchase\",\"value\":49.5,\"time\":\"2026-11-20T10:00:00Z\"}],"
            + "\"producer\":\"shop-1\",\"seq\":42}";
    Update u = UpdateJson.parse(json.getBytes(UTF_8));
    assertEquals(42, u.getSeq());
    assertEquals(1, u.getIncr(0).getIntDelta());
    assertEquals(json, new String(UpdateJson.write(u), UTF_8));
  }

  @Test
  void shouldRejectAnEventWithoutANameAtTheEventsEnd() {
    JsonFormatException e =
        assertThrows(
            JsonFormatException.class,
            () -> UpdateJson.parse("{\"events\":[{\"value\":1}]}".getBytes(UTF_8)));
    assertTrue(e.reason().contains("name"), e.getMessage());
  }

  @Test
  void shouldReadAndWriteNdjsonRecords() {
    String line = "{\"key\":\"user:42\",\"update\":{\"incr\":{\"visits\":2}}}";
    byte[] bytes = line.getBytes(UTF_8);
    LoadRecord r = RecordJson.parse(bytes, 0, bytes.length);
    assertEquals("user:42", r.getKey());
    assertEquals(line, new String(RecordJson.write(r), UTF_8));
    assertThrows(
        JsonFormatException.class,
        () -> RecordJson.parse("{\"key\":\"k\"}".getBytes(UTF_8), 0, 11));
  }
}

package dev.whack.node.engine.profile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.proto.Profile;
import org.junit.jupiter.api.Test;

class ProfileWriterTest {
  private static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z
  private static final byte[] KEY = "user:42".getBytes(UTF_8);

  private final Dictionaries dict = Dictionaries.create(1000);
  private final ProfileWriter writer = new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);
  private final StripeNames stripe = new StripeNames();

  /** A put, published: the profile keeps its names. */
  private byte[] put(String json) {
    byte[] blob = writer.put(KEY, ProfileJson.parse(json.getBytes(UTF_8)), NOW, null, stripe);
    writer.commit(null);
    return blob;
  }

  /** An update, published over {@code current}, or null for a replay. */
  private byte[] apply(byte[] current, String json) {
    byte[] blob = writer.apply(KEY, current, UpdateJson.parse(json.getBytes(UTF_8)), NOW, stripe);
    if (blob != null) {
      writer.commit(current);
    }
    return blob;
  }

  private String json(byte[] blob) {
    return new String(ProfileCodec.toJson(blob, dict), UTF_8);
  }

  @Test
  void shouldRenderAPutProfileExactlyAsWritten() {
    String in =
        "{\"country\":\"DK\",\"age\":31,\"score\":2.5,\"vip\":true,"
            + "\"tags\":[\"vip\",\"newsletter\"],\"last_seen\":\"2026-11-20T10:00:00Z\"}";
    byte[] blob = put(in);
    assertEquals(in, json(blob));
    assertArrayEquals(KEY, ProfileCodec.key(blob));
    Profile p = ProfileCodec.toProto(blob, dict);
    assertEquals("user:42", p.getKey());
    assertEquals(in, new String(ProfileJson.write(p), UTF_8));
  }

  @Test
  void shouldApplyEveryOperationInOrderAndKeepAttributeOrder() {
    byte[] blob =
        put("{\"a\":1,\"tags\":[\"x\",\"trial\"],\"trial_ends\":\"2026-12-01T00:00:00Z\"}");
    blob =
        apply(
            blob,
            "{\"set\":{\"country\":\"DK\",\"a\":5},\"unset\":[\"trial_ends\"],"
                + "\"incr\":{\"a\":2,\"visits\":1,\"spend\":1.5},\"add\":{\"tags\":[\"vip\",\"x\"]},"
                + "\"remove\":{\"tags\":[\"trial\"]}}");
    assertEquals(
        "{\"a\":7,\"tags\":[\"x\",\"vip\"],\"country\":\"DK\",\"visits\":1,\"spend\":1.5}",
        json(blob));
  }

  @Test
  void shouldRejectIncrementingAStringAndLeaveTheProfileUntouched() {
    byte[] blob = put("{\"country\":\"DK\",\"n\":1}");
    InvalidProfileException e =
        assertThrows(
            InvalidProfileException.class, () -> apply(blob, "{\"incr\":{\"n\":1,\"country\":1}}"));
    assertTrue(e.getMessage().contains("country"), e.getMessage());
    assertEquals("{\"country\":\"DK\",\"n\":1}", json(blob));
  }

  @Test
  void shouldRejectIntegerOverflowAndFloatDeltaOnIntegers() {
    byte[] blob = put("{\"n\":9223372036854775807}");
    assertThrows(InvalidProfileException.class, () -> apply(blob, "{\"incr\":{\"n\":1}}"));
    assertThrows(InvalidProfileException.class, () -> apply(blob, "{\"incr\":{\"n\":0.5}}"));
  }

  @Test
  void shouldRejectAddingToANonSet() {
    byte[] blob = put("{\"tags\":\"vip\"}");
    assertThrows(InvalidProfileException.class, () -> apply(blob, "{\"add\":{\"tags\":[\"x\"]}}"));
  }

  @Test
  void shouldIgnoreAReplayedSequenceAndAcceptTheNext() {
    byte[] blob = apply(null, "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":5}");
    assertNull(apply(blob, "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":5}"));
    assertNull(apply(blob, "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":4}"));
    byte[] next = apply(blob, "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":6}");
    assertEquals("{\"n\":2,\"$producers\":{\"p\":6}}", json(next));
  }

  @Test
  void shouldBucketEventsByUtcDayAndDropThoseBeyondRetention() {
    byte[] blob =
        apply(
            null,
            "{\"events\":["
                + "{\"name\":\"buy\",\"value\":2.0,\"time\":\"2026-11-20T01:00:00Z\"},"
                + "{\"name\":\"buy\",\"value\":3.0},"
                + "{\"name\":\"buy\",\"time\":\"2026-11-19T23:59:59Z\"},"
                + "{\"name\":\"buy\",\"time\":\"2026-01-01T00:00:00Z\"}]}");
    // min and max of the valued events only; the first and last times to the millisecond
    assertEquals(
        "{\"$events\":{\"buy\":{\"$first\":\"2026-11-19T23:59:59Z\",\"$last\":\"2026-11-20T10:00:00Z\","
            + "\"2026-11-19\":[1],\"2026-11-20\":[2,5.0,13.0,2.0,3.0]}}}",
        json(blob));
  }

  @Test
  void shouldRejectEventsMoreThanADayInTheFuture() {
    assertThrows(
        InvalidProfileException.class,
        () -> apply(null, "{\"events\":[{\"name\":\"buy\",\"time\":\"2026-11-23T00:00:00Z\"}]}"));
  }

  @Test
  void shouldRoundTripADumpWithEventsAndMarks() {
    String in =
        "{\"a\":\"b\",\"$events\":{\"buy\":{\"$first\":\"2026-10-30T08:00:00.125Z\","
            + "\"$last\":\"2026-11-20T09:00:00Z\",\"2026-11-01\":[3,6.0,14.0,1.0,3.0],"
            + "\"2026-11-19\":[3,5.0,25.0],\"2026-11-20\":[1]}},\"$producers\":{\"p\":9}}";
    assertEquals(in, json(put(in)));
  }

  @Test
  void shouldReadADumpWrittenBeforeMinMaxAndTimesWithTheirDocumentedDefaults() {
    // [count, sum, sumSquares] of several events: min and max unknown; of one event: its value;
    // no times: the midnights of the oldest and newest days.
    String in = "{\"$events\":{\"buy\":{\"2026-11-01\":[3,6.0,14.0],\"2026-11-20\":[1,4.0,16.0]}}}";
    assertEquals(
        "{\"$events\":{\"buy\":{\"$first\":\"2026-11-01T00:00:00Z\",\"$last\":\"2026-11-20T00:00:00Z\","
            + "\"2026-11-01\":[3,6.0,14.0],\"2026-11-20\":[1,4.0,16.0]}}}",
        json(put(in)));
  }

  @Test
  void shouldKeepAValueOfZeroApartFromNoValue() {
    byte[] blob =
        apply(null, "{\"events\":[{\"name\":\"buy\",\"value\":0.0},{\"name\":\"view\"}]}");
    String out = json(blob);
    assertTrue(
        out.contains(
            "\"buy\":{\"$first\":\"2026-11-20T10:00:00Z\",\"$last\":\"2026-11-20T10:00:00Z\",\"2026-11-20\":[1,0.0,0.0,0.0,0.0]}"),
        out);
    assertTrue(out.contains("\"2026-11-20\":[1]}"), out);
    assertEquals(out, json(put(out)));
  }

  @Test
  void shouldKeepTwentyAttributeProfilesCompact() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < 20; i++) {
      sb.append(i == 0 ? "" : ",")
          .append("\"attr")
          .append(i)
          .append("\":")
          .append(
              i % 3 == 0 ? "\"value" + i + "\"" : i % 3 == 1 ? String.valueOf(i * 1000) : "true");
    }
    byte[] blob = put(sb.append('}').toString());
    assertTrue(blob.length < 160, "20 attributes took " + blob.length + " bytes");
  }
}

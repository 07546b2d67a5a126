package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.EventSeries;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import java.io.IOException;

/**
 * Profile JSON (docs/profiles.md) to and from {@link Profile}, with jackson-core streaming.
 *
 * <p>A profile is a plain object of attributes plus two reserved members, {@code "$events"} and
 * {@code "$producers"}, so that a dumped profile loads back with nothing lost. The profile key is
 * not part of the JSON form: it is the memcached item key or the NDJSON record's {@code "key"}.
 */
public final class ProfileJson {
  private ProfileJson() {}

  public static Profile parse(byte[] json) {
    return parse(json, 0, json.length);
  }

  /** @throws JsonFormatException with position and reason */
  public static Profile parse(byte[] json, int offset, int length) {
    return JsonReading.parse(json, offset, length, p -> {
      p.nextToken();
      return read(p);
    });
  }

  /** Reads a profile object starting at the current START_OBJECT token. */
  static Profile read(JsonParser p) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "a profile object");
    Profile.Builder b = Profile.newBuilder();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.startsWith("$")) {
        switch (name) {
          case "$events" -> readEvents(p, b);
          case "$producers" -> readProducers(p, b);
          default -> throw JsonReading.fail(
              p, "unknown reserved member \"" + name + "\" (names starting with '$' are reserved)");
        }
      } else {
        JsonReading.attributeName(p);
        b.addAttributes(Attribute.newBuilder().setName(name).setValue(JsonReading.value(p)));
      }
    }
    return b.build();
  }

  private static void readEvents(JsonParser p, Profile.Builder b) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "\"$events\" to be an object of event series");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      EventSeries.Builder s = EventSeries.newBuilder().setName(p.currentName());
      p.nextToken();
      JsonReading.expect(p, JsonToken.START_OBJECT, "an object of day buckets");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        int day;
        try {
          day = Timestamps.parseDay(p.currentName());
        } catch (IllegalArgumentException e) {
          throw JsonReading.fail(p, "bucket day " + e.getMessage());
        }
        p.nextToken();
        JsonReading.expect(p, JsonToken.START_ARRAY, "a bucket [count] or [count, sum, sumSquares]");
        p.nextToken();
        long count = JsonReading.longValue(p);
        double sum = 0;
        double squares = 0;
        if (p.nextToken() != JsonToken.END_ARRAY) {
          sum = JsonReading.finiteDouble(p);
          p.nextToken();
          squares = JsonReading.finiteDouble(p);
          if (p.nextToken() != JsonToken.END_ARRAY) {
            throw JsonReading.fail(p, "a bucket has one or three numbers");
          }
        }
        s.addBuckets(DayBucket.newBuilder().setDay(day).setCount(count).setSum(sum)
            .setSumSquares(squares));
      }
      b.addEvents(s);
    }
  }

  private static void readProducers(JsonParser p, Profile.Builder b) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "\"$producers\" to be an object of sequences");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String producer = p.currentName();
      p.nextToken();
      b.addProducers(ProducerMark.newBuilder().setProducer(producer).setSeq(JsonReading.longValue(p)));
    }
  }

  public static byte[] write(Profile profile) {
    return JsonWriting.write(256, g -> write(g, profile));
  }

  static void write(JsonGenerator g, Profile profile) throws IOException {
    g.writeStartObject();
    for (Attribute a : profile.getAttributesList()) {
      g.writeFieldName(a.getName());
      JsonWriting.value(g, a.getValue());
    }
    if (profile.getEventsCount() > 0) {
      g.writeObjectFieldStart("$events");
      for (EventSeries s : profile.getEventsList()) {
        g.writeObjectFieldStart(s.getName());
        for (DayBucket d : s.getBucketsList()) {
          g.writeFieldName(JsonWriting.day(d.getDay()));
          JsonWriting.bucket(g, d.getCount(), d.getSum(), d.getSumSquares());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    if (profile.getProducersCount() > 0) {
      g.writeObjectFieldStart("$producers");
      for (ProducerMark m : profile.getProducersList()) {
        g.writeNumberField(m.getProducer(), m.getSeq());
      }
      g.writeEndObject();
    }
    g.writeEndObject();
  }
}

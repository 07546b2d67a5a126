package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.engine.profile.ProfileCodec;
import dev.whack.node.engine.profile.ProfileSink;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.DimensionCounts;
import dev.whack.proto.DimensionDay;
import dev.whack.proto.EventSeries;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.StringSet;
import dev.whack.proto.Value;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * Profile JSON (docs/profiles.md) to and from {@link Profile}, with jackson-core streaming.
 *
 * <p>A profile is a plain object of attributes plus three reserved members, {@code "$events"},
 * {@code "$dimensions"} and {@code "$producers"}, so that a dumped profile loads back with nothing
 * lost. The profile key is not part of the JSON form: it is the memcached item key or the NDJSON
 * record's {@code "key"}.
 */
public final class ProfileJson {
  private ProfileJson() {}

  public static Profile parse(byte[] json) {
    return parse(json, 0, json.length);
  }

  /**
   * @throws JsonFormatException with position and reason
   */
  public static Profile parse(byte[] json, int offset, int length) {
    return JsonReading.parse(
        json,
        offset,
        length,
        p -> {
          p.nextToken();
          return read(p);
        });
  }

  /**
   * Streams a profile into {@code sink} (for example the compact writer) without building a
   * message; the sink's {@link dev.whack.node.engine.profile.InvalidProfileException}s come back as
   * positioned {@link JsonFormatException}s.
   *
   * @throws JsonFormatException with position and reason
   */
  public static void parse(byte[] json, int offset, int length, ProfileSink sink) {
    JsonReading.parse(
        json,
        offset,
        length,
        p -> {
          p.nextToken();
          read(p, sink);
          return null;
        });
  }

  /** Reads a profile object starting at the current START_OBJECT token. */
  static Profile read(JsonParser p) throws IOException {
    ProtoSink sink = new ProtoSink();
    read(p, sink);
    return sink.build();
  }

  static void read(JsonParser p, ProfileSink sink) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "a profile object");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.startsWith("$")) {
        switch (name) {
          case "$events" -> readEvents(p, sink);
          case "$producers" -> readProducers(p, sink);
          case "$dimensions" -> readDimensions(p, sink);
          default ->
              throw JsonReading.fail(
                  p,
                  "unknown reserved member \""
                      + name
                      + "\" (names starting with '$' are reserved)");
        }
      } else {
        JsonReading.attributeName(p);
        JsonReading.value(p, name, sink);
      }
    }
  }

  private static void readEvents(JsonParser p, ProfileSink sink) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "\"$events\" to be an object of event series");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      sink.event(p.currentName());
      p.nextToken();
      JsonReading.expect(p, JsonToken.START_OBJECT, "an object of day buckets");
      long first = 0;
      int times = 0; // bit 0: "$first" seen, bit 1: "$last"
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String member = p.currentName();
        if (member.equals("$first") || member.equals("$last")) {
          int bit = member.equals("$first") ? 1 : 2;
          if ((times & bit) != 0) {
            throw JsonReading.fail(p, "duplicate member " + member);
          }
          p.nextToken();
          long t = seriesTime(p, member);
          if (bit == 1) {
            first = t;
          } else if ((times & 1) == 0) {
            throw JsonReading.fail(p, "\"$last\" without \"$first\" before it");
          } else {
            sink.times(first, t);
          }
          times |= bit;
          continue;
        }
        if (times == 1) {
          throw JsonReading.fail(p, "\"$first\" without \"$last\" after it");
        }
        int day;
        try {
          day = Timestamps.parseDay(member);
        } catch (IllegalArgumentException e) {
          throw JsonReading.fail(p, "bucket day " + e.getMessage());
        }
        p.nextToken();
        JsonReading.expect(
            p,
            JsonToken.START_ARRAY,
            "a bucket [count], [count, sum, sumSquares] or [count, sum, sumSquares, min, max]");
        p.nextToken();
        long count = JsonReading.longValue(p);
        double sum = 0;
        double squares = 0;
        if (p.nextToken() != JsonToken.END_ARRAY) {
          sum = JsonReading.finiteDouble(p);
          p.nextToken();
          squares = JsonReading.finiteDouble(p);
          if (p.nextToken() != JsonToken.END_ARRAY) {
            double min = JsonReading.finiteDouble(p);
            p.nextToken();
            double max = JsonReading.finiteDouble(p);
            if (p.nextToken() != JsonToken.END_ARRAY) {
              throw JsonReading.fail(p, "a bucket has one, three or five numbers");
            }
            sink.bucket(day, count, sum, squares, min, max);
            continue;
          }
        }
        sink.bucket(day, count, sum, squares);
      }
      if (times == 1) {
        throw JsonReading.fail(p, "\"$first\" without \"$last\" after it");
      }
    }
  }

  /** A series' {@code "$first"} or {@code "$last"}: a timestamp-shaped string. */
  private static long seriesTime(JsonParser p, String member) throws IOException {
    String text = p.currentToken() == JsonToken.VALUE_STRING ? p.getText() : null;
    if (text == null || !Timestamps.looksLikeTimestamp(text)) {
      throw JsonReading.fail(p, member + " to be a timestamp like \"2026-11-20T10:00:00Z\"");
    }
    try {
      return Timestamps.parse(text);
    } catch (IllegalArgumentException e) {
      throw JsonReading.fail(p, member + " " + e.getMessage());
    }
  }

  private static void readDimensions(JsonParser p, ProfileSink sink) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "\"$dimensions\" to be an object of dimensions");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String dimension = p.currentName();
      p.nextToken();
      JsonReading.expect(p, JsonToken.START_OBJECT, "an object of days");
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        int day;
        try {
          day = Timestamps.parseDay(p.currentName());
        } catch (IllegalArgumentException e) {
          throw JsonReading.fail(p, "dimension day " + e.getMessage());
        }
        p.nextToken();
        JsonReading.expect(p, JsonToken.START_OBJECT, "an object of category counts");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String category = p.currentName();
          p.nextToken();
          switch (category) {
            case "$distinct" ->
                JsonReading.longValue(p); // shown for people; the sketch is the data
            case "$sketch" -> sink.dimensionSketch(dimension, day, sketch(p));
            default -> sink.dimensionCount(dimension, day, category, JsonReading.longValue(p));
          }
        }
      }
    }
  }

  /** A distinct day's {@code "$sketch"}: base64 of its encoded set or sketch. */
  private static byte[] sketch(JsonParser p) throws IOException {
    JsonReading.expect(p, JsonToken.VALUE_STRING, "\"$sketch\" to be a base64 string");
    try {
      return java.util.Base64.getDecoder().decode(p.getText());
    } catch (IllegalArgumentException e) {
      throw JsonReading.fail(p, "\"$sketch\" is not base64: " + e.getMessage());
    }
  }

  private static void readProducers(JsonParser p, ProfileSink sink) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "\"$producers\" to be an object of sequences");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String producer = p.currentName();
      p.nextToken();
      sink.producer(producer, JsonReading.longValue(p));
    }
  }

  /**
   * Builds a {@link Profile} message from the streamed pieces, keeping their order (a series with
   * no buckets included). Text given as UTF-8 is decoded.
   */
  private static final class ProtoSink implements ProfileSink {
    private final Profile.Builder b = Profile.newBuilder();
    private final Map<String, EventSeries.Builder> series = new LinkedHashMap<>();
    private final Map<String, Map<Integer, DimensionDay.Builder>> dimensions =
        new LinkedHashMap<>();
    private String name;
    private LinkedHashSet<String> set;
    private EventSeries.Builder event;

    private static String string(byte[] utf8, int off, int len) {
      return new String(utf8, off, len, StandardCharsets.UTF_8);
    }

    private void value(Value.Builder v) {
      b.addAttributes(Attribute.newBuilder().setName(name).setValue(v));
    }

    @Override
    public void attribute(byte[] utf8, int off, int len) {
      attribute(string(utf8, off, len));
    }

    @Override
    public void attribute(String name) {
      this.name = name;
    }

    @Override
    public void stringValue(byte[] utf8, int off, int len) {
      stringValue(string(utf8, off, len));
    }

    @Override
    public void stringValue(String value) {
      value(Value.newBuilder().setStringValue(value));
    }

    @Override
    public void intValue(long value) {
      value(Value.newBuilder().setIntValue(value));
    }

    @Override
    public void floatValue(double value) {
      value(Value.newBuilder().setFloatValue(value));
    }

    @Override
    public void boolValue(boolean value) {
      value(Value.newBuilder().setBoolValue(value));
    }

    @Override
    public void timestampValue(long epochMillis) {
      value(Value.newBuilder().setTimestampMillis(epochMillis));
    }

    @Override
    public void startSet() {
      set = new LinkedHashSet<>();
    }

    @Override
    public void element(byte[] utf8, int off, int len) {
      element(string(utf8, off, len));
    }

    @Override
    public void element(String value) {
      set.add(value);
    }

    @Override
    public void endSet() {
      value(Value.newBuilder().setStringSet(StringSet.newBuilder().addAllValues(set)));
    }

    @Override
    public void event(byte[] utf8, int off, int len) {
      event(string(utf8, off, len));
    }

    @Override
    public void event(String name) {
      event = series.computeIfAbsent(name, e -> EventSeries.newBuilder().setName(e));
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares) {
      event.addBuckets(
          DayBucket.newBuilder().setDay(day).setCount(count).setSum(sum).setSumSquares(sumSquares));
    }

    @Override
    public void dimensionCount(String dimension, int day, String category, long count) {
      dimensions
          .computeIfAbsent(dimension, d -> new java.util.TreeMap<>())
          .computeIfAbsent(day, d -> DimensionDay.newBuilder().setDay(d))
          .putCounts(category, count);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares, double min, double max) {
      event.addBuckets(
          DayBucket.newBuilder()
              .setDay(day)
              .setCount(count)
              .setSum(sum)
              .setSumSquares(sumSquares)
              .setMin(min)
              .setMax(max));
    }

    @Override
    public void times(long firstMillis, long lastMillis) {
      event.setFirstMillis(firstMillis).setLastMillis(lastMillis);
    }

    @Override
    public void dimensionSketch(String dimension, int day, byte[] body) {
      dimensions
          .computeIfAbsent(dimension, d -> new java.util.TreeMap<>())
          .computeIfAbsent(day, d -> DimensionDay.newBuilder().setDay(d))
          .setSketch(com.google.protobuf.ByteString.copyFrom(body));
    }

    @Override
    public void producer(byte[] utf8, int off, int len, long seq) {
      producer(string(utf8, off, len), seq);
    }

    @Override
    public void producer(String producer, long seq) {
      b.addProducers(ProducerMark.newBuilder().setProducer(producer).setSeq(seq));
    }

    Profile build() {
      for (EventSeries.Builder s : series.values()) {
        b.addEvents(s);
      }
      dimensions.forEach(
          (name, days) -> {
            DimensionCounts.Builder d = DimensionCounts.newBuilder().setDimension(name);
            days.values().forEach(d::addDays);
            b.addDimensions(d);
          });
      return b.build();
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
        if (s.hasFirstMillis()) {
          JsonWriting.seriesTimes(g, s.getFirstMillis(), s.getLastMillis());
        }
        for (DayBucket d : s.getBucketsList()) {
          g.writeFieldName(JsonWriting.day(d.getDay()));
          JsonWriting.bucket(g, d);
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    if (profile.getDimensionsCount() > 0) {
      g.writeObjectFieldStart("$dimensions");
      for (DimensionCounts d : profile.getDimensionsList()) {
        g.writeObjectFieldStart(d.getDimension());
        for (DimensionDay day : d.getDaysList()) {
          g.writeObjectFieldStart(JsonWriting.day(day.getDay()));
          for (Map.Entry<String, Long> c : new java.util.TreeMap<>(day.getCountsMap()).entrySet()) {
            g.writeNumberField(c.getKey(), c.getValue());
          }
          if (!day.getSketch().isEmpty()) {
            ProfileCodec.writeSketchDay(g, day.getSketch().toByteArray());
          }
          g.writeEndObject();
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

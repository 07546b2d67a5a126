package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.DayBucket;
import dev.whack.proto.Value;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;

/** Shared helpers for writing the JSON forms; public so the engine can render profiles directly. */
public final class JsonWriting {
  private JsonWriting() {}

  /** Something that writes one JSON document. */
  @FunctionalInterface
  public interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  /** Writes one document to a fresh byte array. */
  public static byte[] write(int sizeHint, Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(sizeHint);
    try (JsonGenerator g = JsonReading.FACTORY.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A string value; one with the timestamp shape is escaped as {@code {"$string": ...}}. */
  public static void stringValue(JsonGenerator g, String s) throws IOException {
    if (Timestamps.looksLikeTimestamp(s)) {
      g.writeStartObject();
      g.writeStringField("$string", s);
      g.writeEndObject();
    } else {
      g.writeString(s);
    }
  }

  /**
   * A float value; Java's shortest representation always has '.' or 'E', so it reads back as a
   * float.
   */
  public static void floatValue(JsonGenerator g, double d) throws IOException {
    if (!Double.isFinite(d)) {
      throw new InvalidProfileException("float " + d + " is not finite");
    }
    g.writeNumber(d);
  }

  public static void timestampValue(JsonGenerator g, long millis) throws IOException {
    try {
      g.writeString(Timestamps.format(millis));
    } catch (IllegalArgumentException e) {
      throw new InvalidProfileException(e.getMessage());
    }
  }

  public static String day(int epochDay) {
    return LocalDate.ofEpochDay(epochDay).toString();
  }

  /**
   * One bucket: {@code [count]} when no event carried a value (kind NONE), {@code [count, sum,
   * sumSquares]} when the sums say all there is, else {@code [count, sum, sumSquares, min, max]}
   * ({@link SeriesCodec#writesMinMax}).
   */
  public static void bucket(
      JsonGenerator g, long count, int kind, double sum, double sumSquares, double min, double max)
      throws IOException {
    g.writeStartArray();
    g.writeNumber(count);
    if (kind != SeriesCodec.NONE) {
      floatValue(g, sum);
      floatValue(g, sumSquares);
      if (SeriesCodec.writesMinMax(kind, count, sum, sumSquares)) {
        floatValue(g, min);
        floatValue(g, max);
      }
    }
    g.writeEndArray();
  }

  /** One protobuf bucket as Profile JSON writes it (docs/profiles.md). */
  public static void bucket(JsonGenerator g, DayBucket d) throws IOException {
    g.writeStartArray();
    g.writeNumber(d.getCount());
    // Raw bits, so that -0.0 (which equals 0) is still written and reads back as -0.0.
    if (Double.doubleToRawLongBits(d.getSum()) != 0
        || Double.doubleToRawLongBits(d.getSumSquares()) != 0
        || d.hasMin()) {
      floatValue(g, d.getSum());
      floatValue(g, d.getSumSquares());
      if (d.hasMin()) {
        floatValue(g, d.getMin());
        floatValue(g, d.getMax());
      }
    }
    g.writeEndArray();
  }

  /** A series' first and last times, as the {@code "$first"} and {@code "$last"} members. */
  public static void seriesTimes(JsonGenerator g, long firstMillis, long lastMillis)
      throws IOException {
    g.writeFieldName("$first");
    timestampValue(g, firstMillis);
    g.writeFieldName("$last");
    timestampValue(g, lastMillis);
  }

  static void value(JsonGenerator g, Value v) throws IOException {
    switch (v.getKindCase()) {
      case STRING_VALUE -> stringValue(g, v.getStringValue());
      case INT_VALUE -> g.writeNumber(v.getIntValue());
      case FLOAT_VALUE -> floatValue(g, v.getFloatValue());
      case BOOL_VALUE -> g.writeBoolean(v.getBoolValue());
      case TIMESTAMP_MILLIS -> timestampValue(g, v.getTimestampMillis());
      case STRING_SET -> {
        g.writeStartArray();
        for (String s : v.getStringSet().getValuesList()) {
          g.writeString(s);
        }
        g.writeEndArray();
      }
      case KIND_NOT_SET -> throw new InvalidProfileException("value has no kind");
    }
  }
}

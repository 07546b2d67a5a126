package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.Names;
import dev.whack.node.engine.profile.ProfileSink;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.StringSet;
import dev.whack.proto.Value;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashSet;

/** Shared streaming helpers for the profile, update and record readers. */
final class JsonReading {
  static final JsonFactory FACTORY =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private JsonReading() {}

  @FunctionalInterface
  interface Body<T> {
    T read(JsonParser p) throws IOException;
  }

  /** Runs {@code body} over one JSON document, turning every failure into a positioned error. */
  static <T> T parse(byte[] bytes, int offset, int length, Body<T> body) {
    try (JsonParser p = FACTORY.createParser(bytes, offset, length)) {
      try {
        T result = body.read(p);
        if (p.nextToken() != null) {
          throw fail(p, "unexpected content after the end of the object");
        }
        return result;
      } catch (InvalidProfileException | IllegalArgumentException e) {
        throw fail(p, e.getMessage());
      } catch (CharConversionException e) {
        // jackson reads a document that starts with UTF-16's or UTF-32's zero pattern in that
        // encoding, and says so when it meets a character that does not decode
        throw fail(p, "not valid text: " + e.getMessage());
      }
    } catch (JsonProcessingException e) {
      JsonLocation l = e.getLocation();
      String reason = e.getOriginalMessage();
      if (l == null) {
        throw new JsonFormatException(reason, 0, 0, -1);
      }
      throw new JsonFormatException(reason, l.getLineNr(), l.getColumnNr(), offsetOf(l));
    } catch (CharConversionException e) {
      // the encoding jackson detects from the first bytes is one it cannot read (UCS-4 in an odd
      // byte order): nothing was read, so the error is at the start
      throw new JsonFormatException("not valid text: " + e.getMessage(), 1, 1, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonFormatException fail(JsonParser p, String reason) {
    JsonLocation l = p.currentTokenLocation();
    if (offsetOf(l) < 0) {
      // No token to point at (the document ended first): point at where it ended.
      l = p.currentLocation();
    }
    return new JsonFormatException(reason, l.getLineNr(), l.getColumnNr(), offsetOf(l));
  }

  private static long offsetOf(JsonLocation l) {
    return l.getByteOffset() >= 0 ? l.getByteOffset() : l.getCharOffset();
  }

  static void expect(JsonParser p, JsonToken token, String what) throws IOException {
    if (p.currentToken() != token) {
      throw fail(p, "expected " + what);
    }
  }

  static String attributeName(JsonParser p) throws IOException {
    String name = p.currentName();
    Names.checkAttribute(name);
    return name;
  }

  /** Reads the value at the current token: see docs/profiles.md for the typing rules. */
  static Value value(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case VALUE_STRING -> {
        String s = p.getText();
        if (Timestamps.looksLikeTimestamp(s)) {
          return Value.newBuilder().setTimestampMillis(Timestamps.parse(s)).build();
        }
        return Value.newBuilder().setStringValue(s).build();
      }
      case VALUE_NUMBER_INT -> {
        return Value.newBuilder().setIntValue(longValue(p)).build();
      }
      case VALUE_NUMBER_FLOAT -> {
        return Value.newBuilder().setFloatValue(finiteDouble(p)).build();
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        return Value.newBuilder().setBoolValue(t == JsonToken.VALUE_TRUE).build();
      }
      case START_ARRAY -> {
        return Value.newBuilder().setStringSet(stringSet(p)).build();
      }
      case START_OBJECT -> {
        if (p.nextToken() != JsonToken.FIELD_NAME || !"$string".equals(p.currentName())) {
          throw fail(
              p, "an object value must be {\"$string\": \"...\"}; nested objects are not values");
        }
        if (p.nextToken() != JsonToken.VALUE_STRING) {
          throw fail(p, "\"$string\" takes a string");
        }
        String s = p.getText();
        if (p.nextToken() != JsonToken.END_OBJECT) {
          throw fail(p, "\"$string\" must be the only member of its object");
        }
        return Value.newBuilder().setStringValue(s).build();
      }
      case VALUE_NULL -> throw fail(p, "null is not a value; use \"unset\" to remove an attribute");
      default -> throw fail(p, "expected a value");
    }
  }

  /**
   * Reads the value at the current token into {@code sink} as attribute {@code name}; the sink
   * hears the name once the value has been read.
   */
  static void value(JsonParser p, String name, ProfileSink sink) throws IOException {
    JsonToken t = p.currentToken();
    switch (t) {
      case VALUE_STRING -> {
        String s = p.getText();
        if (Timestamps.looksLikeTimestamp(s)) {
          long millis = Timestamps.parse(s);
          sink.attribute(name);
          sink.timestampValue(millis);
        } else {
          sink.attribute(name);
          sink.stringValue(s);
        }
      }
      case VALUE_NUMBER_INT -> {
        long v = longValue(p);
        sink.attribute(name);
        sink.intValue(v);
      }
      case VALUE_NUMBER_FLOAT -> {
        double v = finiteDouble(p);
        sink.attribute(name);
        sink.floatValue(v);
      }
      case VALUE_TRUE, VALUE_FALSE -> {
        sink.attribute(name);
        sink.boolValue(t == JsonToken.VALUE_TRUE);
      }
      case START_ARRAY -> {
        sink.attribute(name);
        sink.startSet();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
          if (e != JsonToken.VALUE_STRING) {
            throw fail(p, "set elements must be strings");
          }
          sink.element(p.getText());
        }
        sink.endSet();
      }
      default -> {
        Value v = value(p);
        sink.attribute(name);
        sink.stringValue(v.getStringValue());
      }
    }
  }

  static StringSet stringSet(JsonParser p) throws IOException {
    expect(p, JsonToken.START_ARRAY, "an array of strings");
    LinkedHashSet<String> values = new LinkedHashSet<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.VALUE_STRING) {
        throw fail(p, "set elements must be strings");
      }
      values.add(p.getText());
    }
    return StringSet.newBuilder().addAllValues(values).build();
  }

  static long longValue(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      throw fail(p, "expected an integer");
    }
    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw fail(p, "integer " + p.getText() + " does not fit in 64 bits");
    }
    return p.getLongValue();
  }

  static double finiteDouble(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t != JsonToken.VALUE_NUMBER_FLOAT && t != JsonToken.VALUE_NUMBER_INT) {
      throw fail(p, "expected a number");
    }
    double d = p.getDoubleValue();
    if (!Double.isFinite(d)) {
      throw fail(p, "number " + p.getText() + " is out of range for a 64-bit float");
    }
    return d;
  }

  static String string(JsonParser p, String what) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw fail(p, what + " must be a string");
    }
    return p.getText();
  }
}

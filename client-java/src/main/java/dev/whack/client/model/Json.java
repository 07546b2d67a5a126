package dev.whack.client.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The value rules of Profile and Update JSON (docs/profiles.md, "Value types"), shared by {@link
 * ProfileData} and {@link ProfileUpdate}: jackson-core streaming, as the node's own reference
 * reading, so strings are escaped as the node escapes them and floats written in Java's shortest
 * round-trip form.
 *
 * <p>Values are held as {@code String}, {@code Long}, {@code Double}, {@code Boolean}, {@link
 * Instant} (to the millisecond) and an unmodifiable insertion-ordered {@code Set<String>}.
 */
final class Json {
  static final JsonFactory FACTORY =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** Longest attribute, event or producer name, in UTF-16 chars (the node's limit). */
  static final int MAX_NAME_CHARS = 200;

  private Json() {}

  @FunctionalInterface
  interface Body {
    void write(JsonGenerator g) throws IOException;
  }

  @FunctionalInterface
  interface Reader<T> {
    T read(JsonParser p) throws IOException;
  }

  /**
   * One document as UTF-8, written by jackson's byte generator as the node writes its JSON: it
   * escapes a character beyond the Basic Multilingual Plane in a string as a {@code \}{@code
   * uD83D\}{@code uDE00} pair, and the node writes a set's elements as their UTF-8 bytes, which
   * {@link #writeValue} does too, so the text is the node's byte for byte.
   */
  static byte[] write(Body body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      body.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static String writeString(Body body) {
    return new String(write(body), StandardCharsets.UTF_8);
  }

  /**
   * Reads one document with {@code reader}; any failure becomes an {@link IllegalArgumentException}
   * saying what and where ({@code bad profile JSON at line 1, column 12: ...}).
   */
  static <T> T read(String what, JsonParser parser, Reader<T> reader) {
    try (JsonParser p = parser) {
      try {
        p.nextToken();
        T result = reader.read(p);
        if (p.nextToken() != null) {
          throw fail(p, "unexpected content after the end of the object");
        }
        return result;
      } catch (JsonProcessingException e) {
        throw failAt(what, e.getLocation(), e.getOriginalMessage(), e);
      } catch (IllegalArgumentException e) {
        throw failAt(what, p.currentTokenLocation(), e.getMessage(), e);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("bad " + what + ": " + e.getMessage(), e);
    }
  }

  private static IllegalArgumentException failAt(
      String what, JsonLocation at, String reason, Throwable cause) {
    String where =
        at == null || at.getLineNr() < 0
            ? ""
            : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    return new IllegalArgumentException("bad " + what + where + ": " + reason, cause);
  }

  static IllegalArgumentException fail(JsonParser p, String reason) {
    return new IllegalArgumentException(reason);
  }

  static void expect(JsonParser p, JsonToken token, String what) {
    if (p.currentToken() != token) {
      throw fail(p, "expected " + what);
    }
  }

  /** Attribute names: non-empty, at most 200 chars, not starting with the reserved {@code $}. */
  static String attributeName(String name) {
    name("attribute", name);
    if (name.charAt(0) == '$') {
      throw new IllegalArgumentException(
          "attribute name \"" + name + "\" starts with '$', which is reserved");
    }
    return name;
  }

  /** Event and producer names: non-empty, at most 200 chars. */
  static String name(String what, String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException(what + " name is empty");
    }
    if (name.length() > MAX_NAME_CHARS) {
      throw new IllegalArgumentException(
          what
              + " name is longer than "
              + MAX_NAME_CHARS
              + " chars: \""
              + name.substring(0, 40)
              + "...\"");
    }
    return name;
  }

  static String string(String s) {
    if (s == null) {
      throw new IllegalArgumentException("a string value is not null");
    }
    return s;
  }

  static double finite(double d) {
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException("a float value is finite, got " + d);
    }
    return d;
  }

  static Set<String> stringSet(Collection<String> elements) {
    if (elements == null) {
      throw new IllegalArgumentException("a string set is not null");
    }
    LinkedHashSet<String> set = new LinkedHashSet<>();
    for (String e : elements) {
      if (e == null) {
        throw new IllegalArgumentException("a string set holds no null");
      }
      set.add(e);
    }
    return Collections.unmodifiableSet(set);
  }

  /** One value as Profile JSON writes it. */
  static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v instanceof String s) {
      if (Rfc3339.looksLikeTimestamp(s)) {
        // A string of the timestamp shape would read back as a timestamp (docs/profiles.md).
        g.writeStartObject();
        g.writeStringField("$string", s);
        g.writeEndObject();
      } else {
        g.writeString(s);
      }
    } else if (v instanceof Long l) {
      g.writeNumber(l.longValue());
    } else if (v instanceof Double d) {
      g.writeNumber(d.doubleValue());
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Instant t) {
      g.writeString(Rfc3339.format(t));
    } else if (v instanceof Set<?> set) {
      g.writeStartArray();
      for (Object e : set) {
        byte[] utf8 = ((String) e).getBytes(StandardCharsets.UTF_8);
        g.writeUTF8String(utf8, 0, utf8.length);
      }
      g.writeEndArray();
    } else {
      throw new IllegalStateException("not a profile value: " + v);
    }
  }

  /** The value at the current token, by the typing rules of docs/profiles.md. */
  static Object readValue(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_STRING) {
      String s = p.getText();
      return Rfc3339.looksLikeTimestamp(s) ? Rfc3339.parse(s) : s;
    }
    if (t == JsonToken.VALUE_NUMBER_INT) {
      return longValue(p);
    }
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      return finiteDouble(p);
    }
    if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
      return t == JsonToken.VALUE_TRUE;
    }
    if (t == JsonToken.START_ARRAY) {
      LinkedHashSet<String> set = new LinkedHashSet<>();
      while (p.nextToken() != JsonToken.END_ARRAY) {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
          throw fail(p, "set elements must be strings");
        }
        set.add(p.getText());
      }
      return Collections.unmodifiableSet(set);
    }
    if (t == JsonToken.START_OBJECT) {
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
      return s;
    }
    if (t == JsonToken.VALUE_NULL) {
      throw fail(p, "null is not a value");
    }
    throw fail(p, "expected a value");
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
}

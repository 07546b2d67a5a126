package dev.whack.node.engine.dimension;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.engine.json.JsonWriting;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a dimension counts: which event property, optionally of which event only, and how a value
 * becomes a category. Written as JSON (docs/profiles.md, "Preferences"):
 *
 * <pre>
 * {"property": "color", "event": "view", "kind": "categorical", "max_categories": 32}
 * {"property": "price", "kind": "numeric", "bounds": [10000, 20000, 40000]}
 * {"property": "product", "event": "view", "kind": "distinct", "precision": 10}
 * </pre>
 *
 * @param event null: the property of any event counts
 * @param maxCategories categorical: the most distinct values kept node-wide; later ones count as
 *     {@link #OTHER}
 * @param bounds numeric: strictly increasing finite bounds; {@code bounds.length + 1} buckets
 * @param precision distinct: the sketch precision p (2^p registers; {@link DistinctCodec}); 0 for
 *     the other kinds
 */
public record DimensionSpec(
    String name,
    DimensionKind kind,
    String property,
    String event,
    int maxCategories,
    double[] bounds,
    int precision) {
  /** The category every value past a categorical dimension's room counts as. */
  public static final String OTHER = "other";

  public static final int MAX_DIMENSIONS = 64;
  public static final int DEFAULT_MAX_CATEGORIES = 64;
  public static final int MAX_CATEGORIES = 1024;
  public static final int MAX_BOUNDS = 64;
  private static final int MAX_NAME_CHARS = 200;
  private static final int MAX_SPEC_BYTES = 64 * 1024;
  private static final JsonFactory JSON = new JsonFactory();

  /** Number of categories a profile can count in (category ids are below it). */
  public int categories() {
    return switch (kind) {
      case NUMERIC -> bounds.length + 1;
      case CATEGORICAL -> maxCategories + 1;
      case DISTINCT -> 0; // no categories: a distinct dimension keeps value hashes
    };
  }

  /** The numeric bucket of {@code value}: how many bounds are at or below it. */
  public int bucketOf(double value) {
    int i = Arrays.binarySearch(bounds, value);
    return i >= 0 ? i + 1 : -i - 1;
  }

  /** A numeric bucket's label: {@code ..10000}, {@code 10000..20000}, {@code 40000..}. */
  public String bucketLabel(int bucket) {
    String from = bucket == 0 ? "" : number(bounds[bucket - 1]);
    String to = bucket == bounds.length ? "" : number(bounds[bucket]);
    return from + ".." + to;
  }

  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  /** The definition as JSON, in one canonical form (what is logged, listed and broadcast). */
  public String toJson() {
    byte[] json =
        JsonWriting.write(
            64,
            g -> {
              g.writeStartObject();
              g.writeStringField("property", property);
              if (event != null) {
                g.writeStringField("event", event);
              }
              g.writeStringField("kind", kind.label());
              if (kind == DimensionKind.CATEGORICAL) {
                g.writeNumberField("max_categories", maxCategories);
              } else if (kind == DimensionKind.DISTINCT) {
                g.writeNumberField("precision", precision);
              } else {
                g.writeArrayFieldStart("bounds");
                for (double b : bounds) {
                  if (b == Math.rint(b) && Math.abs(b) < 1e15) {
                    g.writeNumber((long) b);
                  } else {
                    g.writeNumber(b);
                  }
                }
                g.writeEndArray();
              }
              g.writeEndObject();
            });
    return new String(json, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DimensionSpec s
        && name.equals(s.name)
        && kind == s.kind
        && property.equals(s.property)
        && java.util.Objects.equals(event, s.event)
        && maxCategories == s.maxCategories
        && Arrays.equals(bounds, s.bounds)
        && precision == s.precision;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + property.hashCode();
  }

  @Override
  public String toString() {
    return name + " " + toJson();
  }

  /**
   * The one rule for dimension names, as for segment names: 1 to 200 ASCII characters, a letter or
   * '_' first, then letters, digits, '_', '-', '.' and ':'.
   *
   * @throws DimensionException {@code bad dimension name <name>: <why>}
   */
  public static void checkName(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_NAME_CHARS) {
      throw new DimensionException(
          "bad dimension name " + name + ": it must be 1 to " + MAX_NAME_CHARS + " characters");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      boolean part = letter || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
      if (i == 0 ? !letter : !part) {
        throw new DimensionException(
            "bad dimension name "
                + name
                + (i == 0
                    ? ": it must start with an ASCII letter or '_'"
                    : ": it has "
                        + (c < 0x80 ? "'" + c + "'" : "a character outside ASCII")
                        + "; use ASCII letters, digits, '_', '-', '.' or ':'"));
      }
    }
  }

  /**
   * Reads a definition's JSON.
   *
   * @throws DimensionException naming what is wrong
   */
  public static DimensionSpec parse(String name, byte[] json) {
    checkName(name);
    if (json.length > MAX_SPEC_BYTES) {
      throw new DimensionException(
          "a dimension definition is at most " + MAX_SPEC_BYTES + " bytes");
    }
    String property = null;
    String event = null;
    DimensionKind kind = null;
    int maxCategories = -1;
    double[] bounds = null;
    int precision = -1;
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new DimensionException("a dimension definition is a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "property" -> property = text(p, t, field);
          case "event" -> event = text(p, t, field);
          case "kind" -> {
            String k = text(p, t, field);
            kind =
                switch (k) {
                  case "categorical" -> DimensionKind.CATEGORICAL;
                  case "numeric" -> DimensionKind.NUMERIC;
                  case "distinct" -> DimensionKind.DISTINCT;
                  default ->
                      throw new DimensionException(
                          "\"kind\" is \"categorical\", \"numeric\" or \"distinct\", not \""
                              + k
                              + "\"");
                };
          }
          case "max_categories" -> {
            if (t != JsonToken.VALUE_NUMBER_INT
                || p.getLongValue() < 1
                || p.getLongValue() > MAX_CATEGORIES) {
              throw new DimensionException(
                  "\"max_categories\" is a whole number from 1 to " + MAX_CATEGORIES);
            }
            maxCategories = p.getIntValue();
          }
          case "bounds" -> bounds = bounds(p, t);
          case "precision" -> precision = precision(p, t);
          default -> throw new DimensionException("unknown field \"" + field + "\"");
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw new DimensionException("a dimension definition is one JSON object");
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new DimensionException("bad dimension definition JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new DimensionException("bad dimension definition JSON: " + e.getMessage());
    }
    if (property == null || property.isEmpty()) {
      throw new DimensionException("\"property\" (the event property to count) is required");
    }
    if (event != null && event.isEmpty()) {
      throw new DimensionException("\"event\" must not be empty");
    }
    if (kind == null) {
      kind = bounds != null ? DimensionKind.NUMERIC : DimensionKind.CATEGORICAL;
    }
    if (kind == DimensionKind.DISTINCT) {
      return distinct(name, property, event, maxCategories, bounds, precision);
    }
    if (precision >= 0) {
      throw new DimensionException("\"precision\" is for distinct dimensions");
    }
    if (kind == DimensionKind.NUMERIC) {
      if (bounds == null) {
        throw new DimensionException("a numeric dimension needs \"bounds\"");
      }
      if (maxCategories >= 0) {
        throw new DimensionException("\"max_categories\" is for categorical dimensions");
      }
      return new DimensionSpec(name, kind, property, event, 0, bounds, 0);
    }
    if (bounds != null) {
      throw new DimensionException("\"bounds\" are for numeric dimensions");
    }
    return new DimensionSpec(
        name,
        kind,
        property,
        event,
        maxCategories < 0 ? DEFAULT_MAX_CATEGORIES : maxCategories,
        new double[0],
        0);
  }

  private static DimensionSpec distinct(
      String name, String property, String event, int maxCategories, double[] bounds, int p) {
    if (maxCategories >= 0) {
      throw new DimensionException("\"max_categories\" is for categorical dimensions");
    }
    if (bounds != null) {
      throw new DimensionException("\"bounds\" are for numeric dimensions");
    }
    return new DimensionSpec(
        name,
        DimensionKind.DISTINCT,
        property,
        event,
        0,
        new double[0],
        p < 0 ? DistinctCodec.DEFAULT_PRECISION : p);
  }

  private static int precision(JsonParser p, JsonToken t) throws IOException {
    if (t != JsonToken.VALUE_NUMBER_INT
        || p.getLongValue() < DistinctCodec.MIN_PRECISION
        || p.getLongValue() > DistinctCodec.MAX_PRECISION) {
      throw new DimensionException(
          "\"precision\" is a whole number from "
              + DistinctCodec.MIN_PRECISION
              + " to "
              + DistinctCodec.MAX_PRECISION);
    }
    return p.getIntValue();
  }

  private static String text(JsonParser p, JsonToken t, String field) throws IOException {
    if (t != JsonToken.VALUE_STRING) {
      throw new DimensionException("\"" + field + "\" is a string");
    }
    return p.getText();
  }

  private static double[] bounds(JsonParser p, JsonToken t) throws IOException {
    if (t != JsonToken.START_ARRAY) {
      throw new DimensionException("\"bounds\" is an array of numbers");
    }
    List<Double> out = new ArrayList<>();
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
        throw new DimensionException("\"bounds\" is an array of numbers");
      }
      double d = p.getDoubleValue();
      if (!Double.isFinite(d)) {
        throw new DimensionException("\"bounds\" must be finite");
      }
      if (!out.isEmpty() && d <= out.get(out.size() - 1)) {
        throw new DimensionException("\"bounds\" must be strictly increasing");
      }
      out.add(d);
      if (out.size() > MAX_BOUNDS) {
        throw new DimensionException("\"bounds\" holds at most " + MAX_BOUNDS + " numbers");
      }
    }
    if (out.isEmpty()) {
      throw new DimensionException("\"bounds\" holds at least one number");
    }
    double[] b = new double[out.size()];
    for (int i = 0; i < b.length; i++) {
      b[i] = out.get(i);
    }
    return b;
  }
}

package dev.whack.client.model;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A profile as typed values: what Profile JSON (docs/profiles.md) says, built without writing JSON
 * by hand and read back from the JSON a node returns.
 *
 * <pre>{@code
 * ProfileData profile =
 *     ProfileData.builder()
 *         .set("country", "DK")
 *         .set("age", 31)
 *         .set("score", 0.75)
 *         .set("vip", true)
 *         .set("last_seen", Instant.parse("2026-11-20T10:00:00Z"))
 *         .stringSet("tags", "vip", "newsletter")
 *         .build();
 * client.setProfile("user:42", profile);
 * ProfileData read = client.getProfileData("user:42").join().orElseThrow();
 * long age = read.longValue("age").orElse(0);
 * }</pre>
 *
 * <p>{@link #toJson()} writes the JSON a node would write for the same profile (attributes in the
 * order first set, then {@code "$events"}, {@code "$dimensions"}, {@code "$producers"}; a string of
 * the timestamp shape as {@code {"$string": ...}}; timestamps in UTC to the millisecond), and
 * {@link #parse(String)} reads any Profile JSON, so {@code parse(p.toJson()).equals(p)}. Preference
 * counts ({@code "$dimensions"}) are carried as the JSON they were read as, so reading a profile
 * and writing it back loses nothing; they cannot be built.
 *
 * <p>Named {@code ProfileData} rather than {@code Profile} so that it never clashes with the
 * protobuf message {@code dev.whack.proto.Profile} in a file that uses both (the gRPC writer).
 *
 * <p>Concurrency: immutable.
 */
public final class ProfileData {
  private final Map<String, Object> attributes;
  private final Map<String, EventHistory> events;
  private final Map<String, Long> producers;
  private final String dimensionsJson; // null: none

  private ProfileData(Builder b) {
    this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(b.attributes));
    this.events = Collections.unmodifiableMap(new LinkedHashMap<>(b.events));
    this.producers = Collections.unmodifiableMap(new LinkedHashMap<>(b.producers));
    this.dimensionsJson = b.dimensionsJson;
  }

  /** A builder of an empty profile. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this profile. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.attributes.putAll(attributes);
    b.events.putAll(events);
    b.producers.putAll(producers);
    b.dimensionsJson = dimensionsJson;
    return b;
  }

  // ---- reading ----------------------------------------------------------------------------

  /**
   * Every attribute in the order first set: {@code String}, {@code Long}, {@code Double}, {@code
   * Boolean}, {@link Instant} or {@code Set<String>} values.
   */
  public Map<String, Object> attributes() {
    return attributes;
  }

  /** Whether the profile has attribute {@code name}. */
  public boolean has(String name) {
    return attributes.containsKey(name);
  }

  /** The type of attribute {@code name}, or empty when it has none. */
  public Optional<AttributeType> type(String name) {
    Object v = attributes.get(name);
    return v == null ? Optional.empty() : Optional.of(AttributeType.of(v));
  }

  /**
   * A string attribute.
   *
   * @throws IllegalStateException if the attribute has another type
   */
  public Optional<String> string(String name) {
    return Optional.ofNullable(typed(name, AttributeType.STRING, String.class));
  }

  /**
   * An integer attribute.
   *
   * @throws IllegalStateException if the attribute has another type (a float is not read as one)
   */
  public OptionalLong longValue(String name) {
    Long v = typed(name, AttributeType.LONG, Long.class);
    return v == null ? OptionalLong.empty() : OptionalLong.of(v);
  }

  /**
   * A float attribute.
   *
   * @throws IllegalStateException if the attribute has another type (an integer is not read as one)
   */
  public OptionalDouble doubleValue(String name) {
    Double v = typed(name, AttributeType.DOUBLE, Double.class);
    return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
  }

  /**
   * A boolean attribute.
   *
   * @throws IllegalStateException if the attribute has another type
   */
  public Optional<Boolean> booleanValue(String name) {
    return Optional.ofNullable(typed(name, AttributeType.BOOLEAN, Boolean.class));
  }

  /**
   * A timestamp attribute.
   *
   * @throws IllegalStateException if the attribute has another type
   */
  public Optional<Instant> timestamp(String name) {
    return Optional.ofNullable(typed(name, AttributeType.TIMESTAMP, Instant.class));
  }

  /**
   * A string set attribute, in insertion order.
   *
   * @throws IllegalStateException if the attribute has another type
   */
  @SuppressWarnings("unchecked")
  public Optional<Set<String>> stringSet(String name) {
    return Optional.ofNullable((Set<String>) typed(name, AttributeType.STRING_SET, Set.class));
  }

  private <T> T typed(String name, AttributeType type, Class<T> javaType) {
    Object v = attributes.get(name);
    if (v == null) {
      return null;
    }
    if (!javaType.isInstance(v)) {
      throw new IllegalStateException(
          "attribute " + name + " is a " + AttributeType.of(v) + ", not a " + type);
    }
    return javaType.cast(v);
  }

  /** Every event series by event name. */
  public Map<String, EventHistory> events() {
    return events;
  }

  /** The series of event {@code name}, or empty when the profile has none. */
  public Optional<EventHistory> event(String name) {
    return Optional.ofNullable(events.get(name));
  }

  /** Each producer's highest sequence number applied to this profile, in the order first made. */
  public Map<String, Long> producers() {
    return producers;
  }

  /**
   * The profile's preference counts ({@code "$dimensions"}) as the JSON object they were read as,
   * or empty when it has none.
   */
  public Optional<String> dimensionsJson() {
    return Optional.ofNullable(dimensionsJson);
  }

  // ---- JSON -------------------------------------------------------------------------------

  /** The Profile JSON of this profile, as a node writes it. */
  public String toJson() {
    return Json.writeString(this::write);
  }

  /** {@link #toJson()} as UTF-8. */
  public byte[] toJsonBytes() {
    return Json.write(this::write);
  }

  private void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    for (Map.Entry<String, Object> a : attributes.entrySet()) {
      g.writeFieldName(a.getKey());
      Json.writeValue(g, a.getValue());
    }
    if (!events.isEmpty()) {
      g.writeObjectFieldStart("$events");
      for (Map.Entry<String, EventHistory> e : events.entrySet()) {
        g.writeObjectFieldStart(e.getKey());
        EventHistory h = e.getValue();
        g.writeStringField("$first", Rfc3339.format(h.first()));
        g.writeStringField("$last", Rfc3339.format(h.last()));
        for (Map.Entry<LocalDate, DayTotals> d : h.days().entrySet()) {
          g.writeFieldName(d.getKey().toString());
          writeDay(g, d.getValue());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    if (dimensionsJson != null) {
      g.writeFieldName("$dimensions");
      g.writeRawValue(dimensionsJson);
    }
    if (!producers.isEmpty()) {
      g.writeObjectFieldStart("$producers");
      for (Map.Entry<String, Long> m : producers.entrySet()) {
        g.writeNumberField(m.getKey(), m.getValue());
      }
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  private static void writeDay(JsonGenerator g, DayTotals d) throws IOException {
    int n = d.jsonLength();
    g.writeStartArray();
    g.writeNumber(d.count());
    if (n > 1) {
      g.writeNumber(d.sum());
      g.writeNumber(d.sumOfSquares());
    }
    if (n > 3) {
      g.writeNumber(d.min().orElseThrow());
      g.writeNumber(d.max().orElseThrow());
    }
    g.writeEndArray();
  }

  /**
   * Reads Profile JSON, as {@code WhackClient.getProfile} returns it or as written by hand.
   *
   * @throws IllegalArgumentException saying what is wrong and where, when it is not Profile JSON
   *     (the rules a node checks on its values and names; not its limits on sizes and counts)
   */
  public static ProfileData parse(String json) {
    Objects.requireNonNull(json, "json");
    try {
      return Json.read("profile JSON", Json.FACTORY.createParser(json), ProfileData::read);
    } catch (IOException e) {
      throw new IllegalArgumentException("bad profile JSON: " + e.getMessage(), e);
    }
  }

  /** {@link #parse(String)} of UTF-8 bytes. */
  public static ProfileData parse(byte[] utf8) {
    Objects.requireNonNull(utf8, "utf8");
    try {
      return Json.read("profile JSON", Json.FACTORY.createParser(utf8), ProfileData::read);
    } catch (IOException e) {
      throw new IllegalArgumentException("bad profile JSON: " + e.getMessage(), e);
    }
  }

  private static ProfileData read(JsonParser p) throws IOException {
    Json.expect(p, JsonToken.START_OBJECT, "a profile object");
    Builder b = new Builder();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      switch (name) {
        case "$events" -> readEvents(p, b);
        case "$producers" -> readProducers(p, b);
        case "$dimensions" -> {
          Json.expect(p, JsonToken.START_OBJECT, "\"$dimensions\" to be an object");
          // Copied here rather than through Json.write, so that a syntax error inside it is the
          // reader's (a positioned IllegalArgumentException), not an UncheckedIOException.
          ByteArrayOutputStream raw = new ByteArrayOutputStream();
          try (JsonGenerator g = Json.FACTORY.createGenerator(raw)) {
            g.copyCurrentStructure(p);
          }
          b.dimensionsJson = new String(raw.toByteArray(), StandardCharsets.UTF_8);
        }
        default -> b.attributes.put(Json.attributeName(name), Json.readValue(p));
      }
    }
    Json.expect(p, JsonToken.END_OBJECT, "a member name or the end of the profile");
    return b.build();
  }

  private static void readEvents(JsonParser p, Builder b) throws IOException {
    Json.expect(p, JsonToken.START_OBJECT, "\"$events\" to be an object of event series");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String event = Json.name("event", p.currentName());
      p.nextToken();
      Json.expect(p, JsonToken.START_OBJECT, "an event series to be an object of days");
      EventHistory.Builder h = EventHistory.builder();
      Instant first = null;
      Instant last = null;
      boolean anyDay = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String member = p.currentName();
        p.nextToken();
        if (member.equals("$first") || member.equals("$last")) {
          if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw Json.fail(p, "\"" + member + "\" must be a timestamp");
          }
          Instant t = Rfc3339.parse(p.getText());
          if (member.equals("$first")) {
            first = t;
          } else {
            last = t;
          }
          continue;
        }
        LocalDate day;
        try {
          day = LocalDate.parse(member);
        } catch (DateTimeParseException e) {
          throw Json.fail(p, "\"" + member + "\" is not a YYYY-MM-DD day");
        }
        h.day(day, readDay(p));
        anyDay = true;
      }
      if ((first == null) != (last == null)) {
        throw Json.fail(p, "event series \"" + event + "\" has one of \"$first\" and \"$last\"");
      }
      if (first != null) {
        h.times(first, last);
      }
      if (anyDay) {
        b.events.put(event, h.build());
      }
    }
  }

  private static DayTotals readDay(JsonParser p) throws IOException {
    Json.expect(
        p,
        JsonToken.START_ARRAY,
        "a day [count], [count, sum, sumSquares] or [count, sum, sumSquares, min, max]");
    double[] numbers = new double[5];
    long count = -1;
    int n = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      if (n == 5) {
        throw Json.fail(p, "a day has at most 5 numbers");
      }
      if (n == 0) {
        count = Json.longValue(p);
      } else {
        numbers[n] = Json.finiteDouble(p);
      }
      n++;
    }
    switch (n) {
      case 1:
        return DayTotals.count(count);
      case 3:
        return DayTotals.of(count, numbers[1], numbers[2]);
      case 5:
        return DayTotals.of(count, numbers[1], numbers[2], numbers[3], numbers[4]);
      default:
        throw Json.fail(p, "a day has 1, 3 or 5 numbers, got " + n);
    }
  }

  private static void readProducers(JsonParser p, Builder b) throws IOException {
    Json.expect(p, JsonToken.START_OBJECT, "\"$producers\" to be an object of sequence numbers");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String producer = Json.name("producer", p.currentName());
      p.nextToken();
      long seq = Json.longValue(p);
      if (seq < 0) {
        throw Json.fail(p, "producer " + producer + " has a negative sequence number");
      }
      b.producers.put(producer, seq);
    }
  }

  // ---- value semantics --------------------------------------------------------------------

  /**
   * Equal profiles have the same attributes (in any order), events, producer marks and preference
   * counts (as JSON text).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof ProfileData p
        && attributes.equals(p.attributes)
        && events.equals(p.events)
        && producers.equals(p.producers)
        && Objects.equals(dimensionsJson, p.dimensionsJson);
  }

  @Override
  public int hashCode() {
    return Objects.hash(attributes, events, producers);
  }

  /** The profile's JSON. */
  @Override
  public String toString() {
    return toJson();
  }

  /**
   * Builds a {@link ProfileData}. Every argument is checked at once ({@link
   * IllegalArgumentException}): names as the node checks them, floats finite, timestamps kept to
   * the millisecond in years 0000 to 9999. Setting an attribute again replaces its value and keeps
   * its place.
   *
   * <p>Concurrency: not thread-safe.
   */
  public static final class Builder {
    private final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();
    private final LinkedHashMap<String, EventHistory> events = new LinkedHashMap<>();
    private final LinkedHashMap<String, Long> producers = new LinkedHashMap<>();
    private String dimensionsJson;

    private Builder() {}

    /** A string attribute (one of the timestamp shape stays a string). */
    public Builder set(String name, String value) {
      attributes.put(Json.attributeName(name), Json.string(value));
      return this;
    }

    /** An integer attribute. */
    public Builder set(String name, long value) {
      attributes.put(Json.attributeName(name), value);
      return this;
    }

    /** A float attribute; finite. */
    public Builder set(String name, double value) {
      attributes.put(Json.attributeName(name), Json.finite(value));
      return this;
    }

    /** A boolean attribute. */
    public Builder set(String name, boolean value) {
      attributes.put(Json.attributeName(name), value);
      return this;
    }

    /** A timestamp attribute, kept to the millisecond. */
    public Builder set(String name, Instant value) {
      attributes.put(Json.attributeName(name), Rfc3339.millis(value));
      return this;
    }

    /** A string set attribute: the elements in order, duplicates dropped. */
    public Builder set(String name, Collection<String> elements) {
      attributes.put(Json.attributeName(name), Json.stringSet(elements));
      return this;
    }

    /** A string set attribute of {@code elements}. */
    public Builder stringSet(String name, String... elements) {
      return set(name, Arrays.asList(elements));
    }

    /** Removes an attribute. */
    public Builder unset(String name) {
      attributes.remove(name);
      return this;
    }

    /** The series of event {@code name}, replacing any given before. */
    public Builder event(String name, EventHistory history) {
      events.put(Json.name("event", name), Objects.requireNonNull(history, "history"));
      return this;
    }

    /** A producer's mark: the highest sequence number of its updates applied to the profile. */
    public Builder producer(String producer, long seq) {
      if (seq < 0) {
        throw new IllegalArgumentException("a sequence number is not negative, got " + seq);
      }
      producers.put(Json.name("producer", producer), seq);
      return this;
    }

    /** The profile. */
    public ProfileData build() {
      return new ProfileData(this);
    }
  }
}

package dev.whack.client.model;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One event an update records (an element of {@code "events"} in Update JSON, docs/profiles.md):
 * its name, and optionally a value, a time and properties.
 *
 * <pre>{@code
 * UpdateEvent purchase =
 *     UpdateEvent.named("purchase")
 *         .value(49.5)
 *         .time(Instant.parse("2026-11-20T10:00:00Z"))
 *         .property("sku", "A-1");
 * }</pre>
 *
 * <p>Without a time the node stamps the event with its own clock. The value feeds the day's sum,
 * sum of squares, min and max; the properties are counted by the node's preference dimensions that
 * name them. Named {@code UpdateEvent} so as not to clash with the protobuf {@code
 * dev.whack.proto.Event}.
 *
 * <p>Concurrency: not thread-safe while being built; do not change it after handing it to an
 * update.
 */
public final class UpdateEvent {
  private final String name;
  private Double value; // null: none
  private Instant time; // null: the node's clock
  private final LinkedHashMap<String, Object> properties = new LinkedHashMap<>();

  private UpdateEvent(String name) {
    this.name = Json.name("event", name);
  }

  /** An event of name {@code name} with no value, time or properties yet. */
  public static UpdateEvent named(String name) {
    return new UpdateEvent(name);
  }

  /** The event's value; finite. */
  public UpdateEvent value(double value) {
    this.value = Json.finite(value);
    return this;
  }

  /** When the event happened, kept to the millisecond; the node's current time without it. */
  public UpdateEvent time(Instant time) {
    this.time = Rfc3339.millis(time);
    return this;
  }

  /** A string property. */
  public UpdateEvent property(String name, String value) {
    properties.put(Json.attributeName(name), Json.string(value));
    return this;
  }

  /** An integer property. */
  public UpdateEvent property(String name, long value) {
    properties.put(Json.attributeName(name), value);
    return this;
  }

  /** A float property; finite. */
  public UpdateEvent property(String name, double value) {
    properties.put(Json.attributeName(name), Json.finite(value));
    return this;
  }

  /** A boolean property. */
  public UpdateEvent property(String name, boolean value) {
    properties.put(Json.attributeName(name), value);
    return this;
  }

  /** A timestamp property, kept to the millisecond. */
  public UpdateEvent property(String name, Instant value) {
    properties.put(Json.attributeName(name), Rfc3339.millis(value));
    return this;
  }

  /** A string set property. */
  public UpdateEvent property(String name, Collection<String> elements) {
    properties.put(Json.attributeName(name), Json.stringSet(elements));
    return this;
  }

  /** A string set property of {@code elements}. */
  public UpdateEvent stringSetProperty(String name, String... elements) {
    return property(name, Arrays.asList(elements));
  }

  /** The event's name. */
  public String name() {
    return name;
  }

  /** The properties in the order given. */
  public Map<String, Object> properties() {
    return Collections.unmodifiableMap(properties);
  }

  void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", name);
    if (value != null) {
      g.writeNumberField("value", value.doubleValue());
    }
    if (time != null) {
      g.writeStringField("time", Rfc3339.format(time));
    }
    if (!properties.isEmpty()) {
      g.writeObjectFieldStart("properties");
      for (Map.Entry<String, Object> e : properties.entrySet()) {
        g.writeFieldName(e.getKey());
        Json.writeValue(g, e.getValue());
      }
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UpdateEvent e
        && name.equals(e.name)
        && Objects.equals(value, e.value)
        && Objects.equals(time, e.time)
        && properties.equals(e.properties);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, value, time, properties);
  }

  /** The event's JSON. */
  @Override
  public String toString() {
    return Json.writeString(this::write);
  }
}

package dev.whack.client.model;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An update of a profile, built as typed calls and sent as Update JSON (docs/profiles.md):
 *
 * <pre>{@code
 * client.update("user:42",
 *     ProfileUpdate.of()
 *         .set("country", "DK")
 *         .incr("visits", 1)
 *         .event("purchase", 49.5)
 *         .producer("shop-1", 42));
 * }</pre>
 *
 * <p>The node applies an update atomically in the fixed order {@code set}, {@code unset}, {@code
 * incr}, {@code add}, {@code remove}, {@code events}, whatever order the calls were made in: all of
 * it takes effect or, when any part is refused, none of it. Within one update, {@code set} of a
 * name given before replaces the value, {@code incr} of a name given before adds the deltas (an
 * integer overflow is refused here), and {@code add}/{@code remove} of a name given before add to
 * its elements.
 *
 * <p>Named {@code ProfileUpdate} so as not to clash with the protobuf message {@code
 * dev.whack.proto.Update} in a file that uses both (the gRPC writer takes those).
 *
 * <p>Concurrency: not thread-safe while being built; {@link #toJson()} of an update no longer
 * changed may be called from any thread.
 */
public final class ProfileUpdate {
  private final LinkedHashMap<String, Object> set = new LinkedHashMap<>();
  private final LinkedHashSet<String> unset = new LinkedHashSet<>();
  private final LinkedHashMap<String, Number> incr = new LinkedHashMap<>();
  private final LinkedHashMap<String, LinkedHashSet<String>> add = new LinkedHashMap<>();
  private final LinkedHashMap<String, LinkedHashSet<String>> remove = new LinkedHashMap<>();
  private final List<UpdateEvent> events = new ArrayList<>();
  private String producer;
  private long seq = -1;

  private ProfileUpdate() {}

  /** An empty update, to add operations to. */
  public static ProfileUpdate of() {
    return new ProfileUpdate();
  }

  /** Sets a string attribute (one of the timestamp shape stays a string). */
  public ProfileUpdate set(String name, String value) {
    set.put(Json.attributeName(name), Json.string(value));
    return this;
  }

  /** Sets an integer attribute. */
  public ProfileUpdate set(String name, long value) {
    set.put(Json.attributeName(name), value);
    return this;
  }

  /** Sets a float attribute; finite. */
  public ProfileUpdate set(String name, double value) {
    set.put(Json.attributeName(name), Json.finite(value));
    return this;
  }

  /** Sets a boolean attribute. */
  public ProfileUpdate set(String name, boolean value) {
    set.put(Json.attributeName(name), value);
    return this;
  }

  /** Sets a timestamp attribute, kept to the millisecond. */
  public ProfileUpdate set(String name, Instant value) {
    set.put(Json.attributeName(name), Rfc3339.millis(value));
    return this;
  }

  /** Sets a string set attribute, replacing the whole set. */
  public ProfileUpdate set(String name, Collection<String> elements) {
    set.put(Json.attributeName(name), Json.stringSet(elements));
    return this;
  }

  /** Removes attributes; a missing one is no error. */
  public ProfileUpdate unset(String... names) {
    for (String name : names) {
      unset.add(Json.attributeName(name));
    }
    return this;
  }

  /**
   * Adds an integer delta: a missing attribute is created as an integer; an integer attribute takes
   * it (overflow beyond 64 bits is refused by the node), and so does a float one.
   */
  public ProfileUpdate incr(String name, long delta) {
    Number before = incr.get(Json.attributeName(name));
    if (before == null) {
      incr.put(name, delta);
    } else if (before instanceof Long l) {
      try {
        incr.put(name, Math.addExact(l, delta));
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "the deltas of incr " + name + " add up beyond 64 bits: " + l + " + " + delta);
      }
    } else {
      incr.put(name, Json.finite(before.doubleValue() + delta));
    }
    return this;
  }

  /**
   * Adds a float delta; finite. A missing attribute is created as a float; only a float attribute
   * takes it (the node refuses a float delta to an integer).
   */
  public ProfileUpdate incr(String name, double delta) {
    Json.finite(delta);
    Number before = incr.get(Json.attributeName(name));
    incr.put(name, Json.finite(before == null ? delta : before.doubleValue() + delta));
    return this;
  }

  /** Adds elements to a string set attribute, creating it if missing. */
  public ProfileUpdate add(String name, String... elements) {
    return add(name, Arrays.asList(elements));
  }

  /** Adds elements to a string set attribute, creating it if missing. */
  public ProfileUpdate add(String name, Collection<String> elements) {
    add.computeIfAbsent(Json.attributeName(name), n -> new LinkedHashSet<>())
        .addAll(Json.stringSet(elements));
    return this;
  }

  /** Removes elements from a string set attribute; a missing attribute is no error. */
  public ProfileUpdate remove(String name, String... elements) {
    return remove(name, Arrays.asList(elements));
  }

  /** Removes elements from a string set attribute; a missing attribute is no error. */
  public ProfileUpdate remove(String name, Collection<String> elements) {
    remove
        .computeIfAbsent(Json.attributeName(name), n -> new LinkedHashSet<>())
        .addAll(Json.stringSet(elements));
    return this;
  }

  /** Records an event without a value, at the node's current time. */
  public ProfileUpdate event(String name) {
    return event(UpdateEvent.named(name));
  }

  /** Records an event with a value, at the node's current time. */
  public ProfileUpdate event(String name, double value) {
    return event(UpdateEvent.named(name).value(value));
  }

  /** Records an event with a value at {@code time}. */
  public ProfileUpdate event(String name, double value, Instant time) {
    return event(UpdateEvent.named(name).value(value).time(time));
  }

  /** Records an event built with its time and properties. */
  public ProfileUpdate event(UpdateEvent event) {
    events.add(Objects.requireNonNull(event, "event"));
    return this;
  }

  /**
   * Makes the update exactly-once: the node applies it only if {@code seq} is above the highest
   * sequence number of {@code producer} applied to this profile, and otherwise acknowledges it as
   * {@code IGNORED}.
   */
  public ProfileUpdate producer(String producer, long seq) {
    if (seq < 0) {
      throw new IllegalArgumentException("a sequence number is not negative, got " + seq);
    }
    this.producer = Json.name("producer", producer);
    this.seq = seq;
    return this;
  }

  /** Whether the update has no operation and no producer. */
  public boolean isEmpty() {
    return set.isEmpty()
        && unset.isEmpty()
        && incr.isEmpty()
        && add.isEmpty()
        && remove.isEmpty()
        && events.isEmpty()
        && producer == null;
  }

  /** The Update JSON of this update: only the members it uses, in the documented order. */
  public String toJson() {
    return Json.writeString(this::write);
  }

  /** {@link #toJson()} as UTF-8. */
  public byte[] toJsonBytes() {
    return Json.write(this::write);
  }

  private void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    if (!set.isEmpty()) {
      g.writeObjectFieldStart("set");
      for (Map.Entry<String, Object> e : set.entrySet()) {
        g.writeFieldName(e.getKey());
        Json.writeValue(g, e.getValue());
      }
      g.writeEndObject();
    }
    if (!unset.isEmpty()) {
      g.writeArrayFieldStart("unset");
      for (String name : unset) {
        g.writeString(name);
      }
      g.writeEndArray();
    }
    if (!incr.isEmpty()) {
      g.writeObjectFieldStart("incr");
      for (Map.Entry<String, Number> e : incr.entrySet()) {
        if (e.getValue() instanceof Long l) {
          g.writeNumberField(e.getKey(), l.longValue());
        } else {
          g.writeNumberField(e.getKey(), e.getValue().doubleValue());
        }
      }
      g.writeEndObject();
    }
    writeElements(g, "add", add);
    writeElements(g, "remove", remove);
    if (!events.isEmpty()) {
      g.writeArrayFieldStart("events");
      for (UpdateEvent e : events) {
        e.write(g);
      }
      g.writeEndArray();
    }
    if (producer != null) {
      g.writeStringField("producer", producer);
      g.writeNumberField("seq", seq);
    }
    g.writeEndObject();
  }

  private static void writeElements(
      JsonGenerator g, String member, Map<String, LinkedHashSet<String>> byName)
      throws IOException {
    if (byName.isEmpty()) {
      return;
    }
    g.writeObjectFieldStart(member);
    for (Map.Entry<String, LinkedHashSet<String>> e : byName.entrySet()) {
      g.writeArrayFieldStart(e.getKey());
      for (String element : e.getValue()) {
        g.writeString(element);
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }

  /** The update's JSON. */
  @Override
  public String toString() {
    return toJson();
  }
}

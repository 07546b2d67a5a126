package dev.whack.node.engine.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.Attribute;
import dev.whack.proto.Event;
import dev.whack.proto.Increment;
import dev.whack.proto.SetDelta;
import dev.whack.proto.Update;
import java.io.IOException;

/**
 * Update JSON (docs/profiles.md, product brief "Update JSON") to and from {@link Update}.
 *
 * <p>Every member is optional; the key is carried outside the JSON form, as for profiles.
 *
 * <p>This is the reference reader. The engine's update path reads with {@link UpdateJsonReader},
 * which allocates nothing and hands every document it is not sure of (all invalid ones included) to
 * {@link #parse}, so the errors, with their positions, are this reader's.
 */
public final class UpdateJson {
  private UpdateJson() {}

  public static Update parse(byte[] json) {
    return parse(json, 0, json.length);
  }

  /**
   * @throws JsonFormatException with position and reason
   */
  public static Update parse(byte[] json, int offset, int length) {
    return parse(json, offset, length, Integer.MAX_VALUE);
  }

  /**
   * {@link #parse(byte[], int, int)} for a node, which refuses an update of more attribute
   * operations than a profile may hold: the operation one past {@code maxAttributeOperations}
   * ({@code set}, {@code unset}, {@code incr}, {@code add} and {@code remove} entries together) is
   * rejected where it stands, so a huge update costs no more than reading that far.
   *
   * @throws JsonFormatException with position and reason
   */
  public static Update parse(byte[] json, int offset, int length, int maxAttributeOperations) {
    return JsonReading.parse(
        json,
        offset,
        length,
        p -> {
          p.nextToken();
          return read(p, maxAttributeOperations);
        });
  }

  static Update read(JsonParser p) throws IOException {
    return read(p, Integer.MAX_VALUE);
  }

  private static Update read(JsonParser p, int maxAttributeOperations) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "an update object");
    Update.Builder b = Update.newBuilder();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String member = p.currentName();
      p.nextToken();
      switch (member) {
        case "set" -> {
          JsonReading.expect(p, JsonToken.START_OBJECT, "\"set\" to be an object of attributes");
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            checkRoom(p, b, maxAttributeOperations);
            String name = JsonReading.attributeName(p);
            p.nextToken();
            b.addSet(Attribute.newBuilder().setName(name).setValue(JsonReading.value(p)));
          }
        }
        case "unset" -> {
          JsonReading.expect(p, JsonToken.START_ARRAY, "\"unset\" to be an array of names");
          while (p.nextToken() != JsonToken.END_ARRAY) {
            checkRoom(p, b, maxAttributeOperations);
            b.addUnset(JsonReading.string(p, "an unset name"));
          }
        }
        case "incr" -> {
          JsonReading.expect(p, JsonToken.START_OBJECT, "\"incr\" to be an object of numbers");
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            checkRoom(p, b, maxAttributeOperations);
            Increment.Builder i = Increment.newBuilder().setName(JsonReading.attributeName(p));
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
              i.setIntDelta(JsonReading.longValue(p));
            } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
              i.setFloatDelta(JsonReading.finiteDouble(p));
            } else {
              throw JsonReading.fail(p, "an increment must be a number");
            }
            b.addIncr(i);
          }
        }
        case "add" -> readDeltas(p, b, true, maxAttributeOperations);
        case "remove" -> readDeltas(p, b, false, maxAttributeOperations);
        case "events" -> {
          JsonReading.expect(p, JsonToken.START_ARRAY, "\"events\" to be an array of events");
          while (p.nextToken() != JsonToken.END_ARRAY) {
            b.addEvents(readEvent(p));
          }
        }
        case "producer" -> b.setProducer(JsonReading.string(p, "\"producer\""));
        case "seq" -> {
          long seq = JsonReading.longValue(p);
          if (seq < 0) {
            throw JsonReading.fail(p, "\"seq\" must not be negative");
          }
          b.setSeq(seq);
        }
        default ->
            throw JsonReading.fail(
                p,
                "unknown update member \""
                    + member
                    + "\" (expected set, unset, incr, add, remove, events, producer, seq)");
      }
    }
    return b.build();
  }

  private static int attributeOperations(Update.Builder b) {
    return b.getSetCount()
        + b.getUnsetCount()
        + b.getIncrCount()
        + b.getAddCount()
        + b.getRemoveCount();
  }

  /** Rejects the attribute operation the parser is at when the update holds the most already. */
  private static void checkRoom(JsonParser p, Update.Builder b, int max) {
    if (attributeOperations(b) >= max) {
      throw tooManyOperations(p, max);
    }
  }

  private static JsonFormatException tooManyOperations(JsonParser p, int max) {
    return JsonReading.fail(
        p, "too many attributes: an update holds at most " + max + " attribute operations");
  }

  private static void readDeltas(JsonParser p, Update.Builder b, boolean add, int max)
      throws IOException {
    JsonReading.expect(
        p,
        JsonToken.START_OBJECT,
        (add ? "\"add\"" : "\"remove\"") + " to be an object of string arrays");
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      checkRoom(p, b, max);
      String name = JsonReading.attributeName(p);
      p.nextToken();
      SetDelta d =
          SetDelta.newBuilder()
              .setName(name)
              .addAllValues(JsonReading.stringSet(p).getValuesList())
              .build();
      if (add) {
        b.addAdd(d);
      } else {
        b.addRemove(d);
      }
    }
  }

  private static Event readEvent(JsonParser p) throws IOException {
    JsonReading.expect(p, JsonToken.START_OBJECT, "an event object");
    Event.Builder e = Event.newBuilder();
    boolean named = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String member = p.currentName();
      p.nextToken();
      switch (member) {
        case "name" -> {
          e.setName(JsonReading.string(p, "an event name"));
          named = true;
        }
        case "time" -> {
          String t = JsonReading.string(p, "an event time");
          if (!Timestamps.looksLikeTimestamp(t)) {
            throw JsonReading.fail(p, "event time \"" + t + "\" is not an RFC 3339 timestamp");
          }
          e.setTimeMillis(Timestamps.parse(t));
        }
        case "value" -> e.setValue(JsonReading.finiteDouble(p));
        case "properties" -> {
          JsonReading.expect(p, JsonToken.START_OBJECT, "\"properties\" to be an object");
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = JsonReading.attributeName(p);
            p.nextToken();
            e.addProperties(Attribute.newBuilder().setName(name).setValue(JsonReading.value(p)));
          }
        }
        default ->
            throw JsonReading.fail(
                p,
                "unknown event member \"" + member + "\" (expected name, time, value, properties)");
      }
    }
    if (!named) {
      throw JsonReading.fail(p, "an event needs a \"name\"");
    }
    return e.build();
  }

  public static byte[] write(Update update) {
    return JsonWriting.write(128, g -> write(g, update));
  }

  static void write(JsonGenerator g, Update u) throws IOException {
    g.writeStartObject();
    if (u.getSetCount() > 0) {
      g.writeObjectFieldStart("set");
      for (Attribute a : u.getSetList()) {
        g.writeFieldName(a.getName());
        JsonWriting.value(g, a.getValue());
      }
      g.writeEndObject();
    }
    if (u.getUnsetCount() > 0) {
      g.writeArrayFieldStart("unset");
      for (String name : u.getUnsetList()) {
        g.writeString(name);
      }
      g.writeEndArray();
    }
    if (u.getIncrCount() > 0) {
      g.writeObjectFieldStart("incr");
      for (Increment i : u.getIncrList()) {
        g.writeFieldName(i.getName());
        if (i.getDeltaCase() == Increment.DeltaCase.FLOAT_DELTA) {
          JsonWriting.floatValue(g, i.getFloatDelta());
        } else {
          g.writeNumber(i.getIntDelta());
        }
      }
      g.writeEndObject();
    }
    writeDeltas(g, "add", u.getAddList());
    writeDeltas(g, "remove", u.getRemoveList());
    if (u.getEventsCount() > 0) {
      g.writeArrayFieldStart("events");
      for (Event e : u.getEventsList()) {
        g.writeStartObject();
        g.writeStringField("name", e.getName());
        if (e.hasValue()) {
          g.writeFieldName("value");
          JsonWriting.floatValue(g, e.getValue());
        }
        if (e.hasTimeMillis()) {
          g.writeFieldName("time");
          JsonWriting.timestampValue(g, e.getTimeMillis());
        }
        if (e.getPropertiesCount() > 0) {
          g.writeObjectFieldStart("properties");
          for (Attribute a : e.getPropertiesList()) {
            g.writeFieldName(a.getName());
            JsonWriting.value(g, a.getValue());
          }
          g.writeEndObject();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
    }
    if (!u.getProducer().isEmpty()) {
      g.writeStringField("producer", u.getProducer());
    }
    if (u.hasSeq()) {
      g.writeNumberField("seq", u.getSeq());
    }
    g.writeEndObject();
  }

  private static void writeDeltas(JsonGenerator g, String member, java.util.List<SetDelta> deltas)
      throws IOException {
    if (deltas.isEmpty()) {
      return;
    }
    g.writeObjectFieldStart(member);
    for (SetDelta d : deltas) {
      g.writeArrayFieldStart(d.getName());
      for (String s : d.getValuesList()) {
        g.writeString(s);
      }
      g.writeEndArray();
    }
    g.writeEndObject();
  }
}

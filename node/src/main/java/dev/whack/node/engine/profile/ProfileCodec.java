package dev.whack.node.engine.profile;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.DayCounts;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionBuilder;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.DimensionSection;
import dev.whack.node.engine.dimension.DistinctBuilder;
import dev.whack.node.engine.dimension.DistinctCodec;
import dev.whack.node.engine.event.SeriesBuilder;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.node.engine.json.JsonWriting;
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
import java.util.Arrays;

/**
 * Reads the compact form of a profile: one byte array per profile, written by {@link
 * ProfileWriter}.
 *
 * <pre>
 * varint keyLength, key bytes
 * varint attributeCount, then per attribute (in first-set order):
 *     varint nameId, byte type ({@link ValueType}), payload
 * varint seriesCount, then per series: varint eventId, series ({@link SeriesCodec}: buckets with
 *     min and max where kept, first and last event time; or the older layout, read alike)
 * varint markCount, then per producer mark: varint nameLength, producer name (UTF-8),
 *     varint seq, zigzag varint second (epoch) the mark last advanced
 * dimensions section, only when the profile counts in a dimension ({@link DimensionSection})
 * </pre>
 *
 * <p>Attribute and event names are ids in the node's {@link NameTable}s, each one a reference the
 * profile holds. Producer names are kept in the profile itself: a producer needs no node-wide
 * table, and the marks of one profile are few and bounded ({@link ProfileLimits#producers()}).
 *
 * <p>A profile of 20 attributes of short strings and numbers takes roughly 150 to 250 bytes, with
 * no object per attribute. The array is never modified after it is published: an update writes a
 * new array, so readers need no lock.
 */
public final class ProfileCodec {
  private ProfileCodec() {}

  /** Position of the attribute count (just after the key). */
  public static int attributesStart(byte[] blob) {
    int len = Bytes.varintInt(blob, 0);
    return Bytes.next(blob, 0) + len;
  }

  public static byte[] key(byte[] blob) {
    int start = Bytes.next(blob, 0);
    return Arrays.copyOfRange(blob, start, start + Bytes.varintInt(blob, 0));
  }

  /**
   * The key as a string of one char per byte (ISO-8859-1), so that no key, UTF-8 or not, is altered
   * on its way out; {@code getBytes(ISO_8859_1)} gives the bytes back.
   */
  public static String keyString(byte[] blob) {
    return new String(
        blob, Bytes.next(blob, 0), Bytes.varintInt(blob, 0), StandardCharsets.ISO_8859_1);
  }

  /** The key decoded as UTF-8, for the protobuf {@code Profile.key} string. */
  static String keyUtf8(byte[] blob) {
    return new String(blob, Bytes.next(blob, 0), Bytes.varintInt(blob, 0), StandardCharsets.UTF_8);
  }

  /** Position of the first key byte. */
  public static int keyStart(byte[] blob) {
    return Bytes.next(blob, 0);
  }

  /** Number of key bytes. */
  public static int keyLength(byte[] blob) {
    return Bytes.varintInt(blob, 0);
  }

  /** Whether {@code blob}'s key is {@code other[off, off + len)} (compared in place). */
  public static boolean keyEquals(byte[] blob, byte[] other, int off, int len) {
    int start = Bytes.next(blob, 0);
    return Bytes.varintInt(blob, 0) == len
        && Arrays.equals(blob, start, start + len, other, off, off + len);
  }

  public static boolean keyEquals(byte[] blob, byte[] key) {
    int len = Bytes.varintInt(blob, 0);
    int start = Bytes.next(blob, 0);
    return len == key.length && Arrays.equals(blob, start, start + len, key, 0, len);
  }

  /**
   * Adds every attribute and event name id {@code blob} uses to the two sets (a snapshot writes,
   * beside a stripe's compact forms, the names of the ids they use).
   */
  public static void namesUsedBy(
      byte[] blob, java.util.BitSet attributes, java.util.BitSet events) {
    int pos = attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      attributes.set(Bytes.varintInt(blob, pos));
      pos = skipValue(blob, Bytes.next(blob, pos));
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      events.set(Bytes.varintInt(blob, pos));
      pos = SeriesCodec.skip(blob, Bytes.next(blob, pos));
    }
  }

  /**
   * {@code blob} with every attribute name id {@code a} written as {@code attributeIds[a]} and
   * every event name id {@code e} as {@code eventIds[e]} (a compact form from another node's
   * tables, renumbered for this node's); {@code blob} itself when no id changes.
   *
   * @throws IllegalStateException when an id has no entry (a negative one)
   */
  public static byte[] renumber(byte[] blob, int[] attributeIds, int[] eventIds) {
    if (unchanged(blob, attributeIds, eventIds)) {
      return blob;
    }
    ByteSink out = new ByteSink(blob.length + 16);
    int pos = attributesStart(blob);
    out.writeBytes(blob, 0, pos);
    int n = Bytes.varintInt(blob, pos);
    int next = Bytes.next(blob, pos);
    out.writeBytes(blob, pos, next - pos);
    pos = next;
    for (int i = 0; i < n; i++) {
      out.writeVarint(mapped(attributeIds, Bytes.varintInt(blob, pos), "attribute"));
      pos = Bytes.next(blob, pos);
      int end = skipValue(blob, pos);
      out.writeBytes(blob, pos, end - pos);
      pos = end;
    }
    n = Bytes.varintInt(blob, pos);
    next = Bytes.next(blob, pos);
    out.writeBytes(blob, pos, next - pos);
    pos = next;
    for (int i = 0; i < n; i++) {
      out.writeVarint(mapped(eventIds, Bytes.varintInt(blob, pos), "event"));
      pos = Bytes.next(blob, pos);
      int end = SeriesCodec.skip(blob, pos);
      out.writeBytes(blob, pos, end - pos);
      pos = end;
    }
    out.writeBytes(blob, pos, blob.length - pos); // producer marks: names kept in place
    return out.toArray();
  }

  private static boolean unchanged(byte[] blob, int[] attributeIds, int[] eventIds) {
    int pos = attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int a = Bytes.varintInt(blob, pos);
      if (a >= attributeIds.length || attributeIds[a] != a) {
        return false;
      }
      pos = skipValue(blob, Bytes.next(blob, pos));
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int e = Bytes.varintInt(blob, pos);
      if (e >= eventIds.length || eventIds[e] != e) {
        return false;
      }
      pos = SeriesCodec.skip(blob, Bytes.next(blob, pos));
    }
    return true;
  }

  private static int mapped(int[] ids, int id, String what) {
    int to = id < ids.length ? ids[id] : -1;
    if (to < 0) {
      throw new IllegalStateException(
          "a compact profile uses " + what + " name " + id + ", unnamed");
    }
    return to;
  }

  /** Position after the value whose type byte is at {@code pos}. */
  public static int skipValue(byte[] b, int pos) {
    int type = b[pos++];
    switch (type) {
      case ValueType.STRING -> {
        return Bytes.skipString(b, pos);
      }
      case ValueType.INT, ValueType.TIMESTAMP -> {
        return Bytes.next(b, pos);
      }
      case ValueType.FLOAT -> {
        return pos + 8;
      }
      case ValueType.FALSE, ValueType.TRUE -> {
        return pos;
      }
      case ValueType.SET -> {
        int n = Bytes.varintInt(b, pos);
        pos = Bytes.next(b, pos);
        for (int i = 0; i < n; i++) {
          pos = Bytes.skipString(b, pos);
        }
        return pos;
      }
      default -> throw new IllegalStateException("corrupt profile: value type " + type);
    }
  }

  /** The value whose type byte is at {@code pos}, as protobuf. */
  public static Value value(byte[] b, int pos) {
    int type = b[pos];
    int p = pos + 1;
    return switch (type) {
      case ValueType.STRING -> Value.newBuilder().setStringValue(Bytes.string(b, p)).build();
      case ValueType.INT -> Value.newBuilder().setIntValue(Bytes.zigzag(b, p)).build();
      case ValueType.FLOAT -> Value.newBuilder().setFloatValue(Bytes.float64(b, p)).build();
      case ValueType.FALSE, ValueType.TRUE ->
          Value.newBuilder().setBoolValue(type == ValueType.TRUE).build();
      case ValueType.TIMESTAMP -> Value.newBuilder().setTimestampMillis(Bytes.zigzag(b, p)).build();
      case ValueType.SET -> {
        StringSet.Builder s = StringSet.newBuilder();
        int n = Bytes.varintInt(b, p);
        p = Bytes.next(b, p);
        for (int i = 0; i < n; i++) {
          s.addValues(Bytes.string(b, p));
          p = Bytes.skipString(b, p);
        }
        yield Value.newBuilder().setStringSet(s).build();
      }
      default -> throw new IllegalStateException("corrupt profile: value type " + type);
    };
  }

  /** The whole profile as protobuf, key included, in stored order. */
  public static Profile toProto(byte[] blob, Dictionaries dict) {
    Profile.Builder p = Profile.newBuilder().setKey(keyUtf8(blob));
    int pos = attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, pos);
      pos = Bytes.next(blob, pos);
      p.addAttributes(
          Attribute.newBuilder().setName(dict.attributes().name(id)).setValue(value(blob, pos)));
      pos = skipValue(blob, pos);
    }
    SeriesBuilder series = new SeriesBuilder();
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, pos);
      pos = series.load(blob, Bytes.next(blob, pos));
      EventSeries.Builder s =
          EventSeries.newBuilder()
              .setName(dict.events().name(id))
              .setFirstMillis(series.firstMillis())
              .setLastMillis(series.lastMillis());
      for (int j = 0; j < series.size(); j++) {
        DayBucket.Builder d =
            DayBucket.newBuilder()
                .setDay(series.day(j))
                .setCount(series.count(j))
                .setSum(series.sum(j))
                .setSumSquares(series.sumSquares(j));
        if (SeriesCodec.writesMinMax(
            series.kind(j), series.count(j), series.sum(j), series.sumSquares(j))) {
          d.setMin(series.min(j)).setMax(series.max(j));
        }
        s.addBuckets(d);
      }
      p.addEvents(s);
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      p.addProducers(
          ProducerMark.newBuilder()
              .setProducer(Bytes.string(blob, pos))
              .setSeq(Bytes.varint(blob, Bytes.skipString(blob, pos))));
      pos = skipMark(blob, pos);
    }
    DimensionCounts.Builder[] current = new DimensionCounts.Builder[1];
    DimensionDay.Builder[] day = new DimensionDay.Builder[1];
    try {
      forEachDimensionCount(
          blob,
          dict,
          new DimensionCountConsumer() {
            @Override
            public void accept(Dimension d, int dayNumber, String category, long count) {
              open(d, dayNumber).putCounts(category, count);
            }

            @Override
            public void sketch(Dimension d, int dayNumber, byte[] body) {
              open(d, dayNumber).setSketch(com.google.protobuf.ByteString.copyFrom(body));
            }

            private DimensionDay.Builder open(Dimension d, int dayNumber) {
              if (current[0] == null || !current[0].getDimension().equals(d.name())) {
                current[0] = p.addDimensionsBuilder().setDimension(d.name());
                day[0] = null;
              }
              if (day[0] == null || day[0].getDay() != dayNumber) {
                day[0] = current[0].addDaysBuilder().setDay(dayNumber);
              }
              return day[0];
            }
          });
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return p.build();
  }

  /**
   * The sequence of {@code blob}'s mark for the producer whose UTF-8 name is {@code producer}, or
   * -1 when it has none.
   */
  public static long producerSeq(byte[] blob, byte[] producer) {
    int pos = marksStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int length = Bytes.varintInt(blob, pos);
      int start = Bytes.next(blob, pos);
      if (java.util.Arrays.equals(blob, start, start + length, producer, 0, producer.length)) {
        return Bytes.varint(blob, start + length);
      }
      pos = skipMark(blob, pos);
    }
    return -1;
  }

  /** Position of the producer mark count: after the attributes and the event series. */
  private static int marksStart(byte[] blob) {
    int pos = attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      pos = skipValue(blob, Bytes.next(blob, pos));
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      pos = SeriesCodec.skip(blob, Bytes.next(blob, pos));
    }
    return pos;
  }

  /**
   * Position of the dimensions section ({@link DimensionSection}): after the producer marks; the
   * array's length when the profile has none.
   */
  public static int dimensionsStart(byte[] blob) {
    int pos = marksStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      pos = skipMark(blob, pos);
    }
    return pos;
  }

  /**
   * Calls {@code out} with every count of the profile in a dimension this node defines (dimension,
   * day, category label, count), dimension by dimension in id order, days oldest first, categories
   * by label (as the protobuf form's map is rendered, so both JSON renderings agree).
   */
  static void forEachDimensionCount(byte[] blob, Dictionaries dict, DimensionCountConsumer out)
      throws java.io.IOException {
    DimensionRegistry.Set dims = dict.dimensions().current();
    int pos = dimensionsStart(blob);
    java.util.TreeMap<Integer, Integer> distinctPayloads = new java.util.TreeMap<>();
    int n = DimensionSection.distinctCount(blob, pos);
    int p = DimensionSection.firstDistinct(blob, pos);
    for (int i = 0; i < n; i++) {
      distinctPayloads.put(DimensionSection.id(blob, p), DimensionSection.payload(blob, p));
      p = DimensionSection.next(blob, p);
    }
    int countsStart = p;
    java.util.TreeSet<Integer> ids = new java.util.TreeSet<>(distinctPayloads.keySet());
    for (DayCounts c = new DayCounts().reset(blob, countsStart); c.nextEntry(); ) {
      ids.add(c.id());
    }
    DimensionBuilder counts = new DimensionBuilder();
    DistinctBuilder distinct = null;
    for (int id : ids) {
      Dimension d = dims.byId(id);
      if (d == null) {
        continue; // dropped: its data goes with the profile's next write
      }
      Integer payload = distinctPayloads.get(id);
      if (payload != null) {
        distinct = distinct == null ? new DistinctBuilder() : distinct;
        distinct.load(d.precision(), blob, payload);
        for (int k = 0; k < distinct.size(); k++) {
          out.sketch(d, distinct.day(k), distinct.body(k));
        }
        continue;
      }
      counts.load(blob, countsStart, id);
      int k = 0;
      while (k < counts.size()) {
        int day = counts.day(k);
        java.util.TreeMap<String, Long> byLabel = new java.util.TreeMap<>();
        for (; k < counts.size() && counts.day(k) == day; k++) {
          byLabel.put(d.label(counts.category(k)), counts.count(k));
        }
        for (var c : byLabel.entrySet()) {
          out.accept(d, day, c.getKey(), c.getValue());
        }
      }
    }
  }

  /** Receives one count (or distinct day) of {@link #forEachDimensionCount}. */
  interface DimensionCountConsumer {
    void accept(Dimension d, int day, String category, long count) throws java.io.IOException;

    /** A distinct dimension's day: its encoded set or sketch ({@link DistinctCodec}). */
    void sketch(Dimension d, int day, byte[] body) throws java.io.IOException;
  }

  /** Position after the producer mark at {@code pos}. */
  private static int skipMark(byte[] blob, int pos) {
    pos = Bytes.next(blob, Bytes.skipString(blob, pos)); // name, seq
    return Bytes.next(blob, pos); // second
  }

  /** Renders Profile JSON (docs/profiles.md) straight from the compact form. */
  public static byte[] toJson(byte[] blob, Dictionaries dict) {
    return JsonWriting.write(blob.length * 2, g -> writeJson(g, blob, dict));
  }

  /**
   * A distinct dimension's day in Profile JSON: {@code "$distinct"}, the day's count (exact, or the
   * sketch's estimate rounded; for people, never read back), and {@code "$sketch"}, the day's
   * encoded set or sketch in base64 (what a put reads back, byte for byte).
   */
  public static void writeSketchDay(JsonGenerator g, byte[] body) throws IOException {
    g.writeNumberField("$distinct", DistinctCodec.dayValue(body, 0));
    g.writeStringField("$sketch", java.util.Base64.getEncoder().encodeToString(body));
  }

  /** {@code "$dimensions"}: dimension -> day -> category -> count, when the profile has any. */
  private static void writeDimensions(JsonGenerator g, byte[] blob, Dictionaries dict)
      throws IOException {
    Dimension[] open = new Dimension[1];
    int[] openDay = new int[1];
    forEachDimensionCount(
        blob,
        dict,
        new DimensionCountConsumer() {
          @Override
          public void accept(Dimension d, int day, String category, long count) throws IOException {
            open(d, day);
            g.writeNumberField(category, count);
          }

          @Override
          public void sketch(Dimension d, int day, byte[] body) throws IOException {
            open(d, day);
            writeSketchDay(g, body);
          }

          private void open(Dimension d, int day) throws IOException {
            if (open[0] != d) {
              if (open[0] == null) {
                g.writeObjectFieldStart("$dimensions");
              } else {
                g.writeEndObject(); // the day
                g.writeEndObject(); // the dimension
              }
              g.writeObjectFieldStart(d.name());
              g.writeObjectFieldStart(JsonWriting.day(day));
              open[0] = d;
            } else if (openDay[0] != day) {
              g.writeEndObject();
              g.writeObjectFieldStart(JsonWriting.day(day));
            }
            openDay[0] = day;
          }
        });
    if (open[0] != null) {
      g.writeEndObject();
      g.writeEndObject();
      g.writeEndObject();
    }
  }

  private static void writeJson(JsonGenerator g, byte[] blob, Dictionaries dict)
      throws IOException {
    g.writeStartObject();
    int pos = attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, pos);
      pos = Bytes.next(blob, pos);
      g.writeFieldName(dict.attributes().name(id));
      int type = blob[pos];
      int p = pos + 1;
      switch (type) {
        case ValueType.STRING -> JsonWriting.stringValue(g, Bytes.string(blob, p));
        case ValueType.INT -> g.writeNumber(Bytes.zigzag(blob, p));
        case ValueType.FLOAT -> JsonWriting.floatValue(g, Bytes.float64(blob, p));
        case ValueType.FALSE, ValueType.TRUE -> g.writeBoolean(type == ValueType.TRUE);
        case ValueType.TIMESTAMP -> JsonWriting.timestampValue(g, Bytes.zigzag(blob, p));
        case ValueType.SET -> {
          g.writeStartArray();
          int m = Bytes.varintInt(blob, p);
          p = Bytes.next(blob, p);
          for (int j = 0; j < m; j++) {
            int len = Bytes.varintInt(blob, p);
            int start = Bytes.next(blob, p);
            g.writeUTF8String(blob, start, len);
            p = start + len;
          }
          g.writeEndArray();
        }
        default -> throw new IllegalStateException("corrupt profile: value type " + type);
      }
      pos = skipValue(blob, pos);
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    if (n > 0) {
      SeriesBuilder series = new SeriesBuilder();
      g.writeObjectFieldStart("$events");
      for (int i = 0; i < n; i++) {
        int id = Bytes.varintInt(blob, pos);
        pos = series.load(blob, Bytes.next(blob, pos));
        g.writeObjectFieldStart(dict.events().name(id));
        JsonWriting.seriesTimes(g, series.firstMillis(), series.lastMillis());
        for (int j = 0; j < series.size(); j++) {
          g.writeFieldName(JsonWriting.day(series.day(j)));
          JsonWriting.bucket(
              g,
              series.count(j),
              series.kind(j),
              series.sum(j),
              series.sumSquares(j),
              series.min(j),
              series.max(j));
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    writeDimensions(g, blob, dict);
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    if (n > 0) {
      g.writeObjectFieldStart("$producers");
      for (int i = 0; i < n; i++) {
        g.writeNumberField(
            Bytes.string(blob, pos), Bytes.varint(blob, Bytes.skipString(blob, pos)));
        pos = skipMark(blob, pos);
      }
      g.writeEndObject();
    }
    g.writeEndObject();
  }
}

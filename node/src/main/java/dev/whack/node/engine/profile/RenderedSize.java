package dev.whack.node.engine.profile;

import com.google.protobuf.CodedOutputStream;
import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.DayCounts;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.DimensionSection;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.proto.Profile;

/**
 * Whether a profile's rendering (the bytes a read returns: canonical JSON, or the protobuf {@code
 * Profile} without its key) fits in a limit, so that no write can make a profile that a {@code get}
 * would return larger than the node's item size limit.
 *
 * <p>Design: only rendering gives the exact length, and rendering allocates the whole document and
 * costs microseconds per kilobyte, so the answer comes from the cheapest test that settles it:
 *
 * <ol>
 *   <li>The compact form's length times {@link #MAX_RENDERED_BYTES_PER_COMPACT_BYTE}, plus {@link
 *       #WRAPPER_BYTES}: no rendering is longer (the worst case is a dimension's one-byte count of
 *       a category whose 256-byte label is all control characters, each escaped in six bytes: the
 *       label lives in the dimension, not the profile). Under the default 1 MiB limit this settles
 *       every profile up to about 660 bytes compact, so a typical update pays one multiplication.
 *   <li>{@link #bound}: one pass over the compact form, without allocating, adding for each name
 *       and value the most either rendering can write for it (strings by their bytes, names at six
 *       bytes a character, numbers at their widest): within tens of per cent of the JSON length for
 *       ordinary profiles, so only a profile near the limit goes on.
 *   <li>Rendering it and counting.
 * </ol>
 *
 * <p>Concurrency: stateless; reads the name tables, which are safe to read from any thread.
 */
public final class RenderedSize {
  /** The longest name, quoted and escaped in JSON (six bytes for a control character). */
  static final int MAX_NAME_BYTES = 6 * Names.MAX_NAME_CHARS + 2;

  /**
   * Bytes around each attribute, series or mark in either rendering: JSON's colon and comma;
   * protobuf's entry tag and length, the name's tag and length, the value's tag and length and its
   * oneof tag.
   */
  static final int ENTRY_BYTES = 16;

  /** The widest number either rendering writes for a 64-bit integer, timestamp or count. */
  static final int LONG_BYTES = 20;

  /** The widest JSON double ({@code -2.2250738585072014E-308}). */
  static final int DOUBLE_BYTES = 24;

  /** A timestamp in JSON: {@code "YYYY-MM-DDTHH:MM:SS.mmmZ"} with its quotes. */
  static final int TIMESTAMP_BYTES = 26;

  /** A quoted day of any 32-bit epoch day, such as {@code "-5877641-06-23"}. */
  static final int DAY_BYTES = 16;

  /** {@code {"$string":...}} around a timestamp-shaped string, or a protobuf string's tag. */
  static final int STRING_WRAPPER_BYTES = 14;

  /**
   * The braces, {@code "$events":{}}, {@code "$dimensions":{}} and {@code "$producers":{}} with
   * their commas.
   */
  static final int WRAPPER_BYTES = 84;

  /**
   * No compact byte renders to more than this many bytes in either encoding: a boolean attribute
   * takes two compact bytes (name id and type) and renders to at most a name, the entry bytes and
   * {@code false}; every other construct renders to less per compact byte (a producer mark stores
   * its name, sequence and time, at least four bytes; a string, set element or producer name at
   * most six bytes per byte).
   */
  static final int MAX_RENDERED_BYTES_PER_COMPACT_BYTE =
      Math.max(
          (ENTRY_BYTES + MAX_NAME_BYTES + LONG_BYTES + 1) / 2,
          DayCounts.MAX_RENDERED_BYTES_PER_BYTE);

  private RenderedSize() {}

  /**
   * The length of the profile's rendering if it is longer than {@code limit}, else -1.
   *
   * @param blob a compact profile ({@link ProfileCodec})
   */
  public static long lengthIfOver(byte[] blob, Dictionaries dict, Rendering rendering, long limit) {
    if ((long) blob.length * MAX_RENDERED_BYTES_PER_COMPACT_BYTE + WRAPPER_BYTES <= limit
        || bound(blob, dict) <= limit) {
      return -1;
    }
    long exact = exact(blob, dict, rendering);
    return exact > limit ? exact : -1;
  }

  /** The length of the rendering, by rendering it. */
  static long exact(byte[] blob, Dictionaries dict, Rendering rendering) {
    if (rendering == Rendering.JSON) {
      return ProfileCodec.toJson(blob, dict).length;
    }
    // Fields are sized independently, so the key field's size can simply be taken away.
    Profile profile = ProfileCodec.toProto(blob, dict);
    return profile.getSerializedSize() - CodedOutputStream.computeStringSize(1, profile.getKey());
  }

  /** An upper bound of the length of either rendering, in one pass without allocating. */
  static long bound(byte[] blob, Dictionaries dict) {
    NameTable attributes = dict.attributes();
    long total = WRAPPER_BYTES;
    int pos = ProfileCodec.attributesStart(blob);
    int n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, pos);
      pos = Bytes.next(blob, pos);
      total += ENTRY_BYTES + nameBytes(attributes.name(id)) + valueBytes(blob, pos);
      pos = ProfileCodec.skipValue(blob, pos);
    }
    NameTable events = dict.events();
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, pos);
      pos = Bytes.next(blob, pos);
      total += ENTRY_BYTES + nameBytes(events.name(id));
      boolean legacy = SeriesCodec.legacy(blob, pos);
      if (!legacy) {
        pos++;
      }
      // "$first":"...","$last":"..." or the two sint64 fields (an older series' are derived from
      // its days, and written alike)
      total += 2 * (ENTRY_BYTES + TIMESTAMP_BYTES + 8);
      int buckets = Bytes.varintInt(blob, pos);
      pos = Bytes.next(blob, pos);
      for (int j = 0; j < buckets; j++) {
        pos = Bytes.next(blob, pos); // the day
        long word = Bytes.varint(blob, pos);
        int kind = legacy ? SeriesCodec.legacyKind(word) : (int) (word & 3);
        pos = Bytes.next(blob, pos);
        // "day":[count], [count,sum,sumSquares] or [count,sum,sumSquares,min,max] with the comma
        // after it; min and max are written for some ONE buckets too, so any valued one counts
        // them.
        total += DAY_BYTES + LONG_BYTES + 4;
        if (kind != SeriesCodec.NONE) {
          total += 4 * (DOUBLE_BYTES + 1);
          pos += SeriesCodec.payloadBytes(kind);
        }
      }
      if (!legacy) {
        pos = Bytes.next(blob, Bytes.next(blob, pos));
      }
    }
    n = Bytes.varintInt(blob, pos);
    pos = Bytes.next(blob, pos);
    for (int i = 0; i < n; i++) { // producer marks: the name, the sequence, the second
      total += ENTRY_BYTES + stringBytes(blob, pos) + LONG_BYTES;
      pos = Bytes.next(blob, Bytes.next(blob, Bytes.skipString(blob, pos)));
    }
    // "$dimensions":{...}: each dimension this node defines by its name, and its data's bound
    DimensionRegistry.Set dimensions = dict.dimensions().current();
    n = DimensionSection.distinctCount(blob, pos);
    pos = DimensionSection.firstDistinct(blob, pos);
    for (int i = 0; i < n; i++) {
      Dimension d = dimensions.byId(DimensionSection.id(blob, pos));
      if (d != null) {
        total +=
            ENTRY_BYTES
                + nameBytes(d.name())
                + Dimension.distinctRenderedBound(DimensionSection.payloadLength(blob, pos));
      }
      pos = DimensionSection.next(blob, pos);
    }
    // Counts come day by day: each (day, dimension) entry is charged its dimension's name, which
    // the rendering writes once per dimension (a looser bound, still within a few per cent).
    DayCounts counts = new DayCounts().reset(blob, pos);
    while (counts.nextEntry()) {
      Dimension d = dimensions.byId(counts.id());
      if (d == null) {
        continue;
      }
      total += ENTRY_BYTES + nameBytes(d.name()) + DayCounts.RENDERED_DAY_BYTES;
      while (counts.nextPair()) {
        total += 6L * d.labelBytes(counts.category()).length + DayCounts.RENDERED_PAIR_BYTES;
      }
    }
    return total;
  }

  /** The most a value (type byte at {@code pos}) takes in either rendering. */
  private static long valueBytes(byte[] b, int pos) {
    int type = b[pos];
    int p = pos + 1;
    return switch (type) {
      case ValueType.STRING -> stringBytes(b, p);
      case ValueType.INT -> LONG_BYTES;
      case ValueType.FLOAT -> DOUBLE_BYTES;
      case ValueType.FALSE, ValueType.TRUE -> 5;
      case ValueType.TIMESTAMP -> TIMESTAMP_BYTES;
      case ValueType.SET -> {
        long total = STRING_WRAPPER_BYTES; // brackets, or the StringSet's tag and length
        int m = Bytes.varintInt(b, p);
        p = Bytes.next(b, p);
        for (int i = 0; i < m; i++) {
          total += stringBytes(b, p);
          p = Bytes.skipString(b, p);
        }
        yield total;
      }
      default -> throw new IllegalStateException("corrupt profile: value type " + type);
    };
  }

  /**
   * The most a UTF-8 string (varint length at {@code pos}) takes quoted and escaped in JSON, as a
   * value or as a field name (a producer's name), or tagged in protobuf: control characters as
   * six-byte escapes, and a character outside the BMP, four bytes stored, as the two six-byte
   * escapes jackson writes in a field name (a value keeps its four bytes; the bound may be loose).
   */
  private static long stringBytes(byte[] b, int pos) {
    int len = Bytes.varintInt(b, pos);
    int start = Bytes.next(b, pos);
    long total = STRING_WRAPPER_BYTES + len;
    for (int i = start; i < start + len; i++) {
      int c = b[i] & 0xff;
      if (c < 0x20) {
        total += 5;
      } else if (c == '"' || c == '\\') {
        total += 1;
      } else if (c >= 0xf0) {
        total += 8;
      }
    }
    return total;
  }

  /**
   * A name quoted and escaped in JSON (at most six bytes a character), which is also more than its
   * UTF-8 bytes in protobuf. Names are short, so this stays close without looking at them.
   */
  private static long nameBytes(String name) {
    return 6L * name.length() + 2;
  }
}

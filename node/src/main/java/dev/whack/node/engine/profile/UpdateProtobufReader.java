package dev.whack.node.engine.profile;

/**
 * Reads a protobuf {@code whack.v1.Update} straight from its bytes into {@link UpdateOps}, as
 * {@link dev.whack.node.engine.json.UpdateJsonReader} does for Update JSON: no protobuf-java
 * objects per update (a gRPC item, a memcached {@code update ... proto}, a Kafka record).
 *
 * <p>It takes only the plain forms: each field once where protobuf has one (a second name, value,
 * delta, producer or seq is merged by protobuf-java's rules), a typed value, valid UTF-8 in every
 * string. For anything else, every malformed update included, it declines ({@link #read} returns
 * false) and the caller reads the bytes with protobuf-java, whose answer or error is the reference;
 * so the two readers never disagree (UpdateProtobufReaderProperties).
 *
 * <p>Not thread-safe: one per thread (the engine's worker).
 */
public final class UpdateProtobufReader {
  private static final int VARINT = 0;
  private static final int I64 = 1;
  private static final int LEN = 2;

  private byte[] b;
  private int pos;

  /** Clears {@code ops} and reads the update into it; false when it declines (see above). */
  public boolean read(byte[] bytes, int offset, int length, UpdateOps ops) {
    ops.clear();
    b = bytes;
    pos = offset;
    try {
      return update(offset + length, ops);
    } catch (Decline | ArrayIndexOutOfBoundsException e) {
      return false;
    } finally {
      b = null;
    }
  }

  /** Thrown (without a stack) to decline from deep inside a field. */
  private static final class Decline extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final Decline INSTANCE = new Decline();

    private Decline() {
      super(null, null, false, false);
    }
  }

  private static Decline decline() {
    return Decline.INSTANCE;
  }

  private boolean update(int end, UpdateOps ops) {
    boolean producer = false;
    boolean seq = false;
    while (pos < end) {
      long tag = tag(end);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (field) {
        case 1 -> skipString(type, end); // the key: the caller names it
        case 2 -> attribute(message(type, end), ops);
        case 3 -> ops.unset(text(type, end, ops));
        case 4 -> increment(message(type, end), ops);
        case 5, 6 -> delta(field == 5, message(type, end), ops);
        case 7 -> event(message(type, end), ops);
        case 8 -> {
          if (producer) {
            throw decline();
          }
          producer = true;
          int t = text(type, end, ops);
          if (ops.textLength(t) > 0) {
            ops.producer(t);
          }
        }
        case 9 -> {
          if (seq || type != VARINT) {
            throw decline();
          }
          seq = true;
          ops.seq(varint(end));
        }
        default -> skip(type, end);
      }
    }
    if (pos != end) {
      throw decline();
    }
    return true;
  }

  /** {@code Attribute{name, value}}: a set. */
  private void attribute(int end, UpdateOps ops) {
    int name = -1;
    boolean value = false;
    int kind = 0;
    long bits = 0;
    int first = 0;
    int count = 0;
    while (pos < end) {
      long tag = tag(end);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      if (field == 1) {
        name = name(name, type, end, ops);
      } else if (field == 2) {
        if (value) {
          throw decline();
        }
        value = true;
        int valueEnd = message(type, end);
        if (pos >= valueEnd) {
          throw decline(); // no kind: protobuf-java's reading says what that means
        }
        long vtag = tag(valueEnd);
        kind = (int) (vtag >>> 3);
        int vtype = (int) (vtag & 7);
        switch (kind) {
          case 1 -> first = text(vtype, valueEnd, ops);
          case 2, 5 -> bits = zigzag(expect(vtype, VARINT, valueEnd));
          case 3 -> bits = fixed64(vtype, valueEnd);
          case 4 -> bits = expect(vtype, VARINT, valueEnd) != 0 ? 1 : 0;
          case 6 -> {
            int setEnd = message(vtype, valueEnd);
            first = ops.textCount();
            while (pos < setEnd) {
              long stag = tag(setEnd);
              if ((stag >>> 3) != 1) {
                throw decline();
              }
              text((int) (stag & 7), setEnd, ops);
              count++;
            }
          }
          default -> throw decline();
        }
        if (pos != valueEnd) {
          throw decline(); // a second kind, or anything more in the value
        }
      } else {
        skip(type, end);
      }
    }
    if (name < 0 || !value) {
      throw decline();
    }
    switch (kind) {
      case 1 -> ops.setString(name, first);
      case 2 -> ops.setInt(name, bits);
      case 3 -> ops.setFloat(name, Double.longBitsToDouble(bits));
      case 4 -> ops.setBool(name, bits != 0);
      case 5 -> ops.setTimestamp(name, bits);
      default -> ops.setSet(name, first, count);
    }
  }

  /** {@code Increment{name, int_delta | float_delta}}. */
  private void increment(int end, UpdateOps ops) {
    int name = -1;
    int deltas = 0;
    boolean isFloat = false;
    long bits = 0;
    while (pos < end) {
      long tag = tag(end);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (field) {
        case 1 -> name = name(name, type, end, ops);
        case 2 -> {
          deltas++;
          bits = zigzag(expect(type, VARINT, end));
        }
        case 3 -> {
          deltas++;
          isFloat = true;
          bits = fixed64(type, end);
        }
        default -> skip(type, end);
      }
    }
    if (name < 0 || deltas > 1) {
      throw decline();
    }
    if (isFloat) {
      ops.incrFloat(name, Double.longBitsToDouble(bits));
    } else {
      ops.incrInt(name, bits); // no delta: 0, as protobuf's default
    }
  }

  /** {@code SetDelta{name, values}}: an add or a remove. */
  private void delta(boolean add, int end, UpdateOps ops) {
    int name = -1;
    int first = -1;
    int count = 0;
    while (pos < end) {
      long tag = tag(end);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      if (field == 1) {
        name = name(name, type, end, ops);
      } else if (field == 2) {
        int t = text(type, end, ops);
        if (first < 0) {
          first = t;
        } else if (t != first + count) {
          throw decline(); // the name came between values: they are not one run of texts
        }
        count++;
      } else {
        skip(type, end);
      }
    }
    if (name < 0) {
      throw decline();
    }
    if (first < 0) {
      first = ops.textCount();
    }
    if (add) {
      ops.add(name, first, count);
    } else {
      ops.remove(name, first, count);
    }
  }

  /** {@code Event{name, time_millis?, value?, properties*}}. */
  private void event(int end, UpdateOps ops) {
    int name = -1;
    boolean hasTime = false;
    boolean hasValue = false;
    long time = 0;
    long value = 0;
    while (pos < end) {
      long tag = tag(end);
      int field = (int) (tag >>> 3);
      int type = (int) (tag & 7);
      switch (field) {
        case 1 -> name = name(name, type, end, ops);
        case 2 -> {
          if (hasTime) {
            throw decline();
          }
          hasTime = true;
          time = zigzag(expect(type, VARINT, end));
        }
        case 3 -> {
          if (hasValue) {
            throw decline();
          }
          hasValue = true;
          value = fixed64(type, end);
        }
        case 4 -> {
          // a property is read as a set attribute is, then handed to this event
          int from = ops.setCount();
          attribute(message(type, end), ops);
          ops.setsToEventProperties(from);
        }
        default -> skip(type, end);
      }
    }
    if (name < 0) {
      throw decline(); // an empty name: protobuf-java's reading says what that means
    }
    ops.event(name, hasTime, time, hasValue, Double.longBitsToDouble(value));
  }

  /** A message's name field as a text; a second one is declined (protobuf keeps the last). */
  private int name(int before, int type, int end, UpdateOps ops) {
    if (before >= 0) {
      throw decline();
    }
    return text(type, end, ops);
  }

  // ---------------------------------------------------------------- wire format

  private long varint(int end) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw decline();
      }
      byte x = b[pos++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
    throw decline();
  }

  /** A field's tag: protobuf has no field 0, nor numbers past 2^29 - 1. */
  private long tag(int end) {
    long tag = varint(end);
    if ((tag >>> 3) == 0 || tag > 0xffffffffL) {
      throw decline();
    }
    return tag;
  }

  private long expect(int type, int wanted, int end) {
    if (type != wanted) {
      throw decline();
    }
    return varint(end);
  }

  private static long zigzag(long n) {
    return (n >>> 1) ^ -(n & 1);
  }

  private long fixed64(int type, int end) {
    if (type != I64 || pos + 8 > end) {
      throw decline();
    }
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xffL);
    }
    pos += 8;
    return v;
  }

  /** A length-delimited field's end; the position moves to its start. */
  private int message(int type, int end) {
    if (type != LEN) {
      throw decline();
    }
    long length = varint(end);
    if (length < 0 || length > end - pos) {
      throw decline();
    }
    return pos + (int) length;
  }

  /** A string field as the next text of {@code ops}, its UTF-8 checked. */
  private int text(int type, int end, UpdateOps ops) {
    int stringEnd = message(type, end);
    int start = pos;
    if (!validUtf8(b, start, stringEnd)) {
      throw decline();
    }
    pos = stringEnd;
    return ops.text(b, start, stringEnd - start);
  }

  private void skipString(int type, int end) {
    int stringEnd = message(type, end);
    if (!validUtf8(b, pos, stringEnd)) {
      throw decline();
    }
    pos = stringEnd;
  }

  private void skip(int type, int end) {
    switch (type) {
      case VARINT -> varint(end);
      case I64 -> {
        if (pos + 8 > end) {
          throw decline();
        }
        pos += 8;
      }
      case LEN -> pos = message(type, end);
      case 5 -> {
        if (pos + 4 > end) {
          throw decline();
        }
        pos += 4;
      }
      default -> throw decline(); // groups and the rest: protobuf-java's reading decides
    }
  }

  /** Well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF), as protobuf. */
  static boolean validUtf8(byte[] s, int from, int to) {
    int i = from;
    while (i < to) {
      int c = s[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int n;
      int min;
      if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        min = 0x80;
      } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        min = 0x800;
      } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        min = 0x10000;
      } else {
        return false;
      }
      int cp = c & (0x3f >> n);
      for (int k = 1; k <= n; k++) {
        if (i + k >= to) {
          return false;
        }
        int cc = s[i + k] & 0xff;
        if ((cc & 0xc0) != 0x80) {
          return false;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return false;
      }
      i += n + 1;
    }
    return true;
  }
}

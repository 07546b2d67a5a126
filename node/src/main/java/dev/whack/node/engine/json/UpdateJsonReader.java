package dev.whack.node.engine.json;

import dev.whack.node.engine.profile.Names;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.node.engine.profile.UpdateOps;

/**
 * The hot-path reader of Update JSON (docs/profiles.md): reads a document straight from its bytes
 * into a reused {@link UpdateOps}, with no parser, token, string or message objects, so that an
 * update allocates little more than the profile array it produces.
 *
 * <h2>Strict by delegation</h2>
 *
 * The reader accepts a document only when it is sure {@link UpdateJson#parse} (jackson-core, the
 * reference) accepts it and reads the same operations; anything else it <em>declines</em> ({@link
 * #read} returns false) and the caller runs {@code UpdateJson.parse}, whose result or positioned
 * {@link JsonFormatException} is authoritative. So every error keeps its exact message, line and
 * column, and rare forms the reader does not handle still work at the old speed. It declines:
 *
 * <ul>
 *   <li>every syntax error and every value the reference rejects (a duplicate member, a bad
 *       attribute name, null, a nested object, a bad timestamp, an integer beyond 64 bits...);
 *   <li>bytes that are not well-formed UTF-8 (overlong forms, encoded surrogates: the reference
 *       reads some of them, into strings that would not round-trip), a byte-order mark, and {@code
 *       \}{@code u} escapes of unpaired surrogates;
 *   <li>integers of 20 or more digits where a float is wanted (event {@code value}), floats of more
 *       than 64 characters, objects of more than 256 members and documents over 1 MiB.
 * </ul>
 *
 * The tokens (strings, numbers, UTF-8 validation, exact floats) are {@link ByteJsonReader}'s,
 * shared with {@link ProfileJsonReader}. Property test {@code UpdateJsonReaderProperties} checks
 * the agreement with the reference on generated and mutated documents.
 *
 * <p>Concurrency: not thread-safe; one instance per thread.
 */
public final class UpdateJsonReader extends ByteJsonReader {
  /** Larger documents go to the reference reader. */
  public static final int MAX_DOCUMENT_BYTES = 1 << 20;

  private static final int MAX_MEMBERS = 256;

  private static final String[] MEMBERS = {
    "set", "unset", "incr", "add", "remove", "events", "producer", "seq"
  };
  private static final String[] EVENT_MEMBERS = {"name", "time", "value", "properties"};

  private UpdateOps ops;

  /**
   * Reads Update JSON into {@code ops} (cleared first).
   *
   * @return true when the document is accepted and {@code ops} holds it; false when the reader
   *     declines it, and {@link UpdateJson#parse} must decide (it throws the positioned error)
   */
  public boolean read(byte[] json, int offset, int length, UpdateOps ops) {
    ops.clear();
    if (!inBounds(json, offset, length, MAX_DOCUMENT_BYTES)) {
      return false;
    }
    bind(json, offset, length);
    this.ops = ops;
    try {
      update();
      return true;
    } catch (Decline d) {
      ops.clear();
      return false;
    } finally {
      unbind();
      this.ops = null;
    }
  }

  // ------------------------------------------------------------------ structure

  private void update() {
    ws();
    expect('{');
    ws();
    if (!take('}')) {
      int seen = 0;
      do {
        ws();
        int member = unseenMember(MEMBERS, seen);
        seen |= 1 << member;
        colon();
        switch (member) {
          case 0 -> set();
          case 1 -> unset();
          case 2 -> incr();
          case 3 -> delta(true);
          case 4 -> delta(false);
          case 5 -> events();
          case 6 -> ops.producer(string());
          default -> {
            long seq = integer();
            if (seq < 0) {
              throw decline();
            }
            ops.seq(seq);
          }
        }
        ws();
      } while (take(','));
      expect('}');
    }
    ws();
    if (pos != end) {
      throw decline();
    }
  }

  /**
   * Reads a member name that must be one of {@code names} and not yet in {@code seen} (a bit per
   * index; the reference rejects a duplicate member). Returns its index.
   */
  private int unseenMember(String[] names, int seen) {
    if (!atString()) {
      throw decline();
    }
    int mark = ops.textCount();
    int t = text();
    for (int i = 0; i < names.length; i++) {
      if (ops.textIs(t, names[i])) {
        if ((seen & (1 << i)) != 0) {
          throw decline();
        }
        ops.truncate(ops.setCount(), mark);
        return i;
      }
    }
    throw decline();
  }

  /** Reads an attribute name (checked as the reference checks it) followed by a colon. */
  private int attributeName() {
    if (!atString()) {
      throw decline();
    }
    int t = text();
    try {
      Names.checkAttribute(ops.textBuffer(), ops.textOffset(t), ops.textLength(t));
    } catch (RuntimeException e) {
      throw decline();
    }
    colon();
    return t;
  }

  private void set() {
    int first = ops.setCount();
    readAttributes(first);
  }

  /** An object of attribute values into set operations; duplicate names decline. */
  private void readAttributes(int first) {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    do {
      ws();
      int name = attributeName();
      int n = ops.setCount();
      if (n - first >= MAX_MEMBERS) {
        throw decline();
      }
      for (int i = first; i < n; i++) {
        if (ops.sameText(ops.setName(i), name)) {
          throw decline();
        }
      }
      value(name);
      ws();
    } while (take(','));
    expect('}');
  }

  /** A value of the value rules (docs/profiles.md) as a set operation. */
  private void value(int name) {
    if (pos >= end) {
      throw decline();
    }
    int c = b[pos];
    switch (c) {
      case '"' -> {
        int t = text();
        view.bind(ops.textBuffer(), ops.textOffset(t), ops.textLength(t));
        if (Timestamps.looksLikeTimestamp(view)) {
          ops.setTimestamp(name, timestamp());
        } else {
          ops.setString(name, t);
        }
      }
      case '[' -> {
        int first = ops.textCount();
        int n = strings();
        ops.setSet(name, first, n);
      }
      case '{' -> {
        pos++;
        ws();
        int mark = ops.textCount();
        if (!atString()) {
          throw decline();
        }
        int key = text();
        if (!ops.textIs(key, "$string")) {
          throw decline();
        }
        ops.truncate(ops.setCount(), mark);
        colon();
        ops.setString(name, string());
        ws();
        expect('}');
      }
      case 't' -> {
        literal("true");
        ops.setBool(name, true);
      }
      case 'f' -> {
        literal("false");
        ops.setBool(name, false);
      }
      default -> {
        number();
        if (numberIsFloat) {
          ops.setFloat(name, numberDouble);
        } else if (numberFits) {
          ops.setInt(name, numberLong);
        } else {
          throw decline();
        }
      }
    }
  }

  /** The timestamp in {@link #view}, or decline when it is not a valid one. */
  private long timestamp() {
    try {
      return Timestamps.parse(view);
    } catch (IllegalArgumentException e) {
      throw decline();
    }
  }

  private void unset() {
    expect('[');
    ws();
    if (take(']')) {
      return;
    }
    do {
      ws();
      ops.unset(string());
      ws();
    } while (take(','));
    expect(']');
  }

  private void incr() {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int first = ops.incrCount();
    do {
      ws();
      int name = attributeName();
      int n = ops.incrCount();
      if (n - first >= MAX_MEMBERS) {
        throw decline();
      }
      for (int i = first; i < n; i++) {
        if (ops.sameText(ops.incrName(i), name)) {
          throw decline();
        }
      }
      number();
      if (numberIsFloat) {
        ops.incrFloat(name, numberDouble);
      } else if (numberFits) {
        ops.incrInt(name, numberLong);
      } else {
        throw decline();
      }
      ws();
    } while (take(','));
    expect('}');
  }

  private void delta(boolean add) {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int first = add ? ops.addCount() : ops.removeCount();
    do {
      ws();
      int name = attributeName();
      int n = add ? ops.addCount() : ops.removeCount();
      if (n - first >= MAX_MEMBERS) {
        throw decline();
      }
      for (int i = first; i < n; i++) {
        if (ops.sameText(add ? ops.addName(i) : ops.removeName(i), name)) {
          throw decline();
        }
      }
      int elements = ops.textCount();
      int count = strings();
      if (add) {
        ops.add(name, elements, count);
      } else {
        ops.remove(name, elements, count);
      }
      ws();
    } while (take(','));
    expect('}');
  }

  /** An array of strings as consecutive texts; returns how many. */
  private int strings() {
    expect('[');
    ws();
    if (take(']')) {
      return 0;
    }
    int n = 0;
    do {
      ws();
      string();
      n++;
      ws();
    } while (take(','));
    expect(']');
    return n;
  }

  private void events() {
    expect('[');
    ws();
    if (take(']')) {
      return;
    }
    do {
      ws();
      event();
      ws();
    } while (take(','));
    expect(']');
  }

  private void event() {
    expect('{');
    ws();
    int name = -1;
    boolean hasTime = false;
    long time = 0;
    boolean hasValue = false;
    double value = 0;
    if (!take('}')) {
      int seen = 0;
      do {
        ws();
        int member = unseenMember(EVENT_MEMBERS, seen);
        seen |= 1 << member;
        colon();
        switch (member) {
          case 0 -> name = string();
          case 1 -> {
            int t = string();
            view.bind(ops.textBuffer(), ops.textOffset(t), ops.textLength(t));
            if (!Timestamps.looksLikeTimestamp(view)) {
              throw decline();
            }
            time = timestamp();
            hasTime = true;
          }
          case 2 -> {
            value = floating();
            hasValue = true;
          }
          default -> {
            // read as attributes are, then handed to the event (the dimensions count them)
            int setMark = ops.setCount();
            readAttributes(setMark);
            ops.setsToEventProperties(setMark);
          }
        }
        ws();
      } while (take(','));
      expect('}');
    }
    if (name < 0) {
      throw decline();
    }
    ops.event(name, hasTime, time, hasValue, value);
  }

  // ------------------------------------------------------------------ tokens

  /** A string value (the next token must be one); returns its text. */
  private int string() {
    if (!atString()) {
      throw decline();
    }
    return text();
  }

  /**
   * Reads the string at {@code pos} (its opening quote) into a new text of {@link #ops}: copied as
   * is when it has no escapes, decoded otherwise.
   */
  private int text() {
    if (plainText()) {
      return ops.text(b, textStart, pos - 1 - textStart);
    }
    // The decoded form is never longer than the raw one, so the raw length bounds the room.
    int t = ops.newText(escapedLength());
    int o = ops.textOffset(t);
    ops.shortenLastText(decodeEscaped(ops.textBuffer(), o) - o);
    return t;
  }
}

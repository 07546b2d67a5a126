package dev.whack.node.engine.json;

import dev.whack.node.engine.profile.Names;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.node.engine.profile.UpdateOps;
import java.nio.charset.StandardCharsets;

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
 *   <li>integers of 20 or more digits where a float is wanted (event {@code value}), floats of
 *       more than 64 characters, objects of more than 256 members and documents over 1 MiB.
 * </ul>
 *
 * Floats with at most 15 significant digits and a decimal exponent within 22 are computed exactly
 * (one correctly rounded operation on exact operands, as {@link Double#parseDouble} rounds); others
 * go through {@code Double.parseDouble} on their text. Property test {@code UpdateJsonReaderProperties}
 * checks the agreement with the reference on generated and mutated documents.
 *
 * <p>Concurrency: not thread-safe; one instance per thread.
 */
public final class UpdateJsonReader {
  /** Larger documents go to the reference reader. */
  public static final int MAX_DOCUMENT_BYTES = 1 << 20;

  private static final int MAX_MEMBERS = 256;
  private static final int MAX_FLOAT_CHARS = 64;

  private static final String[] MEMBERS = {
    "set", "unset", "incr", "add", "remove", "events", "producer", "seq"
  };
  private static final String[] EVENT_MEMBERS = {"name", "time", "value", "properties"};

  private static final double[] POW10 = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22
  };

  /** Thrown to abandon a document; preallocated and without a stack trace. */
  private static final class Decline extends RuntimeException {
    Decline() {
      super("declined", null, false, false);
    }
  }

  private static final Decline DECLINE = new Decline();

  private byte[] b;
  private int pos;
  private int end;
  private UpdateOps ops;
  private final AsciiView view = new AsciiView();

  // the number just read
  private boolean numberIsFloat;
  private long numberLong;
  private double numberDouble;
  private boolean numberFits; // integer: fits in 64 bits

  /**
   * Reads Update JSON into {@code ops} (cleared first).
   *
   * @return true when the document is accepted and {@code ops} holds it; false when the reader
   *     declines it, and {@link UpdateJson#parse} must decide (it throws the positioned error)
   */
  public boolean read(byte[] json, int offset, int length, UpdateOps ops) {
    ops.clear();
    if (offset < 0 || length < 0 || offset > json.length - length || length > MAX_DOCUMENT_BYTES) {
      return false;
    }
    this.b = json;
    this.pos = offset;
    this.end = offset + length;
    this.ops = ops;
    try {
      update();
      return true;
    } catch (Decline d) {
      ops.clear();
      return false;
    } finally {
      this.b = null;
      this.ops = null;
    }
  }

  private static Decline decline() {
    return DECLINE;
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
        int member = member(MEMBERS);
        if ((seen & (1 << member)) != 0) {
          throw decline();
        }
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

  /** Reads a member name that must be one of {@code names}; returns its index. */
  private int member(String[] names) {
    if (pos >= end || b[pos] != '"') {
      throw decline();
    }
    int mark = ops.textCount();
    int t = text();
    for (int i = 0; i < names.length; i++) {
      if (ops.textIs(t, names[i])) {
        ops.truncate(ops.setCount(), mark);
        return i;
      }
    }
    throw decline();
  }

  /** Reads an attribute name (checked as the reference checks it) followed by a colon. */
  private int attributeName() {
    if (pos >= end || b[pos] != '"') {
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
        if (pos >= end || b[pos] != '"') {
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
        int member = member(EVENT_MEMBERS);
        if ((seen & (1 << member)) != 0) {
          throw decline();
        }
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
            number();
            if (!numberIsFloat && !numberFits) {
              throw decline();
            }
            value = numberIsFloat ? numberDouble : (double) numberLong;
            hasValue = true;
          }
          default -> {
            // carried by the protobuf form, not aggregated: validated, then dropped
            int setMark = ops.setCount();
            int textMark = ops.textCount();
            readAttributes(setMark);
            ops.truncate(setMark, textMark);
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

  private void ws() {
    while (pos < end) {
      byte c = b[pos];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return;
      }
      pos++;
    }
  }

  private boolean take(char c) {
    if (pos < end && b[pos] == c) {
      pos++;
      return true;
    }
    return false;
  }

  private void expect(char c) {
    if (pos >= end || b[pos] != c) {
      throw decline();
    }
    pos++;
  }

  /** Whitespace, a colon, whitespace. */
  private void colon() {
    ws();
    expect(':');
    ws();
  }

  private void literal(String word) {
    int n = word.length();
    if (end - pos < n) {
      throw decline();
    }
    for (int i = 0; i < n; i++) {
      if (b[pos + i] != word.charAt(i)) {
        throw decline();
      }
    }
    pos += n;
  }

  /** A string value (the next token must be one); returns its text. */
  private int string() {
    if (pos >= end || b[pos] != '"') {
      throw decline();
    }
    return text();
  }

  /**
   * Reads the string at {@code pos} (its opening quote) into a new text of {@link #ops}: copied
   * as is when it has no escapes, decoded otherwise.
   */
  private int text() {
    int start = ++pos;
    byte[] b = this.b;
    while (pos < end) {
      int c = b[pos] & 0xFF;
      if (c == '"') {
        int t = ops.text(b, start, pos - start);
        pos++;
        return t;
      }
      if (c == '\\') {
        return escapedText(start);
      }
      if (c < 0x20) {
        throw decline();
      }
      pos = c < 0x80 ? pos + 1 : utf8(pos, c);
    }
    throw decline();
  }

  /** Position after the well-formed UTF-8 sequence that starts with {@code c} at {@code p}. */
  private int utf8(int p, int c) {
    if (c < 0xC2) {
      throw decline(); // continuation byte, or an overlong two-byte form
    }
    if (c < 0xE0) {
      continuation(p + 1, 0x80, 0xBF);
      return p + 2;
    }
    if (c < 0xF0) {
      continuation(p + 1, c == 0xE0 ? 0xA0 : 0x80, c == 0xED ? 0x9F : 0xBF);
      continuation(p + 2, 0x80, 0xBF);
      return p + 3;
    }
    if (c < 0xF5) {
      continuation(p + 1, c == 0xF0 ? 0x90 : 0x80, c == 0xF4 ? 0x8F : 0xBF);
      continuation(p + 2, 0x80, 0xBF);
      continuation(p + 3, 0x80, 0xBF);
      return p + 4;
    }
    throw decline();
  }

  private void continuation(int p, int min, int max) {
    if (p >= end) {
      throw decline();
    }
    int c = b[p] & 0xFF;
    if (c < min || c > max) {
      throw decline();
    }
  }

  /** Continues {@link #text} at the first backslash: decodes the whole string into a new text. */
  private int escapedText(int start) {
    // The decoded form is never longer than the raw one, so the raw length bounds the room.
    int rawEnd = pos;
    while (true) {
      if (rawEnd >= end) {
        throw decline();
      }
      byte c = b[rawEnd];
      if (c == '"') {
        break;
      }
      rawEnd += c == '\\' ? 2 : 1;
    }
    int t = ops.newText(rawEnd - start);
    byte[] out = ops.textBuffer();
    int o = ops.textOffset(t);
    int w = o;
    int p = start;
    while (true) {
      int c = b[p] & 0xFF;
      if (c == '"') {
        break;
      }
      if (c != '\\') {
        if (c < 0x20) {
          throw decline();
        }
        int next = c < 0x80 ? p + 1 : utf8(p, c);
        while (p < next) {
          out[w++] = b[p++];
        }
        continue;
      }
      if (p + 1 >= end) {
        throw decline();
      }
      int e = b[p + 1];
      p += 2;
      switch (e) {
        case '"', '\\', '/' -> out[w++] = (byte) e;
        case 'b' -> out[w++] = '\b';
        case 'f' -> out[w++] = '\f';
        case 'n' -> out[w++] = '\n';
        case 'r' -> out[w++] = '\r';
        case 't' -> out[w++] = '\t';
        case 'u' -> {
          int cp = hex4(p);
          p += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (p + 1 >= end || b[p] != '\\' || b[p + 1] != 'u') {
              throw decline();
            }
            int low = hex4(p + 2);
            if (low < 0xDC00 || low > 0xDFFF) {
              throw decline();
            }
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            throw decline();
          }
          w = encode(out, w, cp);
        }
        default -> throw decline();
      }
    }
    // p is at the closing quote (escapes cannot hide one from the scan above: \" is consumed)
    ops.shortenLastText(w - o);
    pos = p + 1;
    return t;
  }

  private int hex4(int p) {
    if (p + 4 > end) {
      throw decline();
    }
    int v = 0;
    for (int i = p; i < p + 4; i++) {
      int c = b[i];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        throw decline();
      }
      v = (v << 4) | d;
    }
    return v;
  }

  private static int encode(byte[] out, int w, int cp) {
    if (cp < 0x80) {
      out[w++] = (byte) cp;
    } else if (cp < 0x800) {
      out[w++] = (byte) (0xC0 | (cp >> 6));
      out[w++] = (byte) (0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out[w++] = (byte) (0xE0 | (cp >> 12));
      out[w++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
      out[w++] = (byte) (0x80 | (cp & 0x3F));
    } else {
      out[w++] = (byte) (0xF0 | (cp >> 18));
      out[w++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
      out[w++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
      out[w++] = (byte) (0x80 | (cp & 0x3F));
    }
    return w;
  }

  /** An integer token (not a float) that fits in 64 bits. */
  private long integer() {
    number();
    if (numberIsFloat || !numberFits) {
      throw decline();
    }
    return numberLong;
  }

  /**
   * Reads a JSON number: sets {@link #numberIsFloat}, and {@link #numberLong} with {@link
   * #numberFits} for an integer, or a finite {@link #numberDouble} for a float (else declines).
   */
  private void number() {
    int start = pos;
    boolean negative = take('-');
    if (pos >= end) {
      throw decline();
    }
    long mantissa = 0;
    int significant = 0; // digits from the first non-zero one, fraction included
    int intDigits = 0;
    int c = b[pos];
    if (c == '0') {
      pos++;
      intDigits = 1;
      if (pos < end && isDigit(b[pos])) {
        throw decline(); // leading zeros
      }
    } else if (c >= '1' && c <= '9') {
      while (pos < end && isDigit(b[pos])) {
        if (significant < 19) {
          mantissa = mantissa * 10 + (b[pos] - '0');
        }
        significant++;
        intDigits++;
        pos++;
      }
    } else {
      throw decline();
    }
    int fractionDigits = 0;
    boolean isFloat = false;
    if (pos < end && b[pos] == '.') {
      isFloat = true;
      pos++;
      if (pos >= end || !isDigit(b[pos])) {
        throw decline();
      }
      while (pos < end && isDigit(b[pos])) {
        int d = b[pos] - '0';
        if (significant > 0 || d != 0) {
          if (significant < 19) {
            mantissa = mantissa * 10 + d;
          }
          significant++;
        }
        if (significant <= 19) {
          fractionDigits++;
        }
        pos++;
      }
    }
    int exponent = 0;
    if (pos < end && (b[pos] == 'e' || b[pos] == 'E')) {
      isFloat = true;
      pos++;
      boolean negativeExponent = false;
      if (pos < end && (b[pos] == '+' || b[pos] == '-')) {
        negativeExponent = b[pos] == '-';
        pos++;
      }
      if (pos >= end || !isDigit(b[pos])) {
        throw decline();
      }
      while (pos < end && isDigit(b[pos])) {
        exponent = Math.min(exponent * 10 + (b[pos] - '0'), 100_000);
        pos++;
      }
      if (negativeExponent) {
        exponent = -exponent;
      }
    }
    numberIsFloat = isFloat;
    if (!isFloat) {
      // intDigits <= 18 cannot overflow; 19 digits may (mantissa is then read as unsigned)
      if (intDigits <= 18) {
        numberLong = negative ? -mantissa : mantissa;
        numberFits = true;
      } else if (intDigits == 19) {
        numberFits =
            negative
                ? Long.compareUnsigned(mantissa, Long.MIN_VALUE) <= 0
                : Long.compareUnsigned(mantissa, Long.MAX_VALUE) <= 0;
        numberLong = negative ? -mantissa : mantissa;
      } else {
        numberFits = false;
      }
      return;
    }
    if (pos - start > MAX_FLOAT_CHARS) {
      throw decline();
    }
    double d;
    int scale = exponent - fractionDigits;
    if (significant <= 15 && scale >= -22 && scale <= 22) {
      // exact operands, one correctly rounded operation: what Double.parseDouble returns
      d = scale >= 0 ? mantissa * POW10[scale] : mantissa / POW10[-scale];
      if (negative) {
        d = -d;
      }
    } else if (mantissa == 0 && significant == 0) {
      d = negative ? -0.0 : 0.0;
    } else {
      d = Double.parseDouble(new String(b, start, pos - start, StandardCharsets.ISO_8859_1));
    }
    if (!Double.isFinite(d)) {
      throw decline();
    }
    numberDouble = d;
  }

  private static boolean isDigit(int c) {
    return c >= '0' && c <= '9';
  }

  /** A reusable view of ASCII-compatible bytes as chars, for the timestamp checks. */
  private static final class AsciiView implements CharSequence {
    private byte[] b;
    private int off;
    private int len;

    void bind(byte[] b, int off, int len) {
      this.b = b;
      this.off = off;
      this.len = len;
    }

    @Override
    public int length() {
      return len;
    }

    @Override
    public char charAt(int index) {
      return (char) (b[off + index] & 0xFF);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return toString().subSequence(start, end);
    }

    @Override
    public String toString() {
      return new String(b, off, len, StandardCharsets.UTF_8);
    }
  }
}

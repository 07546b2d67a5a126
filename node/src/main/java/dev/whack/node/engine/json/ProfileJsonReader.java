package dev.whack.node.engine.json;

import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.Names;
import dev.whack.node.engine.profile.ProfileSink;
import dev.whack.node.engine.profile.Timestamps;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;

/**
 * The hot-path reader of Profile JSON (docs/profiles.md): streams a document straight from its
 * bytes into a {@link ProfileSink} (the compact writer's), with no parser, token, string, list or
 * message objects. Names and strings reach the sink as UTF-8 slices of the document itself, or of
 * one reused buffer when they had escapes; so a bulk load's put allocates little more than the
 * profile array it produces. The exceptions are in {@code "$dimensions"}, whose sink calls take
 * strings: a dimension's or category's name is a string, the one made for the same bytes in a
 * recent document when there is one, and a {@code "$sketch"} is the array its base64 decodes to.
 *
 * <h2>Strict by delegation</h2>
 *
 * As {@link UpdateJsonReader} does for updates: the reader accepts a document only when it is sure
 * the reference, {@link ProfileJson#parse(byte[], int, int, ProfileSink)} (jackson-core with strict
 * duplicate detection), accepts it and gives the sink the same pieces in the same order; anything
 * else it <em>declines</em> ({@link #read} returns false), and the caller restarts the sink and
 * runs the reference, whose result or positioned {@link JsonFormatException} is authoritative. It
 * declines:
 *
 * <ul>
 *   <li>every syntax error and every value the reference rejects (a duplicate member at any level,
 *       a bad or reserved attribute name, null, a nested object, a bad timestamp, bucket day or
 *       dimension day, an integer beyond 64 bits, a bucket of two numbers, a dimension count or
 *       {@code "$distinct"} that is not an integer, a {@code "$sketch"} that is not a base64
 *       string...);
 *   <li>whatever the sink rejects ({@link InvalidProfileException}, such as a future bucket, a
 *       negative count, counts for a distinct dimension or a sketch the dimension could not keep):
 *       the reference then reports it with its position;
 *   <li>the rare forms of {@link ByteJsonReader} (bytes that are not well-formed UTF-8, a
 *       byte-order mark, escapes of unpaired surrogates, floats of more than 64 characters),
 *       integers of 20 or more digits where a float is wanted (bucket sums), names of more than 800
 *       bytes, objects of more than 256 members, series or dimensions of more than 256 days, and
 *       documents over 1 MiB.
 * </ul>
 *
 * <p>The sink hears each piece in the reference's order (a name with its value, once that has been
 * read), and never before the reference would give it: only once the member is seen to end well. So
 * a declined document has given the sink at most a prefix of what the reference gives it, and the
 * compact writer interns the same names in the same order either way (ids come out the same). The
 * caller must still restart the sink before running the reference.
 *
 * <p>Concurrency: not thread-safe; one instance per thread.
 */
public final class ProfileJsonReader extends ByteJsonReader {
  /** Larger documents go to the reference reader. */
  public static final int MAX_DOCUMENT_BYTES = 1 << 20;

  /**
   * Members per object, days per series or dimension; beyond, the duplicate checks would be
   * quadratic.
   */
  private static final int MAX_MEMBERS = 256;

  /**
   * Longer names are declined (left to the reference): the name rules allow at most 200 UTF-16
   * chars, so at most 800 bytes, and jackson has a length limit of its own for names, far beyond.
   */
  private static final int MAX_NAME_BYTES = 4 * Names.MAX_NAME_CHARS;

  private ProfileSink sink;

  /**
   * Strings that had escapes, decoded; appended to through a document so every slice stays valid.
   */
  private byte[] decoded = new byte[256];

  private int decodedSize;

  // the string just read: its UTF-8 is str[strOff, strOff + strLen)
  private byte[] str;
  private int strOff;
  private int strLen;

  // the names seen in the objects being read, for the duplicate checks: an object's are those from
  // the index it started at; a name in the document has its offset, a decoded one ~offset
  private int nameCount;
  private int[] nameHash = new int[32];
  private int[] nameOff = new int[32];
  private int[] nameLen = new int[32];
  private final int[] days = new int[MAX_MEMBERS];

  // an open-addressing table of the attribute names (indexes of the arrays above), at most half
  // full; a slot is in use when its stamp is the current document's, so nothing is cleared
  private static final int TABLE_SLOTS = 2 * MAX_MEMBERS; // the hash below takes the top 9 bits
  private final int[] tableStamp = new int[TABLE_SLOTS];
  private final int[] tableName = new int[TABLE_SLOTS];
  private int stamp;

  // the dimension and category names' strings of recent documents (nameString): at most 1,024
  // names of at most 48 bytes, under 200 KiB
  private static final int NAME_CACHE_BITS = 10;
  private static final int MAX_CACHED_NAME_BYTES = 48;
  private final byte[][] cachedBytes = new byte[1 << NAME_CACHE_BITS][];
  private final String[] cachedString = new String[1 << NAME_CACHE_BITS];

  /**
   * Reads Profile JSON into {@code sink}, which must have been started (for the compact writer,
   * {@code startPut}).
   *
   * @return true when the document is accepted and the sink has every piece of it; false when the
   *     reader declines it: the sink must be restarted and {@link ProfileJson#parse(byte[], int,
   *     int, ProfileSink)} must decide (it throws the positioned error)
   */
  public boolean read(byte[] json, int offset, int length, ProfileSink sink) {
    if (!inBounds(json, offset, length, MAX_DOCUMENT_BYTES)) {
      return false;
    }
    bind(json, offset, length);
    this.sink = sink;
    decodedSize = 0;
    nameCount = 0;
    if (++stamp == 0) {
      Arrays.fill(tableStamp, 0);
      stamp = 1;
    }
    try {
      profile();
      return true;
    } catch (Decline | InvalidProfileException | IllegalArgumentException e) {
      // the sink's rejections and the timestamp and day checks' are declines too
      return false;
    } finally {
      unbind();
      this.sink = null;
      this.str = null;
    }
  }

  // ------------------------------------------------------------------ structure

  private void profile() {
    ws();
    expect('{');
    ws();
    if (!take('}')) {
      boolean events = false;
      boolean producers = false;
      boolean dimensions = false;
      do {
        ws();
        name();
        colon();
        if (strLen > 0 && str[strOff] == '$') {
          if (!events && is("$events")) {
            events = true;
            events();
          } else if (!producers && is("$producers")) {
            producers = true;
            producers();
          } else if (!dimensions && is("$dimensions")) {
            dimensions = true;
            dimensions();
          } else {
            throw decline();
          }
        } else {
          distinctAttribute();
          byte[] name = str;
          int off = strOff;
          int len = strLen;
          Names.checkAttribute(name, off, len);
          value(name, off, len);
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
   * A value of the value rules (docs/profiles.md) for the attribute with the given name; given to
   * the sink once the member is known to end well ({@link #memberEnd}).
   */
  private void value(byte[] name, int off, int len) {
    if (pos >= end) {
      throw decline();
    }
    switch (b[pos]) {
      case '"' -> {
        string();
        if (Timestamps.looksLikeTimestamp(view.bind(str, strOff, strLen))) {
          long millis = Timestamps.parse(view);
          memberEnd();
          sink.attribute(name, off, len);
          sink.timestampValue(millis);
        } else {
          memberEnd();
          sink.attribute(name, off, len);
          sink.stringValue(str, strOff, strLen);
        }
      }
      case '[' -> {
        pos++;
        sink.attribute(name, off, len);
        sink.startSet();
        ws();
        if (!take(']')) {
          do {
            ws();
            string();
            sink.element(str, strOff, strLen);
            ws();
          } while (take(','));
          expect(']');
        }
        memberEnd();
        sink.endSet();
      }
      case '{' -> {
        pos++;
        ws();
        string();
        if (!is("$string")) {
          throw decline();
        }
        colon();
        string();
        ws();
        expect('}');
        memberEnd();
        sink.attribute(name, off, len);
        sink.stringValue(str, strOff, strLen);
      }
      case 't' -> {
        literal("true");
        memberEnd();
        sink.attribute(name, off, len);
        sink.boolValue(true);
      }
      case 'f' -> {
        literal("false");
        memberEnd();
        sink.attribute(name, off, len);
        sink.boolValue(false);
      }
      default -> {
        number();
        if (!numberIsFloat && !numberFits) {
          throw decline();
        }
        memberEnd();
        sink.attribute(name, off, len);
        if (numberIsFloat) {
          sink.floatValue(numberDouble);
        } else {
          sink.intValue(numberLong);
        }
      }
    }
  }

  /**
   * Whitespace, then the comma or closing brace after a member (left to be read): a piece is given
   * to the sink only after this, so never where the reference fails first. The reference gives a
   * piece as soon as its value's last token is read, and at times checks the byte after it (a
   * literal followed by a letter is one bad token to jackson, and then no piece at all).
   */
  private void memberEnd() {
    ws();
    if (pos >= end || (b[pos] != ',' && b[pos] != '}')) {
      throw decline();
    }
  }

  /** {@code "$events"}: event name -> object of day -> bucket. */
  private void events() {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int scope = nameCount;
    do {
      ws();
      name();
      distinct(scope);
      colon();
      if (pos >= end || b[pos] != '{') {
        throw decline();
      }
      sink.event(str, strOff, strLen);
      series();
      ws();
    } while (take(','));
    expect('}');
    nameCount = scope;
  }

  /**
   * One series: {@code "YYYY-MM-DD": [count]}, {@code [count, sum, sumSquares]} or {@code [count,
   * sum, sumSquares, min, max]} per day, and {@code "$first"} then {@code "$last"} (timestamps)
   * together anywhere among them.
   */
  private void series() {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int n = 0;
    int times = 0; // bit 0: "$first" read, bit 1: "$last"
    long first = 0;
    do {
      ws();
      name();
      if (strLen > 0 && str[strOff] == '$') {
        int bit = nameIs(FIRST) ? 1 : nameIs(LAST) ? 2 : 0;
        if (bit == 0 || (times & bit) != 0 || bit == 2 && times != 1) {
          throw decline();
        }
        colon();
        if (pos >= end || b[pos] != '"') {
          throw decline();
        }
        string();
        if (!Timestamps.looksLikeTimestamp(view.bind(str, strOff, strLen))) {
          throw decline();
        }
        long t = Timestamps.parse(view);
        memberEnd();
        if (bit == 1) {
          first = t;
        } else {
          sink.times(first, t);
        }
        times |= bit;
        ws();
        continue;
      }
      if (times == 1) {
        throw decline();
      }
      int day = Timestamps.parseDay(view.bind(str, strOff, strLen));
      for (int i = 0; i < n; i++) {
        if (days[i] == day) {
          throw decline(); // the same day twice: the same name, as the day form is fixed
        }
      }
      if (n == MAX_MEMBERS) {
        throw decline();
      }
      days[n++] = day;
      colon();
      expect('[');
      ws();
      long count = integer();
      ws();
      double sum = 0;
      double squares = 0;
      boolean minMax = false;
      double min = 0;
      double max = 0;
      if (take(',')) {
        ws();
        sum = floating();
        ws();
        expect(',');
        ws();
        squares = floating();
        ws();
        if (take(',')) {
          ws();
          min = floating();
          ws();
          expect(',');
          ws();
          max = floating();
          ws();
          minMax = true;
        }
      }
      expect(']');
      memberEnd();
      if (minMax) {
        sink.bucket(day, count, sum, squares, min, max);
      } else {
        sink.bucket(day, count, sum, squares);
      }
      ws();
    } while (take(','));
    expect('}');
    if (times == 1) {
      throw decline();
    }
  }

  private static final byte[] FIRST = "$first".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] LAST = "$last".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  /** Whether the name just read is {@code ascii}. */
  private boolean nameIs(byte[] ascii) {
    return strLen == ascii.length
        && Arrays.equals(str, strOff, strOff + strLen, ascii, 0, ascii.length);
  }

  /** {@code "$producers"}: producer -> sequence number. */
  private void producers() {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int scope = nameCount;
    do {
      ws();
      name();
      distinct(scope);
      colon();
      long seq = integer();
      memberEnd();
      sink.producer(str, strOff, strLen, seq);
      ws();
    } while (take(','));
    expect('}');
    nameCount = scope;
  }

  /**
   * {@code "$dimensions"}: dimension -> object of day -> object of category -> count, or a distinct
   * day's {@code "$distinct"} (read, checked as an integer and not given: the reference ignores it)
   * and {@code "$sketch"} (base64, decoded as the reference decodes it); every other name is a
   * category, one that starts with '$' too (a learned value may). The reference gives a count or a
   * sketch to the sink as it reads it; an empty dimension or day gives nothing.
   */
  private void dimensions() {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int scope = nameCount;
    do {
      ws();
      name();
      distinct(scope);
      colon();
      String dimension = nameString(str, strOff, strLen);
      dimensionDays(dimension);
      ws();
    } while (take(','));
    expect('}');
    nameCount = scope;
  }

  /** One dimension's days: {@code "YYYY-MM-DD": {...}}, each day once. */
  private void dimensionDays(String dimension) {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int n = 0;
    do {
      ws();
      name();
      int day = Timestamps.parseDay(view.bind(str, strOff, strLen));
      for (int i = 0; i < n; i++) {
        if (days[i] == day) {
          throw decline(); // the same day twice: the same name, as the day form is fixed
        }
      }
      if (n == MAX_MEMBERS) {
        throw decline();
      }
      days[n++] = day;
      colon();
      dimensionDay(dimension, day);
      ws();
    } while (take(','));
    expect('}');
  }

  /** One day of a dimension: category counts, or {@code "$distinct"} and {@code "$sketch"}. */
  private void dimensionDay(String dimension, int day) {
    expect('{');
    ws();
    if (take('}')) {
      return;
    }
    int scope = nameCount;
    do {
      ws();
      name();
      distinct(scope);
      colon();
      boolean reserved = strLen > 0 && str[strOff] == '$';
      if (reserved && nameIs(DISTINCT)) {
        integer(); // any 64-bit integer: the reference reads it and ignores it
        memberEnd();
      } else if (reserved && nameIs(SKETCH)) {
        string();
        byte[] body = base64(str, strOff, strLen);
        memberEnd();
        sink.dimensionSketch(dimension, day, body);
      } else { // any other name is a category, "$100" included
        byte[] name = str;
        int off = strOff;
        int len = strLen;
        long count = integer();
        memberEnd();
        sink.dimensionCount(dimension, day, nameString(name, off, len), count);
      }
      ws();
    } while (take(','));
    expect('}');
    nameCount = scope;
  }

  private static final byte[] DISTINCT =
      "$distinct".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final byte[] SKETCH =
      "$sketch".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final Base64.Decoder BASE64 = Base64.getDecoder();

  /**
   * A sketch's bytes: the UTF-8 {@code s[off, off + len)} decoded by the reference's decoder. The
   * reference decodes the string's ISO-8859-1 bytes, which are these bytes when all are ASCII; a
   * string with any other character fails both ways (every byte of a multi-byte UTF-8 sequence, and
   * the '?' of an unmappable character, is outside the base64 alphabet).
   *
   * @throws IllegalArgumentException when it is not base64 (a decline)
   */
  private static byte[] base64(byte[] s, int off, int len) {
    ByteBuffer out = BASE64.decode(ByteBuffer.wrap(s, off, len)); // its array from 0 to limit
    byte[] body = out.array();
    return out.limit() == body.length ? body : Arrays.copyOf(body, out.limit());
  }

  /**
   * The name {@code utf8[off, off + len)} as a string, for the sink's dimension calls: a recent
   * one's string when it had the same bytes, so a bulk load of profiles that count in the same
   * dimensions and categories makes no string per name. Direct-mapped by a hash of the bytes; a
   * name longer than {@link #MAX_CACHED_NAME_BYTES} is never kept.
   */
  private String nameString(byte[] utf8, int off, int len) {
    if (len > MAX_CACHED_NAME_BYTES) {
      return new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8);
    }
    int h = len;
    for (int i = off; i < off + len; i++) {
      h = 31 * h + utf8[i];
    }
    int slot = (h * 0x9E3779B9) >>> (32 - NAME_CACHE_BITS);
    byte[] cached = cachedBytes[slot];
    if (cached != null && Arrays.equals(cached, 0, cached.length, utf8, off, off + len)) {
      return cachedString[slot];
    }
    String s = new String(utf8, off, len, java.nio.charset.StandardCharsets.UTF_8);
    cachedBytes[slot] = Arrays.copyOfRange(utf8, off, off + len);
    cachedString[slot] = s;
    return s;
  }

  // ------------------------------------------------------------------ strings and names

  /** Reads the string token at {@code pos} into {@link #str}: in place, or decoded. */
  private void string() {
    if (!atString()) {
      throw decline();
    }
    if (plainText()) {
      str = b;
      strOff = textStart;
      strLen = pos - 1 - textStart;
      return;
    }
    // The decoded form is never longer than the raw one, so the raw length bounds the room.
    int room = escapedLength();
    if (decodedSize + room > decoded.length) {
      decoded = Arrays.copyOf(decoded, Math.max(decoded.length * 2, decodedSize + room));
    }
    int w = decodeEscaped(decoded, decodedSize);
    str = decoded;
    strOff = decodedSize;
    strLen = w - decodedSize;
    decodedSize = w;
  }

  /** A member name (a string of at most {@link #MAX_NAME_BYTES}). */
  private void name() {
    string();
    if (strLen > MAX_NAME_BYTES) {
      throw decline();
    }
  }

  /** Whether the string just read is exactly the ASCII {@code s}. */
  private boolean is(String s) {
    int n = s.length();
    if (strLen != n) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (str[strOff + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Records the name just read as an attribute of the profile object; declines when the profile
   * already has it (the reference's strict duplicate detection). Attribute names are found through
   * {@link #tableName}.
   */
  private void distinctAttribute() {
    int h = filter();
    if (nameCount >= MAX_MEMBERS) {
      throw decline();
    }
    int mask = TABLE_SLOTS - 1;
    int slot = (h * 0x9E3779B9) >>> 23;
    while (tableStamp[slot] == stamp) {
      if (same(tableName[slot], h)) {
        throw decline();
      }
      slot = (slot + 1) & mask;
    }
    tableStamp[slot] = stamp;
    tableName[slot] = nameCount;
    record(h);
  }

  /**
   * Records the name just read as a member of an inner object (event series, producers, dimensions,
   * a dimension's day) whose names start at index {@code scope}; declines when it already has it.
   * These objects are small: their names are compared with each.
   */
  private void distinct(int scope) {
    int h = filter();
    if (nameCount - scope >= MAX_MEMBERS) {
      throw decline();
    }
    for (int i = scope; i < nameCount; i++) {
      if (same(i, h)) {
        throw decline();
      }
    }
    record(h);
  }

  /**
   * A filter of the name just read, before the exact comparison: its length and three sampled
   * bytes, which tell the names of a profile apart about as well as a full hash does, at a fraction
   * of its cost (hashing every byte took a fifth of the reader's time).
   */
  private int filter() {
    int len = strLen;
    int h = len;
    if (len > 0) {
      byte[] s = str;
      int off = strOff;
      h ^= (s[off] & 0xFF) << 8 ^ (s[off + (len >> 1)] & 0xFF) << 16 ^ s[off + len - 1] << 24;
    }
    return h;
  }

  private void record(int h) {
    if (nameCount == nameHash.length) {
      int cap = nameCount * 2;
      nameHash = Arrays.copyOf(nameHash, cap);
      nameOff = Arrays.copyOf(nameOff, cap);
      nameLen = Arrays.copyOf(nameLen, cap);
    }
    nameHash[nameCount] = h;
    nameOff[nameCount] = str == b ? strOff : ~strOff;
    nameLen[nameCount] = strLen;
    nameCount++;
  }

  /** Whether name {@code i} is the string just read, whose filter value is {@code h}. */
  private boolean same(int i, int h) {
    int len = strLen;
    if (nameHash[i] != h || nameLen[i] != len) {
      return false;
    }
    int o = nameOff[i];
    byte[] other = o >= 0 ? b : decoded;
    o = o >= 0 ? o : ~o;
    return Arrays.equals(other, o, o + len, str, strOff, strOff + len);
  }
}

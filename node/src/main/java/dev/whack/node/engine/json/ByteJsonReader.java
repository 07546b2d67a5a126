package dev.whack.node.engine.json;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The byte-level tokens of the hot-path readers ({@link UpdateJsonReader}, {@link
 * ProfileJsonReader}): whitespace, punctuation, literals, strings with UTF-8 validation and
 * escapes, and numbers with the reference's exact float rules, read straight from a document's
 * bytes.
 *
 * <p>Every token accepts only what jackson-core (the reference reader, {@link JsonReading#FACTORY})
 * reads to the same value, and <em>declines</em> anything else by throwing {@link #decline()}, a
 * preallocated exception without a stack trace that the subclass's {@code read} turns into {@code
 * false}. Strings decline bytes that are not well-formed UTF-8 (overlong forms, encoded surrogates:
 * the reference reads some of them, into strings that would not round-trip), control characters,
 * and {@code \}{@code u} escapes of unpaired surrogates. Numbers decline leading zeros and every
 * malformed form; floats of more than 64 characters and floats that overflow are declined too.
 *
 * <p>Floats with at most 15 significant digits and a decimal exponent within 22 are computed
 * exactly (one correctly rounded operation on exact operands, as {@link Double#parseDouble}
 * rounds); others go through {@code Double.parseDouble} on their text, as the reference does.
 *
 * <p>Concurrency: not thread-safe; each reader belongs to one thread.
 */
abstract class ByteJsonReader {
  private static final int MAX_FLOAT_CHARS = 64;

  private static final double[] POW10 = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22
  };

  /** Thrown to abandon a document; preallocated and without a stack trace. */
  static final class Decline extends RuntimeException {
    Decline() {
      super("declined", null, false, false);
    }
  }

  private static final Decline DECLINE = new Decline();

  /** The document, the next byte to read, and the end of the document. */
  byte[] b;

  int pos;
  int end;

  /** Start of the contents of the string token being read (after its opening quote). */
  int textStart;

  // the number just read
  boolean numberIsFloat;
  long numberLong;
  double numberDouble;
  boolean numberFits; // integer: fits in 64 bits

  final AsciiView view = new AsciiView();

  /**
   * Whether {@code [offset, offset + length)} lies within {@code json} and is at most {@code max}.
   */
  static boolean inBounds(byte[] json, int offset, int length, int max) {
    return offset >= 0 && length >= 0 && offset <= json.length - length && length <= max;
  }

  final void bind(byte[] json, int offset, int length) {
    this.b = json;
    this.pos = offset;
    this.end = offset + length;
  }

  /** Forgets the document (the reader must not keep a request's bytes alive). */
  final void unbind() {
    this.b = null;
    view.bind(null, 0, 0); // nor through the view: it may be a whole Kafka fetch's buffer
  }

  static Decline decline() {
    return DECLINE;
  }

  // ------------------------------------------------------------------ punctuation

  final void ws() {
    while (pos < end) {
      byte c = b[pos];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return;
      }
      pos++;
    }
  }

  final boolean take(char c) {
    if (pos < end && b[pos] == c) {
      pos++;
      return true;
    }
    return false;
  }

  final void expect(char c) {
    if (pos >= end || b[pos] != c) {
      throw decline();
    }
    pos++;
  }

  /** Whitespace, a colon, whitespace. */
  final void colon() {
    ws();
    expect(':');
    ws();
  }

  final void literal(String word) {
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

  /** Whether the next byte opens a string. */
  final boolean atString() {
    return pos < end && b[pos] == '"';
  }

  // ------------------------------------------------------------------ strings

  /**
   * Scans the string whose opening quote is at {@code pos}, validating it. Without escapes (the
   * common case) it returns true: its UTF-8 is {@code b[textStart, pos - 1)} and {@code pos} is
   * past the closing quote. With escapes it returns false and leaves {@code pos} at the first
   * backslash; the caller then makes room for at most {@link #escapedLength()} bytes and calls
   * {@link #decodeEscaped}.
   */
  final boolean plainText() {
    int p = ++pos;
    textStart = p;
    byte[] b = this.b;
    int end = this.end;
    while (true) {
      if (p + 8 <= end) {
        long special = special((long) LONGS.get(b, p));
        if (special == 0) {
          p += 8;
          continue;
        }
        p += Long.numberOfTrailingZeros(special) >>> 3; // the first special byte of the eight
      } else if (p >= end) {
        throw decline();
      }
      int c = b[p] & 0xFF;
      if (c == '"') {
        pos = p + 1;
        return true;
      }
      if (c == '\\') {
        pos = p;
        return false;
      }
      if (c < 0x20) {
        throw decline();
      }
      p = c < 0x80 ? p + 1 : utf8(p, c);
    }
  }

  /** Eight bytes of a document at a time, in the order they come ({@link #special}). */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  /**
   * The high bit of each byte of {@code w} that is a quote, a backslash, a control character or not
   * ASCII, at least for the first such byte (a borrow may flag bytes above it): zero when all eight
   * are plain ASCII text. Scanning strings eight bytes at a time took reading a dumped profile
   * (BulkLoad's documents, no sink) from 985 to 865 ns and an update (UpdateCost's) from 133 to 113
   * ns; most strings there are names and values of 3 to 24 bytes.
   */
  private static long special(long w) {
    long quote = w ^ (ONES * '"');
    long backslash = w ^ (ONES * '\\');
    return ((quote - ONES) & ~quote | (backslash - ONES) & ~backslash | (w - ONES * 0x20) & ~w | w)
        & HIGHS;
  }

  /** After {@link #plainText} returned false: a bound of the decoded length (the raw length). */
  final int escapedLength() {
    int rawEnd = pos;
    while (true) {
      if (rawEnd >= end) {
        throw decline();
      }
      byte c = b[rawEnd];
      if (c == '"') {
        return rawEnd - textStart;
      }
      rawEnd += c == '\\' ? 2 : 1;
    }
  }

  /**
   * After {@link #escapedLength}: decodes the whole string from {@code textStart} into {@code out}
   * from {@code w}, leaves {@code pos} past its closing quote, and returns the end of what it
   * wrote.
   */
  final int decodeEscaped(byte[] out, int w) {
    byte[] b = this.b;
    int p = textStart;
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
    // p is at the closing quote (escapes cannot hide one from escapedLength: \" is consumed)
    pos = p + 1;
    return w;
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

  // ------------------------------------------------------------------ numbers

  /** An integer token (not a float) that fits in 64 bits. */
  final long integer() {
    number();
    if (numberIsFloat || !numberFits) {
      throw decline();
    }
    return numberLong;
  }

  /**
   * A number where a float is wanted: a float, or an integer that fits in 64 bits (the reference
   * reads a longer one through {@code BigInteger}; declined).
   */
  final double floating() {
    number();
    if (numberIsFloat) {
      return numberDouble;
    }
    if (!numberFits) {
      throw decline();
    }
    return (double) numberLong;
  }

  /**
   * Reads a JSON number: sets {@link #numberIsFloat}, and {@link #numberLong} with {@link
   * #numberFits} for an integer, or a finite {@link #numberDouble} for a float (else declines).
   */
  final void number() {
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

  /**
   * A reusable view of bytes as chars, one char per byte, for the timestamp and day checks: every
   * character of those shapes is ASCII, and a byte of a multi-byte UTF-8 sequence (0x80 and above)
   * never matches one, so the checks answer as they would on the decoded string.
   */
  static final class AsciiView implements CharSequence {
    private byte[] b;
    private int off;
    private int len;

    AsciiView bind(byte[] b, int off, int len) {
      this.b = b;
      this.off = off;
      this.len = len;
      return this;
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

package dev.whack.cli.records;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Frames one NDJSON line, {@code {"key": K, "profile": {...}}}, {@code {"key": K, "update": {...}}}
 * or {@code {"key": K, "item": {...}}}, without reading the body: the key is decoded, the body's
 * bytes are cut out as they are, and the node parses and checks the body as it parses any profile
 * or update.
 *
 * <p>Why not parse the whole line: at the rate a refill runs (hundreds of thousands of records a
 * second on a machine the node shares) a full JSON parse in the loader costs as much CPU again as
 * the node's own parse. The common shape, the key first and the body last, is framed from its two
 * ends: after the key, the body runs from its opening brace to the line's last closing brace but
 * one. That cut is safe even on a malformed line: if what lies between is not exactly one object
 * (say {@code {...}, "extra": 1}), the node rejects it as a profile with trailing content. Any
 * other shape (the body first, members repeated) is walked member by member, skipping the body with
 * a string-aware bracket count.
 *
 * <p>Errors carry the 1-based column of the line and the same wording as the node's record parser.
 */
final class NdjsonEnvelope {
  private static final String NEEDS =
      "a record needs \"key\" and one of \"profile\", \"update\" or \"item\"";

  private NdjsonEnvelope() {}

  /**
   * @param to the index of the line's end (its newline, or the end of the data)
   * @return the record, or null for a blank line
   */
  static Record parse(byte[] b, int from, int to, long line) throws BadRecordException {
    int end = to;
    while (end > from && isBlank(b[end - 1])) {
      end--;
    }
    int i = skipBlank(b, from, end);
    if (i == end) {
      return null;
    }
    Cursor c = new Cursor(b, from, end, line);
    c.at = i;
    c.expect('{', "a record object");
    String key = null;
    Record.Kind kind = null;
    byte[] body = null;
    c.skipBlank();
    if (c.peek() == '}') {
      throw c.fail(NEEDS);
    }
    while (true) {
      c.skipBlank();
      int nameAt = c.at;
      String member = c.string("a member name");
      c.skipBlank();
      c.expect(':', "':' after \"" + member + "\"");
      c.skipBlank();
      switch (member) {
        case "key" -> {
          if (key != null) {
            throw c.failAt(nameAt, "duplicate member \"key\"");
          }
          if (c.peek() != '"') {
            throw c.fail("\"key\" is a string");
          }
          key = c.string("\"key\"");
        }
        case "segment" -> {
          if (kind != null) {
            throw c.failAt(nameAt, "a segment record has nothing but \"segment\"");
          }
          kind = Record.Kind.SEGMENT;
          if (c.peek() != '{') {
            throw c.fail("\"segment\" is an object");
          }
          int bodyStart = c.at;
          c.skipObject();
          body = Arrays.copyOfRange(b, bodyStart, c.at);
        }
        case "profile", "update", "item" -> {
          Record.Kind k =
              switch (member) {
                case "profile" -> Record.Kind.PROFILE;
                case "update" -> Record.Kind.UPDATE;
                default -> Record.Kind.ITEM;
              };
          if (kind != null) {
            throw c.failAt(
                nameAt,
                kind == k
                    ? "duplicate member \"" + member + "\""
                    : "a record has one of a profile, an update or an item");
          }
          kind = k;
          if (c.peek() != '{') {
            throw c.fail("\"" + member + "\" is an object");
          }
          int bodyStart = c.at;
          if (key != null && b[end - 1] == '}') {
            // The common shape: the body is the last member. Cut it out from the line's end.
            int bodyEnd = end - 1;
            while (bodyEnd > bodyStart && isBlank(b[bodyEnd - 1])) {
              bodyEnd--;
            }
            if (bodyEnd - bodyStart >= 2 && b[bodyEnd - 1] == '}') {
              return new Record(key, kind, false, Arrays.copyOfRange(b, bodyStart, bodyEnd), line);
            }
          }
          c.skipObject();
          body = Arrays.copyOfRange(b, bodyStart, c.at);
        }
        default ->
            throw c.failAt(
                nameAt,
                "unknown record member \""
                    + member
                    + "\" (expected key, profile, update, item, segment)");
      }
      c.skipBlank();
      int sep = c.next("',' or '}'");
      if (sep == '}') {
        break;
      }
      if (sep != ',') {
        throw c.failAt(c.at - 1, "expected ',' or '}' between members");
      }
    }
    c.skipBlank();
    if (c.at != end) {
      throw c.fail("unexpected content after the record");
    }
    if (kind == Record.Kind.SEGMENT) {
      if (key != null) {
        throw c.failAt(end - 1, "a segment record has no \"key\"");
      }
      return new Record("", kind, false, body, line);
    }
    if (key == null || kind == null) {
      throw c.failAt(end - 1, NEEDS);
    }
    return new Record(key, kind, false, body, line);
  }

  private static boolean isBlank(byte x) {
    return x == ' ' || x == '\t' || x == '\r' || x == '\n';
  }

  private static int skipBlank(byte[] b, int i, int end) {
    while (i < end && isBlank(b[i])) {
      i++;
    }
    return i;
  }

  /** A position in the line and the ways to move it. */
  private static final class Cursor {
    final byte[] b;
    final int from;
    final int end;
    final long line;
    int at;

    Cursor(byte[] b, int from, int end, long line) {
      this.b = b;
      this.from = from;
      this.end = end;
      this.line = line;
    }

    int peek() {
      return at < end ? b[at] & 0xff : -1;
    }

    int next(String expected) throws BadRecordException {
      if (at >= end) {
        throw fail("unexpected end of the line, expected " + expected);
      }
      return b[at++] & 0xff;
    }

    void skipBlank() {
      at = NdjsonEnvelope.skipBlank(b, at, end);
    }

    void expect(char ch, String what) throws BadRecordException {
      if (at >= end) {
        throw fail("unexpected end of the line, expected " + what);
      }
      if (b[at] != ch) {
        throw fail("expected " + what);
      }
      at++;
    }

    /** A JSON string at the cursor, decoded. */
    String string(String what) throws BadRecordException {
      if (peek() != '"') {
        throw fail("expected " + what + " (a string)");
      }
      int start = ++at;
      boolean escaped = false;
      while (at < end) {
        byte x = b[at];
        if (x == '"') {
          String s =
              escaped
                  ? unescape(start, at)
                  : new String(b, start, at - start, StandardCharsets.UTF_8);
          at++;
          return s;
        }
        if (x == '\\') {
          escaped = true;
          at += 2;
          continue;
        }
        if ((x & 0xff) < 0x20) {
          throw fail("a control character inside a string");
        }
        at++;
      }
      throw failAt(start - 1, "a string that does not end");
    }

    private String unescape(int start, int stop) throws BadRecordException {
      StringBuilder s = new StringBuilder(stop - start);
      int i = start;
      while (i < stop) {
        int run = i;
        while (i < stop && b[i] != '\\') {
          i++;
        }
        s.append(new String(b, run, i - run, StandardCharsets.UTF_8));
        if (i >= stop) {
          break;
        }
        char e = (char) b[i + 1];
        switch (e) {
          case '"', '\\', '/' -> s.append(e);
          case 'b' -> s.append('\b');
          case 'f' -> s.append('\f');
          case 'n' -> s.append('\n');
          case 'r' -> s.append('\r');
          case 't' -> s.append('\t');
          case 'u' -> {
            if (i + 6 > stop) {
              throw failAt(i, "a \\u escape needs four hex digits");
            }
            try {
              s.append(
                  (char) Integer.parseInt(new String(b, i + 2, 4, StandardCharsets.US_ASCII), 16));
            } catch (NumberFormatException ex) {
              throw failAt(i, "a \\u escape needs four hex digits");
            }
            i += 4;
          }
          default -> throw failAt(i, "unknown escape \\" + e);
        }
        i += 2;
      }
      return s.toString();
    }

    /** Moves past the object at the cursor, counting brackets outside strings. */
    void skipObject() throws BadRecordException {
      int start = at;
      int depth = 0;
      while (at < end) {
        byte x = b[at];
        if (x == '"') {
          at++;
          while (at < end && b[at] != '"') {
            at += b[at] == '\\' ? 2 : 1;
          }
          if (at >= end) {
            throw failAt(start, "an object that does not end on this line");
          }
        } else if (x == '{' || x == '[') {
          depth++;
        } else if (x == '}' || x == ']') {
          depth--;
          if (depth == 0) {
            at++;
            return;
          }
        }
        at++;
      }
      throw failAt(start, "an object that does not end on this line");
    }

    BadRecordException fail(String reason) {
      return failAt(at, reason);
    }

    BadRecordException failAt(int index, String reason) {
      return new BadRecordException(
          "line " + line + ", column " + (Math.max(index, from) - from + 1), reason, true);
    }
  }
}

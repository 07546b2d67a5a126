package dev.whack.node.engine.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Random Update JSON for the reader tests: valid documents in varied spelling (whitespace, escapes,
 * non-ASCII, every number form, member order), and mutations of them that are mostly invalid.
 */
final class UpdateDocuments {
  private UpdateDocuments() {}

  static final String[] NAMES = {
    "a",
    "country",
    "age",
    "tags",
    "x y",
    "é",
    "名前",
    "😀",
    "a\"b",
    "back\\slash",
    "tab\tin",
    "$string",
    "$x",
    "",
    "n".repeat(200),
    "n".repeat(201),
    "null",
    "set"
  };

  static final String[] STRINGS = {
    "",
    "DK",
    "héllo",
    "a\"b\\c",
    "\u0000ctl",
    "\u001f",
    "line\nbreak",
    "2026-11-20T10:00:00Z",
    "2026-11-20T12:00:00.250+02:00",
    "2026-11-20T10:00:00.1234Z",
    "2026-13-20T10:00:00Z",
    "2026-11-20",
    "😀 emoji",
    "\uFFFF",
    "\u07FF\u0800",
    "/slash",
    "$string",
    "9999-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00+00:01"
  };

  static final String[] NUMBERS = {
    "0",
    "-0",
    "1",
    "-1",
    "42",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890",
    "1.5",
    "-0.0",
    "0.0",
    "1e5",
    "1E5",
    "1e+5",
    "1e-5",
    "2.5e3",
    "0.1",
    "0.30000000000000004",
    "123456789012345.6",
    "1234567890123456.7",
    "1.7976931348623157e308",
    "1.8e308",
    "4.9e-324",
    "1e-400",
    "1e400",
    "0e999999",
    "100000000000000000000000.0",
    "0.000000000000000000000000001",
    "3.141592653589793",
    "1e22",
    "1e23",
    "123456789012345e-22",
    "9007199254740993",
    "9007199254740993.0",
    "01",
    "1.",
    ".5",
    "+1",
    "-",
    "1e",
    "1.5e",
    "--1",
    "0x10",
    "NaN",
    "Infinity",
    "1.0e-5",
    "5e-324"
  };

  /** A JSON string literal for {@code s}, each character written plainly or escaped at random. */
  static String quote(Random r, String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
        char low = s.charAt(++i); // a pair is escaped as a pair or written as is
        sb.append(
            r.nextBoolean() ? String.format("\\u%04x\\u%04X", (int) c, (int) low) : "" + c + low);
        continue;
      }
      boolean mustEscape = c == '"' || c == '\\' || c < 0x20;
      int how = r.nextInt(mustEscape ? 2 : 8);
      if (how == 0) {
        sb.append(String.format(r.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
      } else if (mustEscape) {
        switch (c) {
          case '"' -> sb.append("\\\"");
          case '\\' -> sb.append("\\\\");
          case '\n' -> sb.append("\\n");
          case '\t' -> sb.append("\\t");
          case '\r' -> sb.append("\\r");
          case '\b' -> sb.append("\\b");
          case '\f' -> sb.append("\\f");
          default -> sb.append(String.format("\\u%04x", (int) c));
        }
      } else if (c == '/' && how == 1) {
        sb.append("\\/");
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  static String ws(Random r) {
    return switch (r.nextInt(10)) {
      case 0 -> " ";
      case 1 -> "\n  ";
      case 2 -> "\t";
      case 3 -> "\r\n";
      default -> "";
    };
  }

  static String pick(Random r, String[] from) {
    return from[r.nextInt(from.length)];
  }

  /** Mostly valid names; now and then one the reference rejects. */
  static String name(Random r) {
    return r.nextInt(6) == 0 ? pick(r, NAMES) : goodName(r);
  }

  static String goodName(Random r) {
    String[] good = {"a", "country", "age", "tags", "x y", "é", "名前", "😀", "a\"b", "score"};
    return pick(r, good);
  }

  static String number(Random r, boolean wild) {
    if (wild) {
      return pick(r, NUMBERS);
    }
    return switch (r.nextInt(6)) {
      case 0 -> Long.toString(r.nextLong());
      case 1 -> Long.toString(r.nextInt(1000) - 500);
      case 2 -> Double.toString(r.nextDouble() * 1000 - 500);
      case 3 -> {
        double d = Double.longBitsToDouble(r.nextLong()) % 1e300;
        yield Double.toString(Double.isFinite(d) ? d : 1.0);
      }
      case 4 -> (r.nextInt(2000) - 1000) + "." + r.nextInt(100);
      default -> r.nextInt(100) + "e" + (r.nextInt(40) - 20);
    };
  }

  static String value(Random r, boolean wild) {
    return switch (r.nextInt(wild ? 9 : 8)) {
      case 0, 1 -> quote(r, wild ? pick(r, STRINGS) : pick(r, new String[] {"DK", "héllo", "x"}));
      case 2 ->
          quote(
              r,
              "2026-11-"
                  + (10 + r.nextInt(10))
                  + "T10:00:00"
                  + pick(r, new String[] {"Z", ".5Z", "+01:00", "-11:30", ".250Z"}));
      case 3 -> number(r, wild);
      case 4 -> r.nextBoolean() ? "true" : "false";
      case 5 -> array(r, r.nextInt(4), wild);
      case 6 ->
          "{"
              + ws(r)
              + quote(r, "$string")
              + ws(r)
              + ":"
              + ws(r)
              + quote(r, pick(r, STRINGS))
              + ws(r)
              + "}";
      case 7 -> number(r, false);
      default ->
          pick(r, new String[] {"null", "{}", "[1]", "{\"a\":1}", "{\"$string\":1}", "[[]]"});
    };
  }

  static String array(Random r, int n, boolean wild) {
    List<String> items = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      items.add(quote(r, r.nextInt(3) == 0 ? pick(r, STRINGS) : "t" + r.nextInt(4)));
    }
    if (wild && r.nextInt(8) == 0) {
      items.add(pick(r, new String[] {"1", "null", "true", "[]"}));
    }
    return "[" + ws(r) + String.join("," + ws(r), items) + ws(r) + "]";
  }

  static String object(Random r, List<String> members) {
    return "{" + ws(r) + String.join(ws(r) + "," + ws(r), members) + ws(r) + "}";
  }

  static String member(Random r, String name, String value) {
    return quote(r, name) + ws(r) + ":" + ws(r) + value;
  }

  private static String event(Random r, boolean wild) {
    List<String> m = new ArrayList<>();
    if (!wild || r.nextInt(10) != 0) {
      m.add(
          member(
              r,
              "name",
              quote(
                  r,
                  wild && r.nextInt(10) == 0
                      ? pick(r, NAMES)
                      : pick(r, new String[] {"buy", "view", "é"}))));
    }
    if (r.nextInt(3) == 0) {
      String time =
          wild && r.nextInt(4) == 0
              ? pick(r, STRINGS)
              : "2026-11-" + (18 + r.nextInt(4)) + "T" + (10 + r.nextInt(10)) + ":00:00Z";
      m.add(member(r, "time", quote(r, time)));
    }
    if (r.nextInt(3) == 0) {
      m.add(member(r, "value", number(r, wild)));
    }
    if (r.nextInt(4) == 0) {
      List<String> props = new ArrayList<>();
      for (int i = 0; i < r.nextInt(3); i++) {
        props.add(member(r, "p" + i, value(r, wild)));
      }
      m.add(member(r, "properties", object(r, props)));
    }
    Collections.shuffle(m, r);
    return object(r, m);
  }

  /**
   * A random Update JSON document; {@code wild} mixes in names and values the reference rejects.
   */
  static String update(Random r, boolean wild) {
    List<String> members = new ArrayList<>();
    if (r.nextInt(2) == 0) {
      List<String> set = new ArrayList<>();
      List<String> used = new ArrayList<>();
      for (int i = 0; i < r.nextInt(4); i++) {
        String n = wild ? name(r) : goodName(r);
        if (!wild && used.contains(n)) {
          continue;
        }
        used.add(n);
        set.add(member(r, n, value(r, wild)));
      }
      members.add(member(r, "set", object(r, set)));
    }
    if (r.nextInt(4) == 0) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < r.nextInt(3); i++) {
        names.add(quote(r, wild ? pick(r, NAMES) : goodName(r)));
      }
      members.add(member(r, "unset", "[" + String.join(",", names) + "]"));
    }
    if (r.nextInt(3) == 0) {
      List<String> incr = new ArrayList<>();
      List<String> used = new ArrayList<>();
      for (int i = 0; i < 1 + r.nextInt(2); i++) {
        String n = wild ? name(r) : goodName(r);
        if (!wild && used.contains(n)) {
          continue;
        }
        used.add(n);
        incr.add(member(r, n, number(r, wild)));
      }
      members.add(member(r, "incr", object(r, incr)));
    }
    for (String delta : new String[] {"add", "remove"}) {
      if (r.nextInt(4) == 0) {
        String n = wild ? name(r) : goodName(r);
        members.add(
            member(r, delta, object(r, List.of(member(r, n, array(r, r.nextInt(4), wild))))));
      }
    }
    if (r.nextInt(2) == 0) {
      List<String> events = new ArrayList<>();
      for (int i = 0; i < r.nextInt(3); i++) {
        events.add(event(r, wild));
      }
      members.add(
          member(r, "events", "[" + ws(r) + String.join("," + ws(r), events) + ws(r) + "]"));
    }
    if (r.nextInt(5) == 0) {
      members.add(member(r, "producer", quote(r, r.nextInt(8) == 0 ? "" : "shop-" + r.nextInt(3))));
      members.add(member(r, "seq", wild ? number(r, true) : Integer.toString(r.nextInt(100))));
    }
    Collections.shuffle(members, r);
    return ws(r) + object(r, members) + ws(r);
  }

  private static final String[] PIECES = {
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "\\u",
    "\\ud83d",
    "\\udc00",
    "\"set\"",
    "\"events\"",
    "\"name\"",
    "null",
    "1",
    "-",
    ".",
    "e",
    "0",
    " ",
    "\n",
    "\u0000",
    "\u00e9",
    "\"2026-11-20T10:00:00Z\"",
    "\"$string\"",
    "true",
    "tru",
    "\"seq\"",
    "\"set\":{\"a\":1}",
    "/*",
    "//",
    "#",
    "'",
    "\uFEFF"
  };

  /** {@code doc} with one to three random edits (bytes removed, inserted, replaced, cut). */
  static byte[] mutate(Random r, String doc) {
    byte[] b = doc.getBytes(StandardCharsets.UTF_8);
    int edits = 1 + r.nextInt(3);
    for (int e = 0; e < edits; e++) {
      int at = b.length == 0 ? 0 : r.nextInt(b.length + 1);
      switch (r.nextInt(5)) {
        case 0 -> { // delete a short range
          int n = Math.min(b.length - at, 1 + r.nextInt(3));
          byte[] c = new byte[b.length - n];
          System.arraycopy(b, 0, c, 0, at);
          System.arraycopy(b, at + n, c, at, b.length - at - n);
          b = c;
        }
        case 1, 2 -> { // insert a piece
          byte[] piece =
              r.nextInt(4) == 0
                  ? new byte[] {(byte) r.nextInt(256)}
                  : PIECES[r.nextInt(PIECES.length)].getBytes(StandardCharsets.UTF_8);
          byte[] c = new byte[b.length + piece.length];
          System.arraycopy(b, 0, c, 0, at);
          System.arraycopy(piece, 0, c, at, piece.length);
          System.arraycopy(b, at, c, at + piece.length, b.length - at);
          b = c;
        }
        case 3 -> { // replace a byte
          if (at < b.length) {
            b[at] = (byte) r.nextInt(256);
          }
        }
        default -> { // cut
          b = java.util.Arrays.copyOf(b, at);
        }
      }
    }
    return b;
  }
}

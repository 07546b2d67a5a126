package dev.whack.node.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads the recorded request/reply cases under src/test/resources. */
final class ProtocolCases {
  /** One recorded conversation. */
  record Case(String name, byte[] request, String expected) {}

  private ProtocolCases() {}

  /** Text cases: '>' and '<' lines with \r \n \\ \xNN escapes; '#' lines name the next case. */
  static List<Case> text(String resource) {
    return read(resource, false);
  }

  /** Binary cases: '>' and '<' lines in hex; '<' keeps its spaces between packets. */
  static List<Case> binary(String resource) {
    return read(resource, true);
  }

  private static List<Case> read(String resource, boolean hex) {
    List<Case> cases = new ArrayList<>();
    String comment = null;
    byte[] request = null;
    for (String line : lines(resource)) {
      if (line.startsWith("# ")) {
        comment = line.substring(2);
      } else if (line.startsWith("> ")) {
        String body = line.substring(2);
        request = hex ? HexFormat.of().parseHex(body) : unescape(body);
      } else if (line.startsWith("< ")) {
        String body = line.substring(2);
        String expected = hex ? body : new String(unescape(body), StandardCharsets.ISO_8859_1);
        String name = comment != null && hex ? comment : abbreviate(request);
        cases.add(new Case(name, request, expected));
        comment = null;
      }
    }
    return cases;
  }

  private static List<String> lines(String resource) {
    try (InputStream in = ProtocolCases.class.getResourceAsStream("/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] unescape(String s) {
    byte[] out = new byte[s.length()];
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out[n++] = (byte) c;
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 'r' -> out[n++] = '\r';
        case 'n' -> out[n++] = '\n';
        case '\\' -> out[n++] = '\\';
        case 'x' -> {
          out[n++] = (byte) Integer.parseInt(s.substring(i + 1, i + 3), 16);
          i += 2;
        }
        default -> throw new IllegalArgumentException("bad escape \\" + e + " in " + s);
      }
    }
    return java.util.Arrays.copyOf(out, n);
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      switch (c) {
        case '\r' -> b.append("\\r");
        case '\n' -> b.append("\\n");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c >= 32 && c < 127) {
            b.append(c);
          } else {
            b.append(String.format("\\x%02x", (int) c));
          }
        }
      }
    }
    return b.toString();
  }

  private static String abbreviate(byte[] request) {
    String s = escape(new String(request, StandardCharsets.ISO_8859_1));
    return s.length() > 90 ? s.substring(0, 87) + "..." : s;
  }
}

package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request's target (RFC 9112, section 3.2) read into what the routes need: the path's segments as
 * bytes, each percent-decoded on its own (so {@code %2F} is a byte of a key, never a separator),
 * and the query's parameters as text. The codec hands the request line over one char per byte, so a
 * key's bytes come through whether the client encoded them or not.
 *
 * <p>Query parameters follow HTML forms ({@code +} is a space, then percent-decoding, as UTF-8);
 * the path does not ({@code +} is a plus).
 */
record RequestTarget(List<byte[]> segments, Map<String, String> parameters) {

  /** A target that cannot be read, with where in it, for a 400. */
  static final class BadTarget extends Exception {
    private static final long serialVersionUID = 1L;

    BadTarget(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Reads {@code uri} as the request line carries it: origin form ({@code /path?query}) or absolute
   * form ({@code http://host/path?query}, whose authority is ignored).
   *
   * @throws BadTarget for any other form, a {@code %} not followed by two hex digits, or a
   *     parameter given twice
   */
  static RequestTarget parse(String uri) throws BadTarget {
    int start = 0;
    int scheme = uri.indexOf("://");
    if (scheme > 0 && (uri.startsWith("http://") || uri.startsWith("https://"))) {
      int slash = uri.indexOf('/', scheme + 3);
      int question = uri.indexOf('?', scheme + 3);
      if (slash < 0 || (question >= 0 && question < slash)) {
        return new RequestTarget(List.of(), parameters(uri, question < 0 ? -1 : question + 1));
      }
      start = slash;
    } else if (!uri.startsWith("/")) {
      throw new BadTarget("the request target is a path starting with /, not " + sample(uri));
    }
    if (uri.indexOf('#') >= 0) {
      throw new BadTarget("a request target has no fragment (#): percent-encode a # as %23");
    }
    int question = uri.indexOf('?', start);
    int pathEnd = question < 0 ? uri.length() : question;
    List<byte[]> segments = new ArrayList<>();
    int from = start + 1;
    while (true) {
      int slash = uri.indexOf('/', from);
      int end = slash < 0 || slash > pathEnd ? pathEnd : slash;
      segments.add(decode(uri, from, end, false));
      if (end == pathEnd) {
        break;
      }
      from = end + 1;
    }
    if (segments.size() == 1 && segments.get(0).length == 0) {
      segments.clear(); // "/" itself
    }
    return new RequestTarget(
        Collections.unmodifiableList(segments), parameters(uri, question < 0 ? -1 : question + 1));
  }

  private static Map<String, String> parameters(String uri, int from) throws BadTarget {
    if (from < 0 || from >= uri.length()) {
      return Map.of();
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    while (from <= uri.length()) {
      int amp = uri.indexOf('&', from);
      int end = amp < 0 ? uri.length() : amp;
      if (end > from) {
        int eq = uri.indexOf('=', from);
        int nameEnd = eq < 0 || eq > end ? end : eq;
        String name = new String(decode(uri, from, nameEnd, true), UTF_8);
        String value = nameEnd == end ? "" : new String(decode(uri, nameEnd + 1, end, true), UTF_8);
        if (parameters.put(name, value) != null) {
          throw new BadTarget("parameter " + name + " is given twice");
        }
      }
      from = end + 1;
    }
    return Collections.unmodifiableMap(parameters);
  }

  /** The chars {@code [from, to)} of the target as bytes, percent-decoded. */
  private static byte[] decode(String uri, int from, int to, boolean form) throws BadTarget {
    ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      char c = uri.charAt(i);
      if (c == '%') {
        int high = i + 2 < to ? hex(uri.charAt(i + 1)) : -1;
        int low = high < 0 ? -1 : hex(uri.charAt(i + 2));
        if (low < 0) {
          throw new BadTarget(
              "bad percent-encoding at position "
                  + i
                  + " of the request target: % is followed by two hex digits (a % itself is %25)");
        }
        out.write(high << 4 | low);
        i += 2;
      } else if (c == '+' && form) {
        out.write(' ');
      } else {
        out.write(c); // one char per byte, as the codec read the line
      }
    }
    return out.toByteArray();
  }

  /** An ASCII hex digit's value, or -1 (Character.digit would take other scripts' digits). */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }

  private static String sample(String uri) {
    return uri.length() <= 40 ? uri : uri.substring(0, 40) + "...";
  }
}

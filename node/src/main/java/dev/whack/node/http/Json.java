package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.SegmentMembership;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.time.Instant;
import java.util.List;

/** The few JSON forms the API writes beside the profiles themselves (RFC 8259 strings). */
final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /** {@code text} as a JSON string: quotes, backslashes and control characters escaped. */
  static StringBuilder string(StringBuilder out, String text) {
    out.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"');
  }

  /** A JSON array of strings. */
  static StringBuilder strings(StringBuilder out, List<String> texts) {
    out.append('[');
    for (int i = 0; i < texts.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      string(out, texts.get(i));
    }
    return out.append(']');
  }

  /**
   * Memberships as a JSON array of {@code {"segment":..,"entered":"<RFC 3339 UTC>",
   * "entered_ms":<epoch millis>}}.
   */
  static StringBuilder memberships(StringBuilder out, List<SegmentMembership> memberships) {
    out.append('[');
    for (int i = 0; i < memberships.size(); i++) {
      SegmentMembership m = memberships.get(i);
      string(out.append(i > 0 ? ",{\"segment\":" : "{\"segment\":"), m.segment());
      string(out.append(",\"entered\":"), Instant.ofEpochMilli(m.enteredMillis()).toString());
      out.append(",\"entered_ms\":").append(m.enteredMillis()).append('}');
    }
    return out.append(']');
  }

  /**
   * A key as text for a JSON body: its bytes as UTF-8 when they are UTF-8 (nearly every key), else
   * percent-encoded as the request would spell it, so that it still names the key exactly.
   */
  static String key(byte[] key) {
    try {
      return UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(key))
          .toString();
    } catch (CharacterCodingException e) {
      StringBuilder text = new StringBuilder(key.length * 3);
      for (byte b : key) {
        int v = b & 0xFF;
        if (v > 0x20 && v < 0x7f && v != '%') {
          text.append((char) v);
        } else {
          text.append('%').append(Character.toUpperCase(HEX[v >> 4]));
          text.append(Character.toUpperCase(HEX[v & 0xF]));
        }
      }
      return text.toString();
    }
  }
}

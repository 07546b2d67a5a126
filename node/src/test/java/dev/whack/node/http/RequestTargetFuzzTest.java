package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Map;

/**
 * Fuzz target: a request target as the codec hands it over (one char per byte of the request line).
 * {@link RequestTarget#parse} returns a target or throws {@link RequestTarget.BadTarget}, never
 * anything else; a target it reads routes without failing; and it agrees with a model: the target
 * written back fully percent-encoded reads as the same segments and parameters. Seeds in {@code
 * RequestTargetFuzzTestInputs/parse/}.
 */
class RequestTargetFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void parse(byte[] input) throws RequestTarget.BadTarget {
    RequestTarget target;
    try {
      target = RequestTarget.parse(new String(input, ISO_8859_1));
    } catch (RequestTarget.BadTarget e) {
      assertNotNull(e.getMessage());
      return;
    }
    assertNotNull(Route.of(target.segments()));
    StringBuilder again = new StringBuilder();
    for (byte[] segment : target.segments()) {
      again.append('/');
      encode(again, segment);
    }
    if (again.isEmpty()) {
      again.append('/');
    }
    char separator = '?';
    for (Map.Entry<String, String> p : target.parameters().entrySet()) {
      again.append(separator);
      encode(again, p.getKey().getBytes(UTF_8));
      again.append('=');
      encode(again, p.getValue().getBytes(UTF_8));
      separator = '&';
    }
    RequestTarget read = RequestTarget.parse(again.toString());
    assertEquals(target.segments().size(), read.segments().size(), again::toString);
    for (int i = 0; i < read.segments().size(); i++) {
      assertArrayEquals(target.segments().get(i), read.segments().get(i), again::toString);
    }
    assertEquals(target.parameters(), read.parameters(), again::toString);
  }

  private static void encode(StringBuilder out, byte[] bytes) {
    for (byte b : bytes) {
      out.append('%').append(Character.forDigit((b >> 4) & 0xF, 16));
      out.append(Character.forDigit(b & 0xF, 16));
    }
  }
}

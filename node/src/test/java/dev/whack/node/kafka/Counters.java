package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads the counter attribute {@code n} of a profile over the memcached protocol. */
final class Counters {
  private static final Pattern N = Pattern.compile("\"n\":(\\d+)");

  private Counters() {}

  /** The profile's {@code n}, or 0 when the key holds nothing (or its owner is not up yet). */
  static long counter(RawConnection c, String key) {
    c.send("get " + key + "\r\n");
    String header = c.readLine();
    if (!header.startsWith("VALUE ")) {
      return 0;
    }
    int bytes = Integer.parseInt(header.trim().substring(header.trim().lastIndexOf(' ') + 1));
    String value = new String(c.read(bytes + 2), StandardCharsets.UTF_8);
    assertEquals("END\r\n", c.readLine());
    Matcher m = N.matcher(value);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }
}

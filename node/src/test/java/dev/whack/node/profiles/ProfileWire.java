package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.RawConnection;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The profile and segment text commands as a test speaks them over a {@link RawConnection}: data
 * blocks framed with their byte count, multi-line replies collected, cursors followed, and every
 * reply checked for the shape docs/protocol.md gives it.
 */
final class ProfileWire {
  private final RawConnection conn;

  ProfileWire(RawConnection conn) {
    this.conn = conn;
  }

  RawConnection connection() {
    return conn;
  }

  /**
   * "{@code <command with <n>>}\r\n{@code <body>}\r\n", {@code <n>} being the body's UTF-8 length.
   */
  static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  /** Sends a command with a data block (UTF-8) and returns the one-line reply. */
  String call(String command, String body) {
    conn.send(block(command, body).getBytes(StandardCharsets.UTF_8));
    return strip(conn.readLine());
  }

  /** Sends a one-line command and returns the one-line reply. */
  String line(String command) {
    conn.send(command + "\r\n");
    return strip(conn.readLine());
  }

  String set(String key, int flags, long exptime, String value) {
    return call("set " + key + " " + flags + " " + exptime + " <n>", value);
  }

  String update(String key, String body) {
    return call("update " + key + " <n>", body);
  }

  /** {@code DEFINED <size>}: returns the size. */
  long define(String name, String expression) {
    String reply = call("segdef " + name + " <n>", expression);
    assertTrue(
        reply.startsWith("DEFINED "), () -> "segdef " + name + " " + expression + ": " + reply);
    return Long.parseLong(reply.substring("DEFINED ".length()));
  }

  /** {@code segcount} or {@code filtercount}: the number, or fails with the reply. */
  long count(String verb, String body) {
    String reply = call(verb + " <n>", body);
    assertTrue(reply.startsWith("COUNT "), () -> verb + " " + body + ": " + reply);
    return Long.parseLong(reply.substring("COUNT ".length()));
  }

  /**
   * Every member of a {@code segmembers}/{@code filtermembers} query, following {@code NEXT}
   * cursors to {@code END}: no page longer than {@code limit}, no key twice.
   */
  List<String> members(String verb, String body, int limit) {
    List<String> keys = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    String cursor = null;
    for (int pages = 0; ; pages++) {
      assertTrue(pages <= 100_000, "cursor never reached END");
      String command = verb + " <n> " + limit + (cursor == null ? "" : " " + cursor);
      conn.send(block(command, body).getBytes(StandardCharsets.UTF_8));
      int onPage = 0;
      String reply;
      while ((reply = strip(conn.readLine())).startsWith("KEY ")) {
        String key = reply.substring(4);
        onPage++;
        String page = command;
        assertTrue(seen.add(key), () -> "key " + key + " came twice, again after " + page);
        keys.add(key);
      }
      int n = onPage;
      assertTrue(n <= limit, () -> n + " keys on a page with limit " + limit);
      if (reply.equals("END")) {
        return keys;
      }
      String last = reply;
      assertTrue(reply.startsWith("NEXT "), () -> verb + " " + body + ": " + last);
      String next = reply.substring(5);
      assertTrue(!next.isEmpty() && next.indexOf(' ') < 0, () -> "cursor '" + next + "'");
      cursor = next;
    }
  }

  /** The segment names {@code segof} lists, in reply order. */
  List<String> segof(String key) {
    conn.send("segof " + key + "\r\n");
    List<String> names = new ArrayList<>();
    for (String reply = strip(conn.readLine());
        !reply.equals("END");
        reply = strip(conn.readLine())) {
      assertTrue(reply.startsWith("IN "), reply);
      names.add(reply.substring(3));
    }
    return names;
  }

  /** A {@code get} of one key: its value as UTF-8, or null on a miss. */
  String get(String key) {
    conn.send("get " + key + "\r\n");
    String header = strip(conn.readLine());
    if (header.equals("END")) {
      return null;
    }
    assertTrue(header.startsWith("VALUE " + key + " "), header);
    int length = Integer.parseInt(header.substring(header.lastIndexOf(' ') + 1));
    byte[] value = conn.read(length);
    assertEquals("\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    return new String(value, StandardCharsets.UTF_8);
  }

  /** {@code stats}: the value of one statistic. */
  String stat(String name) {
    conn.send("stats\r\n");
    String found = null;
    for (String reply = strip(conn.readLine());
        !reply.equals("END");
        reply = strip(conn.readLine())) {
      String[] parts = reply.split(" ", 3);
      if (parts[1].equals(name)) {
        found = parts[2];
      }
    }
    return found;
  }

  /** A virtual key's path part, percent-encoded the way the node decodes it (space as %20). */
  static String percentEncode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A reply line without its CRLF, which it must have. */
  static String strip(String line) {
    assertTrue(line.endsWith("\r\n"), () -> "reply line without CRLF: " + line);
    return line.substring(0, line.length() - 2);
  }
}

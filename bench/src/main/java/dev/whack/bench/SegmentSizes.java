package dev.whack.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sizes of the 50 benchmark segments on either system: Whack's {@code seglist}, or {@code SCARD
 * seg:<name>} on Redis. Comparing the two after the same preload checks the hand-translated Lua
 * against Whack's own evaluation.
 */
final class SegmentSizes {
  private SegmentSizes() {}

  public static Map<String, Long> whack(String host, int port) throws IOException {
    Map<String, Long> sizes = new LinkedHashMap<>();
    try (Socket s = Login.socket(host, port)) {
      s.getOutputStream().write("seglist\r\n".getBytes(StandardCharsets.US_ASCII));
      InputStream in = new java.io.BufferedInputStream(s.getInputStream());
      while (true) {
        String line = readLine(in);
        if (line.equals("END")) {
          break;
        }
        String[] parts = line.split(" ");
        if (!parts[0].equals("SEGMENT") || parts.length != 4) {
          throw new IOException("seglist answered " + line);
        }
        in.readNBytes(Integer.parseInt(parts[3]) + 2);
        sizes.put(parts[1], Long.parseLong(parts[2]));
      }
    }
    Map<String, Long> ordered = new LinkedHashMap<>();
    for (String[] seg : ProfileWorkload.segments()) {
      ordered.put(seg[0], sizes.getOrDefault(seg[0], -1L));
    }
    return ordered;
  }

  public static Map<String, Long> redis(String host, int port) throws IOException {
    Map<String, Long> sizes = new LinkedHashMap<>();
    try (Resp.Connection c = new Resp.Connection(host, port)) {
      for (String[] seg : ProfileWorkload.segments()) {
        sizes.put(seg[0], (Long) c.call("SCARD", "seg:" + seg[0]));
      }
    }
    return sizes;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = b.length();
        return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
      }
      b.append((char) c);
    }
    throw new IOException("connection closed");
  }
}

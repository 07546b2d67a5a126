package dev.whack.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * P3, segment algebra: the size of {@code a and b}, both about one million members, asked over and
 * over. Whack answers {@code segcount} from its segment bitmaps; Redis answers {@code SINTERCARD 2
 * seg:p3_a seg:p3_b} from two sets holding the same keys.
 *
 * <p>The data: {@code profiles} keys {@code user:<i>}, each in {@code a} with probability 2/3 and
 * in {@code b} with probability 2/3, independently (a hash of the key's number decides, so both
 * systems get the same members): with 1.5 million profiles each set has about 1M members and the
 * intersection about 667k, scattered rather than in runs. Whack gets a profile {@code {"x":..,
 * "y":..}} per key and the segments {@code x >= 1} and {@code y >= 1}; Redis gets the sets.
 */
final class SegCountLoad implements PipelinedLoad.Protocol {
  /** Which server is asked. */
  public enum Target {
    WHACK,
    REDIS
  }

  static final String SEGMENT_A = "p3_a";
  static final String SEGMENT_B = "p3_b";
  private static final byte[] CRLF = {'\r', '\n'};

  private final Target target;
  private final int profiles;
  private final byte[] request;
  private volatile long lastCount = -1;

  public SegCountLoad(Target target, int profiles) {
    this.target = target;
    this.profiles = profiles;
    if (target == Target.WHACK) {
      byte[] query = (SEGMENT_A + " and " + SEGMENT_B).getBytes(StandardCharsets.US_ASCII);
      request =
          concat(
              ("segcount " + query.length + "\r\n").getBytes(StandardCharsets.US_ASCII),
              query,
              CRLF);
    } else {
      request = Resp.command("SINTERCARD", "2", "seg:" + SEGMENT_A, "seg:" + SEGMENT_B);
    }
  }

  /** The answer of the last query: the same on both systems when they hold the same data. */
  public long lastCount() {
    return lastCount;
  }

  static int x(int i) {
    return (int) Long.remainderUnsigned(mix(i * 2L), 3);
  }

  static int y(int i) {
    return (int) Long.remainderUnsigned(mix(i * 2L + 1), 3);
  }

  /** SplitMix64's finaliser: a well-spread hash of a counter. */
  private static long mix(long z) {
    z += 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Stores the profiles and defines the two segments (Whack), or fills the two sets (Redis). */
  public void populate(String host, int port, int connections) throws Exception {
    if (target == Target.REDIS) {
      populateRedis(host, port);
      return;
    }
    Ranges.inParallel(profiles, connections, (from, to) -> populateWhack(host, port, from, to));
    try (Socket s = new Socket(host, port)) {
      OutputStream out = s.getOutputStream();
      InputStream in = new java.io.BufferedInputStream(s.getInputStream());
      for (String[] seg :
          List.of(new String[] {SEGMENT_A, "x >= 1"}, new String[] {SEGMENT_B, "y >= 1"})) {
        out.write(
            ("segdef " + seg[0] + " " + seg[1].length() + "\r\n" + seg[1] + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String line = readLine(in);
        if (!line.startsWith("DEFINED ")) {
          throw new IOException("segdef " + seg[0] + " answered " + line);
        }
      }
    }
  }

  private void populateWhack(String host, int port, int from, int to) throws IOException {
    try (Socket s = new Socket(host, port)) {
      s.setTcpNoDelay(true);
      OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16);
      InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 16);
      int batch = 1000;
      for (int start = from; start < to; start += batch) {
        int end = Math.min(to, start + batch);
        for (int i = start; i < end; i++) {
          byte[] json =
              ("{\"x\":" + x(i) + ",\"y\":" + y(i) + "}").getBytes(StandardCharsets.US_ASCII);
          out.write(
              ("set user:" + i + " 0 0 " + json.length + "\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(json);
          out.write(CRLF);
        }
        out.flush();
        for (int i = start; i < end; i++) {
          String line = readLine(in);
          if (!line.equals("STORED")) {
            throw new IOException("set user:" + i + " answered " + line);
          }
        }
      }
    }
  }

  private void populateRedis(String host, int port) throws IOException {
    try (Resp.Connection c = new Resp.Connection(host, port)) {
      c.call("DEL", "seg:" + SEGMENT_A, "seg:" + SEGMENT_B);
      int batch = 1000;
      int sent = 0;
      for (int start = 0; start < profiles; start += batch) {
        int end = Math.min(profiles, start + batch);
        List<byte[]> a = new ArrayList<>();
        List<byte[]> b = new ArrayList<>();
        a.add(Resp.ascii("SADD"));
        a.add(Resp.ascii("seg:" + SEGMENT_A));
        b.add(Resp.ascii("SADD"));
        b.add(Resp.ascii("seg:" + SEGMENT_B));
        for (int i = start; i < end; i++) {
          if (x(i) >= 1) {
            a.add(ProfileWorkload.key(i));
          }
          if (y(i) >= 1) {
            b.add(ProfileWorkload.key(i));
          }
        }
        c.send(Resp.command(a));
        c.send(Resp.command(b));
        sent += 2;
        if (sent >= 64) {
          c.flush();
          for (; sent > 0; sent--) {
            c.read();
          }
        }
      }
      c.flush();
      for (; sent > 0; sent--) {
        c.read();
      }
    }
  }

  @Override
  public void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot) {
    out.put(request);
  }

  /** Whack: {@code COUNT <n>}; Redis: {@code :<n>}. */
  @Override
  public boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException {
    int start = in.position();
    if (target == Target.REDIS) {
      int end = Resp.replyEnd(in, start);
      if (end < 0) {
        return false;
      }
      if (in.get(start) != ':') {
        throw new IOException("SINTERCARD answered " + Resp.lineAt(in, start));
      }
      lastCount = Resp.integerAt(in, start);
      in.position(end);
      return true;
    }
    int lineEnd = PipelinedLoad.findLf(in);
    if (lineEnd < 0) {
      return false;
    }
    if (in.get(start) != 'C') {
      throw new IOException("segcount answered " + Resp.lineAt(in, start));
    }
    long n = 0;
    for (int i = start + "COUNT ".length(); i < lineEnd && in.get(i) != '\r'; i++) {
      n = n * 10 + (in.get(i) - '0');
    }
    lastCount = n;
    in.position(lineEnd + 1);
    return true;
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
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

package dev.whack.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis's wire protocol (RESP2) for the benchmarks that run Redis as Whack's peer: requests are
 * arrays of bulk strings; a reply is one of {@code +simple}, {@code -error}, {@code :integer},
 * {@code $bulk} or {@code *array}, each line ended by CRLF ("RESP protocol spec", redis.io).
 *
 * <p>Two halves: allocation-free helpers over a {@link ByteBuffer} for the pipelined driver (write
 * a command, find where one whole reply ends), and {@link Connection}, a small blocking client for
 * setting up (SCRIPT LOAD, FLUSHALL, INFO, pipelined batches).
 */
final class Resp {
  private static final byte[] CRLF = {'\r', '\n'};

  private Resp() {}

  /** Encodes one command (an array of bulk strings). */
  public static byte[] command(List<byte[]> args) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(64);
    b.write('*');
    b.writeBytes(ascii(Integer.toString(args.size())));
    b.writeBytes(CRLF);
    for (byte[] a : args) {
      bulk(b, a);
    }
    return b.toByteArray();
  }

  public static byte[] command(String... args) {
    List<byte[]> list = new ArrayList<>(args.length);
    for (String a : args) {
      list.add(a.getBytes(StandardCharsets.UTF_8));
    }
    return command(list);
  }

  /** Appends one bulk string ({@code $<len>\r\n<bytes>\r\n}) to a stream. */
  static void bulk(java.io.ByteArrayOutputStream b, byte[] a) {
    b.write('$');
    b.writeBytes(ascii(Integer.toString(a.length)));
    b.writeBytes(CRLF);
    b.writeBytes(a);
    b.writeBytes(CRLF);
  }

  /** Appends an array header ({@code *<n>\r\n}). */
  static void putArrayHeader(ByteBuffer out, int n) {
    out.put((byte) '*');
    PipelinedLoad.putDecimal(out, n);
    out.put(CRLF);
  }

  /** Appends one bulk string. */
  static void putBulk(ByteBuffer out, byte[] a) {
    out.put((byte) '$');
    PipelinedLoad.putDecimal(out, a.length);
    out.put(CRLF).put(a).put(CRLF);
  }

  /** Appends a non-negative number as a bulk string, without making a String of it. */
  static void putBulkDecimal(ByteBuffer out, long v) {
    out.put((byte) '$');
    PipelinedLoad.putDecimal(out, decimalDigits(v));
    out.put(CRLF);
    PipelinedLoad.putDecimal(out, v);
    out.put(CRLF);
  }

  static int decimalDigits(long v) {
    int n = 1;
    while (v >= 10) {
      v /= 10;
      n++;
    }
    return n;
  }

  /**
   * Where the reply starting at {@code from} ends (index after its last byte), or -1 if it is not
   * all in the buffer yet. Reads between {@code from} and the buffer's limit; moves nothing.
   */
  static int replyEnd(ByteBuffer in, int from) {
    if (from >= in.limit()) {
      return -1;
    }
    int lineEnd = lf(in, from);
    if (lineEnd < 0) {
      return -1;
    }
    byte type = in.get(from);
    switch (type) {
      case '+', '-', ':' -> {
        return lineEnd + 1;
      }
      case '$' -> {
        long len = parseLong(in, from + 1, lineEnd - 1);
        if (len < 0) {
          return lineEnd + 1; // null bulk
        }
        long end = lineEnd + 1 + len + 2;
        return end <= in.limit() ? (int) end : -1;
      }
      case '*' -> {
        long n = parseLong(in, from + 1, lineEnd - 1);
        int at = lineEnd + 1;
        for (long i = 0; i < n; i++) {
          at = replyEnd(in, at);
          if (at < 0) {
            return -1;
          }
        }
        return at;
      }
      default -> throw new IllegalStateException("not a RESP reply: type byte " + type);
    }
  }

  /** The integer of a {@code :n} reply at {@code from}. */
  static long integerAt(ByteBuffer in, int from) {
    return parseLong(in, from + 1, lf(in, from) - 1);
  }

  /** The text of a one-line reply at {@code from} (for error messages). */
  static String lineAt(ByteBuffer in, int from) {
    int end = lf(in, from);
    byte[] b = new byte[Math.max(0, end - 1 - from)];
    for (int i = 0; i < b.length; i++) {
      b[i] = in.get(from + i);
    }
    return new String(b, StandardCharsets.UTF_8);
  }

  private static int lf(ByteBuffer in, int from) {
    for (int i = from; i < in.limit(); i++) {
      if (in.get(i) == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** Parses a decimal in [from, to) (to is the CR). */
  private static long parseLong(ByteBuffer in, int from, int to) {
    boolean negative = in.get(from) == '-';
    long v = 0;
    for (int i = negative ? from + 1 : from; i < to; i++) {
      v = v * 10 + (in.get(i) - '0');
    }
    return negative ? -v : v;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** A Redis error reply. */
  public static final class ErrorReply extends IOException {
    ErrorReply(String message) {
      super(message);
    }
  }

  /**
   * A blocking connection for set-up work: send commands (possibly many before reading), read
   * replies as Java values (String, Long, byte[], List, or null). Not for the measured path.
   */
  public static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    public Connection(String host, int port) throws IOException {
      socket = new Socket(host, port);
      socket.setTcpNoDelay(true);
      out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    }

    /** Queues one encoded command; {@link #flush} sends the queue. */
    public void send(byte[] encoded) throws IOException {
      out.write(encoded);
    }

    public void flush() throws IOException {
      out.flush();
    }

    /** Sends one command and reads its reply; an error reply throws {@link ErrorReply}. */
    public Object call(String... args) throws IOException {
      send(command(args));
      flush();
      return read();
    }

    /** Reads one reply; an error reply throws {@link ErrorReply}. */
    public Object read() throws IOException {
      int type = in.read();
      String line = line();
      switch (type) {
        case '+' -> {
          return line;
        }
        case '-' -> throw new ErrorReply(line);
        case ':' -> {
          return Long.parseLong(line);
        }
        case '$' -> {
          int len = Integer.parseInt(line);
          if (len < 0) {
            return null;
          }
          byte[] b = in.readNBytes(len);
          in.readNBytes(2);
          return b;
        }
        case '*' -> {
          int n = Integer.parseInt(line);
          if (n < 0) {
            return null;
          }
          List<Object> items = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            items.add(read());
          }
          return items;
        }
        case -1 -> throw new IOException("redis closed the connection");
        default -> throw new IOException("not a RESP reply: type byte " + type);
      }
    }

    /** Reads a bulk or simple reply as text. */
    public String text(Object reply) {
      return reply instanceof byte[] b
          ? new String(b, StandardCharsets.UTF_8)
          : String.valueOf(reply);
    }

    private String line() throws IOException {
      StringBuilder b = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\r') {
          in.read(); // '\n'
          return b.toString();
        }
        b.append((char) c);
      }
      throw new IOException("redis closed the connection");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}

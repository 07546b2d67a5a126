package dev.whack.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The plain memcached workload (P1): a get/set mix over a fixed key space with values of a fixed
 * size, gets hitting because every key is stored first.
 */
final class MemcacheLoad implements PipelinedLoad.Protocol {
  private static final byte[] SET = "set ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GET = "get ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int END_LINE = "END\r\n".length();

  private final byte[][] keys;
  private final byte[] value;
  private final double getRatio;

  public MemcacheLoad(int keyCount, int valueBytes, double getRatio) {
    keys = new byte[keyCount][];
    for (int i = 0; i < keyCount; i++) {
      keys[i] = ("key:" + i).getBytes(StandardCharsets.US_ASCII);
    }
    value = new byte[valueBytes];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) ('a' + i % 26);
    }
    this.getRatio = getRatio;
  }

  /** Stores every key once, pipelined over one connection, so that gets hit. */
  public void preload(String host, int port) throws IOException {
    try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port))) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer out = ByteBuffer.allocate(1 << 20);
      ByteBuffer in = ByteBuffer.allocate(1 << 16);
      int batch = 1000;
      for (int start = 0; start < keys.length; start += batch) {
        int end = Math.min(keys.length, start + batch);
        out.clear();
        for (int k = start; k < end; k++) {
          writeSet(out, keys[k]);
        }
        out.flip();
        while (out.hasRemaining()) {
          ch.write(out);
        }
        long expected = (long) (end - start) * "STORED\r\n".length();
        long got = 0;
        while (got < expected) {
          in.clear();
          int r = ch.read(in);
          if (r < 0) {
            throw new IOException("server closed the connection during preload");
          }
          got += r;
        }
      }
    }
  }

  @Override
  public void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot) {
    byte[] key = keys[random.nextInt(keys.length)];
    if (random.nextDouble() < getRatio) {
      out.put(GET).put(key).put(CRLF);
    } else {
      writeSet(out, key);
    }
  }

  private void writeSet(ByteBuffer out, byte[] key) {
    out.put(SET).put(key).put((byte) ' ').put((byte) '0').put((byte) ' ').put((byte) '0');
    out.put((byte) ' ');
    PipelinedLoad.putDecimal(out, value.length);
    out.put(CRLF).put(value).put(CRLF);
  }

  /** "STORED", "END", or "VALUE <key> <flags> <bytes>" + data + "END". */
  @Override
  public boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException {
    int lineEnd = PipelinedLoad.findLf(in);
    if (lineEnd < 0) {
      return false;
    }
    int start = in.position();
    byte first = in.get(start);
    if (first == 'S' || first == 'E') {
      in.position(lineEnd + 1);
      return true;
    }
    if (first != 'V') {
      throw new IOException(
          "unexpected reply: " + StandardCharsets.US_ASCII.decode(in.duplicate().limit(lineEnd)));
    }
    int bytes = 0;
    int mul = 1;
    for (int i = lineEnd - 2; in.get(i) != ' '; i--) {
      bytes += (in.get(i) - '0') * mul;
      mul *= 10;
    }
    int needed = lineEnd + 1 + bytes + 2 + END_LINE;
    if (in.limit() < needed) {
      return false;
    }
    in.position(needed);
    return true;
  }
}

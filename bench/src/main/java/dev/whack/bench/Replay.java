package dev.whack.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.SplittableRandom;

/**
 * Sends the first {@code count} requests a workload makes for a seed, in order, over one
 * connection, and waits for every reply. Two systems given the same workload and seed receive the
 * same requests in the same order, so their states can be compared afterwards (the benchmark checks
 * that Redis's segment sets, moved by the Lua script, have the sizes Whack's segments have).
 */
final class Replay {
  private Replay() {}

  public static void run(
      String host, int port, PipelinedLoad.Protocol protocol, long count, long seed)
      throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    long[] slot = new long[2];
    try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port))) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer out = ByteBuffer.allocate(1 << 20);
      ByteBuffer in = ByteBuffer.allocate(1 << 20);
      int batch = 200;
      for (long done = 0; done < count; ) {
        int n = (int) Math.min(batch, count - done);
        out.clear();
        for (int i = 0; i < n; i++) {
          protocol.writeRequest(out, random, 0, slot);
        }
        out.flip();
        while (out.hasRemaining()) {
          ch.write(out);
        }
        int replies = 0;
        while (replies < n) {
          if (ch.read(in) < 0) {
            throw new IOException("server closed the connection during the replay");
          }
          in.flip();
          while (replies < n && protocol.readReply(in, slot, System.nanoTime())) {
            replies++;
          }
          in.compact();
        }
        done += n;
      }
    }
  }
}

package dev.whack.cli.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A memcached text-protocol load generator: N connections spread over a few selector threads,
 * each keeping {@code pipeline} requests in flight, a get/set mix over a fixed key space, latency
 * per request (send to complete reply) in an HdrHistogram. The same generator drives every
 * system being compared, so only the server differs between runs.
 *
 * <p>Concurrency: each thread owns its connections and its histogram; results are merged after
 * the threads finish.
 */
public final class MemcacheLoad {
  /** What to run. */
  public record Settings(
      String host,
      int port,
      int connections,
      int threads,
      int pipeline,
      int keys,
      int valueBytes,
      double getRatio,
      long warmupMillis,
      long durationMillis,
      long seed) {}

  /** What came out. */
  public record Result(long operations, double seconds, Histogram latencyNanos, long misses) {
    public double opsPerSecond() {
      return operations / seconds;
    }

    public double percentileMicros(double percentile) {
      return latencyNanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  private final Settings settings;
  private final byte[][] keyBytes;
  private final byte[] value;

  public MemcacheLoad(Settings settings) {
    this.settings = settings;
    keyBytes = new byte[settings.keys()][];
    for (int i = 0; i < settings.keys(); i++) {
      keyBytes[i] = ("key:" + i).getBytes(StandardCharsets.US_ASCII);
    }
    value = new byte[settings.valueBytes()];
    for (int i = 0; i < value.length; i++) {
      value[i] = (byte) ('a' + i % 26);
    }
  }

  /** Stores every key once, pipelined over one connection, so that gets hit. */
  public void preload() throws IOException {
    try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(settings.host(), settings.port()))) {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ByteBuffer out = ByteBuffer.allocate(1 << 20);
      ByteBuffer in = ByteBuffer.allocate(1 << 16);
      int batch = 1000;
      for (int start = 0; start < keyBytes.length; start += batch) {
        int end = Math.min(keyBytes.length, start + batch);
        out.clear();
        for (int k = start; k < end; k++) {
          writeSet(out, keyBytes[k], value);
        }
        out.flip();
        while (out.hasRemaining()) {
          ch.write(out);
        }
        int expected = (end - start) * "STORED\r\n".length();
        int got = 0;
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

  public Result run() throws IOException, InterruptedException {
    int threads = Math.max(1, Math.min(settings.threads(), settings.connections()));
    List<Worker> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int count = settings.connections() / threads + (t < settings.connections() % threads ? 1 : 0);
      workers.add(new Worker(count, settings.seed() + t));
    }
    long startNanos = System.nanoTime();
    long measureFrom = startNanos + TimeUnit.MILLISECONDS.toNanos(settings.warmupMillis());
    long stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(settings.durationMillis());
    List<Thread> running = new ArrayList<>();
    for (Worker w : workers) {
      w.open();
      Thread th = new Thread(() -> w.loop(measureFrom, stopAt), "load-" + running.size());
      th.start();
      running.add(th);
    }
    for (Thread th : running) {
      th.join();
    }
    Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    long ops = 0;
    long misses = 0;
    for (Worker w : workers) {
      if (w.failure != null) {
        throw new IOException("load connection failed: " + w.failure.getMessage(), w.failure);
      }
      all.add(w.histogram);
      ops += w.measured;
      misses += w.misses;
    }
    return new Result(ops, settings.durationMillis() / 1000.0, all, misses);
  }

  private static final byte[] SET = "set ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GET = "get ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);

  private static void writeSet(ByteBuffer out, byte[] key, byte[] value) {
    out.put(SET).put(key).put((byte) ' ').put((byte) '0').put((byte) ' ').put((byte) '0').put((byte) ' ');
    putDecimal(out, value.length);
    out.put(CRLF).put(value).put(CRLF);
  }

  private static void putDecimal(ByteBuffer out, int v) {
    if (v >= 10) {
      putDecimal(out, v / 10);
    }
    out.put((byte) ('0' + v % 10));
  }

  /** One selector thread and its connections. */
  private final class Worker {
    private final int connectionCount;
    private final SplittableRandom random;
    private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    private final List<Conn> conns = new ArrayList<>();
    private Selector selector;
    long measured;
    long misses;
    volatile Exception failure;

    Worker(int connectionCount, long seed) {
      this.connectionCount = connectionCount;
      this.random = new SplittableRandom(seed);
    }

    void open() throws IOException {
      selector = Selector.open();
      for (int i = 0; i < connectionCount; i++) {
        SocketChannel ch = SocketChannel.open(new InetSocketAddress(settings.host(), settings.port()));
        ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        ch.configureBlocking(false);
        Conn c = new Conn(ch);
        conns.add(c);
        c.key = ch.register(selector, SelectionKey.OP_READ, c);
      }
    }

    void loop(long measureFrom, long stopAt) {
      try {
        for (Conn c : conns) {
          c.fill(this);
          c.flush(c.key);
        }
        while (true) {
          long now = System.nanoTime();
          if (now >= stopAt) {
            break;
          }
          selector.select(100);
          Iterator<SelectionKey> it = selector.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            Conn c = (Conn) key.attachment();
            if (key.isWritable()) {
              c.flush(key);
            }
            if (key.isReadable()) {
              c.read(this, measureFrom, stopAt);
              c.fill(this);
              c.flush(key);
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        failure = e instanceof IOException io ? io : new IOException(e);
      } finally {
        for (Conn c : conns) {
          try {
            c.channel.close();
          } catch (IOException ignored) {
            // closing after the run cannot change its result
          }
        }
        try {
          selector.close();
        } catch (IOException ignored) {
          // as above
        }
      }
    }

    boolean nextIsGet() {
      return random.nextDouble() < settings.getRatio();
    }

    byte[] nextKey() {
      return keyBytes[random.nextInt(keyBytes.length)];
    }
  }

  /** One connection: a FIFO of in-flight request start times and an incremental reply parser. */
  private final class Conn {
    final SocketChannel channel;
    SelectionKey key;
    final ByteBuffer out = ByteBuffer.allocate(64 * 1024);
    final ByteBuffer in = ByteBuffer.allocate(256 * 1024);
    final long[] started = new long[Math.max(1, settings.pipeline())];
    final boolean[] isGet = new boolean[started.length];
    int head;
    int inFlight;
    /** Bytes of a VALUE block still to skip (data + CRLF), or -1 when reading lines. */
    int skip = -1;
    boolean sawValue;

    Conn(SocketChannel channel) {
      this.channel = channel;
      out.flip();
    }

    void fill(Worker w) {
      out.compact();
      while (inFlight < started.length) {
        int slot = (head + inFlight) % started.length;
        boolean get = w.nextIsGet();
        if (get) {
          out.put(GET).put(w.nextKey()).put(CRLF);
        } else {
          writeSet(out, w.nextKey(), value);
        }
        isGet[slot] = get;
        started[slot] = System.nanoTime();
        inFlight++;
      }
      out.flip();
    }

    void flush(SelectionKey key) throws IOException {
      channel.write(out);
      int ops = out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
      if (key.interestOps() != ops) {
        key.interestOps(ops);
      }
    }

    void read(Worker w, long measureFrom, long stopAt) throws IOException {
      int r = channel.read(in);
      if (r < 0) {
        throw new IOException("server closed the connection");
      }
      in.flip();
      long now = System.nanoTime();
      while (true) {
        if (skip >= 0) {
          int n = Math.min(skip, in.remaining());
          in.position(in.position() + n);
          skip -= n;
          if (skip > 0) {
            break;
          }
          skip = -1;
        }
        int lineEnd = findLf(in);
        if (lineEnd < 0) {
          break;
        }
        int start = in.position();
        byte first = in.get(start);
        in.position(lineEnd + 1);
        if (first == 'V') { // VALUE <key> <flags> <bytes>
          int bytes = 0;
          int i = lineEnd - 2; // before \r
          int mul = 1;
          while (in.get(i) != ' ') {
            bytes += (in.get(i) - '0') * mul;
            mul *= 10;
            i--;
          }
          skip = bytes + 2;
          sawValue = true;
          continue;
        }
        // END or STORED: one request complete.
        if (first == 'E' && isGet[head] && !sawValue) {
          w.misses++;
        } else if (first != 'E' && first != 'S') {
          throw new IOException(
              "unexpected reply: " + StandardCharsets.US_ASCII.decode(in.duplicate().position(start).limit(lineEnd)));
        }
        sawValue = false;
        long began = started[head];
        head = (head + 1) % started.length;
        inFlight--;
        if (began >= measureFrom && now < stopAt) {
          w.histogram.recordValue(Math.min(now - began, w.histogram.getHighestTrackableValue()));
          w.measured++;
        }
      }
      in.compact();
    }

    private int findLf(ByteBuffer b) {
      for (int i = b.position(); i < b.limit(); i++) {
        if (b.get(i) == '\n') {
          return i;
        }
      }
      return -1;
    }
  }
}

package dev.whack.bench;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A load generator over the memcached text protocol: N connections spread over a few selector
 * threads, each keeping {@code pipeline} requests in flight, latency per request (send to complete
 * reply) recorded in an HdrHistogram. A {@link Protocol} says what to send and how to read one
 * reply; the same driver serves every workload, so only the server differs between compared runs.
 *
 * <p>Concurrency: each thread owns its connections, its random source and its histogram; results
 * are merged after the threads finish.
 */
final class PipelinedLoad {
  /** The requests of one workload and the parser of their replies. */
  public interface Protocol {
    /** Appends one request to {@code out}; may remember per-request state in {@code slot}. */
    void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot);

    /**
     * Consumes one complete reply from {@code in} if it is all there.
     *
     * @return true if a reply was consumed, false if more bytes are needed (nothing consumed)
     * @throws IOException on a reply that is not what the request expects
     */
    boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException;
  }

  /** What to run. */
  public record Settings(
      String host,
      int port,
      int connections,
      int threads,
      int pipeline,
      long warmupMillis,
      long durationMillis,
      long seed,
      long ratePerSecond) {}

  /** What came out. */
  public record Result(long operations, double seconds, Histogram latencyNanos) {
    public double opsPerSecond() {
      return operations / seconds;
    }

    public double percentileMicros(double percentile) {
      return latencyNanos.getValueAtPercentile(percentile) / 1000.0;
    }
  }

  private final Settings settings;
  private final Protocol protocol;

  public PipelinedLoad(Settings settings, Protocol protocol) {
    this.settings = settings;
    this.protocol = protocol;
  }

  public Result run() throws IOException, InterruptedException {
    int threads = Math.max(1, Math.min(settings.threads(), settings.connections()));
    List<Worker> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int count = settings.connections() / threads + (t < settings.connections() % threads ? 1 : 0);
      workers.add(new Worker(t, count, settings.seed() + t));
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
    for (Worker w : workers) {
      if (w.failure != null) {
        throw new IOException("load connection failed: " + w.failure.getMessage(), w.failure);
      }
      all.add(w.histogram);
      ops += w.measured;
    }
    return new Result(ops, settings.durationMillis() / 1000.0, all);
  }

  /** One selector thread and its connections. */
  private final class Worker {
    private final int id;
    private final int connectionCount;
    private final SplittableRandom random;
    private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    private final List<Conn> conns = new ArrayList<>();
    private Selector selector;
    long measured;
    volatile Exception failure;

    /** With a rate: the gap between this worker's requests, and when the next one is due. */
    private final long intervalNanos;

    private long nextSendNanos;

    Worker(int id, int connectionCount, long seed) {
      this.id = id;
      this.connectionCount = connectionCount;
      this.random = new SplittableRandom(seed);
      int threads = Math.max(1, Math.min(settings.threads(), settings.connections()));
      this.intervalNanos =
          settings.ratePerSecond() <= 0 ? 0 : threads * 1_000_000_000L / settings.ratePerSecond();
    }

    /** Whether another request may be sent now (always, without a rate). */
    boolean maySend(long now) {
      if (intervalNanos == 0) {
        return true;
      }
      if (nextSendNanos == 0) {
        nextSendNanos = now;
      }
      if (now < nextSendNanos) {
        return false;
      }
      nextSendNanos += intervalNanos;
      if (now - nextSendNanos > 100_000_000L) {
        nextSendNanos = now; // fell far behind: do not burst to catch up
      }
      return true;
    }

    void open() throws IOException {
      selector = Selector.open();
      for (int i = 0; i < connectionCount; i++) {
        SocketChannel ch = Login.channel(settings.host(), settings.port());
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
          c.flush();
        }
        while (System.nanoTime() < stopAt) {
          if (intervalNanos == 0) {
            selector.select(100);
          } else {
            long waitNanos = nextSendNanos - System.nanoTime();
            if (waitNanos > 1_000_000) {
              selector.select(waitNanos / 1_000_000);
            } else {
              selector.selectNow();
            }
          }
          Iterator<SelectionKey> it = selector.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            Conn c = (Conn) key.attachment();
            if (key.isWritable()) {
              c.flush();
            }
            if (key.isReadable()) {
              c.read(this, measureFrom, stopAt);
              c.fill(this);
              c.flush();
            }
          }
          if (intervalNanos != 0) {
            for (Conn c : conns) {
              if (c.inFlight < c.started.length) {
                c.fill(this);
                c.flush();
              }
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
  }

  /** One connection: a FIFO of in-flight requests (start time and per-request state). */
  private final class Conn {
    private static final int STATE_SLOTS = 2;
    final SocketChannel channel;
    SelectionKey key;
    final ByteBuffer out = ByteBuffer.allocate(256 * 1024);
    final ByteBuffer in = ByteBuffer.allocate(256 * 1024);
    final long[] started = new long[Math.max(1, settings.pipeline())];
    final long[][] state = new long[started.length][STATE_SLOTS];
    int head;
    int inFlight;

    Conn(SocketChannel channel) {
      this.channel = channel;
      out.flip();
    }

    void fill(Worker w) {
      out.compact();
      while (inFlight < started.length && out.remaining() > 8192 && w.maySend(System.nanoTime())) {
        int slot = (head + inFlight) % started.length;
        protocol.writeRequest(out, w.random, w.id, state[slot]);
        started[slot] = System.nanoTime();
        inFlight++;
      }
      out.flip();
    }

    void flush() throws IOException {
      channel.write(out);
      int ops =
          out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ;
      if (key.interestOps() != ops) {
        key.interestOps(ops);
      }
    }

    void read(Worker w, long measureFrom, long stopAt) throws IOException {
      if (channel.read(in) < 0) {
        throw new IOException("server closed the connection");
      }
      in.flip();
      long now = System.nanoTime();
      while (inFlight > 0 && protocol.readReply(in, state[head], now)) {
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
  }

  /** Index of the next '\n' at or after the position, or -1. */
  static int findLf(ByteBuffer b) {
    for (int i = b.position(); i < b.limit(); i++) {
      if (b.get(i) == '\n') {
        return i;
      }
    }
    return -1;
  }

  static void putDecimal(ByteBuffer out, long v) {
    if (v >= 10) {
      putDecimal(out, v / 10);
    }
    out.put((byte) ('0' + v % 10));
  }
}

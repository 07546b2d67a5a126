package dev.whack.bench;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * A paced open-loop load generator: requests go out at fixed intervals ({@code rate} per second)
 * whether or not earlier ones were answered, round robin over a few kept-alive connections (a
 * connection with a request outstanding gets the next one pipelined behind it), and each latency is
 * measured from the moment the request was due, not from when it was sent. So a stall of the server
 * (or of this generator) shows in the percentiles for every request it delayed, rather than holding
 * the next requests back and hiding (coordinated omission; HdrHistogram's notes and wrk2 measure
 * the same way). The send lag (sent minus due) is recorded beside, so the generator's own share of
 * a figure is visible.
 *
 * <p>Threads: one sender, which parks until each request is due and writes it; one reader per
 * connection, which reads the replies in order and records them. Per connection the due times of
 * the requests in flight pass from the sender to the reader through a single-producer
 * single-consumer ring.
 *
 * <p>Concurrency: the histograms are each thread's own and merged after the threads end.
 */
final class OpenLoopLoad {
  /** Requests that may be in flight on one connection before the sender counts it overloaded. */
  private static final int RING = 1 << 16;

  /** What to run. */
  record Settings(
      String host,
      int port,
      int connections,
      long ratePerSecond,
      long warmupMillis,
      long durationMillis,
      long seed) {}

  private final Settings settings;
  private final PipelinedLoad.Protocol protocol;
  private final Histogram sendLag = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
  private final AtomicLong dropped = new AtomicLong();

  OpenLoopLoad(Settings settings, PipelinedLoad.Protocol protocol) {
    this.settings = settings;
    this.protocol = protocol;
  }

  /** How late the sender wrote its requests (sent minus due), measured ones only. */
  Histogram sendLagNanos() {
    return sendLag;
  }

  /**
   * Latency from each request's write rather than its due time: the server's and the network's
   * share without the generator's send lag (and, like any closed measure, blind to what a stall
   * delayed). Filled by {@link #run}.
   */
  Histogram fromSendNanos() {
    return fromSend;
  }

  private final Histogram fromSend = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);

  /** Requests not sent because a connection had {@link #RING} in flight (0 in a sound run). */
  long dropped() {
    return dropped.get();
  }

  PipelinedLoad.Result run() throws IOException, InterruptedException {
    List<Conn> conns = new ArrayList<>();
    try {
      for (int i = 0; i < settings.connections(); i++) {
        conns.add(new Conn());
      }
      long interval = 1_000_000_000L / settings.ratePerSecond();
      long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
      long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(settings.warmupMillis());
      long stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(settings.durationMillis());
      List<Thread> readers = new ArrayList<>();
      for (Conn c : conns) {
        Thread t = new Thread(() -> c.readLoop(measureFrom, stopAt), "open-loop-reader");
        t.setDaemon(true);
        t.start();
        readers.add(t);
      }
      send(conns, start, interval, measureFrom, stopAt);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      for (Conn c : conns) {
        c.sendingDone = true;
        while (c.inFlight() > 0 && c.failure == null && System.nanoTime() < deadline) {
          TimeUnit.MILLISECONDS.sleep(5);
        }
      }
      for (Conn c : conns) {
        c.channel.close(); // the readers, blocked in a read, end
      }
      for (Thread t : readers) {
        t.join(TimeUnit.SECONDS.toMillis(10));
      }
      Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
      long measured = 0;
      for (Conn c : conns) {
        if (c.failure != null) {
          throw new IOException("load connection failed: " + c.failure.getMessage(), c.failure);
        }
        if (c.inFlight() > 0) {
          throw new IOException(c.inFlight() + " requests were never answered");
        }
        all.add(c.latency);
        fromSend.add(c.latencyFromSend);
        measured += c.measured;
      }
      return new PipelinedLoad.Result(measured, settings.durationMillis() / 1000.0, all);
    } finally {
      for (Conn c : conns) {
        c.channel.close();
      }
    }
  }

  private void send(List<Conn> conns, long start, long interval, long measureFrom, long stopAt)
      throws IOException {
    SplittableRandom random = new SplittableRandom(settings.seed());
    ByteBuffer out = ByteBuffer.allocate(64 * 1024);
    long[] slot = new long[2];
    int next = 0;
    for (long due = start; due < stopAt; due += interval) {
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      // The least busy connection, starting after the last one used.
      Conn conn = conns.get(next);
      for (int i = 1; i < conns.size() && conn.inFlight() > 0; i++) {
        Conn other = conns.get((next + i) % conns.size());
        if (other.inFlight() < conn.inFlight()) {
          conn = other;
        }
      }
      next = (next + 1) % conns.size();
      if (conn.inFlight() >= RING) {
        dropped.incrementAndGet();
        continue;
      }
      out.clear();
      protocol.writeRequest(out, random, 0, slot);
      out.flip();
      long sent = System.nanoTime();
      conn.offer(due, sent);
      while (out.hasRemaining()) {
        conn.channel.write(out);
      }
      if (due >= measureFrom) {
        sendLag.recordValue(Math.min(sent - due, sendLag.getHighestTrackableValue()));
      }
    }
  }

  /** One connection: its socket and the due times of its requests in flight. */
  private final class Conn {
    final SocketChannel channel;
    final long[] due = new long[RING];
    final long[] sent = new long[RING];
    final Histogram latency = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    final Histogram latencyFromSend = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    volatile long written; // by the sender
    volatile long read; // by the reader
    volatile boolean sendingDone;
    volatile Exception failure;
    long measured;

    Conn() throws IOException {
      channel = Login.channel(settings.host(), settings.port());
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }

    long inFlight() {
      return written - read;
    }

    void offer(long dueNanos, long sentNanos) {
      due[(int) (written & (RING - 1))] = dueNanos;
      sent[(int) (written & (RING - 1))] = sentNanos;
      written = written + 1; // published after the slot: the reader reads the slot after this
    }

    /** Reads replies until the run closes the channel (blocked in a read: no polling). */
    void readLoop(long measureFrom, long stopAt) {
      ByteBuffer in = ByteBuffer.allocate(1 << 20);
      long[] slot = new long[2];
      try {
        while (true) {
          if (channel.read(in) < 0) {
            throw new IOException("the server closed the connection");
          }
          in.flip();
          long now = System.nanoTime();
          while (inFlight() > 0 && protocol.readReply(in, slot, now)) {
            long dueNanos = due[(int) (read & (RING - 1))];
            long sentNanos = sent[(int) (read & (RING - 1))];
            read = read + 1;
            if (dueNanos >= measureFrom && dueNanos < stopAt) {
              latency.recordValue(Math.min(now - dueNanos, latency.getHighestTrackableValue()));
              latencyFromSend.recordValue(
                  Math.min(now - sentNanos, latencyFromSend.getHighestTrackableValue()));
              measured++;
            }
          }
          in.compact();
        }
      } catch (java.nio.channels.ClosedChannelException e) {
        if (!sendingDone || inFlight() > 0) {
          failure = e;
        }
      } catch (IOException | RuntimeException e) {
        failure = e instanceof IOException io ? io : new IOException(e);
      }
    }
  }
}

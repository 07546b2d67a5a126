package dev.whack.bench;

import dev.whack.client.WhackClient;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * Throughput of the Java client itself (issue 5): one operation (get, set or update) over a key
 * space, as many in flight as allowed, routed by the client's ring to one or several nodes.
 */
final class ClientLoad {
  /** The operation measured. */
  public enum Op {
    GET,
    SET,
    UPDATE
  }

  private final WhackClient client;
  private final Op op;
  private final int keys;
  private final int inFlight;
  private final byte[] value;
  private final ProfileWorkload workload = new ProfileWorkload(System.currentTimeMillis());

  public ClientLoad(WhackClient client, Op op, int keys, int inFlight, int valueBytes) {
    this.client = client;
    this.op = op;
    this.keys = keys;
    this.inFlight = inFlight;
    this.value = new byte[valueBytes];
    java.util.Arrays.fill(value, (byte) 'v');
  }

  /** Writes every key once (values for get, profiles for update). */
  public void preload() throws InterruptedException {
    Semaphore permits = new Semaphore(inFlight);
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < keys; i++) {
      permits.acquire();
      CompletableFuture<?> f =
          op == Op.UPDATE
              ? client.setProfile(key(i), new String(workload.profile(r), StandardCharsets.UTF_8))
              : client.set(key(i), value);
      f.whenComplete((x, e) -> permits.release());
    }
    permits.acquire(inFlight);
  }

  /** Runs for the duration after a warm-up; returns operations per second and latencies. */
  public PipelinedLoad.Result run(long warmupMillis, long durationMillis)
      throws InterruptedException {
    Semaphore permits = new Semaphore(inFlight);
    Histogram latency = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(10), 3);
    SplittableRandom r = new SplittableRandom(2);
    long measureFrom = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
    long stopAt = measureFrom + TimeUnit.MILLISECONDS.toNanos(durationMillis);
    long[] done = new long[1];
    byte[][] updates = new byte[1024][];
    for (int i = 0; i < updates.length; i++) {
      updates[i] = workload.update(r);
    }
    while (true) {
      permits.acquire();
      long start = System.nanoTime();
      if (start >= stopAt) {
        permits.release();
        break;
      }
      String key = key(r.nextInt(keys));
      CompletableFuture<?> f =
          switch (op) {
            case GET -> client.get(key);
            case SET -> client.set(key, value);
            case UPDATE ->
                client.update(
                    key, new String(updates[r.nextInt(updates.length)], StandardCharsets.UTF_8));
          };
      f.whenComplete(
          (x, e) -> {
            long end = System.nanoTime();
            if (start >= measureFrom && end < stopAt && e == null) {
              latency.recordValue(Math.min(end - start, latency.getHighestTrackableValue()));
              synchronized (done) {
                done[0]++;
              }
            }
            permits.release();
          });
    }
    permits.acquire(inFlight);
    return new PipelinedLoad.Result(done[0], durationMillis / 1000.0, latency);
  }

  private static String key(int i) {
    return "ck:" + i;
  }
}

package dev.whack.node.durability;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Applies records read at start-up (a snapshot's items and profiles, the log's keyspace records) on
 * one thread per core, each owning the stripes {@code i} with {@code i % threads} equal to its
 * number: no two contend for a stripe's lock, and each stripe's records apply in the order read.
 * Records go in batches through bounded queues, so the reader is held back rather than memory
 * filled when the appliers are slower than the disk.
 *
 * <p>Concurrency: {@link #apply}, {@link #barrier} and {@link #finish} on the reading thread only;
 * each applier thread owns its stripes. The first failure of any applier is rethrown to the reader
 * (by {@link #apply} or {@link #finish}).
 */
final class StripeAppliers implements AutoCloseable {
  /** What an applier does with one record: its type and payload (valid during the call). */
  @FunctionalInterface
  interface Applier {
    void apply(byte type, ByteBuffer payload);
  }

  private static final int THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());
  private static final int BATCH = 256;
  private static final List<byte[]> DONE = List.of();
  private static final List<byte[]> BARRIER = new ArrayList<>(0);

  /** Counted down by each applier at the {@link #barrier} being waited for. */
  private volatile CountDownLatch reached;

  private final Applier applier;
  private final ArrayBlockingQueue<List<byte[]>>[] queues;
  private final List<byte[]>[] batches;
  private final Thread[] threads;
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

  @SuppressWarnings({"unchecked", "rawtypes"}) // arrays of generic queues and lists
  StripeAppliers(Applier applier) {
    this.applier = applier;
    this.queues = new ArrayBlockingQueue[THREADS];
    this.batches = new List[THREADS];
    this.threads = new Thread[THREADS];
    for (int i = 0; i < THREADS; i++) {
      ArrayBlockingQueue<List<byte[]>> q = new ArrayBlockingQueue<>(8);
      queues[i] = q;
      batches[i] = new ArrayList<>(BATCH);
      threads[i] = new Thread(() -> run(q), "whack-recovery-" + i);
      threads[i].setDaemon(true);
      threads[i].start();
    }
  }

  /**
   * Hands a record of {@code stripe} (its type and the payload's remaining bytes) to its thread.
   */
  void apply(int stripe, byte type, ByteBuffer payload) {
    checkFailure();
    byte[] record = new byte[1 + payload.remaining()];
    record[0] = type;
    payload.get(payload.position(), record, 1, payload.remaining());
    int i = stripe % queues.length;
    batches[i].add(record);
    if (batches[i].size() == BATCH) {
      put(i, batches[i]);
      batches[i] = new ArrayList<>(BATCH);
    }
  }

  /**
   * Hands out what is left and waits until every record handed out so far is applied, the appliers
   * going on after: a record that must fall between the stripes' records (a segment definition, by
   * which replay decides memberships) is played at such a point.
   */
  void barrier() {
    handOutRest();
    CountDownLatch reached = new CountDownLatch(queues.length);
    this.reached = reached;
    for (int i = 0; i < queues.length; i++) {
      put(i, BARRIER);
    }
    try {
      while (!reached.await(100, TimeUnit.MILLISECONDS)) {
        checkFailure();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recovering", e);
    }
    checkFailure();
  }

  /** Hands out what is left and waits until every record is applied. */
  void finish() {
    handOutRest();
    close();
    checkFailure();
  }

  /** Hands each thread the records of its unfilled batch. */
  private void handOutRest() {
    for (int i = 0; i < queues.length; i++) {
      if (!batches[i].isEmpty()) {
        put(i, batches[i]);
        batches[i] = new ArrayList<>(BATCH);
      }
    }
  }

  private void put(int i, List<byte[]> batch) {
    try {
      while (!queues[i].offer(batch, 100, TimeUnit.MILLISECONDS)) {
        checkFailure();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while recovering", e);
    }
  }

  private void checkFailure() {
    RuntimeException f = failure.get();
    if (f != null) {
      throw f;
    }
  }

  private void run(ArrayBlockingQueue<List<byte[]>> queue) {
    try {
      for (List<byte[]> batch = queue.take(); batch != DONE; batch = queue.take()) {
        if (batch == BARRIER) {
          reached.countDown();
          continue;
        }
        if (failure.get() != null) {
          continue; // drain without applying, so the reader never blocks on a full queue
        }
        try {
          for (byte[] record : batch) {
            applier.apply(record[0], ByteBuffer.wrap(record, 1, record.length - 1));
          }
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops every applier (after what was handed out) and waits for them. */
  @Override
  public void close() {
    for (int i = 0; i < queues.length; i++) {
      if (threads[i].isAlive()) {
        put(i, DONE);
      }
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}

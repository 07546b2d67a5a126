package dev.whack.node.kafka;

import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Outcome;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Applies this node's records (updates, or a refill's profiles) on one lane per core, each a thread
 * of its own, while the consumer's thread goes on fetching: a key always goes to the same lane and
 * a lane applies in the order read, so each key's records keep their partition order. The consumer
 * {@link #submit}s a poll's records and polls again at once, so the next fetch and its parsing
 * overlap the apply; each lane holds at most {@link #DEPTH} submitted batches, and a submit waits
 * for room (the bound on what is read ahead). {@link #await} returns once everything submitted is
 * applied: the updates source waits so after each poll, as it commits and forwards per poll; a
 * refill only at its end.
 *
 * <p>Concurrency: {@link #add}, {@link #submit}, {@link #await}, {@link #run} and {@link #clear} on
 * the consumer's thread; a batch's lists go to the lanes through their queues.
 */
final class LocalAppliers implements AutoCloseable {
  /** Batches a lane may hold before a submit waits. */
  static final int DEPTH = 2;

  /** What one lane does with one record. */
  interface Apply {
    void apply(Pending record, KeyspaceSession session, Outcome outcome);
  }

  /** A record, what it holds and the producer mark it carries (both null for a refill's). */
  record Pending(
      ConsumerRecord<byte[], ByteBuffer> record,
      SourcedKind kind,
      byte[] producer,
      KeyspaceSession.SourcedWrite how) {}

  /** Tells a lane to stop. */
  private static final List<Pending> STOP = List.of();

  private final Apply apply;
  private final List<List<Pending>> filling = new ArrayList<>();
  private final List<BlockingQueue<List<Pending>>> queues = new ArrayList<>();
  private final Thread[] threads;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();

  /** Lists submitted and not yet applied; guarded by {@link #lock}. */
  private int outstanding;

  /** The first thing a lane threw since the last {@link #await}; guarded by {@link #lock}. */
  private Throwable failure;

  LocalAppliers(Keyspace keyspace, int lanes, Apply apply) {
    this.apply = apply;
    this.threads = new Thread[lanes];
    for (int i = 0; i < lanes; i++) {
      filling.add(new ArrayList<>());
      queues.add(new ArrayBlockingQueue<>(DEPTH));
      int lane = i;
      KeyspaceSession session = keyspace.session();
      threads[i] = new Thread(() -> lane(lane, session), "whack-kafka-apply-" + i);
      threads[i].setDaemon(true);
      threads[i].start();
    }
  }

  void add(Pending pending) {
    byte[] key = pending.record().key();
    filling.get(Math.floorMod(Arrays.hashCode(key), filling.size())).add(pending);
  }

  /**
   * Hands what was added to the lanes, waiting while a lane already holds {@link #DEPTH} batches.
   *
   * @throws WakeupException when interrupted while waiting (the node is closing)
   */
  void submit() {
    throwFailure(); // a refill fails at the first poll after the failure, not at its end
    for (int i = 0; i < filling.size(); i++) {
      List<Pending> records = filling.get(i);
      if (records.isEmpty()) {
        continue;
      }
      lock.lock();
      try {
        outstanding++;
      } finally {
        lock.unlock();
      }
      try {
        queues.get(i).put(records);
      } catch (InterruptedException e) {
        done(null);
        Thread.currentThread().interrupt();
        throw new WakeupException();
      }
      filling.set(i, new ArrayList<>(Math.max(16, records.size())));
    }
  }

  /**
   * Returns once everything submitted is applied; what a lane threw meanwhile (a bug, or the log
   * failing) is thrown here, and the caller reads again what it submitted since its last await
   * (what was applied of it is ignored then, by its mark).
   */
  void await() {
    lock.lock();
    try {
      while (outstanding > 0) {
        idle.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
    throwFailure();
  }

  /** Throws (once) what a lane threw since the last time. */
  private void throwFailure() {
    Throwable t;
    lock.lock();
    try {
      t = failure;
      failure = null;
    } finally {
      lock.unlock();
    }
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    if (t != null) {
      throw new IllegalStateException(t);
    }
  }

  /** {@link #submit} and {@link #await}: the records added so far, applied. */
  void run() {
    submit();
    await();
  }

  /** Drops what was added and not yet submitted (the caller reads it again). */
  void clear() {
    for (List<Pending> records : filling) {
      records.clear();
    }
  }

  private void lane(int lane, KeyspaceSession session) {
    Outcome outcome = new Outcome();
    BlockingQueue<List<Pending>> queue = queues.get(lane);
    while (true) {
      List<Pending> records;
      try {
        records = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (records == STOP) {
        return;
      }
      Throwable thrown = null;
      try {
        for (Pending p : records) {
          apply.apply(p, session, outcome);
        }
      } catch (Throwable t) {
        // Kept for await() to throw on the consumer's thread; the lane goes on with the next
        // batch, so no one waits for ever for a lane that died.
        thrown = t;
      }
      done(thrown);
    }
  }

  private void done(Throwable thrown) {
    lock.lock();
    try {
      if (thrown != null) {
        if (failure == null) {
          failure = thrown;
        } else if (failure != thrown) {
          failure.addSuppressed(thrown);
        }
      }
      if (--outstanding == 0) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the lanes once they have applied what was submitted, and waits for them: nothing applies
   * a record after this returns (the node closes its keyspace next).
   */
  @Override
  public void close() {
    boolean interrupted = false;
    for (BlockingQueue<List<Pending>> queue : queues) {
      while (true) {
        try {
          queue.put(STOP);
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}

package dev.whack.node.kafka;

import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Outcome;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Phaser;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Applies one poll's records of this node's keys (updates, or a refill's profiles) on one lane per
 * core: the consumer's own thread and one thread more per further core. A key always goes to the
 * same lane and a lane applies in the order read, so each key's records keep their partition order;
 * {@link #run} returns when every lane is done, so the consumer polls (and commits) only after the
 * whole batch applied.
 *
 * <p>Concurrency: {@link #add}, {@link #run} and {@link #clear} on the consumer's thread; each
 * lane's list is handed to its thread by {@link #run} and back by the phaser.
 */
final class LocalAppliers implements AutoCloseable {
  /** What one lane does with one record. */
  interface Apply {
    void apply(Pending record, KeyspaceSession session, Outcome outcome);
  }

  /** A record, what it holds and the producer mark it carries (both null for a refill's). */
  record Pending(ConsumerRecord<byte[], byte[]> record, SourcedKind kind, byte[] producer) {}

  private final Apply apply;
  private final List<List<Pending>> lanes = new ArrayList<>();
  private final KeyspaceSession[] sessions;
  private final Outcome[] outcomes;
  private final Thread[] threads;
  private final Phaser phaser = new Phaser(1);
  private volatile boolean running = true;
  private volatile int round;

  /** The first thing a lane threw in the current round; guarded by this. */
  private Throwable failure;

  LocalAppliers(Keyspace keyspace, int lanes, Apply apply) {
    this.apply = apply;
    this.sessions = new KeyspaceSession[lanes];
    this.outcomes = new Outcome[lanes];
    this.threads = new Thread[lanes];
    for (int i = 0; i < lanes; i++) {
      this.lanes.add(new ArrayList<>());
      sessions[i] = keyspace.session();
      outcomes[i] = new Outcome();
    }
    for (int i = 1; i < lanes; i++) {
      int lane = i;
      phaser.register();
      threads[i] = new Thread(() -> lane(lane), "whack-kafka-apply-" + i);
      threads[i].setDaemon(true);
      threads[i].start();
    }
  }

  void add(Pending pending) {
    byte[] key = pending.record().key();
    lanes.get(Math.floorMod(Arrays.hashCode(key), lanes.size())).add(pending);
  }

  /**
   * Applies what was added, on every lane at once, and returns when all are done; what a lane threw
   * (a bug, or the log failing) is thrown here once every lane is done, and the round's records are
   * dropped: the caller reads them again, and what was applied is ignored then.
   */
  void run() {
    round++;
    for (int i = 1; i < threads.length; i++) {
      LockSupport.unpark(threads[i]);
    }
    try {
      applyLane(0);
    } catch (Throwable t) {
      failed(t);
    } finally {
      phaser.arriveAndAwaitAdvance();
    }
    Throwable t;
    synchronized (this) {
      t = failure;
      failure = null;
    }
    if (t != null) {
      if (t instanceof RuntimeException e) {
        throw e;
      }
      if (t instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(t);
    }
  }

  /** Drops what was added and not yet run (the caller reads it again). */
  void clear() {
    for (List<Pending> records : lanes) {
      records.clear();
    }
  }

  private synchronized void failed(Throwable t) {
    if (failure == null) {
      failure = t;
    } else if (failure != t) {
      failure.addSuppressed(t);
    }
  }

  private void lane(int lane) {
    int seen = 0;
    while (running) {
      if (round == seen) {
        LockSupport.park(this);
        continue;
      }
      seen = round;
      try {
        applyLane(lane);
      } catch (Throwable t) {
        // Kept for run() to throw on the consumer's thread: a lane that died here would leave the
        // phaser waiting for it for ever.
        failed(t);
      } finally {
        phaser.arrive();
      }
    }
    phaser.arriveAndDeregister();
  }

  private void applyLane(int lane) {
    List<Pending> records = lanes.get(lane);
    try {
      for (Pending p : records) {
        apply.apply(p, sessions[lane], outcomes[lane]);
      }
    } finally {
      records.clear();
    }
  }

  @Override
  public void close() {
    running = false;
    for (int i = 1; i < threads.length; i++) {
      LockSupport.unpark(threads[i]);
    }
  }
}

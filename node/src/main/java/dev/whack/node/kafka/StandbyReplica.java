package dev.whack.node.kafka;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.node.observability.NodeLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The standby replicas a member of a Kafka-managed cluster keeps (docs/cluster.md, "Standbys"): the
 * profiles of the slots the map names it a standby of, kept warm from the updates topic exactly as
 * their owner keeps them (each record applied once by its producer mark), in a store of its own
 * that no client reads and no segment is evaluated in, so the member's answers count only the keys
 * it owns. When the map makes this member a slot's owner, {@link #handOver} hands the slot's
 * profiles over, marks included, key by key, and the owner's consumer goes on from the offset the
 * standby had reached: a failure moves a slot to a warm copy, not to a refill from the topic's
 * start.
 *
 * <p>Profiles only: plain memcached items are a cache of their owner's and are not kept warm.
 *
 * <p>Concurrency: one thread owns the consumer and applies the records; {@link #reassign} hands it
 * a new set of slots and waits for it to take them (so a promoted slot is no longer written here
 * once the call returns). The store is a {@link Keyspace}, safe for any thread; keys moving out of
 * it are moved one thread per key at a time.
 */
public final class StandbyReplica implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(100);

  private final String topic;
  private final Keyspace store;
  private final SlotOf slotOf;
  private final KafkaConsumer<byte[], ByteBuffer> consumer;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Reassignment> requests = new ConcurrentLinkedQueue<>();
  private volatile boolean running = true;

  /** The slots this member keeps warm now; the consumer thread's. */
  private Set<Integer> slots = new HashSet<>();

  private final Map<Integer, byte[]> producers = new HashMap<>();
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong promoted = new AtomicLong();
  private volatile Map<Integer, Long> lags = Map.of();

  private record Reassignment(
      Set<Integer> slots, Set<Integer> promoted, CompletableFuture<Map<Integer, Long>> done) {}

  /**
   * @param memoryBytes the store's cap (the node's own: each replica costs what its keys cost)
   * @param slotOf a key's slot, by the cluster's map
   */
  public StandbyReplica(
      KafkaOptions options,
      InstantSource clock,
      long memoryBytes,
      int maxItemSize,
      String self,
      SlotOf slotOf) {
    this.topic = options.updatesTopic();
    this.slotOf = slotOf;
    ProfileEngine engine =
        new ProfileEngine(
            new EngineConfig()
                .clock(clock)
                .maxKeyBytes(250)
                .maxValueBytes(maxItemSize)
                .changeBufferBytes(64 * 1024));
    this.store = new Keyspace(clock, memoryBytes, maxItemSize, engine);
    Properties p = UpdateSource.updatesConsumer(options.bootstrap(), "whack-standby-" + self);
    this.consumer = new KafkaConsumer<>(p); // no group: assigned, never subscribed
    this.thread = new Thread(this::run, "whack-kafka-standby");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Keeps {@code standbySlots} warm from now on (slots new to it from the topic's start; slots it
   * no longer keeps are dropped), and stops keeping {@code promotedSlots}, returning for each the
   * offset its copy has reached: that slot's profiles stay in the store for {@link #handOver}.
   */
  public CompletableFuture<Map<Integer, Long>> reassign(
      Set<Integer> standbySlots, Set<Integer> promotedSlots) {
    CompletableFuture<Map<Integer, Long>> done = new CompletableFuture<>();
    requests.add(new Reassignment(Set.copyOf(standbySlots), Set.copyOf(promotedSlots), done));
    consumer.wakeup();
    return done;
  }

  /**
   * Hands the copies of {@code slots} over to the owner's keyspace, key by key and without making
   * anyone wait for the whole: a key moves at its first use ({@link #moveIfHandingOver}, called
   * before a record is applied to it or a client reads or writes it) or when a thread of this
   * replica gets to it, and {@code movedIn} is told each slot once all of its keys moved. So a
   * member serves a slot it took over from its warm copy as soon as it has read the copy's few
   * records behind, whatever the slot's size; only its cluster-wide answers wait for the move.
   */
  public void handOver(Set<Integer> slots, Keyspace owner, IntConsumer movedIn) {
    synchronized (this) {
      Set<Integer> now = new HashSet<>(handingOver);
      now.addAll(slots);
      handingOver = Set.copyOf(now);
    }
    Thread mover =
        new Thread(
            () -> {
              KeyspaceSession session = owner.session();
              for (int slot : slots) {
                long started = System.nanoTime();
                int moved = 0;
                for (byte[] key : store.keysWhere(key -> slotOf.slot(key) == slot)) {
                  if (!handingOver.contains(slot) || !running) {
                    break; // the slot left this member meanwhile, or the node stops
                  }
                  try {
                    moved += moveOne(key, session) ? 1 : 0;
                  } catch (RuntimeException e) {
                    // The owner's keyspace refused it (its log, its memory): the key is lost
                    // here, said once per key, and the slot's move goes on to its end.
                    NodeLog.warn("whack node: a warm copy could not move in: " + e);
                  }
                }
                if (stopHandingOver(Set.of(slot))) {
                  movedIn.accept(slot);
                  NodeLog.info(
                      String.format(
                          "whack node: moved the warm copy of slot %d in (%d profiles by the mover in"
                              + " %d ms)",
                          slot, moved, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
                }
              }
            },
            "whack-standby-handover");
    mover.setDaemon(true);
    movers.add(mover);
    mover.start();
  }

  /** Hand-over threads started, joined at close. */
  private final List<Thread> movers = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Stops handing {@code slots} over (all moved, or the slot left this member) and drops what is
   * left of their copies here; true if any of them was being handed over.
   */
  public boolean stopHandingOver(Set<Integer> slots) {
    synchronized (this) {
      Set<Integer> now = new HashSet<>(handingOver);
      if (!now.removeAll(slots)) {
        return false;
      }
      handingOver = Set.copyOf(now);
    }
    store.dropMoved(key -> slots.contains(slotOf.slot(key)));
    return true;
  }

  /**
   * Before the owner uses {@code key}: if its slot's copy is being handed over and the key is still
   * here, moves it into the owner's keyspace through {@code owner} (the caller's own session).
   */
  public void moveIfHandingOver(byte[] key, int offset, int length, KeyspaceSession owner) {
    Set<Integer> slots = handingOver;
    if (slots.isEmpty()) {
      return;
    }
    byte[] k =
        offset == 0 && length == key.length
            ? key
            : java.util.Arrays.copyOfRange(key, offset, offset + length);
    if (slots.contains(slotOf.slot(k))) {
      moveOne(k, owner);
    }
  }

  /** Moves one key's copy into the owner's keyspace (one thread per key at a time); true if so. */
  private boolean moveOne(byte[] key, KeyspaceSession owner) {
    java.util.concurrent.locks.ReentrantLock lock =
        moveLocks[java.util.Arrays.hashCode(key) & (moveLocks.length - 1)];
    lock.lock();
    try {
      if (!handingOver.contains(slotOf.slot(key))) {
        return false;
      }
      Moving m = moving.get();
      if (!m.copies.copyOut(key, 0, key.length, m.copy)) {
        return false; // moved already, or never here
      }
      try {
        // As a set of the same bytes, flags and expiry: the same kind of item (a JSON or protobuf
        // profile with its marks, or an opaque value a client wrote through the log).
        owner.movingIn(
            key,
            () ->
                owner.store(
                    StoreMode.SET,
                    key,
                    0,
                    key.length,
                    m.copy.flags,
                    m.copy.number,
                    m.copy.value,
                    0,
                    false,
                    false,
                    m.outcome));
        promoted.incrementAndGet();
      } catch (ProfileRejectedException e) {
        NodeLog.warn("whack node: a standby profile could not be promoted: " + e);
      }
      m.copies.delete(key, 0, key.length, 0);
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** A thread's handle on the copies, for moving keys out of them. */
  private final class Moving {
    final KeyspaceSession copies = store.session();
    final Outcome copy = new Outcome();
    final Outcome outcome = new Outcome();
  }

  private final ThreadLocal<Moving> moving = ThreadLocal.withInitial(Moving::new);

  /** One key moves at a time: a reader, a record's apply and the mover may meet on it. */
  private final java.util.concurrent.locks.ReentrantLock[] moveLocks = newLocks(256);

  private static java.util.concurrent.locks.ReentrantLock[] newLocks(int n) {
    java.util.concurrent.locks.ReentrantLock[] locks =
        new java.util.concurrent.locks.ReentrantLock[n];
    for (int i = 0; i < n; i++) {
      locks[i] = new java.util.concurrent.locks.ReentrantLock();
    }
    return locks;
  }

  private volatile Set<Integer> handingOver = Set.of();

  /** The slot of a key, as the cluster map computes it. */
  @FunctionalInterface
  public interface SlotOf {
    int slot(byte[] key);
  }

  private void run() {
    Outcome outcome = new Outcome();
    KeyspaceSession session = store.session();
    try {
      while (running) {
        try {
          takeRequests();
          if (slots.isEmpty()) {
            lags = Map.of();
            waitForWork();
            continue;
          }
          for (ConsumerRecord<byte[], ByteBuffer> record : consumer.poll(POLL)) {
            apply(record, session, outcome);
          }
          updateLags();
        } catch (WakeupException e) {
          // a reassignment (or close) is waiting
        } catch (RuntimeException e) {
          // The copies must not stop for good: a broker error, a bug. Say so and go on; the lags
          // stay unknown (cold) until a poll succeeds.
          lags = Map.of();
          NodeLog.warn("whack node: the standby replicas failed (" + e + "); going on");
          waitForWork();
        }
      }
    } catch (Error e) {
      NodeLog.error("whack node: the standby replicas stopped: " + e);
      failPending(e);
    } finally {
      consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  private void waitForWork() {
    try {
      Thread.sleep(POLL.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running = false;
    }
  }

  private void takeRequests() {
    Reassignment r;
    while ((r = requests.peek()) != null) {
      try {
        take(r);
      } catch (WakeupException e) {
        continue; // a wake-up meant for poll: take the same request again
      } catch (RuntimeException e) {
        r.done().completeExceptionally(e); // the owner reads those slots from the start
      }
      requests.remove(r);
    }
  }

  /**
   * Takes one reassignment; a wake-up meant for poll may interrupt it before it changed anything.
   */
  private void take(Reassignment r) {
    Map<Integer, Long> reached = new HashMap<>();
    for (int slot : r.promoted()) {
      TopicPartition partition = new TopicPartition(topic, slot);
      if (slots.contains(slot)) {
        reached.put(slot, consumer.position(partition));
      }
    }
    Set<Integer> dropped = new HashSet<>(slots);
    dropped.removeAll(r.slots());
    dropped.removeAll(r.promoted());
    Set<Integer> added = new HashSet<>(r.slots());
    added.removeAll(slots);
    slots = new HashSet<>(r.slots());
    List<TopicPartition> assigned = new ArrayList<>();
    for (int slot : slots) {
      assigned.add(new TopicPartition(topic, slot));
    }
    consumer.assign(assigned);
    List<TopicPartition> fresh = new ArrayList<>();
    for (int slot : added) {
      fresh.add(new TopicPartition(topic, slot));
    }
    ProfilesTopic changelog = profiles;
    if (!fresh.isEmpty()) {
      stopHandingOver(added); // a slot that left this member while its copy was moving in
      if (changelog == null) {
        consumer.seekToBeginning(fresh);
      }
    }
    // The owner waits for the promoted slots' offsets only: answer before the scan below.
    r.done().complete(reached);
    if (!dropped.isEmpty()) {
      store.dropMoved(key -> dropped.contains(slotOf.slot(key)));
    }
    if (!fresh.isEmpty() && changelog != null) {
      restore(changelog, added, fresh);
    }
  }

  /**
   * New copies start from the profiles topic, their slots' changelog, then follow the updates topic
   * from the slots' positions (docs/cluster.md, "Restore from the profiles topic"); without a
   * position, or when the restore fails, from the updates topic's start.
   */
  private void restore(ProfilesTopic changelog, Set<Integer> added, List<TopicPartition> fresh) {
    Map<Integer, Long> positions = Map.of();
    long start = System.nanoTime();
    try {
      ProfilesTopic.Refilled counts = new ProfilesTopic.Refilled();
      positions = changelog.restore(added, store, null, counts);
      NodeLog.info(
          String.format(
              java.util.Locale.ROOT,
              "whack node: restored new standby copies of %s from the profiles topic (%d profiles in"
                  + " %.1f s); they follow the updates from %s",
              new java.util.TreeSet<>(added),
              counts.profiles.get(),
              (System.nanoTime() - start) / 1e9,
              positions.isEmpty() ? "their start" : new java.util.TreeMap<>(positions)));
    } catch (RuntimeException e) {
      NodeLog.warn(
          "whack node: new standby copies of "
              + new java.util.TreeSet<>(added)
              + " could not be restored from the profiles topic ("
              + e
              + "); they read the updates from their start");
    }
    List<TopicPartition> fromStart = new ArrayList<>();
    for (TopicPartition partition : fresh) {
      Long at = positions.get(partition.partition());
      if (at == null) {
        fromStart.add(partition);
      } else {
        consumer.seek(partition, at);
      }
    }
    if (!fromStart.isEmpty()) {
      consumer.seekToBeginning(fromStart);
    }
  }

  /** The profiles topic new copies are restored from, or null; set before the first map. */
  private volatile ProfilesTopic profiles;

  /** Makes {@code changelog} the topic new copies are restored from. */
  public void restoresFrom(ProfilesTopic changelog) {
    this.profiles = changelog;
  }

  private void apply(
      ConsumerRecord<byte[], ByteBuffer> record, KeyspaceSession session, Outcome outcome) {
    byte[] key = record.key();
    if (key == null
        || key.length == 0
        || key.length > 250
        || slotOf.slot(key) != record.partition()) {
      return; // the owner sends it to the dead letters: a copy must not hold what it does not
    }
    KeyspaceSession.SourcedKind kind;
    KeyspaceSession.SourcedWrite how;
    try {
      kind = RecordFormat.kindOf(record.headers(), record.value());
      how = RecordFormat.howToStore(record.headers());
    } catch (IllegalArgumentException e) {
      return;
    }
    try {
      RecordValues.applySourced(session, record, producer(record.partition()), kind, how, outcome);
      applied.incrementAndGet();
    } catch (ProfileRejectedException e) {
      // the owner sends it to the dead letters
    } catch (RuntimeException e) {
      NodeLog.warn("whack node: a standby record failed unexpectedly: " + e);
    }
  }

  private byte[] producer(int partition) {
    return producers.computeIfAbsent(
        partition, p -> UpdateSource.producerName(topic, p).getBytes(StandardCharsets.UTF_8));
  }

  private void updateLags() {
    Map<Integer, Long> now = new HashMap<>();
    for (TopicPartition partition : consumer.assignment()) {
      consumer.currentLag(partition).ifPresent(lag -> now.put(partition.partition(), lag));
    }
    lags = Map.copyOf(now);
  }

  private void failPending(Throwable e) {
    Reassignment r;
    while ((r = requests.poll()) != null) {
      r.done().completeExceptionally(e);
    }
  }

  /** Records applied to the copies. */
  public long applied() {
    return applied.get();
  }

  /** Profiles handed to this member's owner store by promotions. */
  public long promoted() {
    return promoted.get();
  }

  /** Profiles kept warm now. */
  public long profiles() {
    return store.itemCount();
  }

  /** Records behind each kept slot's end, as of the last poll. */
  public Map<Integer, Long> lags() {
    return lags;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    for (Thread mover : movers) {
      try {
        mover.join(5_000); // they stop at their next key: nothing moves in after this
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

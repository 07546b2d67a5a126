package dev.whack.node.kafka;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.keyspace.Journal;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.node.observability.NodeLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;

/**
 * A compacted topic of whole profiles (docs/kafka.md, "Refill"): the node keeps it up to date from
 * its own changes, and a node that starts empty rebuilds itself from it and then follows the
 * updates topic from where the profiles stand.
 *
 * <p>Writing: every profile change marks its key dirty (a {@link Journal} beside the log, under the
 * key's stripe lock); every {@code delay} the dirty keys are published as they are then, Profile
 * JSON with their producer marks (a key that holds no profile any more: a tombstone), and after the
 * broker took them all, a position record per partition of the updates topic (key {@code
 * _whack/position/<updates topic>/<partition>}, value the offset): every record of that partition
 * below it has its effect in profiles published before the position record. The positions are read
 * before the dirty keys are taken, so that holds.
 *
 * <p>Refill: the topic read from its start to its end as it was then; profiles stored as they are
 * (their marks included), tombstones delete, and the highest position per partition says where the
 * updates topic is followed from. A record read twice after that is ignored by its profile's mark,
 * so the refill and the updates that follow it apply each record once.
 *
 * <p>In a Kafka-managed cluster (docs/cluster.md, "Restore from the profiles topic") the topic has
 * as many partitions as the updates topic, so a profile lands in its slot's partition, and each
 * member publishes only what it holds whole: profiles of the slots it owns, and a position record
 * per such slot in that slot's own partition, neither while it still takes the slot over or moves
 * its warm copy in (what it holds of the slot then may be older than the slot's last position: its
 * keys stay dirty until then). So one partition of the topic is the changelog of one slot, and a
 * member that takes a slot over with no warm copy of it ({@link #restore}) reads that partition,
 * then the updates topic from the slot's position. A rebalance suspends publishing ({@link
 * #suspend}) until the member knows its slots again, so a slot's last owner never publishes after
 * its next owner.
 *
 * <p>Concurrency: the journal calls come from any thread under a stripe lock (each stripe's dirty
 * set is guarded by that lock); one writer thread publishes, a round at a time under {@link
 * #round}.
 */
public final class ProfilesTopic implements AutoCloseable {
  /** The key prefix of position records (never a profile key: {@code _whack/} is reserved). */
  static final String POSITION_PREFIX = Keyspace.RESERVED_PREFIX + "position/";

  /** Dirty keys that make the writer publish before its delay is up. */
  private static final long EARLY_FLUSH_KEYS = 100_000;

  private final String bootstrap;
  private final Keyspace keyspace;
  private final ReentrantLock[] locks;
  private final String topic;
  private final String updatesTopic;
  private final UpdateSource source;
  private final long delayNanos;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Thread thread;
  private final List<Set<DirtyKey>> dirty = new ArrayList<>();
  private final DirtyKey[] probes;
  private final AtomicLong dirtyCount = new AtomicLong();
  private final Tracker tracker = new Tracker();
  private final AtomicLong published = new AtomicLong();
  private volatile boolean running = true;

  /** The managed cluster whose slots this member publishes, or null (a node alone or static). */
  private final Cluster cluster;

  /** Held by a publishing round; {@link #suspend} waits for the round in progress with it. */
  private final ReentrantLock round = new ReentrantLock();

  /** Set during a rebalance: no round starts, and a round in progress sends nothing more. */
  private volatile boolean suspended;

  /**
   * @param source the updates topic's consumer on this node, whose positions the position records
   *     carry; null when the node consumes none
   * @param cluster the node's cluster: in a managed one, only what this member holds whole is
   *     published, and the topic must have as many partitions as the updates topic
   */
  public ProfilesTopic(
      String bootstrap,
      String topic,
      Keyspace keyspace,
      ReentrantLock[] stripeLocks,
      UpdateSource source,
      String updatesTopic,
      Duration delay,
      Cluster cluster) {
    this.bootstrap = bootstrap;
    this.keyspace = keyspace;
    this.cluster = cluster != null && cluster.isManaged() ? cluster : null;
    this.locks = stripeLocks;
    this.topic = topic;
    this.source = source;
    this.updatesTopic = updatesTopic;
    this.delayNanos = delay.toNanos();
    this.probes = new DirtyKey[stripeLocks.length];
    for (int i = 0; i < stripeLocks.length; i++) {
      dirty.add(new HashSet<>());
      probes[i] = new DirtyKey(null);
    }
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "whack-profiles");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producer = new KafkaProducer<>(p);
    if (this.cluster != null) {
      requireSlotPartitions(topic, updatesTopic);
    }
    this.thread = new Thread(this::run, "whack-kafka-profiles");
    thread.setDaemon(true);
  }

  /** Marks keys dirty from now on and starts publishing them. */
  public void start() {
    keyspace.journal(Journal.tee(keyspace.journal(), tracker));
    thread.start();
  }

  /** Profiles (and tombstones) the topic took. */
  public long published() {
    return published.get();
  }

  private void run() {
    while (running) {
      LockSupport.parkNanos(delayNanos);
      try {
        publish();
      } catch (RuntimeException e) {
        NodeLog.warn("whack node: publishing profiles to " + topic + " failed: " + e);
      }
    }
  }

  /**
   * A managed cluster's profiles topic is its slots' changelog: one partition per slot, so it has
   * the updates topic's partition count (a profile's key then lands in its slot's partition by the
   * same partitioner). Fails the start with what to do when it has not.
   */
  private void requireSlotPartitions(String topic, String updatesTopic) {
    int profiles;
    int updates;
    try {
      profiles = producer.partitionsFor(topic).size();
      updates = producer.partitionsFor(updatesTopic).size();
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw new IllegalArgumentException(
          "cannot read the partitions of " + topic + " and " + updatesTopic + ": " + e, e);
    }
    if (profiles != updates) {
      producer.close(Duration.ZERO);
      throw new IllegalArgumentException(
          "--kafka-profiles "
              + topic
              + " has "
              + profiles
              + " partitions; in a Kafka-managed cluster it needs as many as --kafka-updates "
              + updatesTopic
              + " ("
              + updates
              + "): one per slot");
    }
  }

  /**
   * A rebalance begins (the consumer gives its slots back): waits for a round in progress to stop
   * sending, and publishes nothing until {@link #resume}, so a slot that moves is never published
   * by its last owner after its next owner took it.
   */
  public void suspend() {
    suspended = true;
    round.lock(); // the round in progress sees the flag, stops and flushes what it sent
    round.unlock();
  }

  /**
   * The node stops: publishes what changed since the last round, while this member still owns its
   * slots (before its consumer leaves the group and publishing is suspended for good).
   */
  public void publishBeforeLeaving() {
    try {
      publish();
    } catch (RuntimeException e) {
      NodeLog.warn("whack node: the last profiles for " + topic + " were not published: " + e);
    }
  }

  /**
   * The member knows its slots again (its map is installed): publishing goes on, of those slots
   * only; what it held of slots now gone is dropped from the dirty keys at the next round.
   */
  public void resume() {
    suspended = false;
  }

  /** Publishes the dirty keys, then the positions they cover. */
  void publish() {
    round.lock();
    try {
      if (!suspended) {
        publishRound();
      }
    } finally {
      round.unlock();
    }
  }

  private void publishRound() {
    Map<Integer, Long> positions = source == null ? Map.of() : source.positions();
    if (cluster != null) {
      // Only slots this member holds whole: a slot taken over or moving in is not yet all here.
      positions = new HashMap<>(positions);
      positions.keySet().removeIf(slot -> !cluster.holdsWhole(slot));
    }
    List<byte[]> keys = new ArrayList<>();
    for (int s = 0; s < locks.length; s++) {
      Set<DirtyKey> taken;
      locks[s].lock();
      try {
        taken = dirty.get(s);
        if (taken.isEmpty()) {
          continue;
        }
        dirty.set(s, new HashSet<>());
      } finally {
        locks[s].unlock();
      }
      for (DirtyKey k : taken) {
        keys.add(k.key);
      }
    }
    dirtyCount.set(0); // a hint for early rounds only: what is marked from now on counts
    java.util.concurrent.ConcurrentLinkedQueue<byte[]> refused =
        new java.util.concurrent.ConcurrentLinkedQueue<>();
    boolean cut = false;
    List<byte[]> deferred = new ArrayList<>();
    for (byte[] key : keys) {
      if (cluster != null && !cluster.owns(key, 0, key.length)) {
        continue; // its slot moved: its new owner publishes it
      }
      if (cluster != null && !cluster.holdsWhole(cluster.map().slotOf(key, 0, key.length))) {
        // Its slot is still taken over or moving in here: what this member holds of it may be
        // older than what the slot's last position already covers. Published once whole.
        deferred.add(key);
        continue;
      }
      if (suspended) {
        refused.add(key); // a rebalance began: kept dirty, for this member if the slot stays
        cut = true;
        continue;
      }
      byte[] json = keyspace.profileJson(key, 0, key.length);
      producer.send(
          new ProducerRecord<>(topic, key, json),
          (metadata, failure) -> {
            if (failure == null) {
              published.incrementAndGet();
            } else {
              refused.add(key);
            }
          });
    }
    producer.flush();
    markDirtyAgain(deferred, false); // waits for its slot: no reason to publish sooner
    if (!refused.isEmpty()) {
      // A position must not claim a profile the topic did not take: the keys are dirty again,
      // and no position goes out until a turn publishes everything it took.
      if (!cut) {
        NodeLog.warn(
            String.format(
                "whack node: %s did not take %d profiles; they are retried, and positions wait",
                topic, refused.size()));
      }
      markDirtyAgain(refused, true);
      return;
    }
    for (Map.Entry<Integer, Long> e : positions.entrySet()) {
      byte[] key =
          (POSITION_PREFIX + updatesTopic + "/" + e.getKey()).getBytes(StandardCharsets.UTF_8);
      byte[] value = Long.toString(e.getValue()).getBytes(StandardCharsets.US_ASCII);
      producer.send(
          cluster == null
              ? new ProducerRecord<>(topic, key, value)
              // in its slot's partition: a restore of the slot reads that partition only
              : new ProducerRecord<>(topic, e.getKey(), key, value));
    }
    producer.flush();
  }

  private void markDirtyAgain(java.util.Collection<byte[]> keys, boolean wake) {
    for (byte[] key : keys) {
      int stripe = keyspace.stripeOf(key, 0, key.length);
      locks[stripe].lock();
      try {
        tracker.mark(stripe, key, wake);
      } finally {
        locks[stripe].unlock();
      }
    }
  }

  /** Marks the keys of profile changes dirty, under their stripe's lock. */
  private final class Tracker implements Journal {
    @Override
    public void profilePut(
        int stripe,
        byte[] key,
        byte kind,
        int flags,
        long expiresAtSeconds,
        long cas,
        int marks,
        long atMillis,
        byte[] document,
        int offset,
        int length) {
      mark(stripe, key);
    }

    @Override
    public void profileUpdate(
        int stripe,
        byte[] key,
        long cas,
        long atMillis,
        boolean protobuf,
        byte[] document,
        int offset,
        int length) {
      mark(stripe, key);
    }

    @Override
    public void removed(int stripe, byte[] key) {
      mark(stripe, key);
    }

    /** Marks the key dirty; the caller holds the stripe's lock. */
    void mark(int stripe, byte[] key) {
      mark(stripe, key, true);
    }

    /** As {@link #mark(int, byte[])}; {@code wake}: many dirty keys publish before the delay. */
    void mark(int stripe, byte[] key, boolean wake) {
      DirtyKey probe = probes[stripe];
      probe.key = key;
      Set<DirtyKey> set = dirty.get(stripe);
      if (!set.contains(probe)) {
        set.add(new DirtyKey(key.clone()));
        // Counted toward an early round only when it may be published now (a key waiting for its
        // slot would make the rounds spin).
        if (wake && dirtyCount.incrementAndGet() >= EARLY_FLUSH_KEYS) {
          LockSupport.unpark(thread);
        }
      }
      probe.key = null;
    }
  }

  /** A key in a dirty set, compared by its bytes (the probe is reused under the stripe lock). */
  private static final class DirtyKey {
    byte[] key;

    DirtyKey(byte[] key) {
      this.key = key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof DirtyKey other && Arrays.equals(key, other.key);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(key);
    }
  }

  /**
   * Rebuilds an empty node from the topic, read from its start to where it ended when the refill
   * began, and returns, per partition of {@code updatesTopic}, the offset to follow it from. Each
   * poll's profiles are stored on one lane per core ({@link LocalAppliers}, as the updates are), a
   * key always on the same lane, so its versions apply in the order read, while the consumer
   * fetches the next poll; at most a few polls wait for the lanes; nor does anything queue in the
   * log: with a data directory ({@code log} not null) the refill waits while the log is behind its
   * disk.
   */
  public static Map<Integer, Long> refill(
      String bootstrap,
      String topic,
      String updatesTopic,
      Keyspace keyspace,
      DurableLog log,
      Refilled counts) {
    return read(bootstrap, topic, null, updatesTopic, keyspace, log, counts, false);
  }

  /**
   * Restores {@code slots} of a managed cluster from their partitions of this node's topic (each
   * the changelog of its slot) into {@code into} (its keyspace, or its standby copies' store, which
   * keeps no log: {@code log} null), read from their start to where they ended when the restore
   * began, and returns, per slot that has one, the offset of the updates topic to follow it from; a
   * slot with none is followed from the updates topic's start.
   */
  public Map<Integer, Long> restore(
      java.util.Collection<Integer> slots, Keyspace into, DurableLog log, Refilled counts) {
    // Restored profiles lived on at their last owner, which told their changes: none here.
    Map<Integer, Long> positions =
        read(bootstrap, topic, slots, updatesTopic, into, log, counts, true);
    positions.keySet().retainAll(new HashSet<>(slots));
    return positions;
  }

  /**
   * Reads {@code partitions} of the topic (null: all) into the keyspace, telling no segment change
   * when {@code movedIn}; returns the positions.
   */
  private static Map<Integer, Long> read(
      String bootstrap,
      String topic,
      java.util.Collection<Integer> partitionsToRead,
      String updatesTopic,
      Keyspace keyspace,
      DurableLog log,
      Refilled counts,
      boolean movedIn) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "whack-refill");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 32 << 20);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 << 20);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    String positionPrefix = POSITION_PREFIX + updatesTopic + "/";
    Map<Integer, Long> positions = new HashMap<>();
    try (KafkaConsumer<byte[], ByteBuffer> consumer = new KafkaConsumer<>(p);
        LocalAppliers appliers =
            new LocalAppliers(
                keyspace,
                Math.max(1, Runtime.getRuntime().availableProcessors()),
                (pending, session, outcome) ->
                    store(pending.record(), session, outcome, counts, movedIn))) {
      List<TopicPartition> partitions = new ArrayList<>();
      if (partitionsToRead == null) {
        for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
          partitions.add(new TopicPartition(topic, info.partition()));
        }
      } else {
        partitionsToRead.forEach(slot -> partitions.add(new TopicPartition(topic, slot)));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      long[] endOf =
          new long[partitions.stream().mapToInt(TopicPartition::partition).max().orElse(0) + 1];
      end.forEach((tp, offset) -> endOf[tp.partition()] = offset);
      long records = 0;
      for (Map.Entry<TopicPartition, Long> begin :
          consumer.beginningOffsets(partitions, Duration.ofSeconds(30)).entrySet()) {
        records += end.get(begin.getKey()) - begin.getValue();
      }
      keyspace.reserve(records); // at most that many profiles (a compacted topic has gaps)
      Set<TopicPartition> unfinished = new HashSet<>(partitions);
      unfinished.removeIf(tp -> consumer.position(tp) >= end.get(tp));
      while (!unfinished.isEmpty()) {
        for (ConsumerRecord<byte[], ByteBuffer> r : consumer.poll(Duration.ofMillis(500))) {
          byte[] key = r.key();
          if (key == null || r.offset() >= endOf[r.partition()]) {
            continue; // past the end as the refill began: the updates topic brings it
          }
          if (Keyspace.isReserved(key, 0, key.length)) {
            String text = new String(key, StandardCharsets.UTF_8);
            if (text.startsWith(positionPrefix)) {
              position(text.substring(positionPrefix.length()), r, positions);
            }
            continue;
          }
          appliers.add(new LocalAppliers.Pending(r, null, null, null));
        }
        appliers.submit(); // the next poll's fetch overlaps this one's apply
        waitWhileBehind(log);
        unfinished.removeIf(tp -> consumer.position(tp) >= end.get(tp));
      }
      appliers.await();
    }
    return positions;
  }

  /**
   * Takes a position record's offset for its partition; one that is not a partition and an offset
   * (written by something other than a node) is reported and passed over, not a reason to stop the
   * refill: the partition is then followed from an earlier position, or the beginning, and what is
   * read twice is ignored by its mark.
   */
  private static void position(
      String partition, ConsumerRecord<byte[], ByteBuffer> record, Map<Integer, Long> positions) {
    try {
      if (record.value() == null) {
        throw new NumberFormatException("no value");
      }
      positions.merge(
          Integer.parseInt(partition),
          Long.parseLong(
              new String(RecordValues.copy(record.value()), StandardCharsets.US_ASCII).trim()),
          Math::max);
    } catch (NumberFormatException e) {
      NodeLog.warn(
          String.format(
              "whack node: passed over a bad position record at %s-%d offset %d (%s)",
              record.topic(), record.partition(), record.offset(), e.getMessage()));
    }
  }

  /**
   * Holds the refill while the log is behind its disk, as connections and the source are held, so a
   * refill faster than the disk does not fill the heap with records waiting to be written.
   */
  private static void waitWhileBehind(DurableLog log) {
    if (log == null || !log.overloaded()) {
      return;
    }
    java.util.concurrent.CountDownLatch relieved = new java.util.concurrent.CountDownLatch(1);
    log.whenRelieved(relieved::countDown);
    try {
      relieved.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stores a refilled profile as it is (its marks included), or deletes on a tombstone. */
  private static void store(
      ConsumerRecord<byte[], ByteBuffer> record,
      KeyspaceSession session,
      Outcome outcome,
      Refilled counts,
      boolean movedIn) {
    if (movedIn) {
      session.movingIn(
          record.key(),
          () -> {
            store(record, session, outcome, counts, false);
            return null;
          });
      return;
    }
    byte[] key = record.key();
    ByteBuffer value = RecordValues.onHeap(record.value());
    if (value == null) {
      session.delete(key, 0, key.length, 0);
      return;
    }
    try {
      session.store(
          StoreMode.SET,
          key,
          0,
          key.length,
          Keyspace.JSON_PROFILE_FLAGS,
          0,
          value.array(),
          RecordValues.offset(value),
          value.remaining(),
          0,
          false,
          false,
          outcome);
      counts.profiles.incrementAndGet();
    } catch (ProfileRejectedException e) {
      counts.refused.incrementAndGet();
    }
  }

  /** What a refill loaded. */
  public static final class Refilled {
    public final AtomicLong profiles = new AtomicLong();
    public final AtomicLong refused = new AtomicLong();
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      publish(); // what changed since the last turn
    } catch (RuntimeException e) {
      NodeLog.warn("whack node: the last profiles for " + topic + " were not published: " + e);
    }
    producer.close(Duration.ofSeconds(5));
  }
}

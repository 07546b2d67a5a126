package dev.whack.node.kafka;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.durability.Durability;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.observability.NodeLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;

/**
 * Consumes the updates topic and applies each record through the keyspace exactly once
 * (docs/kafka.md). A record's (topic, partition, offset) is its update's producer mark, {@code
 * kafka:<topic>:<partition>} at sequence {@code offset}, kept by the profile under the same stripe
 * lock as the change and with it in the log and in snapshots ({@link
 * KeyspaceSession#applySourced}). So a record read again, after a crash, a restart or a rebalance,
 * is acknowledged and ignored, and where the consumer starts only decides how much is read twice.
 *
 * <p>Where it starts: a node whose state is empty (in memory only, or a data directory with nothing
 * in it) reads every partition from the beginning, since its state is the fold of the whole topic;
 * a node that recovered state starts from the group's committed offsets. Those are a progress hint
 * committed only for records whose log records are written (the node's own recovery would bring
 * them back after a crash), never the source of truth.
 *
 * <p>Back-pressure: the consumer's thread applies what a poll returned before it polls again, so
 * nothing queues in the node beyond the client's own bounded fetch buffer; while the log is behind
 * its disk ({@code DurableLog#overloaded}) every partition is paused.
 *
 * <p>Concurrency: one thread owns the consumer (it is not thread-safe); a poll's records of this
 * node's keys are applied by {@link LocalAppliers}, one lane (a thread) per core, a key always on
 * the same lane, and the consumer waits for all of them before it polls again; counts are atomic
 * and lags are read by others.
 */
public final class UpdateSource implements AutoCloseable {

  /**
   * Present in the data directory while a node that started empty has not yet committed where it
   * starts (from the beginning, or where a refill left each partition): a restart then starts empty
   * again, rather than from offsets an earlier life committed (docs/kafka.md).
   */
  public static final String STARTING_FILE = "kafka-starting";

  /** Where a node with a data directory keeps its id as a member of the consumer group. */
  static final String MEMBER_ID_FILE = "kafka-member-id";

  private static final Duration POLL = Duration.ofMillis(100);
  private static final long COMMIT_EVERY_MILLIS = 1000;
  private static final long RETRY_PAUSE_MILLIS = 1000;

  private final KafkaOptions options;
  private final LocalAppliers appliers;
  private final Durability durability;
  private final boolean emptyAtStart;
  private final KafkaConsumer<byte[], ByteBuffer> consumer;
  private final DeadLetters deadLetters;
  private final Thread thread;
  private volatile boolean running = true;

  /** {@code kafka:<topic>:<partition>} as UTF-8, by partition. */
  private byte[][] producers = new byte[0][];

  /** Partitions read since the node started (a node in memory starts each from the beginning). */
  private final Set<TopicPartition> readSinceStart = new HashSet<>();

  /**
   * The next offset after the last record applied, by partition, -1 where none was applied since
   * the last hand-over to a commit.
   */
  private long[] applied = new long[0];

  /** Offsets waiting for the log to be written up to {@link #pendingSequence}. */
  private Map<TopicPartition, OffsetAndMetadata> pending;

  private long pendingSequence;
  private long lastCommitMillis;

  private final Cluster cluster;
  private final Forwards forwards = new Forwards();

  private final Path dataDir;

  /** The node's keyspace: a managed cluster's member drops the keys a new map moved away. */
  private final Keyspace keyspace;

  /**
   * In a Kafka-managed cluster, the partitions (slots) this member holds the keys of: read from the
   * beginning when gained, their keys dropped when lost. Consumer thread only.
   */
  private Set<Integer> held = new HashSet<>();

  /** The slots this member keeps warm for others (a managed cluster with replicas), or null. */
  private final StandbyReplica standbys;

  /** A managed member's clients' writes, told when this source applies them; else null. */
  private final LoggedWrites logged;

  /**
   * Where each slot this member held stood when the group took it back (the eager protocol takes
   * every partition back at each rebalance and forgets its position): a slot kept is read on from
   * here, never from the group's committed offset, which another owner may have written.
   */
  private final Map<Integer, Long> keptAt = new HashMap<>();

  /**
   * Slots gained and not yet taken over, with the end of each as of the take-over: once every
   * record before it is handled here, the slot is served ({@link Cluster#tookOver}). Consumer
   * thread only.
   */
  private final Map<Integer, Long> readyAt = new HashMap<>();

  /** The group took this member's slots without a hand-over (fenced); consumer thread only. */
  private boolean fenced;

  /** When this member was last given slots it did not hold (for the take-over's log line). */
  private long assignedAtNanos;

  /** The poll just read, not yet handed to the lanes while the one before it is finished. */
  private ConsumerRecords<byte[], ByteBuffer> pendingPoll = ConsumerRecords.empty();

  /** The slots {@link #standbys} kept warm as of the last map. Consumer thread only. */
  private Set<Integer> backed = new HashSet<>();

  /** Where a node that refilled from the profiles topic follows each partition from. */
  private final Map<Integer, Long> startAt;

  /**
   * The next offset after the last record handled here, by partition, for other threads (the
   * profiles topic's position records); grown by copy on this thread.
   */
  private volatile java.util.concurrent.atomic.AtomicLongArray handled =
      new java.util.concurrent.atomic.AtomicLongArray(0);

  /** Records older than this when read are backlog (bulk work); younger ones the live tail. */
  static final long BULK_AGE_MILLIS = 5000;

  private static final long LIVE_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final java.util.function.LongSupplier liveBytes;
  private final int bulkSharePercent;
  private long lastLiveBytes;
  private long liveSeenNanos = Long.MIN_VALUE / 2;
  private final AtomicLong bulkBatches = new AtomicLong();
  private final AtomicLong throttledNanos = new AtomicLong();

  /** Per partition, the first offset of the poll just read (read again if it fails). */
  private final Map<TopicPartition, Long> pollStart = new HashMap<>();

  /** What a lane threw while a rebalance waited for it, thrown once the poll returns. */
  private Throwable laneFailure;

  /** The poll the lanes are applying, not yet finished ({@link #finishInFlight}). */
  private ConsumerRecords<byte[], ByteBuffer> inFlight = ConsumerRecords.empty();

  /** Per partition, the first offset of the poll in flight (read again if it fails). */
  private final Map<TopicPartition, Long> inFlightStart = new HashMap<>();

  /** Partitions sent back to an earlier offset before the poll in flight was applied. */
  private Map<TopicPartition, Long> inFlightRetried = Map.of();

  private long inFlightSince;

  private final Failures failures = new Failures("the Kafka source");

  private final AtomicLong appliedCount = new AtomicLong();
  private final AtomicLong duplicateCount = new AtomicLong();
  private final AtomicLong deadCount = new AtomicLong();
  private final Map<Integer, Long> lags = new ConcurrentHashMap<>();

  /**
   * @param durability the node's log, or null for a node in memory only
   * @param dataDir the node's data directory, or null: a node with one is a static member of the
   *     group under an id kept there, so that after a crash its restart takes its partitions back
   *     at once instead of after the group's session timeout
   * @param emptyAtStart whether the node started with no state (then it reads from the beginning)
   * @param startAt for a node that refilled from the profiles topic, where to follow each partition
   *     from instead of the beginning (null or empty: none)
   * @param liveBytes bytes the node has read from its clients so far (live work arriving)
   * @param bulkSharePercent what a backlog may take of the time while live work arrives
   * @param standbys in a managed cluster with replicas, the store of the slots this member keeps
   *     warm for others (promoted from when it becomes their owner); else null
   * @param logged in a managed cluster, the writes of this member's clients waiting to be read back
   *     and applied here; else null
   */
  public UpdateSource(
      KafkaOptions options,
      Keyspace keyspace,
      Cluster cluster,
      Durability durability,
      Path dataDir,
      boolean emptyAtStart,
      Map<Integer, Long> startAt,
      java.util.function.LongSupplier liveBytes,
      int bulkSharePercent,
      StandbyReplica standbys,
      int replicas,
      LoggedWrites logged)
      throws IOException {
    this.options = options;
    this.logged = logged;
    this.standbys = standbys;
    this.cluster = cluster;
    this.appliers =
        new LocalAppliers(
            keyspace, Math.max(1, Runtime.getRuntime().availableProcessors()), this::applyHere);
    this.durability = durability;
    this.emptyAtStart = emptyAtStart;
    this.startAt = startAt == null ? Map.of() : Map.copyOf(startAt);
    this.dataDir = dataDir;
    this.keyspace = keyspace;
    this.liveBytes = liveBytes;
    this.bulkSharePercent = bulkSharePercent;
    Properties p = updatesConsumer(options.bootstrap(), "whack-updates");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, options.group());
    if (dataDir != null) {
      p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, memberId(dataDir));
    }
    if (cluster.isManaged()) {
      joinAsMember(
          p, options, cluster, replicas, standbys, () -> leaving, epoch -> leavingMapAt = epoch);
    }
    this.consumer = new KafkaConsumer<>(p);
    this.deadLetters = new DeadLetters(options.bootstrap(), options.deadLetterTopic());
    this.thread = new Thread(this::run, "whack-kafka-updates");
    thread.setDaemon(true);
  }

  /**
   * A consumer of the updates topic, as the source and the standby copies read it: no automatic
   * commits, from the start where nothing says otherwise, and the client's own read-ahead as the
   * only queue (bounded, a few MiB).
   */
  static Properties updatesConsumer(String bootstrap, String clientId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    // The lanes wait at the end of each poll for the slower of them and for the next poll's
    // handover: 8,000 records a poll drained a backlog 5-10% faster than 2,000 (4M profiles).
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 8000);
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 8 << 20);
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 2 << 20);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    return p;
  }

  /**
   * A Kafka-managed cluster's member (docs/cluster.md): the group's classic protocol, whose
   * client-side assignor ({@link ClusterAssignor}) makes the cluster map, and the group's session
   * timeout as the failure detector.
   */
  private static void joinAsMember(
      Properties p,
      KafkaOptions options,
      Cluster cluster,
      int replicas,
      StandbyReplica standbys,
      java.util.function.BooleanSupplier leaving,
      java.util.function.LongConsumer leftIn) {
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
    p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, ClusterAssignor.class.getName());
    p.put(ClusterAssignor.SELF_CONFIG, cluster.self());
    p.put(ClusterAssignor.TOPIC_CONFIG, options.updatesTopic());
    p.put(ClusterAssignor.REPLICAS_CONFIG, replicas);
    if (standbys != null) {
      p.put(
          ClusterAssignor.LAGS_CONFIG,
          (java.util.function.Supplier<Map<Integer, Long>>) standbys::lags);
    }
    p.put(ClusterAssignor.LEAVING_CONFIG, leaving);
    p.put(ClusterAssignor.LEFT_IN_CONFIG, leftIn);
    p.put(
        ClusterAssignor.INSTALL_CONFIG,
        (java.util.function.Consumer<dev.whack.client.ring.ClusterMap>) cluster::install);
    int session = (int) cluster.sessionTimeout().toMillis();
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, session);
    // The survivors of a member's death learn of the rebalance at their next heartbeat: a short
    // interval is part of how soon its slots are served again (a heartbeat costs little).
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(100, session / 12));
  }

  /** The group member id kept in the data directory, made on first use. */
  private static String memberId(Path dataDir) throws IOException {
    Path file = dataDir.resolve(MEMBER_ID_FILE);
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    }
    String id = "whack-" + UUID.randomUUID();
    Files.writeString(file, id + "\n", StandardCharsets.US_ASCII);
    return id;
  }

  /** Set by {@link #handOffSlots}: this member claims no share in the maps to come. */
  private volatile boolean leaving;

  /** The map's epoch when the group was last asked for a map without this member's share. */
  private long leaveAskedAt = -1;

  /** The epoch of the first map made from a subscription that said it is leaving, or -1. */
  private volatile long leavingMapAt = -1;

  /**
   * A graceful stop of a managed member (docs/cluster.md, "Leaving"): asks the group for a map that
   * hands this member's slots to the others, each once its new owner's copy is warm (warm-up keeps
   * it here, served, until then), and waits until this member owns none, at most {@code max}. The
   * member then leaves the group ({@link #close}) with nothing left to move. Returns whether every
   * slot was handed off; a member alone keeps its slots and returns at once.
   */
  public boolean handOffSlots(Duration max) {
    dev.whack.client.ring.ClusterMap map = cluster.map();
    List<Integer> mine = map.slotsOf(cluster.self());
    if (mine.isEmpty() || map.members().size() < 2 || !thread.isAlive()) {
      return mine.isEmpty();
    }
    long start = System.nanoTime();
    leaving = true;
    long deadline = start + max.toNanos();
    while (!cluster.map().slotsOf(cluster.self()).isEmpty() && System.nanoTime() < deadline) {
      if (noOneToTakeOver()) {
        break; // the members left cannot take them (they are leaving too, or gone)
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    List<Integer> left = cluster.map().slotsOf(cluster.self());
    NodeLog.write(
        left.isEmpty() ? NodeLog.Level.INFO : NodeLog.Level.WARN,
        String.format(
            java.util.Locale.ROOT,
            "whack node: %s %s before leaving (%.1f s)",
            cluster.self(),
            left.isEmpty()
                ? "handed its " + mine.size() + " slots off"
                : noOneToTakeOver()
                    ? "has no member left to hand slots " + left + " to"
                    : "could not hand slots " + left + " off in time",
            (System.nanoTime() - start) / 1e9));
    return left.isEmpty();
  }

  /**
   * Whether a map made after this member said it is leaving still leaves it slots without moving
   * any of them on: no member is there to take them.
   */
  private boolean noOneToTakeOver() {
    dev.whack.client.ring.ClusterMap map = cluster.map();
    long made = leavingMapAt;
    if (made < 0 || map.epoch() < made) {
      return false;
    }
    for (int slot : map.slotsOf(cluster.self())) {
      if (map.movingTo(slot) != null) {
        return false;
      }
    }
    return true;
  }

  /** Starts consuming on the source's own thread. */
  public void start() {
    started = true;
    thread.start();
  }

  /** Whether {@link #start} ran: else {@link #close} closes the consumer itself. */
  private volatile boolean started;

  private void run() {
    try {
      consumer.subscribe(List.of(options.updatesTopic()), new Rebalance());
      while (running) {
        try {
          pollAndApply();
        } catch (WakeupException e) {
          throw e;
        } catch (RuntimeException | Error e) {
          recover(e);
        }
      }
    } catch (WakeupException e) {
      // close(): fall through to the last commit
    } finally {
      try {
        finishInFlight(true);
      } catch (RuntimeException | Error e) {
        inFlightStart.keySet().forEach(this::forget); // not all applied: nothing is committed
        pollStart.keySet().forEach(this::forget);
      }
      try {
        commitWhatIsDurable(true);
      } catch (WakeupException e) {
        // close()'s wake-up was still pending (the loop ended on running, not in a poll): once
        // taken, the commit goes through.
        try {
          commitWhatIsDurable(true);
        } catch (RuntimeException again) {
          // a hint only: the next start reads a little more again
        }
      } catch (RuntimeException e) {
        // a hint only: the next start reads a little more again
      }
      try {
        // A member of a managed cluster leaves the group at once, even a static one: its slots
        // move now, not after the session timeout.
        consumer.close(
            cluster.isManaged()
                ? CloseOptions.timeout(Duration.ofSeconds(5))
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                : CloseOptions.timeout(Duration.ofSeconds(5)));
      } finally {
        appliers.close();
      }
    }
  }

  /**
   * One poll, pipelined with the last: this poll's fetch and parsing run while the lanes apply the
   * last poll's records; then the last poll is finished (its forwards sent to their owners, its
   * records counted as handled, its offsets offered for commit) before this poll's records are
   * handed to the lanes. So nothing is committed or counted before it is applied, and a partition
   * is revoked only once the lanes are done with it ({@link Rebalance}).
   */
  private void pollAndApply() {
    pauseWhileLogBehind();
    askForSlotsOnceWarm();
    if (leaving && leavingMapAt < 0 && cluster.map().epoch() > leaveAskedAt) {
      // Asked again if a map came that was made without knowing (a rebalance already under way
      // when this member first asked takes its old subscription).
      leaveAskedAt = cluster.map().epoch();
      consumer.enforceRebalance("whack: leaving; its slots are handed off first");
    }
    ConsumerRecords<byte[], ByteBuffer> records = consumer.poll(POLL);
    for (TopicPartition partition : records.partitions()) {
      pollStart.putIfAbsent(partition, records.records(partition).get(0).offset());
    }
    Throwable failed = laneFailure;
    if (failed != null) {
      laneFailure = null;
      if (failed instanceof Error e) {
        throw e;
      }
      throw (RuntimeException) failed;
    }
    pendingPoll = records;
    Map<TopicPartition, Long> retried = finishInFlight(false);
    long batchStart = System.nanoTime();
    try {
      for (ConsumerRecord<byte[], ByteBuffer> record : records) {
        if (before(record, retried, Map.of())) {
          apply(record); // a partition sent back to an earlier offset is read from there again
        }
      }
      appliers.submit();
    } catch (RuntimeException | Error e) {
      // Not all of this poll reached the lanes: none of its offsets may be committed.
      inFlightStart.keySet().forEach(this::forget);
      throw e;
    }
    inFlight = records;
    inFlightRetried = retried;
    inFlightSince = batchStart;
  }

  /**
   * Waits for the lanes to apply the poll in flight, sends its other members' records to their
   * owners, counts it handled, rests for live work if it was backlog, and commits what is durable;
   * returns the partitions a forward sent back to an earlier offset, and from where.
   */
  private Map<TopicPartition, Long> finishInFlight(boolean last) {
    appliers.await();
    long forwardsFrom = System.nanoTime();
    Map<TopicPartition, Long> retried = forwardToOwners();
    // The pause after a forward that failed is a rest, not the poll's work.
    long rested =
        retried.isEmpty()
            ? 0
            : Math.min(
                System.nanoTime() - forwardsFrom,
                TimeUnit.MILLISECONDS.toNanos(RETRY_PAUSE_MILLIS));
    ConsumerRecord<byte[], ByteBuffer> lastRecord = null;
    for (ConsumerRecord<byte[], ByteBuffer> record : inFlight) {
      if (before(record, retried, inFlightRetried)) {
        handled(record);
      }
      lastRecord = record;
    }
    inFlight = ConsumerRecords.empty();
    inFlightRetried = Map.of();
    // The in-flight poll is done: only the poll just read can still be read again, and a
    // partition a forward sent back is read again from there whatever happens next.
    inFlightStart.clear();
    inFlightStart.putAll(pollStart);
    retried.forEach((partition, from) -> inFlightStart.merge(partition, from, Math::min));
    pollStart.clear();
    // A slot caught up is served before the source rests for live work, not a rest later.
    takeOverCaughtUp(last ? ConsumerRecords.empty() : pendingPoll);
    if (lastRecord != null && !last) {
      yieldToLiveWork(lastRecord, System.nanoTime() - inFlightSince - rested);
    }
    updateLags();
    commitWhatIsDurable(false);
    return retried;
  }

  /**
   * After a poll failed (the log cannot be written, the broker refused a call, a bug): the source
   * does not stop. The failed poll's records are read again after a pause (what was applied of them
   * is ignored then, by its mark) and nothing of them is committed; the failure is counted and told
   * ({@link Failures}).
   */
  private void recover(Throwable e) {
    failures.failed(e, "it reads the records again in " + RETRY_PAUSE_MILLIS + " ms");
    try {
      appliers.await(); // nothing applies while the source starts over
    } catch (RuntimeException | Error alsoFailed) {
      // the same failure, or one more: the records are read again either way
    }
    appliers.clear();
    forwards.clear();
    inFlight = ConsumerRecords.empty();
    inFlightRetried = Map.of();
    Map<TopicPartition, Long> from = new HashMap<>(inFlightStart);
    pollStart.forEach((partition, offset) -> from.merge(partition, offset, Math::min));
    from.keySet().forEach(this::forget); // nothing of them is committed until read again
    try {
      Set<TopicPartition> assigned = consumer.assignment();
      for (Map.Entry<TopicPartition, Long> start : from.entrySet()) {
        if (assigned.contains(start.getKey())) {
          consumer.seek(start.getKey(), start.getValue());
        }
      }
    } catch (RuntimeException seekFailed) {
      // The consumer itself is in trouble; the next poll says so again.
    }
    inFlightStart.clear();
    pollStart.clear();
    try {
      Thread.sleep(RETRY_PAUSE_MILLIS);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new WakeupException();
    }
  }

  /** Applies one record, or sends it to the dead letters with the reason. */
  void apply(ConsumerRecord<byte[], ByteBuffer> record) {
    if (record.partition() >= applied.length) {
      int from = applied.length;
      applied = java.util.Arrays.copyOf(applied, record.partition() + 1);
      java.util.Arrays.fill(applied, from, applied.length, -1);
    }
    applied[record.partition()] = record.offset() + 1;
    byte[] key = record.key();
    String badKey = Keyspace.badKey(key);
    if (badKey != null) {
      dead(record, badKey);
      return;
    }
    SourcedKind kind;
    KeyspaceSession.SourcedWrite how;
    try {
      kind = RecordFormat.kindOf(record.headers(), record.value());
      how = RecordFormat.howToStore(record.headers());
    } catch (IllegalArgumentException e) {
      dead(record, e.getMessage());
      return;
    }
    if (cluster.isManaged()) {
      int slot = cluster.map().slotOf(key, 0, key.length);
      if (slot != record.partition()) {
        dead(
            record,
            "wrong partition: the key's slot is "
                + slot
                + " (Kafka's default partitioner), the record is in partition "
                + record.partition());
        return;
      }
    } else if (!cluster.owns(key, 0, key.length)) {
      forwards.add(cluster.ownerOf(key, 0, key.length), record, kind, producer(record.partition()));
      return;
    }
    appliers.add(new LocalAppliers.Pending(record, kind, producer(record.partition()), how));
  }

  /** Applies a record of this node's key, on one of the appliers' lanes. */
  private void applyHere(LocalAppliers.Pending pending, KeyspaceSession session, Outcome outcome) {
    ConsumerRecord<byte[], ByteBuffer> record = pending.record();
    byte[] key = record.key();
    if (standbys != null) {
      // Its copy first, if still there. Outside the record's try: a failure here is this node's
      // (its log, its memory), not the record's, so the poll is read again.
      standbys.moveIfHandingOver(key, 0, key.length, session);
    }
    try {
      Status status =
          RecordValues.applySourced(
              session, record, pending.producer(), pending.kind(), pending.how(), outcome);
      if (logged != null && logged.anyWaiting()) {
        logged.applied(record, status, outcome.cas, null);
      }
      switch (status) {
        case STORED, DELETED, NOT_FOUND -> appliedCount.incrementAndGet();
        case IGNORED -> duplicateCount.incrementAndGet();
        case TOO_LARGE -> dead(record, "too large: the profile would exceed the item size limit");
        case RESERVED -> dead(record, "reserved key: keys under _whack/ are never stored");
        default -> dead(record, "not applied: " + status);
      }
    } catch (ProfileRejectedException e) {
      dead(record, e.getMessage());
    } catch (java.io.UncheckedIOException e) {
      throw e; // the log cannot be written: the node's trouble, not the record's; read it again
    } catch (RuntimeException e) {
      // A bug must not stop the partition either; the record keeps the reason for a person.
      NodeLog.warn("whack node: a Kafka record failed unexpectedly: " + e);
      dead(record, "internal error: " + e);
    }
  }

  /**
   * Sends the poll's records of keys other members own to their owners, one pipelined batch per
   * owner (a partition's records for one owner stay in order), and waits for every answer: an owner
   * that cannot be reached makes the consumer go back to the first record it did not take, in each
   * partition, and read on from there after a pause (the owners ignore what they already applied).
   * Nothing is committed past a record no owner acknowledged.
   */
  private Map<TopicPartition, Long> forwardToOwners() {
    if (forwards.isEmpty()) {
      return Map.of();
    }
    Map<TopicPartition, Long> retryFrom = new HashMap<>();
    for (Forwards.OwnerBatch batch : forwards.batches()) {
      List<String> answers;
      try {
        answers =
            batch.answers(cluster.relay(batch.owner, batch.commands()).get(30, TimeUnit.SECONDS));
      } catch (java.util.concurrent.ExecutionException
          | java.util.concurrent.TimeoutException
          | RuntimeException e) {
        NodeLog.warn(
            String.format(
                "whack node: could not forward %d Kafka records to %s (%s); reading them again",
                batch.records.size(), batch.owner, e.getCause() != null ? e.getCause() : e));
        for (ConsumerRecord<byte[], ByteBuffer> r : batch.records) {
          retryFrom.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new WakeupException();
      }
      for (int i = 0; i < batch.records.size(); i++) {
        ConsumerRecord<byte[], ByteBuffer> r = batch.records.get(i);
        if (!counted(r, answers.get(i))) {
          // The owner could not apply it now (its log, its memory): not the record's fault, so it
          // is not a dead letter; read again from here, as for an owner that cannot be reached.
          NodeLog.warn(
              String.format(
                  "whack node: %s could not apply a Kafka record now (%s); reading it again",
                  batch.owner, answers.get(i)));
          retryFrom.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
      }
    }
    forwards.clear();
    if (!retryFrom.isEmpty()) {
      Set<TopicPartition> assigned = consumer.assignment();
      for (Map.Entry<TopicPartition, Long> e : retryFrom.entrySet()) {
        forget(e.getKey()); // nothing to commit for it until it got through
        if (assigned.contains(e.getKey())) {
          consumer.seek(e.getKey(), e.getValue()); // else its new reader reads it again
        }
      }
      try {
        Thread.sleep(RETRY_PAUSE_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new WakeupException();
      }
    }
    return retryFrom;
  }

  /**
   * Counts an owner's answer to a forwarded record, or sends the record to the dead letters when
   * the answer says the record itself is bad; false when the owner could not apply it for a reason
   * of its own (a server error other than the size limit, or a command it does not know).
   */
  private boolean counted(ConsumerRecord<byte[], ByteBuffer> record, String answer) {
    switch (answer) {
      case "STORED", "DELETED", "NOT_FOUND" -> appliedCount.incrementAndGet();
      case "IGNORED" -> duplicateCount.incrementAndGet();
      default -> {
        if (answer.startsWith("CLIENT_ERROR ")) {
          dead(record, answer.substring("CLIENT_ERROR ".length()));
        } else if (answer.startsWith("SERVER_ERROR object too large")) {
          dead(record, "too large: the profile would exceed the item size limit");
        } else {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Whether {@code record} comes before where its partition was sent back to by a forward retry
   * ({@code retried}, else {@code earlier}), or its partition was not sent back; no allocation when
   * none was (the common case, per record).
   */
  private static boolean before(
      ConsumerRecord<byte[], ByteBuffer> record,
      Map<TopicPartition, Long> retried,
      Map<TopicPartition, Long> earlier) {
    if (retried.isEmpty() && earlier.isEmpty()) {
      return true;
    }
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    Long from = retried.getOrDefault(partition, earlier.get(partition));
    return from == null || record.offset() < from;
  }

  /** Nothing of {@code partition} is committed until records of it are applied again. */
  private void forget(TopicPartition partition) {
    if (partition.partition() < applied.length) {
      applied[partition.partition()] = -1;
    }
  }

  private void handled(ConsumerRecord<byte[], ByteBuffer> record) {
    handledUpTo(record.partition(), record.offset() + 1);
  }

  private void handledUpTo(int partition, long next) {
    java.util.concurrent.atomic.AtomicLongArray now = handled;
    if (partition >= now.length()) {
      java.util.concurrent.atomic.AtomicLongArray grown =
          new java.util.concurrent.atomic.AtomicLongArray(partition + 1);
      for (int i = 0; i < now.length(); i++) {
        grown.set(i, now.get(i));
      }
      handled = grown;
      now = grown;
    }
    now.set(partition, next);
  }

  /**
   * Per partition, the offset below which every record was handled on this node (applied, ignored
   * as read before, or sent to the dead letters), as far as this node applied them itself.
   */
  public Map<Integer, Long> positions() {
    java.util.concurrent.atomic.AtomicLongArray now = handled;
    Map<Integer, Long> out = new HashMap<>();
    for (int i = 0; i < now.length(); i++) {
      if (now.get(i) > 0) {
        out.put(i, now.get(i));
      }
    }
    return out;
  }

  /**
   * Live over bulk (docs/kafka.md): a batch whose last record is older than {@link
   * #BULK_AGE_MILLIS} is backlog, and while live requests are arriving (the node read bytes from a
   * client within the last {@link #LIVE_WINDOW_NANOS}) the source pauses after it so that it takes
   * at most the bulk share of the time; with no live work it runs at full speed. The tail of the
   * topic (records younger than that) is live work itself and never waits.
   */
  private void yieldToLiveWork(ConsumerRecord<byte[], ByteBuffer> last, long busyNanos) {
    long nowNanos = System.nanoTime();
    long live = liveBytes.getAsLong();
    if (live != lastLiveBytes) {
      lastLiveBytes = live;
      liveSeenNanos = nowNanos;
    }
    boolean backlog = System.currentTimeMillis() - last.timestamp() > BULK_AGE_MILLIS;
    if (!backlog) {
      return;
    }
    bulkBatches.incrementAndGet();
    if (bulkSharePercent >= 100 || nowNanos - liveSeenNanos > LIVE_WINDOW_NANOS) {
      return;
    }
    long pause = busyNanos * (100 - bulkSharePercent) / bulkSharePercent;
    throttledNanos.addAndGet(pause);
    LockSupport.parkNanos(pause);
  }

  private void dead(ConsumerRecord<byte[], ByteBuffer> record, String reason) {
    if (logged != null && logged.anyWaiting()) {
      logged.applied(record, null, 0, reason); // a client's write: it hears why (first answer wins)
    }
    deadCount.incrementAndGet();
    deadLetters.send(record, reason);
  }

  private byte[] producer(int partition) {
    if (partition >= producers.length) {
      producers = java.util.Arrays.copyOf(producers, partition + 1);
    }
    byte[] name = producers[partition];
    if (name == null) {
      name = producerName(options.updatesTopic(), partition).getBytes(StandardCharsets.UTF_8);
      producers[partition] = name;
    }
    return name;
  }

  /** The producer mark a partition's records leave on the profiles they change. */
  public static String producerName(String topic, int partition) {
    return "kafka:" + topic + ":" + partition;
  }

  private void pauseWhileLogBehind() {
    if (durability == null) {
      return;
    }
    if (durability.log().overloaded()) {
      consumer.pause(consumer.assignment());
    } else if (!consumer.paused().isEmpty()) {
      consumer.resume(consumer.paused());
    }
  }

  private void updateLags() {
    for (TopicPartition partition : consumer.assignment()) {
      OptionalLong lag = consumer.currentLag(partition);
      if (lag.isPresent()) {
        lags.put(partition.partition(), lag.getAsLong());
      }
    }
  }

  /**
   * Commits, as a hint, the offsets after records whose effects are written to the log (at once for
   * a node in memory, which recovers nothing anyway): at most once a second, or now when {@code
   * last}.
   */
  private void commitWhatIsDurable(boolean last) {
    long now = System.currentTimeMillis();
    if (!last && now - lastCommitMillis < COMMIT_EVERY_MILLIS) {
      return;
    }
    lastCommitMillis = now;
    if (durability == null) {
      commit(takeApplied(), last);
      return;
    }
    if (pending != null && durability.log().durableBelow() > pendingSequence) {
      commit(pending, last);
      pending = null;
    }
    if (pending == null) {
      pending = takeApplied();
      // Every record the appliers wrote is numbered below the log's next sequence.
      pendingSequence = durability.log().upcomingSequence() - 1;
    }
  }

  /** The offsets applied since the last call, as a commit takes them. */
  private Map<TopicPartition, OffsetAndMetadata> takeApplied() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (int partition = 0; partition < applied.length; partition++) {
      if (applied[partition] >= 0) {
        offsets.put(
            new TopicPartition(options.updatesTopic(), partition),
            new OffsetAndMetadata(applied[partition]));
        applied[partition] = -1;
      }
    }
    return offsets;
  }

  private void commit(Map<TopicPartition, OffsetAndMetadata> offsets, boolean sync) {
    if (offsets.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> owned = new HashMap<>(offsets);
    owned.keySet().retainAll(consumer.assignment());
    if (owned.isEmpty()) {
      return;
    }
    if (sync) {
      consumer.commitSync(owned, Duration.ofSeconds(5));
    } else {
      consumer.commitAsync(owned, null);
    }
  }

  /** Starts a node with no state at the beginning of each partition it has not read yet. */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (cluster.isManaged()) {
        ProfilesTopic changelog = profiles;
        if (changelog != null) {
          changelog.suspend(); // until this member knows its slots again (takeSlots)
        }
        keptAt.clear();
        for (TopicPartition partition : partitions) {
          try {
            keptAt.put(partition.partition(), consumer.position(partition));
          } catch (RuntimeException unknown) {
            // no position: if the slot is kept, it is read from the start (the marks make that
            // exact)
          }
        }
      }
      for (TopicPartition partition : partitions) {
        forget(partition);
      }
      if (pending != null) {
        pending.keySet().removeAll(partitions);
      }
      for (TopicPartition partition : partitions) {
        lags.remove(partition.partition());
      }
      // The lanes finish with these partitions before another member may read them: else its
      // records for our keys could overtake ours, and ours be ignored as read before. What a lane
      // threw is thrown once poll returns (Kafka would wrap it and carry on with the rebalance).
      try {
        appliers.await();
      } catch (RuntimeException | Error e) {
        laneFailure = e;
      }
    }

    /**
     * The group dropped this member (it missed the session timeout): its slots may have gone to
     * others and come back changed, so it holds nothing any more; the next map's slots are taken as
     * new (dropped, promoted or read from the start).
     */
    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      NodeLog.warn(
          String.format(
              "whack node: %s lost its slots %s without a hand-over (fenced)",
              cluster.self(), held));
      onPartitionsRevoked(partitions);
      if (cluster.isManaged()) {
        if (logged != null) {
          logged.slotsLost(held); // fenced: whoever owns them now applies the writes waiting
        }
        if (standbys != null) {
          standbys.stopHandingOver(held); // copies moving in: no longer this member's to move
        }
        cluster.takeOverAllAgain(); // every slot of the next map is read again before served
        fenced = true; // and what this member holds of slots it no longer owns is dropped then
        keptAt.clear();
        held = new HashSet<>();
      }
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (cluster.isManaged()) {
        takeSlots(partitions);
        return;
      }
      if (!emptyAtStart) {
        return;
      }
      Set<TopicPartition> unread = new HashSet<>(partitions);
      unread.removeAll(readSinceStart);
      readSinceStart.addAll(partitions);
      Set<TopicPartition> fromStart = new HashSet<>();
      for (TopicPartition partition : unread) {
        Long refilledTo = startAt.get(partition.partition());
        if (refilledTo != null) {
          consumer.seek(partition, refilledTo);
        } else {
          fromStart.add(partition);
        }
      }
      if (!fromStart.isEmpty()) {
        consumer.seekToBeginning(fromStart);
      }
      if (dataDir != null && !unread.isEmpty()) {
        // A node with a data directory commits where it starts before it applies anything: its
        // log soon holds state, and after a crash it must go on from here, not from offsets an
        // earlier life committed. Only then is the start no longer pending.
        Map<TopicPartition, OffsetAndMetadata> starts = new HashMap<>();
        for (TopicPartition partition : unread) {
          starts.put(partition, new OffsetAndMetadata(consumer.position(partition)));
        }
        consumer.commitSync(starts, Duration.ofSeconds(30));
        try {
          Files.deleteIfExists(dataDir.resolve(STARTING_FILE));
        } catch (IOException e) {
          NodeLog.warn("whack node: could not remove " + STARTING_FILE + ": " + e);
        }
      }
    }
  }

  /**
   * A managed cluster's member took its slots in a new map (installed just before by the assignor):
   * the keys of slots it no longer owns are dropped (quietly: they live on at their new owners),
   * and slots it did not hold are read from the beginning, since this node has none of their keys;
   * the producer marks make a record it already applied count once.
   */
  private void takeSlots(Collection<TopicPartition> partitions) {
    assignedAtNanos = System.nanoTime();
    Set<Integer> now = new HashSet<>();
    for (TopicPartition partition : partitions) {
      now.add(partition.partition());
    }
    Set<Integer> lost = new HashSet<>(held);
    lost.removeAll(now);
    if (!lost.isEmpty()) {
      if (logged != null) {
        logged.slotsLost(lost); // their waiting writes are in the log, for the new owners
      }
      if (standbys != null) {
        standbys.stopHandingOver(lost); // a copy still moving in: no longer this member's
      }
    }
    boolean first = readSinceStart.isEmpty() && held.isEmpty();
    if (first || fenced || !lost.isEmpty()) {
      fenced = false;
      // A scan of the whole keyspace: only when a slot left (a failover's survivors gain slots
      // and lose none, and their take-over must not wait for it).
      int dropped = keyspace.dropMoved(key -> !cluster.owns(key, 0, key.length));
      if (dropped > 0) {
        NodeLog.info(
            String.format(
                "whack node: the cluster map (epoch %d) moved %d keys to other members",
                cluster.map().epoch(), dropped));
      }
    }
    Set<TopicPartition> gained = new HashSet<>();
    for (TopicPartition partition : partitions) {
      if (!held.contains(partition.partition())) {
        gained.add(partition);
      }
    }
    Map<Integer, Long> warm = new HashMap<>();
    try {
      warm.putAll(promoteStandbys(gained));
      warm.putAll(restoreCold(gained, warm.keySet()));
    } finally {
      // Every slot gets a position of ours, whatever happened above: a kept slot where it stood,
      // a promoted one where its copy stood, any other from the start; never the group's
      // committed offset.
      readSinceStart.addAll(partitions);
      Set<Integer> kept = held;
      held = now;
      Set<TopicPartition> fromStart = new HashSet<>();
      for (TopicPartition partition : partitions) {
        Long at =
            kept.contains(partition.partition())
                ? keptAt.get(partition.partition())
                : warm.get(partition.partition());
        if (at != null) {
          consumer.seek(partition, at);
        } else {
          fromStart.add(partition);
        }
      }
      if (!fromStart.isEmpty()) {
        consumer.seekToBeginning(fromStart);
      }
      awaitCatchUp(gained, warm);
      ProfilesTopic changelog = profiles;
      if (changelog != null) {
        changelog.resume();
      }
    }
    if (dataDir != null) {
      try {
        Files.deleteIfExists(dataDir.resolve(STARTING_FILE));
      } catch (IOException e) {
        NodeLog.warn("whack node: could not remove " + STARTING_FILE + ": " + e);
      }
    }
  }

  /**
   * Notes where each gained slot ends now: the slot is taken over (served) once this member has
   * handled every record before that, from its warm copy's offset or from the start. A slot with
   * nothing left to read is taken over at once.
   */
  private void awaitCatchUp(Set<TopicPartition> gained, Map<Integer, Long> warm) {
    readyAt.keySet().retainAll(held);
    if (gained.isEmpty()) {
      return;
    }
    Map<TopicPartition, Long> ends;
    Map<TopicPartition, Long> starts;
    try {
      ends = consumer.endOffsets(gained, Duration.ofSeconds(10));
      starts = consumer.beginningOffsets(gained, Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      // The broker did not say: serve them now rather than never (reads may miss for a while).
      NodeLog.warn("whack node: could not read the ends of the slots taken over: " + e);
      gained.forEach(p -> cluster.tookOver(p.partition()));
      return;
    }
    for (TopicPartition partition : gained) {
      int slot = partition.partition();
      long end = ends.getOrDefault(partition, 0L);
      long from = warm.getOrDefault(slot, starts.getOrDefault(partition, 0L));
      handledUpTo(slot, from); // not what an earlier hold of the slot reached: read again now
      if (end <= from) {
        cluster.tookOver(slot);
      } else {
        readyAt.put(slot, end);
      }
    }
  }

  /**
   * Slots whose records up to their take-over end are all handled now are served: by the last
   * record handled, or, when the partition ends in something that is no record (a transaction's
   * marker, a compacted gap), by the consumer's position with nothing of it read and not applied.
   */
  private void takeOverCaughtUp(ConsumerRecords<byte[], ByteBuffer> unapplied) {
    if (readyAt.isEmpty()) {
      return;
    }
    java.util.concurrent.atomic.AtomicLongArray now = handled;
    java.util.Iterator<Map.Entry<Integer, Long>> it = readyAt.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Integer, Long> slot = it.next();
      int s = slot.getKey();
      boolean done = s < now.length() && now.get(s) >= slot.getValue();
      if (!done) {
        TopicPartition partition = new TopicPartition(options.updatesTopic(), s);
        done =
            unapplied.records(partition).isEmpty()
                && consumer.assignment().contains(partition)
                && consumer.position(partition) >= slot.getValue();
      }
      if (done) {
        cluster.tookOver(s);
        it.remove();
        NodeLog.info(
            String.format(
                "whack node: %s serves slot %d, %d ms after it was given it",
                cluster.self(),
                s,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - assignedAtNanos)));
      }
    }
  }

  /**
   * Hands the standby replicas the slots the new map has them keep warm, and moves the copies of
   * gained slots this member kept warm into its own keyspace: returns, per such slot, the offset
   * the copy had reached (the owner's consumer reads on from there).
   */
  private Map<Integer, Long> promoteStandbys(Set<TopicPartition> gained) {
    if (standbys == null) {
      return Map.of();
    }
    dev.whack.client.ring.ClusterMap map = cluster.map();
    Set<Integer> nowBacked = new HashSet<>();
    for (int slot = 0; slot < map.slotCount(); slot++) {
      if (map.standbysOf(slot).contains(cluster.self())) {
        nowBacked.add(slot);
      }
    }
    Set<Integer> promoted = new HashSet<>();
    for (TopicPartition partition : gained) {
      if (backed.contains(partition.partition())) {
        promoted.add(partition.partition());
      }
    }
    backed = nowBacked;
    Map<Integer, Long> reached;
    try {
      reached = standbys.reassign(nowBacked, promoted).get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      NodeLog.warn(
          "whack node: the standby replicas did not hand over (" + e + "); reading from the start");
      return Map.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WakeupException();
    }
    if (!reached.isEmpty()) {
      cluster.movingIn(reached.keySet());
      standbys.handOver(reached.keySet(), keyspace, cluster::movedIn);
      NodeLog.info(
          String.format(
              "whack node: %s taking over %d slots from their warm copies %s (assigned at %d ms since"
                  + " the epoch; hand-shake %d ms)",
              cluster.self(),
              reached.size(),
              new java.util.TreeSet<>(reached.keySet()),
              System.currentTimeMillis()
                  - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - assignedAtNanos),
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - assignedAtNanos)));
    }
    return reached;
  }

  /**
   * Slots gained with no warm copy: restored from the profiles topic, their changelog, when this
   * node keeps one (docs/cluster.md, "Restore from the profiles topic"); returns, per slot restored
   * that has a position, the offset to follow it from in the updates topic. Any other slot is read
   * from the updates topic's start, as is every slot when the restore fails (what it stored is then
   * read again and ignored by its marks).
   */
  private Map<Integer, Long> restoreCold(Set<TopicPartition> gained, Set<Integer> warm) {
    ProfilesTopic changelog = profiles;
    List<Integer> cold = new ArrayList<>();
    for (TopicPartition partition : gained) {
      if (!warm.contains(partition.partition())) {
        cold.add(partition.partition());
      }
    }
    if (changelog == null || cold.isEmpty()) {
      return Map.of();
    }
    cold.sort(null);
    long start = System.nanoTime();
    ProfilesTopic.Refilled counts = new ProfilesTopic.Refilled();
    try {
      Map<Integer, Long> positions =
          changelog.restore(cold, keyspace, durability == null ? null : durability.log(), counts);
      NodeLog.info(
          String.format(
              java.util.Locale.ROOT,
              "whack node: %s restored slots %s from the profiles topic (%d profiles in %.1f s);"
                  + " follows the updates from %s",
              cluster.self(),
              cold,
              counts.profiles.get(),
              (System.nanoTime() - start) / 1e9,
              positions.isEmpty() ? "their start" : new java.util.TreeMap<>(positions)));
      return positions;
    } catch (RuntimeException e) {
      NodeLog.warn(
          String.format(
              "whack node: %s could not restore slots %s from the profiles topic (%s); reads the"
                  + " updates from their start",
              cluster.self(), cold, e));
      return Map.of();
    }
  }

  /** The profiles topic this member keeps and restores slots from, or null; set before start. */
  private volatile ProfilesTopic profiles;

  /**
   * Makes {@code changelog} the topic slots without a warm copy are restored from, and suspends its
   * publishing during each rebalance (a managed cluster; call before {@link #start}).
   */
  public void restoresFrom(ProfilesTopic changelog) {
    this.profiles = changelog;
  }

  /** The map's epoch this member last asked a new map for; one probe per map. */
  private long probedEpoch = -1;

  /**
   * Warm-up's probe: when a slot the map moves to this member (once its copy is warm) has a copy
   * close enough to its end, asks the group for a new map, in which the leader moves the slot here
   * ({@link ClusterAssignor}, as Kafka Streams' probing rebalance).
   */
  private void askForSlotsOnceWarm() {
    if (standbys == null) {
      return;
    }
    dev.whack.client.ring.ClusterMap map = cluster.map();
    if (map.epoch() == probedEpoch) {
      return;
    }
    Map<Integer, Long> behind = standbys.lags();
    for (int slot = 0; slot < map.slotCount(); slot++) {
      if (cluster.self().equals(map.movingTo(slot))
          && behind.getOrDefault(slot, Long.MAX_VALUE) <= ClusterAssignor.WARM_LAG_RECORDS) {
        probedEpoch = map.epoch();
        consumer.enforceRebalance("whack: a copy of slot " + slot + " is warm");
        return;
      }
    }
  }

  /** Records applied (a change, or a delete of a key that held nothing). */
  public long applied() {
    return appliedCount.get();
  }

  /** Records at or below their profile's mark: read before, acknowledged and ignored. */
  public long duplicates() {
    return duplicateCount.get();
  }

  /** Poll batches that were backlog (bulk work). */
  public long bulkBatches() {
    return bulkBatches.get();
  }

  /** Time the source paused after bulk batches to leave the engine to live requests. */
  public long throttledNanos() {
    return throttledNanos.get();
  }

  /** Records sent to the dead-letter topic. */
  public long deadLetters() {
    return deadCount.get();
  }

  /** Dead letters the broker did not take. */
  public long deadLettersLost() {
    return deadLetters.lost();
  }

  /** Records behind the end of each assigned partition, as of the last poll. */
  public Map<Integer, Long> lags() {
    return lags;
  }

  /** Poll batches that failed and were read again ({@link #recover}). */
  public long failures() {
    return failures.count();
  }

  /**
   * Stops consuming, commits the last durable offsets and closes the clients. A thread still busy
   * after 15 s (waiting for an owner's answer) is interrupted, and waited for: nothing may apply a
   * record once the node closes its keyspace.
   */
  @Override
  public void close() {
    running = false;
    if (!started) {
      // The node failed to start after this was built: nothing ran, the consumer never joined.
      consumer.close(CloseOptions.timeout(Duration.ZERO));
      appliers.close();
      deadLetters.close();
      return;
    }
    consumer.wakeup();
    try {
      thread.join(15_000);
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deadLetters.close();
  }
}

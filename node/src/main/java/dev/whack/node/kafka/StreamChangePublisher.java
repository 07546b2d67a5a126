package dev.whack.node.kafka;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.engine.CatalogListener;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.engine.segment.ChangeSink;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.observability.NodeLog;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes every segment enter and leave to the changes topic (docs/kafka.md, "Segment changes
 * out"): key = profile key, value = a {@code SegmentChange} (protobuf, or JSON), at least once,
 * each with a version, the pair (epoch, seq), that grows with each change of one profile in one
 * segment and is the same when a change is published twice.
 *
 * <p>It reads the engine's change stream like a {@code watch}, so ingestion never waits for it: the
 * stream's ring is the bounded buffer, and when the publisher falls a lap behind (a slow or absent
 * broker) the changes it lost are told on the topic by a gap marker (no key, header {@code
 * whack-gap} with the count) and in metrics, never dropped silently.
 *
 * <p>seq is the change's position in the stream's ring of its profile (a profile's changes share a
 * ring, in order); epoch is when the publisher's subscription began, so a later one (after a
 * restart, or after the stream's rings were rebuilt) has greater versions. With no segment list it
 * follows the catalog: a segment being defined gets a subscription to the new set at once, on the
 * defining thread and before the segment can change ({@link CatalogListener#defining}), and so does
 * a drop; the publisher reads the old subscription up to where the new one began, then the new one,
 * so nothing falls between them.
 *
 * <p>Concurrency: one thread; counts are read by others.
 */
public final class StreamChangePublisher implements ChangePublisher, CatalogListener {

  /** How long the thread waits for a change before it looks again (a wake-up comes sooner). */
  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final ProfileEngine engine;
  private final String topic;
  private final List<String> segments;
  private final boolean json;
  private final ChangeSender sender;
  private final Thread thread;
  private final Sink sink = new Sink();
  private volatile boolean running = true;

  private Subscription subscription;

  /** Subscriptions made for segments being defined, oldest first, for the thread to move to. */
  private final java.util.concurrent.ConcurrentLinkedQueue<Successor> successors =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** A subscription to move to, or none (every segment was dropped). */
  private record Successor(Subscription subscription) {}

  /** The segments the newest subscription (or successor) reads; guarded by {@code this}. */
  private Set<String> newest = Set.of();

  private long epoch = System.currentTimeMillis();

  private final AtomicLong missed = new AtomicLong();
  private final Failures failures = new Failures("the Kafka changes publisher");

  /** Why changes are not published (a segment that could not be followed), for gap markers. */
  private final java.util.concurrent.ConcurrentLinkedQueue<String> notices =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  /**
   * Why changes of unknown number were lost (a failure) that no gap marker has told of yet, or
   * null.
   */
  private String unknownGap;

  private static final long RETRY_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  public StreamChangePublisher(KafkaOptions options, ProfileEngine engine) {
    this.engine = engine;
    this.topic = options.changesTopic();
    this.segments = options.changesSegments();
    this.json = options.changesJson();
    this.sender = new ChangeSender(options);
    this.thread = new Thread(this::run, "whack-kafka-changes");
    thread.setDaemon(true);
    // From now on: what the node does after start-up is published. (It does nothing yet: the
    // node makes the publisher before its server and its Kafka source start.)
    if (!segments.isEmpty()) {
      subscribe(segments);
    } else {
      List<String> defined = engine.segments().stream().map(SegmentInfo::name).toList();
      if (!defined.isEmpty()) {
        subscribe(defined);
        newest = Set.copyOf(defined);
      }
      engine.addCatalogListener(this);
    }
  }

  /**
   * Subscribes to the set with the new segment before it can change (any thread). Never throws: the
   * definition goes on whatever happens here. A segment that cannot be followed (past the change
   * stream's {@link dev.whack.node.engine.segment.ChangeHub#MAX_WATCHED_NAMES} names) is not
   * published, and the topic is told by a gap marker of unknown size with the reason.
   */
  @Override
  public synchronized void defining(String name) {
    if (running && !newest.contains(name)) {
      Set<String> names = new LinkedHashSet<>(newest);
      names.add(name);
      try {
        follow(names);
      } catch (RuntimeException e) {
        String reason = "segment " + name + " is not published: " + e.getMessage();
        NodeLog.error("whack node: " + reason);
        notices.add(reason);
        LockSupport.unpark(thread);
      }
    }
  }

  @Override
  public void defined(String name, String expression) {}

  /** Subscribes to the set without the dropped segment (any thread). */
  @Override
  public synchronized void dropped(String name) {
    if (running && newest.contains(name)) {
      Set<String> names = new LinkedHashSet<>(newest);
      names.remove(name);
      follow(names);
    }
  }

  /** Queues a subscription to {@code names} (none when empty) for the publisher to move to. */
  private void follow(Set<String> names) {
    successors.add(
        new Successor(
            names.isEmpty()
                ? null
                : engine.subscribe(List.copyOf(names), () -> LockSupport.unpark(thread))));
    newest = Set.copyOf(names);
    LockSupport.unpark(thread);
  }

  /** Moves to the subscriptions made on catalog changes, reading each predecessor up to them. */
  private void takeSuccessors() {
    for (Successor next = successors.poll(); next != null; next = successors.poll()) {
      Subscription previous = subscription;
      subscription = next.subscription();
      if (previous == null) {
        epoch = System.currentTimeMillis(); // the stream's rings may be new: positions restart
        sink.published.clear();
      } else if (subscription == null) {
        drain(previous, null);
        previous.close();
      } else {
        handOver(previous, subscription.positions());
      }
    }
  }

  /**
   * Starts publishing, first with a gap marker of unknown size: what changed while the node was
   * down, or was replayed from its log at start-up, is not on the topic, so a consumer that sees a
   * new epoch begin re-reads membership.
   */
  @Override
  public void start() {
    thread.start();
  }

  /** The gap marker every start begins with (sent on the thread: a send may wait for metadata). */
  private void announceStart() {
    sendUnknownGap("the node started");
  }

  private void sendUnknownGap(String reason) {
    sender.sendGap(ChangeMessages.gap(topic, -1, epoch, reason));
  }

  private void run() {
    boolean announced = false;
    while (running) {
      try {
        if (!announced) {
          announceStart();
          announced = true;
        }
        publishSome();
      } catch (RuntimeException | Error e) {
        // The publisher does not stop (a send refused before it was queued, a bug): what it was
        // publishing is told as a gap of unknown size, and it goes on after a pause.
        recover(e);
      }
    }
  }

  /** Publishes up to a few thousand changes, or waits a little for some. */
  private void publishSome() {
    if (unknownGap != null) {
      sendUnknownGap(unknownGap); // if this fails too, the next turn tries again
      unknownGap = null;
    }
    for (String notice = notices.peek(); notice != null; notice = notices.peek()) {
      sendUnknownGap(notice);
      notices.poll();
    }
    if (segments.isEmpty()) {
      takeSuccessors();
    }
    if (subscription == null) {
      LockSupport.parkNanos(IDLE_NANOS);
      return;
    }
    long refused = sender.takeRefused();
    if (refused > 0) {
      sink.missed(refused); // what the broker did not take is a gap like any other
    }
    int read = 0;
    while (read < 4096 && subscription.next(sink)) {
      read++;
    }
    if (read == 0 && subscription.arm()) {
      LockSupport.parkNanos(IDLE_NANOS);
    }
  }

  private void recover(Throwable e) {
    failures.failed(e, "it goes on after a gap marker");
    unknownGap = "the publisher failed: " + e;
    LockSupport.parkNanos(RETRY_PAUSE_NANOS);
  }

  /** The first subscription, made before the node writes anything. */
  private void subscribe(List<String> names) {
    subscription = engine.subscribe(names, () -> LockSupport.unpark(thread));
    epoch = System.currentTimeMillis();
  }

  /**
   * Publishes what {@code previous} holds from before {@code successorStart} (the successor reads
   * the rest), then closes it.
   */
  private void handOver(Subscription previous, long[] successorStart) {
    // What the predecessor read before now, its segments' changes up to there, is published; so
    // is, after the drain, everything of theirs before the successor's start. The successor,
    // which begins at its start, skips those (it was made while the predecessor was still read).
    long[] read = previous.positions();
    drain(previous, successorStart);
    for (String segment : previous.segments()) {
      long[] below = sink.published.computeIfAbsent(segment, s -> new long[read.length]);
      for (int r = 0; r < below.length; r++) {
        below[r] = Math.max(below[r], Math.max(read[r], successorStart[r]));
      }
    }
    previous.close();
  }

  private void drain(Subscription from, long[] upTo) {
    sink.upTo = upTo;
    sink.from = from;
    try {
      while (from.next(sink)) {
        if (upTo != null && Arrays.equals(from.positions(), upTo)) {
          break;
        }
      }
    } finally {
      sink.upTo = null;
      sink.from = null;
    }
  }

  private final class Sink implements ChangeSink {
    /** During a hand-over: the subscription read and where its successor began, by ring. */
    long[] upTo;

    Subscription from;

    /**
     * Per segment, by ring, the position below which its changes are already published (by
     * subscriptions read before this one); reset when the stream's rings may be new.
     */
    final Map<String, long[]> published = new HashMap<>();

    @Override
    public void change(
        String segment,
        byte[] segmentUtf8,
        byte[] key,
        int keyLength,
        boolean enter,
        long timeMillis) {
      Subscription reading = from != null ? from : subscription;
      long seq = reading.lastPosition();
      if (upTo != null && seq >= upTo[reading.lastRing()]) {
        return; // the successor publishes this one
      }
      long[] below = published.get(segment);
      if (below != null && seq < below[reading.lastRing()]) {
        return; // a predecessor published it
      }
      byte[] k = Arrays.copyOf(key, keyLength);
      sender.send(
          new ProducerRecord<>(
              topic, k, ChangeMessages.value(json, segment, k, enter, timeMillis, epoch, seq)));
    }

    @Override
    public void missed(long count) {
      missed.addAndGet(count);
      sender.sendGap(ChangeMessages.gap(topic, count, epoch, null));
    }
  }

  @Override
  public long failures() {
    return failures.count();
  }

  @Override
  public long published() {
    return sender.published();
  }

  @Override
  public long missed() {
    return missed.get();
  }

  @Override
  public long gaps() {
    return sender.gaps();
  }

  @Override
  public void close() {
    synchronized (this) {
      running = false;
    }
    LockSupport.unpark(thread);
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (subscription != null) {
      subscription.close();
    }
    for (Successor s = successors.poll(); s != null; s = successors.poll()) {
      if (s.subscription() != null) {
        s.subscription().close();
      }
    }
    sender.close();
  }
}

package dev.whack.node.kafka;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.UpdatesLog;
import dev.whack.node.keyspace.Expiry;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Status;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A managed member's {@link UpdatesLog}: a profile write from a memcached client is produced to the
 * updates topic, in its key's partition (slot), with a header naming this writer and the write
 * ({@link RecordFormat#WRITE_HEADER}); the member's own {@link UpdateSource} reads it back like any
 * record and, applying it, tells this class what the apply did ({@link #applied}), which completes
 * the client's write. So the log's order is the order of every apply, on the owner and on each
 * standby copy, and a write acknowledged to a client is in the log (acks=all, idempotent producer)
 * whatever happens to this member next.
 *
 * <p>A write whose slot moves to another member before this one applied it completes as applied
 * ({@link #slotsLost}): it is in the log and its new owner applies it. One this member did not
 * apply within {@link #APPLY_TIMEOUT} fails with a reason; the record is still applied when read.
 *
 * <p>Concurrency: {@link #append} from any event loop, {@link #applied} from the source's lanes,
 * {@link #slotsLost} from the source's thread; the waiting writes are a concurrent map.
 */
public final class LoggedWrites implements UpdatesLog, AutoCloseable {
  /** How long a write may wait for this member to apply it before its client is told so. */
  static final Duration APPLY_TIMEOUT = Duration.ofSeconds(30);

  private static final byte[] PROFILE = "profile".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] UPDATE = "update".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROTOBUF = "protobuf".getBytes(StandardCharsets.US_ASCII);

  private final String topic;
  private final Cluster cluster;
  private final KafkaProducer<byte[], byte[]> producer;

  /** This writer among every member's, for the life of the process. */
  private final long writer = ThreadLocalRandom.current().nextLong() ^ System.nanoTime();

  private final AtomicLong lastWrite = new AtomicLong();
  private final ConcurrentHashMap<Long, Waiting> waiting = new ConcurrentHashMap<>();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  /** A write waiting for its apply; {@code acked} once the topic took it. */
  private static final class Waiting {
    final CompletableFuture<Applied> done;
    final int slot;
    final SourcedKind kind;
    volatile boolean acked;
    volatile boolean moved;

    Waiting(CompletableFuture<Applied> done, int slot, SourcedKind kind) {
      this.done = done;
      this.slot = slot;
      this.kind = kind;
    }

    /** Applied by the slot's new owner, as far as this member can tell: it is in the log. */
    void completeMoved() {
      done.complete(
          new Applied(kind == SourcedKind.DELETE ? Status.DELETED : Status.STORED, 0, null));
    }
  }

  public LoggedWrites(String bootstrap, String topic, Cluster cluster) {
    this.topic = topic;
    this.cluster = cluster;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "whack-logged-writes");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    // send() runs on an event loop: it must never wait long for metadata or buffer room. A write
    // it cannot take at once fails, and its client is told so.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 200);
    // ...and the topic's metadata is never dropped for idleness, or the next write would wait
    // for it on the event loop.
    p.put(ProducerConfig.METADATA_MAX_IDLE_CONFIG, (long) Integer.MAX_VALUE);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producer = new KafkaProducer<>(p);
    try {
      producer.partitionsFor(topic); // the topic's metadata before the first client write
    } catch (RuntimeException e) {
      // Not there yet: the first write fetches it (and fails fast if the broker cannot be reached).
    }
  }

  @Override
  public CompletableFuture<Applied> append(
      byte[] key,
      int keyOffset,
      int keyLength,
      SourcedKind kind,
      byte[] value,
      int flags,
      long exptime) {
    byte[] k = Arrays.copyOfRange(key, keyOffset, keyOffset + keyLength);
    int slot = cluster.map().slotOf(k, 0, k.length);
    long id = lastWrite.incrementAndGet();
    RecordHeaders headers = new RecordHeaders();
    headers.add(
        RecordFormat.WRITE_HEADER, ByteBuffer.allocate(16).putLong(writer).putLong(id).array());
    switch (kind) {
      case PROFILE_JSON, PROFILE_PROTOBUF -> {
        headers.add(RecordFormat.TYPE_HEADER, PROFILE);
        headers.add(RecordFormat.FLAGS_HEADER, decimal(Integer.toUnsignedLong(flags)));
        long expires = Expiry.toAbsoluteSeconds(exptime, System.currentTimeMillis() / 1000);
        if (expires != 0) {
          // Absolute, so that a copy applying it later expires it at the same moment.
          headers.add(
              RecordFormat.EXPIRES_HEADER,
              decimal(expires <= Expiry.MAX_RELATIVE_SECONDS ? -1 : expires));
        }
      }
      case UPDATE_JSON, UPDATE_PROTOBUF -> headers.add(RecordFormat.TYPE_HEADER, UPDATE);
      case DELETE -> {}
    }
    if (kind == SourcedKind.UPDATE_PROTOBUF || kind == SourcedKind.PROFILE_PROTOBUF) {
      // Said, not guessed from the first byte (a protobuf may start like JSON).
      headers.add(RecordFormat.ENCODING_HEADER, PROTOBUF);
    }
    CompletableFuture<Applied> done = new CompletableFuture<>();
    Waiting w = new Waiting(done, slot, kind);
    waiting.put(id, w);
    done.whenComplete((applied, failure) -> waiting.remove(id));
    try {
      producer.send(
          new ProducerRecord<>(topic, slot, k, kind == SourcedKind.DELETE ? null : value, headers),
          (metadata, failure) -> {
            if (failure != null) {
              refused.incrementAndGet();
              done.completeExceptionally(refusedBecause(failure));
              return;
            }
            written.incrementAndGet();
            w.acked = true;
            // In the log now. If this member no longer reads its slot (the map moved it, or the
            // write came for a key it never owned), its owner applies it: answer so.
            if (w.moved || !cluster.owns(k, 0, k.length)) {
              w.completeMoved();
            }
          });
    } catch (RuntimeException e) {
      refused.incrementAndGet();
      done.completeExceptionally(refusedBecause(e));
    }
    return done.orTimeout(APPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            failure ->
                CompletableFuture.failedFuture(
                    failure instanceof TimeoutException
                        ? new LogWriteException(
                            "written to the updates topic but not applied here within "
                                + APPLY_TIMEOUT.toSeconds()
                                + " s; it is applied when read")
                        : failure));
  }

  private static LogWriteException refusedBecause(Throwable failure) {
    return new LogWriteException(
        "the updates topic did not take the write: "
            + (failure.getMessage() == null ? failure.toString() : failure.getMessage()));
  }

  /** Whether any write waits to be applied: the source looks at records' headers only then. */
  boolean anyWaiting() {
    return !waiting.isEmpty();
  }

  /**
   * The source applied (or refused) {@code record}: completes the write it is, if this writer wrote
   * it and its client still waits.
   */
  void applied(
      ConsumerRecord<byte[], ByteBuffer> record, Status status, long cas, String rejected) {
    Header header = record.headers().lastHeader(RecordFormat.WRITE_HEADER);
    if (header == null || header.value() == null || header.value().length != 16) {
      return;
    }
    ByteBuffer ids = ByteBuffer.wrap(header.value());
    if (ids.getLong() != writer) {
      return;
    }
    Waiting w = waiting.get(ids.getLong());
    if (w != null) {
      w.done.complete(new Applied(status, cas, rejected));
    }
  }

  /**
   * This member no longer owns {@code slots}: writes to them still waiting are in the log, where
   * their new owner reads them, so they complete as applied.
   */
  void slotsLost(Collection<Integer> slots) {
    for (Waiting w : waiting.values()) {
      if (slots.contains(w.slot)) {
        w.moved = true;
        if (w.acked) {
          w.completeMoved(); // else once the topic took it (or its refusal, if it did not)
        }
      }
    }
  }

  /** Writes the topic took. */
  public long written() {
    return written.get();
  }

  /** Writes the topic did not take (its client got an error). */
  public long refused() {
    return refused.get();
  }

  private static byte[] decimal(long n) {
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }

  /** A logged write that failed for the log's reason, not the write's: a server error. */
  public static final class LogWriteException extends RuntimeException {
    LogWriteException(String message) {
      super(message, null, false, false);
    }
  }
}

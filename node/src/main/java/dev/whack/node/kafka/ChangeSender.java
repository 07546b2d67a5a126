package dev.whack.node.kafka;

import dev.whack.node.config.KafkaOptions;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The changes topic's producer as both publishers use it: every record acknowledged by all
 * replicas, no duplicates of the producer's own, and counts of what the broker took, what it
 * refused after its retries, and the gap markers sent.
 *
 * <p>Concurrency: sends from the publisher's thread; the counts are kept by the producer's own
 * thread (its callback) and read from any.
 */
final class ChangeSender implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong gaps = new AtomicLong();
  private final Callback counted =
      (metadata, failure) -> {
        if (failure == null) {
          published.incrementAndGet();
        } else {
          refused.incrementAndGet();
        }
      };

  ChangeSender(KafkaOptions options) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrap());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "whack-changes");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 2);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producer = new KafkaProducer<>(p);
  }

  void send(ProducerRecord<byte[], byte[]> record) {
    producer.send(record, counted);
  }

  /** Sends a gap marker ({@link ChangeMessages#gap}) and counts it. */
  void sendGap(ProducerRecord<byte[], byte[]> marker) {
    gaps.incrementAndGet();
    send(marker);
  }

  /** Returns once the broker has answered for every record sent so far. */
  void flush() {
    producer.flush();
  }

  /** Records the broker refused since the last call. */
  long takeRefused() {
    return refused.getAndSet(0);
  }

  long published() {
    return published.get();
  }

  long gaps() {
    return gaps.get();
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}

package dev.whack.node.kafka;

import dev.whack.node.observability.NodeLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The dead-letter topic: a record of the updates topic that cannot be applied (unparseable, over a
 * limit, a bad key, an update of a value that is no profile) is copied there as it was, key, value
 * and headers, with headers saying why and where it came from ({@code whack-reason}, {@code
 * whack-topic}, {@code whack-partition}, {@code whack-offset}), and its partition goes on.
 *
 * <p>Sending is asynchronous; a record the broker does not take is counted in {@link #lost} and
 * logged, never retried for ever (the partition must not stop on it).
 */
final class DeadLetters implements AutoCloseable {
  static final String REASON = "whack-reason";
  static final String TOPIC = "whack-topic";
  static final String PARTITION = "whack-partition";
  static final String OFFSET = "whack-offset";

  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();

  DeadLetters(String bootstrap, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "whack-dead-letters");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    // The topic is often created by its first record: with one request in flight a batch retried
    // while the broker sets the partition up is not overtaken by the next one, which the broker
    // would take as the first and then refuse the retry for ever (KAFKA-15591).
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    this.producer = new KafkaProducer<>(p);
  }

  /** Sends a copy of {@code record} with why it was not applied. */
  void send(ConsumerRecord<byte[], ByteBuffer> record, String reason) {
    RecordHeaders headers = new RecordHeaders(record.headers().toArray());
    headers.add(REASON, reason.getBytes(StandardCharsets.UTF_8));
    headers.add(TOPIC, record.topic().getBytes(StandardCharsets.UTF_8));
    headers.add(PARTITION, ascii(record.partition()));
    headers.add(OFFSET, ascii(record.offset()));
    producer.send(
        new ProducerRecord<>(topic, null, record.key(), RecordValues.copy(record.value()), headers),
        (metadata, failure) -> {
          if (failure == null) {
            sent.incrementAndGet();
          } else {
            lost.incrementAndGet();
            NodeLog.error(
                String.format(
                    "whack node: could not send %s-%d@%d to the dead-letter topic %s: %s",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    topic,
                    failure.getMessage()));
          }
        });
  }

  private static byte[] ascii(long n) {
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  /** Records the dead-letter topic took. */
  long sent() {
    return sent.get();
  }

  /** Records the dead-letter topic did not take (the broker refused or was unreachable). */
  long lost() {
    return lost.get();
  }

  @Override
  public void close() {
    producer.close(java.time.Duration.ofSeconds(5));
  }
}

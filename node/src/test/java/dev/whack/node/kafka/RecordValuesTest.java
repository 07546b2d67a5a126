package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.KafkaBroker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The node reads a record's value where the consumer fetched it ({@link RecordValues}) and holds
 * records across polls (the lanes apply one poll while the next is fetched): that is right only
 * while the Kafka client never reuses a fetch's buffer. This pins it, with the node's own consumer
 * settings, for plain and compressed batches: every value held from earlier polls still reads as it
 * was produced after many later fetches.
 */
class RecordValuesTest {
  private static final int WAVES = 6;
  private static final int PER_WAVE = 400;

  @Test
  void shouldKeepEveryHeldValueIntactAcrossLaterFetches() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "record-values-held";
    broker.createTopic(topic, 1, false);
    List<ConsumerRecord<byte[], ByteBuffer>> held = new ArrayList<>();
    Properties c = UpdateSource.updatesConsumer(broker.bootstrap(), "record-values-test");
    try (KafkaProducer<byte[], byte[]> plain = broker.producer();
        KafkaProducer<byte[], byte[]> lz4 = compressing(broker.bootstrap());
        KafkaConsumer<byte[], ByteBuffer> consumer = new KafkaConsumer<>(c)) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      for (int wave = 0; wave < WAVES; wave++) {
        KafkaProducer<byte[], byte[]> producer = wave % 2 == 0 ? plain : lz4;
        for (int i = 0; i < PER_WAVE; i++) {
          int n = wave * PER_WAVE + i;
          producer.send(new ProducerRecord<>(topic, key(n), value(n)));
        }
        producer.flush();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (held.size() < (wave + 1) * PER_WAVE && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(100)).forEach(held::add);
        }
      }
    }
    assertEquals(WAVES * PER_WAVE, held.size());
    for (ConsumerRecord<byte[], ByteBuffer> r : held) {
      int n = (int) r.offset();
      assertArrayEquals(key(n), r.key());
      ByteBuffer view = RecordValues.onHeap(r.value());
      assertTrue(view.hasArray(), "the consumer's values are views of heap buffers");
      byte[] bytes = new byte[view.remaining()];
      System.arraycopy(view.array(), RecordValues.offset(view), bytes, 0, bytes.length);
      assertArrayEquals(value(n), bytes, "record " + n);
    }
  }

  private static KafkaProducer<byte[], byte[]> compressing(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(p);
  }

  private static byte[] key(int n) {
    return ("k" + n).getBytes(StandardCharsets.US_ASCII);
  }

  /** A value of its own for each record, of varying length. */
  private static byte[] value(int n) {
    return ("{\"set\":{\"n\":" + n + ",\"pad\":\"" + "x".repeat(n % 97) + "\"}}")
        .getBytes(StandardCharsets.US_ASCII);
  }
}

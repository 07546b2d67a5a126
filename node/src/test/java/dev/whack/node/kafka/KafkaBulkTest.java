package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Live over bulk: a backlog (records older than a few seconds) is consumed at full speed when no
 * client is sending anything, and paused between batches (to its share of the time) while clients
 * are; the tail of the topic is live work and never paused. Counted by the source, whatever the
 * machine's speed.
 */
class KafkaBulkTest {
  private static final int RECORDS = 20_000;

  @Test
  void shouldPauseABacklogOnlyWhileLiveRequestsArrive() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    long anHourAgo = System.currentTimeMillis() - 3_600_000;
    produce(broker, "backlog-quiet", anHourAgo);
    broker.createTopic("backlog-busy", 2, false);

    try (EmbeddedNode node = start(broker, "backlog-quiet")) {
      KafkaSourceTest.awaitHandled(node.node(), RECORDS);
      UpdateSource source = node.node().kafkaSource();
      assertTrue(source.bulkBatches() > 0, "an hour-old backlog is bulk work");
      assertEquals(0, source.throttledNanos(), "with no live requests bulk runs at full speed");
    }
    try (EmbeddedNode node = start(broker, "backlog-busy")) {
      UpdateSource source = node.node().kafkaSource();
      withLiveTraffic(
          node,
          () -> {
            send(broker, "backlog-busy", anHourAgo); // old records, read while clients send
            KafkaSourceTest.awaitHandled(node.node(), RECORDS);
          });
      assertTrue(source.bulkBatches() > 0);
      assertTrue(source.throttledNanos() > 0, "the backlog left the engine to live requests");
      assertEquals(RECORDS, source.applied(), "and still applied everything");
    }
    broker.createTopic("tail-busy", 2, false);
    try (EmbeddedNode node = start(broker, "tail-busy")) {
      UpdateSource source = node.node().kafkaSource();
      withLiveTraffic(
          node,
          () -> {
            send(broker, "tail-busy", -1); // produced while the node reads: the live tail
            KafkaSourceTest.awaitHandled(node.node(), RECORDS);
          });
      assertEquals(0, source.bulkBatches(), "fresh records are no backlog");
      assertEquals(0, source.throttledNanos(), "and never wait");
    }
  }

  private interface Wait {
    void run() throws Exception;
  }

  /** Runs {@code until} while a client sends gets as fast as the node answers them. */
  private static void withLiveTraffic(EmbeddedNode node, Wait until) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Thread client =
        new Thread(
            () -> {
              try (RawConnection c = node.connect()) {
                while (!stop.get()) {
                  c.send("get live\r\n");
                  c.readLine();
                }
              }
            });
    client.start();
    try {
      Thread.sleep(200); // the traffic is there before the backlog is read
      until.run();
    } finally {
      stop.set(true);
      client.join();
    }
  }

  private static EmbeddedNode start(KafkaBroker broker, String topic) {
    return EmbeddedNode.start(
        c -> c.kafka(KafkaOptions.updates(broker.bootstrap(), topic, "bulk-" + topic)));
  }

  /** A new topic of {@link #RECORDS} increments stamped at {@code timestamp}. */
  private static void produce(KafkaBroker broker, String topic, long timestamp) throws Exception {
    broker.createTopic(topic, 2, false);
    send(broker, topic, timestamp);
  }

  /** {@link #RECORDS} increments, stamped at {@code timestamp} (-1: when sent). */
  private static void send(KafkaBroker broker, String topic, long timestamp) throws Exception {
    byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      for (int i = 0; i < RECORDS; i++) {
        byte[] key = ("b" + (i % 500)).getBytes(StandardCharsets.UTF_8);
        p.send(new ProducerRecord<>(topic, null, timestamp < 0 ? null : timestamp, key, incr));
      }
      p.flush();
    }
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.WhackNode;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.KafkaBroker;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Refill from the log: a node keeps a compacted topic of whole profiles (with the positions of the
 * updates topic they stand for); a second node that starts empty loads it, follows the updates
 * topic from those positions rather than from its start, and ends with the same profiles as the
 * first after more updates arrive.
 */
class KafkaRefillTest {
  private static final int KEYS = 300;

  @Test
  void shouldRefillFromTheProfilesTopicAndFollowTheUpdatesFromThere() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String updates = "refill-updates";
    String profiles = "refill-profiles";
    broker.createTopic(updates, 4, false);
    broker.createTopic(profiles, 4, true);
    Random random = new Random(11);
    try (EmbeddedNode first = EmbeddedNode.start(c -> c.kafka(options(broker, "first")))) {
      produce(broker, updates, random, 4000);
      KafkaSourceTest.awaitHandled(first.node(), 4000);
      Thread.sleep(800); // the profiles of the last changes are published (delay 200 ms)
      try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
        // Position records no node wrote: passed over, not a reason to fail the refill.
        p.send(record(profiles, "_whack/position/refill-updates/x", "12"));
        p.send(record(profiles, "_whack/position/refill-updates/9", null));
        p.send(record(profiles, "_whack/position/refill-updates/8", "many"));
        p.flush();
      }
      try (EmbeddedNode second = EmbeddedNode.start(c -> c.kafka(options(broker, "second")))) {
        assertTrue(second.node().engine().size() > 0, "the refill loaded profiles before serving");
        produce(broker, updates, random, 1000);
        KafkaSourceTest.awaitHandled(first.node(), 5000);
        UpdateSource source = second.node().kafkaSource();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!sameProfiles(first.node(), second.node()) && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        for (int k = 0; k < KEYS; k++) {
          assertEquals(json(first.node(), k), json(second.node(), k), "r" + k);
        }
        long read = source.applied() + source.duplicates() + source.deadLetters();
        assertTrue(
            read < 2500,
            "the second node followed the updates from the refill's positions, not their start: "
                + read
                + " records read");
      }
    }
  }

  private static KafkaOptions options(KafkaBroker broker, String group) {
    return new KafkaOptions(
        broker.bootstrap(),
        "refill-updates",
        group,
        null,
        null,
        List.of(),
        false,
        "refill-profiles",
        200);
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, String key, String value) {
    return new ProducerRecord<>(
        topic,
        key.getBytes(StandardCharsets.UTF_8),
        value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  private static void produce(KafkaBroker broker, String topic, Random random, int records)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      for (int i = 0; i < records; i++) {
        byte[] key = ("r" + random.nextInt(KEYS)).getBytes(StandardCharsets.UTF_8);
        int r = random.nextInt(40);
        byte[] value =
            r == 0
                ? null
                : ("{\"set\":{\"country\":\""
                        + List.of("DK", "SE", "NO").get(r % 3)
                        + "\"},\"incr\":{\"n\":"
                        + r
                        + "}}")
                    .getBytes(StandardCharsets.UTF_8);
        p.send(new ProducerRecord<>(topic, key, value));
      }
      p.flush();
    }
  }

  private static boolean sameProfiles(WhackNode a, WhackNode b) {
    for (int k = 0; k < KEYS; k++) {
      if (!java.util.Objects.equals(json(a, k), json(b, k))) {
        return false;
      }
    }
    return true;
  }

  private static String json(WhackNode node, int k) {
    byte[] key = ("r" + k).getBytes(StandardCharsets.UTF_8);
    byte[] json = node.keyspace().profileJson(key, 0, key.length);
    return json == null ? null : new String(json, StandardCharsets.UTF_8);
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * Two static members consuming one topic in one group: each record is sent to its key's owner, so
 * no key is applied by two engines; while the second member is not up yet the first keeps going
 * back to the records it could not forward, and when it joins the group's rebalance splits the
 * partitions (the joiner reads its share again from the start, which the owners ignore). Every
 * counter ends equal to the increments sent to it.
 */
class KafkaClusterTest {
  private static final int KEYS = 60;

  @Test
  void shouldApplyEachRecordOnceOnItsOwnerAcrossARebalance() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "clustered";
    broker.createTopic(topic, 4, false);
    int[] ports = FreePorts.take(2);
    List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
    KafkaOptions kafka = KafkaOptions.updates(broker.bootstrap(), topic, "cluster-test");
    long[] sent = new long[KEYS];
    List<EmbeddedNode> nodes = new ArrayList<>();
    try {
      nodes.add(EmbeddedNode.start(c -> c.port(ports[0]).peers(members).kafka(kafka)));
      produce(broker, topic, sent, 3000);
      Thread.sleep(1500); // the first member forwards to a member that is not up, and retries
      nodes.add(EmbeddedNode.start(c -> c.port(ports[1]).peers(members).kafka(kafka)));
      produce(broker, topic, sent, 3000);
      long total = 0;
      for (long s : sent) {
        total += s;
      }
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (sum(nodes.get(0)) < total && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      Thread.sleep(1500); // a record applied twice would show now
      try (RawConnection c = nodes.get(0).connect()) {
        for (int k = 0; k < KEYS; k++) {
          assertEquals(sent[k], counter(c, k), "counter " + k);
        }
      }
      for (EmbeddedNode node : nodes) {
        UpdateSource source = node.node().kafkaSource();
        assertTrue(
            source.applied() + source.duplicates() > 0,
            node.address() + " consumed a share of the partitions");
        assertTrue(node.node().engine().size() > 0, node.address() + " owns profiles");
        assertEquals(0, source.deadLetters());
      }
      assertEquals(KEYS, nodes.get(0).node().engine().size() + nodes.get(1).node().engine().size());
    } finally {
      for (EmbeddedNode node : nodes) {
        node.close();
      }
    }
  }

  private static void produce(KafkaBroker broker, String topic, long[] sent, int records)
      throws Exception {
    byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      for (int i = 0; i < records; i++) {
        int k = (i * 13) % KEYS;
        p.send(new ProducerRecord<>(topic, ("c" + k).getBytes(StandardCharsets.UTF_8), incr));
        sent[k]++;
      }
      p.flush();
    }
  }

  private static long sum(EmbeddedNode node) {
    long total = 0;
    try (RawConnection c = node.connect()) {
      for (int k = 0; k < KEYS; k++) {
        total += counter(c, k);
      }
    }
    return total;
  }

  private static long counter(RawConnection c, int k) {
    return Counters.counter(c, "c" + k); // through any member: a get is forwarded
  }
}

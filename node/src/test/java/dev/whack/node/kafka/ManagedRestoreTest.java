package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A slot with no warm copy anywhere is restored from the compacted profiles topic, its changelog,
 * and then followed in the updates topic from the slot's position (docs/cluster.md, "Restore from
 * the profiles topic"): here the updates topic has lost its early records (as retention drops them)
 * before a member dies (kill -9) with no standby of its slots ({@code --replicas 0}), so a member
 * that read those slots from the updates topic's start would miss the early increments. Both paths
 * are taken: the survivor restores the dead member's slots into its keyspace, and a joiner restores
 * the copies it warms up before the slots move to it; when the joiner stops gracefully, it hands
 * its slots off first, the survivor warming copies (restored the same way) while it serves them.
 */
class ManagedRestoreTest {
  private static final int KEYS = 40;
  private static final int SLOTS = 4;
  private static final String CLUSTER = "managed-restore";

  private final long[] sent = new long[KEYS];
  private final Random random = new Random(5);

  @Test
  void shouldRestoreSlotsWithNoWarmCopyFromTheProfilesTopicOnceTheUpdatesTopicLostTheirStart()
      throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String updates = "managed-restore";
    String profiles = "managed-restore-profiles";
    broker.createTopic(updates, SLOTS, false);
    broker.createTopic(profiles, SLOTS, true);
    int[] ports = FreePorts.take(3);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      NodeProcess killed =
          NodeProcess.startMember(
              ports[1],
              broker.bootstrap(),
              updates,
              CLUSTER,
              ManagedClusterTest.SESSION_MILLIS,
              profiles,
              0);
      started.add(killed);
      EmbeddedNode survivor = member(broker, updates, profiles, ports[0]);
      started.add(survivor);
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[1]), SLOTS);

      produce(broker, updates, 400);
      awaitCounters(ports[0]);
      Map<Integer, Long> ends = endOffsets(broker, updates);
      awaitPositions(broker, profiles, updates, ends);
      // Retention: every update so far is gone from the updates topic.
      Map<TopicPartition, RecordsToDelete> gone = new HashMap<>();
      ends.forEach(
          (slot, end) ->
              gone.put(new TopicPartition(updates, slot), RecordsToDelete.beforeOffset(end)));
      broker.admin().deleteRecords(gone).all().get(30, TimeUnit.SECONDS);
      produce(broker, updates, 200);
      awaitCounters(ports[0]);

      killed.kill(); // kill -9, and no member keeps a copy of its slots: a cold take-over
      ManagedClusterTest.awaitMap(List.of(ports[0]), SLOTS);
      awaitCounters(ports[0]);

      // A joiner warms copies of the slots bound for it, restored the same way, before they move.
      produce(broker, updates, 100);
      EmbeddedNode joiner = member(broker, updates, profiles, ports[2]);
      started.add(joiner);
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[2]), SLOTS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (ManagedClusterTest.mapOf(ports[2]).slotsOf("127.0.0.1:" + ports[2]).size()
          < SLOTS / 2) {
        assertTrue(System.nanoTime() < deadline, "the joiner never took its share");
        Thread.sleep(100);
      }
      awaitCounters(ports[2]);

      // A graceful stop hands the slots off first: the survivor warms copies of them (restored
      // from the profiles topic) while the leaver serves them, then takes them over from those
      // copies, never cold.
      produce(broker, updates, 100);
      long promotedBefore = ManagedClusterTest.promoted(ports[0]);
      joiner.close();
      started.remove(joiner);
      ManagedClusterTest.awaitMap(List.of(ports[0]), SLOTS);
      assertTrue(
          ManagedClusterTest.promoted(ports[0]) > promotedBefore,
          "the survivor took the leaver's slots over from warm copies");
      awaitCounters(ports[0]);
      assertEquals(0, survivor.node().kafkaSource().deadLetters());
    } finally {
      for (AutoCloseable c : started.reversed()) {
        c.close();
      }
    }
  }

  private static EmbeddedNode member(
      KafkaBroker broker, String updates, String profiles, int port) {
    KafkaOptions kafka = KafkaOptions.updates(broker.bootstrap(), updates, null);
    return EmbeddedNode.start(
        c ->
            c.port(port)
                .kafka(
                    new KafkaOptions(
                        kafka.bootstrap(),
                        kafka.updatesTopic(),
                        kafka.group(),
                        kafka.deadLetterTopic(),
                        null,
                        List.of(),
                        true,
                        profiles,
                        100))
                .cluster(CLUSTER)
                .replicas(0)
                .sessionTimeoutMillis(ManagedClusterTest.SESSION_MILLIS));
  }

  /** Waits until every counter read through {@code port} equals the increments acknowledged. */
  private void awaitCounters(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      List<String> wrong = new ArrayList<>();
      try (RawConnection c = new RawConnection("127.0.0.1", port)) {
        for (int k = 0; k < KEYS; k++) {
          long n = Counters.counter(c, "r" + k);
          if (n != sent[k]) {
            wrong.add("r" + k + "=" + n + " (sent " + sent[k] + ")");
          }
        }
      }
      if (wrong.isEmpty()) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "counters through " + port + ": " + wrong);
      Thread.sleep(200);
    }
  }

  /** Sends {@code records} increments over the keys and waits for Kafka to acknowledge them. */
  private void produce(KafkaBroker broker, String topic, int records) throws Exception {
    byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
    List<Future<?>> acks = new ArrayList<>();
    int[] keys = new int[records];
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      for (int i = 0; i < records; i++) {
        keys[i] = random.nextInt(KEYS);
        acks.add(
            p.send(
                new ProducerRecord<>(
                    topic, ("r" + keys[i]).getBytes(StandardCharsets.UTF_8), incr)));
      }
      p.flush();
    }
    for (int i = 0; i < records; i++) {
      acks.get(i).get(30, TimeUnit.SECONDS);
      sent[keys[i]]++;
    }
  }

  private static Map<Integer, Long> endOffsets(KafkaBroker broker, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(broker)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int slot = 0; slot < SLOTS; slot++) {
        partitions.add(new TopicPartition(topic, slot));
      }
      Map<Integer, Long> ends = new HashMap<>();
      consumer
          .endOffsets(partitions, Duration.ofSeconds(10))
          .forEach((partition, end) -> ends.put(partition.partition(), end));
      return ends;
    }
  }

  /**
   * Waits until the profiles topic holds, in each slot's own partition, a position record at the
   * slot's end: every update so far has its effect in the profiles published.
   */
  private static void awaitPositions(
      KafkaBroker broker, String profiles, String updates, Map<Integer, Long> ends)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Map<Integer, Long> seen = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(broker)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int slot = 0; slot < SLOTS; slot++) {
        partitions.add(new TopicPartition(profiles, slot));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      String prefix = "_whack/position/" + updates + "/";
      while (!covered(seen, ends)) {
        assertTrue(System.nanoTime() < deadline, "positions published: " + seen + " of " + ends);
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          String key = new String(r.key(), StandardCharsets.UTF_8);
          if (key.startsWith(prefix)) {
            int slot = Integer.parseInt(key.substring(prefix.length()));
            assertEquals(slot, r.partition(), "a slot's position lies in the slot's partition");
            long at = Long.parseLong(new String(r.value(), StandardCharsets.US_ASCII));
            seen.merge(slot, at, Math::max);
          }
        }
      }
    }
  }

  private static boolean covered(Map<Integer, Long> seen, Map<Integer, Long> ends) {
    for (Map.Entry<Integer, Long> end : ends.entrySet()) {
      if (end.getValue() > 0 && seen.getOrDefault(end.getKey(), 0L) < end.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker broker) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return new KafkaConsumer<>(p);
  }
}

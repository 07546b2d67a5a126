package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.WhackNode;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node consuming a real broker's topic: every kind of record applied once, bad records in the
 * dead-letter topic with their reasons and the partition going on, and the whole topic read a
 * second time (a new consumer group on a restarted node) acknowledged and ignored, leaving the
 * state of a single pass.
 */
class KafkaSourceTest {
  private static KafkaBroker broker;

  @TempDir Path dir;

  @BeforeAll
  static void broker() throws Exception {
    broker = KafkaBroker.shared();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static ProducerRecord<byte[], byte[]> update(String topic, String key, String json) {
    return new ProducerRecord<>(topic, utf8(key), utf8(json));
  }

  private static ProducerRecord<byte[], byte[]> profile(String topic, String key, byte[] value) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(RecordFormat.TYPE_HEADER, utf8("profile"));
    return new ProducerRecord<>(topic, null, utf8(key), value, headers);
  }

  private static void send(String topic, List<ProducerRecord<byte[], byte[]>> records)
      throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
      List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>();
      for (ProducerRecord<byte[], byte[]> r : records) {
        sent.add(producer.send(r));
      }
      for (java.util.concurrent.Future<?> f : sent) {
        f.get(); // in order per partition: the producer keeps a partition's records in order
      }
    }
  }

  /** Waits until the node's source has handled {@code records} records in all. */
  static void awaitHandled(WhackNode node, long records) throws InterruptedException {
    UpdateSource source = node.kafkaSource();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (source.applied() + source.duplicates() + source.deadLetters() < records) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "handled "
                + (source.applied() + source.duplicates() + source.deadLetters())
                + " of "
                + records
                + " records in 60 s");
      }
      Thread.sleep(20);
    }
  }

  private static String json(WhackNode node, String key) {
    byte[] k = utf8(key);
    byte[] json = node.keyspace().profileJson(k, 0, k.length);
    return json == null ? null : new String(json, StandardCharsets.UTF_8);
  }

  @Test
  void shouldApplyEachKindOfRecordAndSendBadOnesToTheDeadLetters() throws Exception {
    String topic = "kinds";
    broker.createTopic(topic, 3, false);
    try (EmbeddedNode node =
        EmbeddedNode.start(c -> c.kafka(KafkaOptions.updates(broker.bootstrap(), topic, "g")))) {
      node.node().engine().define("dk", "country == \"DK\"");
      try (RawConnection c = node.connect()) {
        c.send("set plain 0 0 5\r\nhello\r\n");
        assertEquals("STORED\r\n", c.readLine());
      }
      Update pbUpdate = Update.newBuilder().addSet(attribute("country", "DK")).build();
      Profile pbProfile = Profile.newBuilder().addAttributes(attribute("country", "NO")).build();
      RecordHeaders badType = new RecordHeaders();
      badType.add(RecordFormat.TYPE_HEADER, utf8("patch"));
      send(
          topic,
          List.of(
              update(topic, "a", "{\"set\":{\"country\":\"DK\"},\"incr\":{\"visits\":1}}"),
              update(topic, "a", "{\"incr\":{\"visits\":2}}"),
              profile(topic, "b", utf8("{\"country\":\"SE\",\"visits\":7}")),
              new ProducerRecord<>(topic, utf8("c"), pbUpdate.toByteArray()),
              profile(topic, "d", pbProfile.toByteArray()),
              update(topic, "e", "{\"set\":{\"country\":\"DK\"}}"),
              new ProducerRecord<>(topic, utf8("e"), null), // tombstone
              new ProducerRecord<>(topic, utf8("never"), null), // tombstone of nothing
              // bad records: each goes to the dead letters, and the partitions go on
              update(topic, "x".repeat(251), "{\"incr\":{\"visits\":1}}"),
              update(topic, "f", "{\"incr\":"),
              update(topic, "g", "{\"producer\":\"p\",\"seq\":3,\"incr\":{\"visits\":1}}"),
              update(topic, "plain", "{\"incr\":{\"visits\":1}}"),
              new ProducerRecord<>(topic, null, utf8("h"), utf8("{}"), badType),
              update(topic, "a", "{\"incr\":{\"visits\":4}}")));
      awaitHandled(node.node(), 14);

      UpdateSource source = node.node().kafkaSource();
      assertEquals(9, source.applied());
      assertEquals(0, source.duplicates());
      assertEquals(5, source.deadLetters());
      assertTrue(json(node.node(), "a").startsWith("{\"country\":\"DK\",\"visits\":7,"));
      assertTrue(json(node.node(), "b").startsWith("{\"country\":\"SE\",\"visits\":7,"));
      assertTrue(json(node.node(), "c").startsWith("{\"country\":\"DK\","));
      assertTrue(json(node.node(), "d").startsWith("{\"country\":\"NO\","));
      assertNull(json(node.node(), "e"));
      assertNull(json(node.node(), "f"));
      assertEquals(2, node.node().engine().count("dk"));
      // The record's position is the profile's producer mark.
      assertTrue(
          json(node.node(), "a").contains("\"$producers\":{\"kafka:kinds:"),
          json(node.node(), "a"));

      List<ConsumerRecord<byte[], byte[]>> dead =
          broker.readAll(topic + ".dead-letters", 5, Duration.ofSeconds(30));
      Map<String, String> reasons = new TreeMap<>();
      for (ConsumerRecord<byte[], byte[]> r : dead) {
        String key = new String(r.key(), StandardCharsets.UTF_8);
        reasons.put(key.length() > 10 ? "long" : key, header(r, DeadLetters.REASON));
        assertEquals(topic, header(r, DeadLetters.TOPIC));
        assertTrue(Integer.parseInt(header(r, DeadLetters.PARTITION)) < 3);
        assertTrue(Long.parseLong(header(r, DeadLetters.OFFSET)) >= 0);
      }
      assertEquals(5, reasons.size(), reasons.toString());
      assertTrue(reasons.get("long").startsWith("bad key: 251 bytes"), reasons.get("long"));
      assertTrue(reasons.get("f").startsWith("bad update"), reasons.get("f"));
      assertTrue(reasons.get("g").contains("no producer or seq of its own"), reasons.get("g"));
      assertTrue(reasons.get("plain").startsWith("not a profile"), reasons.get("plain"));
      assertTrue(reasons.get("h").contains("must be update or profile"), reasons.get("h"));
    }
  }

  private static Attribute attribute(String name, String value) {
    return Attribute.newBuilder()
        .setName(name)
        .setValue(Value.newBuilder().setStringValue(value))
        .build();
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldIgnoreTheWholeTopicReadASecondTime() throws Exception {
    String topic = "replayed";
    broker.createTopic(topic, 4, false);
    List<ProducerRecord<byte[], byte[]>> records = new java.util.ArrayList<>();
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < 3000; i++) {
      String key = "u" + random.nextInt(200);
      int r = random.nextInt(20);
      if (r == 0) {
        records.add(new ProducerRecord<>(topic, utf8(key), null));
      } else if (r == 1) {
        records.add(profile(topic, key, utf8("{\"country\":\"SE\",\"n\":" + i + "}")));
      } else {
        String country = r % 3 == 0 ? "DK" : "NO";
        records.add(
            update(
                topic,
                key,
                "{\"set\":{\"country\":\""
                    + country
                    + "\"},\"incr\":{\"n\":1},\"events\":[{\"name\":\"view\",\"value\":"
                    + r
                    + "}]}"));
      }
    }
    send(topic, records);
    Map<String, String> onePass = new HashMap<>();
    long dk;
    long applied;
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c -> c.dataDir(dir).kafka(KafkaOptions.updates(broker.bootstrap(), topic, "first")))) {
      node.node().engine().define("dk", "country == \"DK\" and n >= 3");
      awaitHandled(node.node(), records.size());
      applied = node.node().kafkaSource().applied();
      assertEquals(records.size(), applied);
      for (int u = 0; u < 200; u++) {
        onePass.put("u" + u, json(node.node(), "u" + u));
      }
      dk = node.node().engine().count("dk");
    }
    // The same data directory, read again from the start by a group that never committed.
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c -> c.dataDir(dir).kafka(KafkaOptions.updates(broker.bootstrap(), topic, "second")))) {
      awaitHandled(node.node(), records.size());
      Thread.sleep(300); // nothing more arrives
      UpdateSource source = node.node().kafkaSource();
      assertEquals(0, source.deadLetters());
      for (int u = 0; u < 200; u++) {
        assertEquals(onePass.get("u" + u), json(node.node(), "u" + u), "u" + u);
      }
      assertEquals(dk, node.node().engine().count("dk"));
      // A delete ends a profile's mark, so records before it apply again until the delete comes
      // round again; every other record is a duplicate.
      assertTrue(source.duplicates() > records.size() / 2, "duplicates " + source.duplicates());
      assertEquals(records.size(), source.applied() + source.duplicates());
    }
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segment changes out are at least once across a {@code kill -9}, with duplicates recognisable by
 * version (docs/kafka.md, "Segment changes out"): a node process consuming a stream of updates
 * (with {@code --fsync everysec} and snapshots during the stream) publishes, in JSON, the changes
 * of a segment whose membership flips back and forth (about every other update of a key); it is
 * killed while it applies the stream and restarted on its data directory. A consumer that reads the
 * changes topic from its start and keeps, per (segment, key), only a change whose version (epoch,
 * seq) is greater than the last kept one (epoch first) must then see, per key:
 *
 * <ul>
 *   <li>(a) a last kept change that agrees with the node's membership after the restart;
 *   <li>(b) enter, leave, enter, ... from not-a-member, exactly as many as the stream made: a
 *       change lost makes fewer (and two of a kind in a row, when an odd number is lost in a row),
 *       a duplicate published with a new version makes more;
 * </ul>
 *
 * <p>and (c) the restarted node announces no gap of unknown size: it publishes what its first life
 * did not, rather than telling consumers to re-read membership. Numbered gap markers (records the
 * broker refused) are allowed and counted; on a healthy broker a loss they told of fails (b).
 *
 * <p>A change whose write the crash lost, published before it, is made again after the restart when
 * the update is applied again: it must come with a version not greater than the first one (or not
 * have been published before its write was in the log), or the consumer keeps it twice.
 */
class KafkaChangesKillNineTest {
  private static final int KEYS = 40;
  private static final int RECORDS = 40_000;

  /**
   * The first updates are sent at once, faster than the node applies them: it is killed (a third
   * into the stream) while it works through them, with changes its publisher has not sent yet.
   */
  private static final int FLOOD = 24_000;

  private static final String SEGMENT = "dk";
  private static final String EXPRESSION = "c == \"DK\"";

  /** How long the changes topic must stay still (every partition read to its end) to be done. */
  private static final long QUIET_MILLIS = 3_000;

  private static final JsonFactory JSON = new JsonFactory();

  @TempDir Path dir;

  @Test
  void shouldPublishEveryChangeAtLeastOnceAcrossAKillNine() throws Exception {
    long began = System.nanoTime();
    KafkaBroker broker = KafkaBroker.shared();
    String run = UUID.randomUUID().toString().substring(0, 8);
    String updates = "sink-updates-" + run;
    String changes = "sink-changes-" + run;
    broker.createTopic(updates, 4, false);
    broker.createTopic(changes, 4, false);
    long brokerReady = System.nanoTime();
    List<String> kafka = List.of(broker.bootstrap(), updates, "sink-" + run);

    // What the stream does to each key: its membership after the last update, and how many times
    // it changed (a profile starts in no segment; each change is one enter or one leave).
    boolean[] member = new boolean[KEYS];
    long[] flips = new long[KEYS];
    AtomicLong produced = new AtomicLong();
    Thread producer =
        new Thread(
            () -> {
              Random random = new Random(11);
              byte[] dk = "{\"set\":{\"c\":\"DK\"},\"incr\":{\"n\":1}}".getBytes(UTF8);
              byte[] se = "{\"set\":{\"c\":\"SE\"},\"incr\":{\"n\":1}}".getBytes(UTF8);
              try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
                for (int i = 0; i < RECORDS; i++) {
                  int k = (i * 7) % KEYS;
                  boolean inDk = random.nextBoolean(); // about every other update flips membership
                  p.send(new ProducerRecord<>(updates, key(k), inDk ? dk : se));
                  if (inDk != member[k]) {
                    member[k] = inDk;
                    flips[k]++;
                  }
                  produced.incrementAndGet();
                  if (i >= FLOOD && i % 500 == 499) {
                    p.flush();
                    // The rest a stream (5,000 a second): it goes on across the kill and restart,
                    // slow enough that the first life's publisher has sent changes before the kill
                    // (it waits for the log to be forced, up to a second under everysec).
                    Thread.sleep(100);
                  }
                }
                p.flush();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    producer.setDaemon(true); // a failed test leaves it behind

    long deadAtMillis;
    long producedAtKill;
    long appliedAtKill;
    long streamedMillis;
    try (NodeProcess node = NodeProcess.start(dir, "everysec", 7000, kafka, changes)) {
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        c.send("segdef " + SEGMENT + " " + EXPRESSION.length() + "\r\n" + EXPRESSION + "\r\n");
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      producer.start();
      long streamStart = System.nanoTime();
      long deadline = streamStart + 30_000_000_000L;
      long applied = 0;
      // Killed a third into the stream, once the topic holds a change (two records: a start
      // marker, if any, and one more) so that the first life's publishing is part of the test; a
      // publisher that waits for the log to be forced may take about a second for its first.
      while (((applied = total(node)) < RECORDS / 3
              || (applied < RECORDS * 9 / 10 && records(broker, changes) < 2))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      producedAtKill = produced.get();
      appliedAtKill = applied;
      streamedMillis = (System.nanoTime() - streamStart) / 1_000_000;
      node.kill();
      // After the process is gone: a record with a later timestamp comes from the second life.
      deadAtMillis = System.currentTimeMillis();
    }
    assertTrue(
        appliedAtKill >= RECORDS / 3 && appliedAtKill < RECORDS,
        "the node was killed in the middle of the stream: it had applied " + appliedAtKill);
    producer.join();

    Set<String> nodeMembers;
    Consumed consumed;
    try (NodeProcess node = NodeProcess.start(dir, "everysec", 7000, kafka, changes)) {
      long deadline = System.nanoTime() + 30_000_000_000L;
      long applied = 0;
      while ((applied = total(node)) < RECORDS && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(RECORDS, applied, "the restarted node applied every update once");
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        nodeMembers = members(c, SEGMENT);
      }
      Set<String> expected = new TreeSet<>();
      for (int k = 0; k < KEYS; k++) {
        if (member[k]) {
          expected.add("k" + k);
        }
      }
      // The premise: the node itself is right (KafkaKillNineTest); the topic is what is tested.
      assertEquals(expected, nodeMembers, "the node's members after the restart");
      consumed = consume(broker, changes, deadAtMillis);
      // Still the same once the topic is read: the node had nothing left to change.
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        assertEquals(nodeMembers, members(c, SEGMENT), "the members did not move while read");
      }
    }
    long millis = (System.nanoTime() - began) / 1_000_000;

    Set<String> published = new TreeSet<>();
    consumed.member.forEach(
        (id, in) -> {
          if (in) {
            published.add(id.substring(id.indexOf('\u0000') + 1));
          }
        });
    Map<String, Long> expectedChanges = new TreeMap<>();
    long expectedTotal = Arrays.stream(flips).sum();
    for (int k = 0; k < KEYS; k++) {
      if (flips[k] > 0) {
        expectedChanges.put(SEGMENT + "/k" + k, flips[k]);
      }
    }
    Map<String, Long> keptChanges = new TreeMap<>();
    consumed.keptPerId.forEach((id, n) -> keptChanges.put(id.replace('\u0000', '/'), n));
    List<String> differ = new ArrayList<>();
    Set<String> ids = new TreeSet<>(expectedChanges.keySet());
    ids.addAll(keptChanges.keySet());
    for (String id : ids) {
      long made = expectedChanges.getOrDefault(id, 0L);
      long kept = keptChanges.getOrDefault(id, 0L);
      if (made != kept) {
        differ.add(id + " " + made + " made, " + kept + " kept");
      }
    }
    System.out.println(
        "KafkaChangesKillNineTest: broker and topics ready in "
            + (brokerReady - began) / 1_000_000
            + " ms; killed "
            + streamedMillis
            + " ms into the stream, with "
            + producedAtKill
            + " of "
            + RECORDS
            + " updates produced and at least "
            + appliedAtKill
            + " applied; changes in the stream "
            + expectedTotal
            + ", read "
            + consumed.changes
            + " ("
            + consumed.changesBefore
            + " published before the kill, "
            + (consumed.changes - consumed.changesBefore)
            + " after), kept "
            + consumed.kept
            + ", duplicates dropped "
            + consumed.duplicates
            + ", kept but not alternating "
            + consumed.notAlternating
            + "; gap markers: unknown "
            + consumed.unknownBefore
            + " before the kill and "
            + consumed.unknownAfter
            + " after, numbered "
            + consumed.numbered
            + " (telling of "
            + consumed.numberedCount
            + " changes), other "
            + consumed.otherMarkers
            + "; members: node "
            + nodeMembers.size()
            + ", topic "
            + published.size()
            + "; "
            + millis
            + " ms in all");
    consumed.markers.forEach(m -> System.out.println("KafkaChangesKillNineTest: marker " + m));
    consumed.examples.forEach(e -> System.out.println("KafkaChangesKillNineTest: " + e));

    assertTrue(consumed.changesBefore > 0, "the first life published changes before it was killed");
    assertAll(
        () ->
            assertEquals(
                nodeMembers,
                published,
                "(a) the members the deduplicated changes imply, against the node's"),
        () ->
            assertEquals(
                0,
                consumed.notAlternating,
                "(b) kept changes that repeat the previous kind of their key (a change lost, or a"
                    + " duplicate with a new version), e.g. "
                    + consumed.examples),
        // (b) misses an even number of changes lost in a row; the count does not: every change
        // of the stream is kept once (none lost, no duplicate with a new version).
        () ->
            assertTrue(
                differ.isEmpty(),
                "(b) every change the stream made kept once: "
                    + expectedTotal
                    + " made, "
                    + consumed.kept
                    + " kept; "
                    + differ.size()
                    + " of "
                    + KEYS
                    + " keys differ, e.g. "
                    + differ.subList(0, Math.min(8, differ.size()))),
        () ->
            assertEquals(
                0,
                consumed.unknownAfter,
                "(c) gap markers of unknown size after the restart: " + consumed.markers),
        // Before the kill, the first start of the empty node may announce one (nothing is lost
        // then, but a publisher may not know that); more than one is a loss it admits to.
        () ->
            assertTrue(
                consumed.unknownBefore + consumed.unknownAfter <= 1,
                "(c) at most one gap marker of unknown size in all: " + consumed.markers),
        () -> assertEquals(0, consumed.otherMarkers, "gap markers neither unknown nor a number"));
  }

  /** What a consumer of the changes topic saw, read from its start until it stood still. */
  private static final class Consumed {
    long changes;
    long changesBefore;
    long kept;
    long duplicates;
    long notAlternating;
    long unknownBefore;
    long unknownAfter;
    long numbered;
    long numberedCount;
    long otherMarkers;

    /** Per (segment, key): the version of the last kept change, and whether it was an enter. */
    final Map<String, long[]> version = new HashMap<>();

    final Map<String, Boolean> member = new HashMap<>();

    /** Per (segment, key): how many changes were kept. */
    final Map<String, Long> keptPerId = new HashMap<>();

    final List<String> markers = new ArrayList<>();
    final List<String> examples = new ArrayList<>();

    void accept(ConsumerRecord<byte[], byte[]> r, long deadAtMillis) throws IOException {
      boolean after = r.timestamp() > deadAtMillis;
      Header gap = r.headers().lastHeader("whack-gap");
      if (gap != null) {
        String size = gap.value() == null ? "" : new String(gap.value(), UTF8);
        if (size.equals("unknown")) {
          if (after) {
            unknownAfter++;
          } else {
            unknownBefore++;
          }
        } else if (size.matches("[0-9]+")) {
          numbered++;
          numberedCount += Long.parseLong(size);
        } else {
          otherMarkers++;
        }
        if (markers.size() < 10) {
          markers.add(
              (after ? "after" : "before")
                  + " the kill, "
                  + r.topic()
                  + "-"
                  + r.partition()
                  + "@"
                  + r.offset()
                  + " whack-gap="
                  + size
                  + " "
                  + (r.value() == null ? "null" : new String(r.value(), UTF8)));
        }
        return;
      }
      changes++;
      if (!after) {
        changesBefore++;
      }
      Change c = Change.parse(r.value());
      assertEquals(c.key, r.key() == null ? null : new String(r.key(), UTF8), "record key");
      String id = c.segment + "\u0000" + c.key;
      long[] last = version.get(id);
      if (last != null && (c.epoch < last[0] || (c.epoch == last[0] && c.seq <= last[1]))) {
        duplicates++;
        return;
      }
      version.put(id, new long[] {c.epoch, c.seq});
      kept++;
      keptPerId.merge(id, 1L, Long::sum);
      boolean wasMember = member.getOrDefault(id, false);
      if (c.enter == wasMember) {
        notAlternating++;
        if (examples.size() < 5) {
          examples.add(
              (c.enter ? "enter" : "leave")
                  + " of "
                  + c.key
                  + " in "
                  + c.segment
                  + " at ("
                  + c.epoch
                  + ", "
                  + c.seq
                  + ") after "
                  + (last == null
                      ? "nothing"
                      : (wasMember ? "an enter" : "a leave")
                          + " at ("
                          + last[0]
                          + ", "
                          + last[1]
                          + ")")
                  + ", "
                  + (after ? "after" : "before")
                  + " the kill, "
                  + r.topic()
                  + "-"
                  + r.partition()
                  + "@"
                  + r.offset());
        }
      }
      member.put(id, c.enter);
    }
  }

  /** A change as docs/kafka.md gives it in JSON. */
  private record Change(String segment, String key, boolean enter, long epoch, long seq) {
    static Change parse(byte[] value) throws IOException {
      String segment = null;
      String key = null;
      String kind = null;
      Long epoch = null;
      Long seq = null;
      try (JsonParser p = JSON.createParser(value)) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          fail("a change is a JSON object: " + new String(value, UTF8));
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          switch (name) {
            case "segment" -> segment = p.getText();
            case "key" -> key = p.getText();
            case "kind" -> kind = p.getText();
            case "epoch" -> epoch = p.getLongValue();
            case "seq" -> seq = p.getLongValue();
            default -> p.skipChildren();
          }
        }
      }
      if (segment == null
          || key == null
          || epoch == null
          || seq == null
          || !("enter".equals(kind) || "leave".equals(kind))) {
        fail("not a change: " + new String(value, UTF8));
      }
      return new Change(segment, key, "enter".equals(kind), epoch, seq);
    }
  }

  /**
   * Reads the whole topic from its start, until every partition is read to its end and the ends
   * have not moved for {@link #QUIET_MILLIS} (the publisher is done: the node applied everything).
   */
  private static Consumed consume(KafkaBroker broker, String topic, long deadAtMillis)
      throws IOException {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    Consumed out = new Consumed();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      Map<TopicPartition, Long> ends = Map.of();
      long stillSince = System.nanoTime();
      while (true) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
        for (ConsumerRecord<byte[], byte[]> r : records) {
          out.accept(r, deadAtMillis);
        }
        Map<TopicPartition, Long> now = consumer.endOffsets(partitions);
        if (!records.isEmpty() || !now.equals(ends)) {
          ends = now;
          stillSince = System.nanoTime();
        }
        boolean atEnd = true;
        for (TopicPartition tp : partitions) {
          atEnd &= consumer.position(tp) >= ends.get(tp);
        }
        if (atEnd && System.nanoTime() - stillSince >= QUIET_MILLIS * 1_000_000) {
          return out;
        }
        if (System.nanoTime() > deadline) {
          fail("the changes topic did not stand still within 20 s: ends " + ends);
        }
      }
    }
  }

  /** How many records the topic holds now. */
  private static long records(KafkaBroker broker, String topic) throws Exception {
    var partitions =
        broker.admin().describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (var p : partitions) {
      latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
    }
    long n = 0;
    for (var offsets : broker.admin().listOffsets(latest).all().get().values()) {
      n += offsets.offset();
    }
    return n;
  }

  /** The members of a segment on the node, over the text protocol. */
  private static Set<String> members(RawConnection c, String segment) {
    Set<String> out = new TreeSet<>();
    String cursor = "";
    while (cursor != null) {
      c.send(
          "segmembers "
              + segment.length()
              + " 1000"
              + (cursor.isEmpty() ? "" : " " + cursor)
              + "\r\n"
              + segment
              + "\r\n");
      cursor = null;
      for (String line = c.readLine(); ; line = c.readLine()) {
        if (line.startsWith("KEY ")) {
          out.add(line.substring(4).trim());
        } else if (line.startsWith("NEXT ")) {
          cursor = line.substring(5).trim();
          break;
        } else if (line.equals("END\r\n")) {
          break;
        } else {
          fail("segmembers answered " + line);
        }
      }
    }
    return out;
  }

  private static final Charset UTF8 = StandardCharsets.UTF_8;

  private static byte[] key(int k) {
    return ("k" + k).getBytes(UTF8);
  }

  private static long total(NodeProcess node) {
    try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
      long total = 0;
      for (int k = 0; k < KEYS; k++) {
        total += Counters.counter(c, "k" + k);
      }
      return total;
    }
  }
}

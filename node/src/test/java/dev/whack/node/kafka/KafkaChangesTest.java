package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.WhackNode;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.engine.MembersPage;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.proto.SegmentChange;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Segment changes out: a node consuming updates from one topic publishes every enter and leave to
 * another; a consumer that keeps, per (segment, key), the last version and drops what is not newer
 * (as docs/kafka.md shows) rebuilds exactly each segment's members, also when segments are defined
 * while the stream runs (the publisher changes subscriptions without losing a change).
 */
class KafkaChangesTest {
  private static final int KEYS = 300;

  @TempDir Path dir;

  /**
   * In memory the publisher reads the change stream; with a data directory, the changes its log
   * recorded (LoggedChangePublisher): a consumer rebuilds the members either way.
   */
  @ParameterizedTest(name = "with a data directory: {0}")
  @ValueSource(booleans = {false, true})
  void shouldPublishEveryChangeSoThatAConsumerRebuildsTheMembers(boolean durable) throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String updates = "changes-in-" + durable;
    String changes = "changes-out-" + durable;
    broker.createTopic(updates, 4, false);
    broker.createTopic(changes, 4, false);
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c ->
                (durable ? c.dataDir(dir) : c)
                    .kafka(
                        new KafkaOptions(
                            broker.bootstrap(),
                            updates,
                            "g",
                            null,
                            changes,
                            List.of(),
                            false,
                            null,
                            0)))) {
      WhackNode n = node.node();
      n.engine().define("dk", "country == \"DK\"");
      Random random = new Random(7);
      int sent = 0;
      try (KafkaProducer<byte[], byte[]> producer = broker.producer()) {
        for (int round = 0; round < 6; round++) {
          if (round == 2) {
            n.engine().define("big", "visits >= 3");
          }
          if (round == 4) {
            n.engine().define("se", "country == \"SE\"");
          }
          for (int i = 0; i < 1000; i++) {
            String country = List.of("DK", "SE", "NO").get(random.nextInt(3));
            String update = "{\"set\":{\"country\":\"" + country + "\"},\"incr\":{\"visits\":1}}";
            producer.send(
                new ProducerRecord<>(
                    updates,
                    ("k" + random.nextInt(KEYS)).getBytes(StandardCharsets.UTF_8),
                    update.getBytes(StandardCharsets.UTF_8)));
            sent++;
          }
          producer.flush();
          Thread.sleep(100);
        }
      }
      KafkaSourceTest.awaitHandled(n, sent);
      ChangePublisher publisher = n.changePublisher();
      long published = -1;
      while (published != publisher.published()) {
        published = publisher.published();
        Thread.sleep(1500); // from the log, changes go out once forced: about once a second
      }
      assertEquals(0, publisher.missed());
      List<ConsumerRecord<byte[], byte[]>> records =
          broker.readAll(changes, (int) published, Duration.ofSeconds(30));
      assertEquals(published, records.size());

      // The consumer of docs/kafka.md: the last version per (segment, key) wins.
      Map<String, long[]> versions = new HashMap<>();
      Map<String, Set<String>> members = new HashMap<>();
      Map<String, Boolean> last = new HashMap<>();
      int duplicates = 0;
      int gapMarkers = 0;
      for (ConsumerRecord<byte[], byte[]> r : records) {
        if (r.headers().lastHeader(ChangePublisher.GAP_HEADER) != null) {
          gapMarkers++; // the publisher's start: what happened before it is not on the topic
          continue;
        }
        SegmentChange change = SegmentChange.parseFrom(r.value());
        assertEquals(change.getKey(), new String(r.key(), StandardCharsets.UTF_8));
        String id = change.getSegment() + "\u0000" + change.getKey();
        long[] kept = versions.get(id);
        if (kept != null
            && (change.getEpoch() < kept[0]
                || (change.getEpoch() == kept[0] && change.getSeq() <= kept[1]))) {
          duplicates++;
          continue;
        }
        versions.put(id, new long[] {change.getEpoch(), change.getSeq()});
        Set<String> in = members.computeIfAbsent(change.getSegment(), s -> new TreeSet<>());
        boolean changed =
            change.getKind() == SegmentChange.Kind.ENTER
                ? in.add(change.getKey())
                : in.remove(change.getKey());
        // Segments defined during the stream were filled without changes: a member found then
        // may leave without a published enter. "dk" was defined before the first update.
        assertTrue(changed || !change.getSegment().equals("dk"), "not an alternation: " + id);
        last.put(id, change.getKind() == SegmentChange.Kind.ENTER);
      }
      for (Map.Entry<String, Boolean> e : last.entrySet()) {
        String[] parts = e.getKey().split("\u0000");
        assertEquals(
            e.getValue(),
            members(parts[0], n).contains(parts[1]),
            "the last published change of " + parts[1] + " in " + parts[0]);
      }
      assertEquals(0, duplicates, "the publisher itself publishes each change once here");
      assertEquals(1, gapMarkers, "one marker of unknown size when the publisher started");
      assertEquals(members("dk", n), members.getOrDefault("dk", Set.of()));
      assertTrue(
          members.containsKey("big") && members.containsKey("se"), members.keySet().toString());
    }
  }

  private static Set<String> members(String segment, WhackNode node) {
    Set<String> out = new TreeSet<>();
    String cursor = null;
    do {
      MembersPage page = node.engine().members(segment, cursor, 1000);
      out.addAll(page.keys());
      cursor = page.nextCursor();
    } while (cursor != null);
    return out;
  }
}

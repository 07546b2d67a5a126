package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.WhackClient;
import dev.whack.client.ring.ClusterMap;
import dev.whack.client.ring.Slots;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * A Kafka-managed cluster (docs/cluster.md): three members, then a fourth joins, one leaves
 * gracefully and one is killed (kill -9, a process of its own), each while updates keep coming.
 * After each step every member has installed the same map, every key lives on exactly one member,
 * and every counter, read through any member, equals the updates Kafka acknowledged for it: a moved
 * slot's new owner took it from its warm copy (a standby) or read it again from the log, and
 * nothing was lost or applied twice.
 */
class ManagedClusterTest {
  private static final int KEYS = 200;
  private static final int SLOTS = 8;
  static final long SESSION_MILLIS = 6000; // the broker's smallest by default
  private static final String CLUSTER = "managed-test";

  /** A segment defined before the fourth member joins, which it must take from the others. */
  private static final long HOT_FROM = 40;

  private static final String HOT = "n >= " + HOT_FROM;

  private final long[] sent = new long[KEYS];
  private final java.util.Random random = new java.util.Random(7);

  @Test
  void shouldKeepEveryCounterEqualToTheAcknowledgedUpdatesAsMembersJoinLeaveAndDie()
      throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "managed-cluster";
    broker.createTopic(topic, SLOTS, false);
    int[] ports = FreePorts.take(4);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      NodeProcess doomed =
          NodeProcess.startMember(ports[2], broker.bootstrap(), topic, CLUSTER, SESSION_MILLIS);
      started.add(doomed);
      EmbeddedNode first = member(broker, topic, ports[0]);
      started.add(first);
      EmbeddedNode leaving = member(broker, topic, ports[1]);
      started.add(leaving);
      awaitMap(List.of(ports[0], ports[1], ports[2]));
      try (RawConnection c = new RawConnection("127.0.0.1", ports[1])) {
        c.send("segdef hot " + HOT.length() + "\r\n" + HOT + "\r\n");
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      // A cluster-wide watch on the member that stays throughout: it must follow the map.
      RawConnection watcher = new RawConnection("127.0.0.1", ports[0]);
      started.add(watcher);
      watcher.send("watch hot\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      produce(broker, topic, 3000);
      awaitCounters(ports[0]);
      assertEquals(KEYS, localItems(ports[0], ports[1], ports[2]), "each key on one member");
      clientGivenOneAddress(ports[1], 3);

      SteadyLoad load = new SteadyLoad(broker, topic);
      EmbeddedNode joiner = member(broker, topic, ports[3]);
      started.add(joiner);
      awaitMap(List.of(ports[0], ports[1], ports[2], ports[3]));
      // Its share moves to the joiner only once its copies are warm (warm-up), then at once.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (mapOf(ports[3]).slotsOf("127.0.0.1:" + ports[3]).size() < SLOTS / 4
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      load.stop();
      ClusterMap joined = mapOf(ports[3]);
      assertEquals(SLOTS / 4, joined.slotsOf("127.0.0.1:" + ports[3]).size(), joined.toString());
      for (int slot = 0; slot < SLOTS; slot++) {
        assertEquals(null, joined.movingTo(slot), "no slot still moving: " + joined);
      }
      produce(broker, topic, 3000);
      awaitCounters(ports[3]);
      assertEquals(KEYS, localItems(ports[0], ports[1], ports[2], ports[3]));

      load = new SteadyLoad(broker, topic);
      leaving.close();
      awaitMap(List.of(ports[0], ports[2], ports[3]));
      load.stop();
      produce(broker, topic, 3000);
      awaitCounters(ports[2]);
      assertEquals(KEYS, localItems(ports[0], ports[2], ports[3]));

      long promotedBefore = promoted(ports[0]) + promoted(ports[3]);
      long killedAt = System.nanoTime();
      load = new SteadyLoad(broker, topic);
      doomed.kill();
      awaitMap(List.of(ports[0], ports[3]));
      load.stop();
      produce(broker, topic, 3000);
      awaitCounters(ports[0]);
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killedAt);
      System.out.printf(
          "ManagedClusterTest: kill -9 to every counter right through the survivors: %d s"
              + " (session timeout %d ms)%n",
          seconds, SESSION_MILLIS);
      assertTrue(seconds < 60, "the killed member's keys served again after " + seconds + " s");
      long promotedAfter = promoted(ports[0]) + promoted(ports[3]);
      assertTrue(
          promotedAfter > promotedBefore,
          "the killed member's slots went to their warm copies: promoted profiles "
              + promotedBefore
              + " before the kill, "
              + promotedAfter
              + " after");
      assertEquals(KEYS, localItems(ports[0], ports[3]));
      clientGivenOneAddress(ports[3], 2);
      watchFollowsTheMap(broker, topic, watcher, "127.0.0.1:" + ports[3]);
      assertEquals(0, first.node().kafkaSource().deadLetters());
    } finally {
      for (AutoCloseable c : started) {
        c.close();
      }
    }
  }

  /**
   * The watch opened on the first member before anyone joined, left or died still tells the changes
   * of a member that joined since ({@code member}): a key it owns entering the segment.
   */
  private static void watchFollowsTheMap(
      KafkaBroker broker, String topic, RawConnection watcher, String member) throws Exception {
    ClusterMap map = mapOf(Integer.parseInt(member.substring(member.indexOf(':') + 1)));
    String key = null;
    for (int i = 0; key == null; i++) {
      if (member.equals(map.ownerOf("late" + i))) {
        key = "late" + i;
      }
    }
    byte[] hot = ("{\"incr\":{\"n\":" + HOT_FROM + "}}").getBytes(StandardCharsets.UTF_8);
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      p.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), hot))
          .get(30, TimeUnit.SECONDS);
    }
    String expected = "CHANGE enter hot " + key + " ";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      String line = watcher.readLine();
      if (line.startsWith(expected)) {
        return;
      }
      assertTrue(
          System.nanoTime() < deadline,
          "the watch on the first member never told " + expected + "(owned by " + member + ")");
    }
  }

  /**
   * The Java client given one member's address learns the map: every member, keys routed to their
   * slot's owner with no forwarding, and a segment count for the whole cluster.
   */
  private void clientGivenOneAddress(int port, int members) {
    try (WhackClient client = WhackClient.builder().servers("127.0.0.1:" + port).build()) {
      ClusterMap map = client.map();
      assertEquals(members, client.servers().size(), map.toString());
      assertTrue(!map.isRing() && map.slotCount() == SLOTS, map.toString());
      long hot = 0;
      for (int k = 0; k < KEYS; k++) {
        hot += sent[k] >= HOT_FROM ? 1 : 0;
        String owner = client.ownerOf("m" + k);
        assertEquals(
            map.activeOf(Slots.slotOf(("m" + k).getBytes(StandardCharsets.UTF_8), SLOTS)), owner);
      }
      assertEquals(hot, client.segments().count("hot").join(), "hot, counted by the client");
      String profile = client.getProfile("m0").join().orElseThrow();
      assertTrue(profile.contains("\"n\":" + sent[0]), profile);
    }
  }

  private static EmbeddedNode member(KafkaBroker broker, String topic, int port) {
    return member(broker, topic, port, CLUSTER);
  }

  /** A member of {@code cluster} in this JVM, on {@code port}, with a 6 s session timeout. */
  static EmbeddedNode member(KafkaBroker broker, String topic, int port, String cluster) {
    return EmbeddedNode.start(
        c ->
            c.port(port)
                .kafka(KafkaOptions.updates(broker.bootstrap(), topic, null))
                .cluster(cluster)
                .sessionTimeoutMillis(SESSION_MILLIS));
  }

  private static void awaitMap(List<Integer> ports) throws InterruptedException {
    awaitMap(ports, SLOTS);
  }

  /** Waits until each of these members reports a map of exactly them, all with one epoch. */
  static void awaitMap(List<Integer> ports, int slots) throws InterruptedException {
    List<String> expected = new ArrayList<>();
    for (int port : ports) {
      expected.add("127.0.0.1:" + port);
    }
    expected.sort(null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String last = "";
    while (System.nanoTime() < deadline) {
      List<ClusterMap> maps = new ArrayList<>();
      for (int port : ports) {
        maps.add(mapOf(port));
      }
      boolean agreed = true;
      for (ClusterMap map : maps) {
        agreed &=
            map.members().equals(expected)
                && map.epoch() == maps.get(0).epoch()
                && map.slotCount() == slots;
        for (int slot = 0; agreed && slot < map.slotCount(); slot++) {
          agreed = map.activeOf(slot) != null;
        }
      }
      if (agreed) {
        return;
      }
      last = maps.toString();
      Thread.sleep(200);
    }
    throw new AssertionError("the members never agreed on a map of " + expected + ": " + last);
  }

  static ClusterMap mapOf(int port) {
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      c.send("cluster map\r\n");
      List<String> lines = new ArrayList<>();
      for (String line = c.readLine().trim(); ; line = c.readLine().trim()) {
        lines.add(line);
        if (line.equals("END")) {
          return ClusterMap.parse(lines);
        }
      }
    }
  }

  /** Waits until every counter, read through the member on {@code port}, equals what was sent. */
  private void awaitCounters(int port) throws InterruptedException {
    awaitCountersOnly(port);
    long hot = 0;
    for (long n : sent) {
      hot += n >= HOT_FROM ? 1 : 0;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      while (true) {
        c.send("segcount " + "hot".length() + "\r\nhot\r\n");
        String answer = c.readLine();
        // A member still moving a warm copy in refuses (never a short count): ask again.
        if (answer.startsWith("SERVER_ERROR") && System.nanoTime() < deadline) {
          assertTrue(answer.contains("taking over"), answer);
          Thread.sleep(100);
          continue;
        }
        assertEquals("COUNT " + hot + "\r\n", answer, "members of hot, for the cluster");
        break;
      }
    }
  }

  private void awaitCountersOnly(int port) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && !countersEqual(port)) {
      Thread.sleep(200);
    }
    Thread.sleep(1000); // an update applied twice would show now
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      for (int k = 0; k < KEYS; k++) {
        assertEquals(sent[k], Counters.counter(c, "m" + k), "counter m" + k);
      }
    }
  }

  private boolean countersEqual(int port) {
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      for (int k = 0; k < KEYS; k++) {
        if (Counters.counter(c, "m" + k) != sent[k]) {
          return false;
        }
      }
      return true;
    }
  }

  /** Profiles the member on {@code port} took over from its warm copies so far. */
  static long promoted(int port) {
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      c.send("stats cluster\r\n");
      long promoted = -1;
      for (String line = c.readLine().trim(); !line.equals("END"); line = c.readLine().trim()) {
        if (line.startsWith("STAT standby_promoted ")) {
          promoted = Long.parseLong(line.substring("STAT standby_promoted ".length()));
        }
      }
      assertTrue(promoted >= 0, "the member keeps warm copies");
      return promoted;
    }
  }

  /** Items held by these members themselves ({@code curr_items}), summed. */
  private static long localItems(int... ports) {
    long total = 0;
    for (int port : ports) {
      try (RawConnection c = new RawConnection("127.0.0.1", port)) {
        c.send("stats\r\n");
        for (String line = c.readLine().trim(); !line.equals("END"); line = c.readLine().trim()) {
          if (line.startsWith("STAT curr_items ")) {
            total += Long.parseLong(line.substring("STAT curr_items ".length()));
          }
        }
      }
    }
    return total;
  }

  /**
   * Increments produced steadily (a batch every 50 ms) while the cluster changes, counted in {@link
   * #sent} once Kafka acknowledged them, when the load is closed.
   */
  private final class SteadyLoad {
    private final List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
    private final List<Integer> keys = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Exception failed;

    SteadyLoad(KafkaBroker broker, String topic) {
      byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
      thread =
          new Thread(
              () -> {
                try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
                  while (running) {
                    for (int i = 0; i < 40; i++) {
                      double r = random.nextDouble();
                      int key = (int) (KEYS * r * r);
                      keys.add(key);
                      acks.add(
                          p.send(
                              new ProducerRecord<>(
                                  topic, ("m" + key).getBytes(StandardCharsets.UTF_8), incr)));
                    }
                    p.flush();
                    Thread.sleep(50);
                  }
                } catch (Exception e) {
                  failed = e;
                }
              },
              "steady-load");
      thread.start();
    }

    /** Stops producing and counts what Kafka acknowledged. */
    void stop() throws Exception {
      running = false;
      thread.join();
      if (failed != null) {
        throw failed;
      }
      for (int i = 0; i < acks.size(); i++) {
        acks.get(i).get(30, TimeUnit.SECONDS); // acknowledged, so it counts
        sent[keys.get(i)]++;
      }
    }
  }

  /** Sends {@code records} increments over the keys and waits for Kafka to acknowledge them. */
  private void produce(KafkaBroker broker, String topic, int records) throws Exception {
    byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
    List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
    int[] keys = new int[records];
    try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
      for (int i = 0; i < records; i++) {
        double r = random.nextDouble();
        keys[i] = (int) (KEYS * r * r); // skewed, so a segment over n holds some keys, not all
        acks.add(
            p.send(
                new ProducerRecord<>(
                    topic, ("m" + keys[i]).getBytes(StandardCharsets.UTF_8), incr)));
      }
      p.flush();
    }
    for (int i = 0; i < records; i++) {
      acks.get(i).get(30, TimeUnit.SECONDS); // acknowledged, so it counts
      sent[keys[i]]++;
    }
  }
}

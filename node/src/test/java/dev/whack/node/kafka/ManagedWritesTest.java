package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.Test;

/**
 * Profile writes of memcached clients in a Kafka-managed cluster go through the updates topic
 * (docs/cluster.md, "Writes through the log"): a member answers a set, an update or a delete once
 * it applied the write from the log, so the standby copies have it too, and the owner's death loses
 * no acknowledged write. Here updates stream over one pipelined text connection while a member is
 * killed (kill -9); every update is retried with its own producer and sequence until acknowledged,
 * so each counter must equal the acknowledged updates exactly (none lost, none twice). Whole
 * profiles set over the binary protocol (spymemcached) keep their flags and survive the kill.
 */
class ManagedWritesTest {
  private static final int KEYS = 60;
  private static final int SLOTS = 6;
  private static final int BATCH = 20;
  private static final int UPDATES = 3000;
  private static final String CLUSTER = "managed-writes";

  private final long[] acked = new long[KEYS];

  /**
   * Each member's map epoch, owner of the key's slot, slots taken over and its answer for the key.
   */
  private static String whoHolds(String key, int... ports) {
    StringBuilder out = new StringBuilder();
    for (int port : ports) {
      dev.whack.client.ring.ClusterMap map = ManagedClusterTest.mapOf(port);
      out.append(port).append(": map ").append(map.epoch());
      out.append(" owner ").append(map.ownerOf(key));
      try (RawConnection c = new RawConnection("127.0.0.1", port)) {
        c.send("stats cluster\r\n");
        for (String line = c.readLine().trim(); !line.equals("END"); line = c.readLine().trim()) {
          if (line.startsWith("STAT taking_over") || line.startsWith("STAT moving_in")) {
            out.append(' ').append(line.substring(5));
          }
        }
        c.send("get " + key + "\r\n");
        out.append(" get: ").append(c.readLine().trim());
      }
      out.append("; ");
    }
    return out.toString();
  }

  @Test
  void shouldLoseNoAcknowledgedMemcachedWriteWhenAnOwnerIsKilled() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "managed-writes";
    broker.createTopic(topic, SLOTS, false);
    int[] ports = FreePorts.take(3);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      NodeProcess doomed =
          NodeProcess.startMember(
              ports[2], broker.bootstrap(), topic, CLUSTER, ManagedClusterTest.SESSION_MILLIS);
      started.add(doomed);
      EmbeddedNode first = ManagedClusterTest.member(broker, topic, ports[0], CLUSTER);
      started.add(first);
      started.add(ManagedClusterTest.member(broker, topic, ports[1], CLUSTER));
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[1], ports[2]), SLOTS);

      MemcachedClient binary =
          new MemcachedClient(
              new ConnectionFactoryBuilder()
                  .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                  .setOpTimeout(30_000)
                  .build(),
              List.of(new InetSocketAddress("127.0.0.1", ports[1])));
      started.add(binary::shutdown);
      for (int k = 0; k < KEYS; k++) {
        assertTrue(binary.set("w" + k, 0, "{\"n\":0,\"tag\":\"t" + k + "\"}").get());
      }
      // Binary writes forwarded through the log are pipelined; two of one key apply in order,
      // and a read behind them sees the last.
      List<java.util.concurrent.Future<Boolean>> sets = new ArrayList<>();
      for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 100; k++) {
          sets.add(binary.set("b" + k, 0, "{\"round\":" + round + "}"));
        }
      }
      Object last = binary.get("b7");
      for (java.util.concurrent.Future<Boolean> set : sets) {
        assertTrue(set.get());
      }
      assertTrue(String.valueOf(last).contains("\"round\":1"), "b7: " + last);
      try (RawConnection c = new RawConnection("127.0.0.1", ports[0])) {
        String profile = "{\"n\":41}";
        c.send("set flagged 7 0 " + profile.length() + "\r\n" + profile + "\r\n");
        assertEquals("STORED\r\n", c.readLine());
        c.send("add flagged 7 0 " + profile.length() + "\r\n" + profile + "\r\n");
        assertTrue(c.readLine().startsWith("SERVER_ERROR in a Kafka-managed cluster"));
      }

      long killAfter = UPDATES / 2;
      Random random = new Random(11);
      Map<Integer, Long> retry = new LinkedHashMap<>(); // key -> seq of an unacknowledged update
      long seq = 0;
      long sentNew = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      boolean killed = false;
      try (RawConnection c = new RawConnection("127.0.0.1", ports[0])) {
        while ((sentNew < UPDATES || !retry.isEmpty()) && System.nanoTime() < deadline) {
          if (!killed && sentNew >= killAfter) {
            doomed.kill();
            killed = true;
          }
          // A key's retry goes before any newer update of it; the rest of the batch is new.
          Map<Integer, Long> batch = new LinkedHashMap<>(retry);
          retry.clear();
          while (batch.size() < BATCH && sentNew < UPDATES) {
            int key = random.nextInt(KEYS);
            if (!batch.containsKey(key)) {
              batch.put(key, ++seq);
              sentNew++;
            }
          }
          StringBuilder pipeline = new StringBuilder();
          for (Map.Entry<Integer, Long> u : batch.entrySet()) {
            String body =
                "{\"producer\":\"loader\",\"seq\":" + u.getValue() + ",\"incr\":{\"n\":1}}";
            pipeline.append("update w").append(u.getKey()).append(' ').append(body.length());
            pipeline.append("\r\n").append(body).append("\r\n");
          }
          pipeline.append("get w0\r\n"); // answered after the updates before it, in order
          c.send(pipeline.toString());
          for (Map.Entry<Integer, Long> u : batch.entrySet()) {
            String reply = c.readLine();
            if (reply.equals("UPDATED\r\n") || reply.equals("IGNORED\r\n")) {
              acked[u.getKey()]++; // IGNORED: an earlier try of this very update was applied
            } else {
              assertTrue(reply.startsWith("SERVER_ERROR"), "update w" + u.getKey() + ": " + reply);
              retry.put(u.getKey(), u.getValue());
            }
          }
          String header = c.readLine();
          if (header.startsWith("VALUE w0 ")) {
            int bytes =
                Integer.parseInt(header.trim().substring(header.trim().lastIndexOf(' ') + 1));
            String value = new String(c.read(bytes + 2), StandardCharsets.UTF_8);
            assertTrue(value.contains("\"n\":" + acked[0]), "w0 reads its own writes: " + value);
            assertEquals("END\r\n", c.readLine());
          } else {
            // w0's owner was killed and the map has not moved it yet, or its new owner is taking
            // it over: a clear error, never a miss (a forwarding member once turned the owner's
            // refusal into END)
            assertTrue(
                header.startsWith("SERVER_ERROR"),
                "w0 through "
                    + ports[0]
                    + ": "
                    + header
                    + "; "
                    + whoHolds("w0", ports[0], ports[1]));
          }
          if (!retry.isEmpty()) {
            Thread.sleep(200);
          }
        }
      }
      assertTrue(retry.isEmpty(), "updates never acknowledged: " + retry);
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[1]), SLOTS);
      assertTrue(ManagedClusterTest.promoted(ports[0]) + ManagedClusterTest.promoted(ports[1]) > 0);

      try (RawConnection c = new RawConnection("127.0.0.1", ports[1])) {
        for (int k = 0; k < KEYS; k++) {
          assertEquals(acked[k], Counters.counter(c, "w" + k), "counter w" + k);
        }
        c.send("get flagged\r\n");
        String header = c.readLine();
        assertTrue(header.startsWith("VALUE flagged 7 "), "the set's flags kept: " + header);
      }
      for (int k = 0; k < KEYS; k++) {
        Object value = binary.get("w" + k);
        assertTrue(
            String.valueOf(value).contains("\"tag\":\"t" + k + "\""), "w" + k + ": " + value);
      }
      assertTrue(binary.delete("w1").get());
      assertNull(binary.get("w1"));

      try (RawConnection c = new RawConnection("127.0.0.1", ports[0])) {
        // Bytes that look like JSON but are no profile: through the log, kept byte for byte with
        // their flags (as memcached keeps any bytes), and a delete of them goes there too.
        String notAProfile = "{not a profile";
        c.send("set odd 5 0 " + notAProfile.length() + "\r\n" + notAProfile + "\r\n");
        assertEquals("STORED\r\n", c.readLine());
        c.send("get odd\r\n");
        assertEquals("VALUE odd 5 " + notAProfile.length() + "\r\n", c.readLine());
        assertEquals(notAProfile + "\r\n", c.readLine());
        assertEquals("END\r\n", c.readLine());
        c.send("delete odd\r\n");
        assertEquals("DELETED\r\n", c.readLine());
        c.send("get odd\r\n");
        assertEquals("END\r\n", c.readLine());
      }
      try (RawConnection c = new RawConnection("127.0.0.1", ports[0])) {
        // A client that half-closes after its requests gets every reply, the read behind the
        // write included (it waited for the write), before the close.
        String profile = "{\"n\":7}";
        c.send("set last 0 0 " + profile.length() + "\r\n" + profile + "\r\nget last\r\n");
        c.endInput();
        assertEquals("STORED\r\n", c.readLine());
        assertTrue(c.readLine().startsWith("VALUE last 0 "));
        assertTrue(c.readLine().contains("\"n\":7"));
        assertEquals("END\r\n", c.readLine());
      }
      assertEquals(0, first.node().kafkaSource().deadLetters());
    } finally {
      for (AutoCloseable c : started.reversed()) {
        c.close();
      }
    }
  }
}

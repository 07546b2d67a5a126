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
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A dry run in a Kafka-managed cluster (docs/cluster.md): any member answers for the whole cluster,
 * counting each profile once (a member's warm copies of the other's slots are not its profiles),
 * and defines nothing on any member.
 */
class ManagedDryRunTest {
  private static final int SLOTS = 6;
  private static final int KEYS = 40;

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  /**
   * The first line of a dry run's answer. A member still taking over slots refuses with "try again
   * shortly" (docs/cluster.md: its answer would miss their keys): asked again, as a client is told
   * to, for up to a minute.
   */
  private static String dryRun(RawConnection c, String request) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      c.send(request);
      String line = c.readLine();
      if (!line.startsWith("SERVER_ERROR") || !line.contains("try again shortly")) {
        return line;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still refused after a minute: " + line);
      }
      Thread.sleep(200);
    }
  }

  @Test
  void shouldCountEveryProfileOnceFromAnyMemberAndDefineNothing() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "managed-dry-run";
    broker.createTopic(topic, SLOTS, false);
    int[] ports = FreePorts.take(2);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      for (int port : ports) {
        started.add(
            EmbeddedNode.start(
                c ->
                    c.port(port)
                        .kafka(KafkaOptions.updates(broker.bootstrap(), topic, null))
                        .cluster("managed-dry-run")
                        .sessionTimeoutMillis(ManagedClusterTest.SESSION_MILLIS)));
      }
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[1]), SLOTS);
      try (RawConnection first = new RawConnection("127.0.0.1", ports[0]);
          RawConnection second = new RawConnection("127.0.0.1", ports[1])) {
        for (int k = 0; k < KEYS; k++) {
          String json = "{\"country\":\"" + (k % 2 == 0 ? "DK" : "SE") + "\"}";
          first.send(block("set g" + k + " 0 0 <n>", json));
          assertEquals("STORED\r\n", first.readLine(), "g" + k);
        }
        long local = 0;
        for (RawConnection c : List.of(first, second)) {
          c.send(block("local filtercount <n>", "country == \"DK\""));
          String line = c.readLine();
          assertTrue(line.startsWith("COUNT "), line);
          local += Long.parseLong(line.substring(6).strip());
        }
        assertEquals(KEYS / 2, local, "each member counts its own profiles");

        assertEquals(
            "COUNT " + KEYS / 2 + "\r\n",
            dryRun(second, block("segdef dk <n> dryrun 30", "country == \"DK\"")),
            "the whole cluster, once");
        List<String> sample = new ArrayList<>();
        for (String line = second.readLine(); !line.equals("END\r\n"); line = second.readLine()) {
          assertTrue(line.startsWith("KEY g"), line);
          sample.add(line.strip().substring(4));
        }
        assertEquals(KEYS / 2, new HashSet<>(sample).size(), "every DK profile once: " + sample);
        sample.forEach(k -> assertEquals(0, Integer.parseInt(k.substring(1)) % 2, k));

        for (RawConnection c : List.of(first, second)) {
          c.send("local seglist\r\n");
          assertEquals("END\r\n", c.readLine(), "nothing defined on any member");
        }
      }
    } finally {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
    }
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.ClusterMap;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kafka-managed cluster with an auth file: its members authenticate to each other as the member
 * user, so every key is written through one member and read through the other whichever owns it,
 * and a segment defined on one is defined on both.
 */
class ManagedAuthTest {
  private static final int SLOTS = 6;
  private static final int KEYS = 20;

  @TempDir Path dir;

  private static RawConnection as(int port, String user) {
    RawConnection c = new RawConnection("127.0.0.1", port);
    c.send(TestUsers.textAuth(user));
    assertEquals("STORED\r\n", c.readLine());
    return c;
  }

  /** Waits until both members hold one map of both of them, every slot owned. */
  private static void awaitMap(List<EmbeddedNode> members) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      ClusterMap first = members.get(0).node().cluster().map();
      boolean agreed = first.members().size() == members.size() && first.slotCount() == SLOTS;
      for (EmbeddedNode m : members) {
        ClusterMap map = m.node().cluster().map();
        agreed &= map.epoch() == first.epoch() && map.members().equals(first.members());
        for (int slot = 0; agreed && slot < map.slotCount(); slot++) {
          agreed = map.activeOf(slot) != null;
        }
      }
      if (agreed) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the members never agreed on a map");
  }

  @Test
  void shouldForwardBetweenMembersAuthenticatedAsTheMemberUser() throws Exception {
    Path users = TestUsers.write(dir);
    Path memberPassword = Files.writeString(dir.resolve("member-password"), "admin-pw\n");
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "managed-auth";
    broker.createTopic(topic, SLOTS, false);
    int[] ports = FreePorts.take(2);
    List<EmbeddedNode> started = new ArrayList<>();
    try {
      for (int port : ports) {
        started.add(
            EmbeddedNode.start(
                c ->
                    c.port(port)
                        .kafka(KafkaOptions.updates(broker.bootstrap(), topic, null))
                        .cluster("managed-auth")
                        .sessionTimeoutMillis(ManagedClusterTest.SESSION_MILLIS)
                        .authFile(users)
                        .memberCredentials("admin", memberPassword)));
      }
      awaitMap(started); // ManagedClusterTest.awaitMap asks unauthenticated
      try (RawConnection writer = as(ports[0], "writer");
          RawConnection reader = as(ports[1], "reader");
          RawConnection admin = as(ports[0], "admin")) {
        for (int k = 0; k < KEYS; k++) {
          writer.send("set a" + k + " 0 0 2\r\nv" + (k % 10) + "\r\n");
          assertEquals("STORED\r\n", writer.readLine(), "a" + k);
        }
        for (int k = 0; k < KEYS; k++) {
          reader.send("get a" + k + "\r\n");
          assertEquals("VALUE a" + k + " 0 2\r\n", reader.readLine(), "a" + k);
          assertEquals("v" + (k % 10) + "\r\n", reader.readLine());
          assertEquals("END\r\n", reader.readLine());
        }
        String expression = "n > 0";
        admin.send(
            "segdef positive "
                + expression.getBytes(StandardCharsets.UTF_8).length
                + "\r\n"
                + expression
                + "\r\n");
        assertTrue(admin.readLine().startsWith("DEFINED "));
        reader.send("local seglist\r\n");
        assertTrue(reader.readLine().startsWith("SEGMENT positive "), "defined on the other too");
      }
    } finally {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
    }
  }
}

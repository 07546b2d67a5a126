package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.client.WhackClient;
import dev.whack.client.ring.HashRing;
import dev.whack.client.tls.ClientTls;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members that require client certificates talk to each other over TLS, each presenting its own
 * certificate: a key sent to the member that does not own it is forwarded to its owner and read
 * back through either.
 */
class TlsClusterTest {
  @TempDir Path dir;
  private final List<EmbeddedNode> nodes = new ArrayList<>();

  @AfterEach
  void stop() {
    nodes.forEach(EmbeddedNode::close);
  }

  @Test
  void shouldForwardKeysBetweenMembersOverMutualTls() throws Exception {
    Ca ca = TlsCertificates.ca("Cluster CA", dir);
    int[] ports = FreePorts.take(2);
    List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
    for (int i = 0; i < 2; i++) {
      Issued member = ca.node("member-" + i);
      int port = ports[i];
      nodes.add(
          EmbeddedNode.start(
              c ->
                  c.port(port)
                      .peers(members)
                      .tls(
                          new TlsOptions(
                              member.certFile(),
                              member.keyFile(),
                              ca.file(),
                              ClientAuth.REQUIRE))));
    }
    awaitPeersUp();
    // a key each member does not own
    String[] keys = new String[2];
    HashRing ring = HashRing.of(members);
    for (int k = 0; keys[0] == null || keys[1] == null; k++) {
      String key = "tls:" + k;
      int owner = members.indexOf(ring.owner(key));
      keys[1 - owner] = keys[1 - owner] == null ? key : keys[1 - owner];
    }
    Issued app = ca.client("app");
    ClientTls tls =
        ClientTls.builder().trustCa(ca.file()).certificate(app.certFile(), app.keyFile()).build();
    for (int i = 0; i < 2; i++) {
      // each client knows one member only: what that member does not own is forwarded
      try (WhackClient only =
          WhackClient.builder().servers(members.get(i)).discoverCluster(false).tls(tls).build()) {
        only.set(keys[i], ("via " + i).getBytes(StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
      }
    }
    for (int i = 0; i < 2; i++) {
      try (WhackClient other =
          WhackClient.builder()
              .servers(members.get(1 - i))
              .discoverCluster(false)
              .tls(tls)
              .build()) {
        assertEquals(
            "via " + i,
            other.get(keys[i]).get(5, TimeUnit.SECONDS).orElseThrow().valueAsString(),
            keys[i] + " read through its owner");
      }
    }
  }

  private void awaitPeersUp() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (EmbeddedNode node : nodes) {
      while (!node.node().cluster().downPeers().isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("peers still down: " + node.node().cluster().downPeers());
        }
        Thread.sleep(20);
      }
    }
  }
}

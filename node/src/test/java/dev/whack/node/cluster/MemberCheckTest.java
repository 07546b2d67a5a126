package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.WhackNode;
import dev.whack.node.config.NodeConfig;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, "also seen": nodes whose {@code --peers} lists disagree gave inconsistent answers with
 * no warning, and a node whose {@code --advertise} differed from its name in {@code --peers}
 * forwarded to itself, waited 2 s and called itself down. The second is refused at start-up; both
 * are found when a node first reaches a peer, said on stderr and shown in {@code stats cluster}.
 */
class MemberCheckTest {
  @Test
  void shouldRefuseToStartWhenAPeerIsThisNodeUnderAnotherName() throws Exception {
    int[] ports = ForwardingTest.freePorts(2);
    String alias = "localhost:" + ports[0];
    NodeConfig config =
        new NodeConfig()
            .port(ports[0])
            .metricsPort(0)
            .ioThreads(1)
            .peers(List.of(alias, "127.0.0.1:" + ports[1]));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WhackNode.start(config).close());
    assertTrue(
        e.getMessage().startsWith("--peers names " + alias + ", which is this node"),
        e.getMessage());

    // Listing itself under its own name, or not at all, is fine.
    for (List<String> peers :
        List.of(
            List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]),
            List.of("127.0.0.1:" + ports[1]))) {
      WhackNode.start(new NodeConfig().port(ports[0]).metricsPort(0).ioThreads(1).peers(peers))
          .close();
    }
  }

  @Test
  void shouldRefuseAClusteredNodeOnAWildcardAddressWithoutAdvertise() {
    NodeConfig config = new NodeConfig().bind("0.0.0.0").peers(List.of("10.0.0.2:11211"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, config::conclude);
    assertTrue(e.getMessage().contains("needs --advertise"), e.getMessage());
    new NodeConfig()
        .bind("0.0.0.0")
        .advertise("10.0.0.1:11211")
        .peers(List.of("10.0.0.2:11211"))
        .conclude();
  }

  @Test
  void shouldReportPeersWhoseMemberListsDisagreeInStatsCluster() throws Exception {
    int[] ports = ForwardingTest.freePorts(4);
    List<String> names = new ArrayList<>();
    for (int port : ports) {
      names.add("127.0.0.1:" + port);
    }
    names.sort(null); // the order of the ring and of the reported lists
    List<EmbeddedNode> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        int port = port(names.get(i));
        List<String> peers = i < 2 ? names.subList(0, 3) : names; // the third has one more
        nodes.add(EmbeddedNode.start(c -> c.port(port).peers(peers)));
      }
      Map<String, String> first = awaitChecked(nodes.get(0), 2);
      assertEquals(String.join(",", names.subList(0, 3)), first.get("members"));
      assertEquals(MemberCheck.hash(names.subList(0, 3)), first.get("members_hash"));
      assertEquals("agrees", first.get("peer:" + names.get(1)));
      assertEquals("disagrees", first.get("peer:" + names.get(2)));
      assertEquals(String.join(",", names), first.get("peer:" + names.get(2) + ":members"));
      assertEquals("1", first.get("disagreements"));

      Map<String, String> third = awaitChecked(nodes.get(2), 2);
      assertEquals("disagrees", third.get("peer:" + names.get(0)));
      assertEquals("unreached", third.get("peer:" + names.get(3)), "nothing listens there");
      assertEquals("2", third.get("disagreements"));
    } finally {
      nodes.forEach(EmbeddedNode::close);
    }
  }

  /**
   * A name that reaches this node by a way start-up cannot see (here a TCP relay, in production a
   * NAT or a load balancer) is found by the instance id it answers with.
   */
  @Test
  void shouldReportAPeerThatAnswersAsThisNode() throws Exception {
    int[] ports = ForwardingTest.freePorts(1);
    try (ServerSocket relay = new ServerSocket(0)) {
      String relayed = "127.0.0.1:" + relay.getLocalPort();
      Thread.ofVirtual().start(() -> relay(relay, ports[0]));
      List<String> peers = List.of("127.0.0.1:" + ports[0], relayed);
      try (EmbeddedNode node = EmbeddedNode.start(c -> c.port(ports[0]).peers(peers))) {
        Map<String, String> stats = awaitChecked(node, 1);
        assertEquals("this_node", stats.get("peer:" + relayed));
        assertEquals("1", stats.get("disagreements"));
      }
    }
  }

  /** What the check says, and that it says it once per change rather than every second. */
  @Test
  void shouldWarnOnStderrOncePerChange() {
    List<String> logged = new ArrayList<>();
    Map<String, String> peerStats = new LinkedHashMap<>();
    MemberCheck check =
        new MemberCheck(
            "a:1",
            List.of("a:1", "b:1"),
            List.of("b:1"),
            (peer, group) -> CompletableFuture.completedFuture(Map.copyOf(peerStats)),
            List::of,
            logged::add);
    peerStats.put("instance", "0");
    peerStats.put("members", "a:1,b:1,c:1");
    check.probe();
    check.probe();
    assertEquals(
        List.of(
            "whack: WARNING: peer b:1 has other members (a:1,b:1,c:1) than this node a:1"
                + " (a:1,b:1): the two route keys to different owners, so answers depend on the"
                + " node asked; give every node the same --peers"),
        logged);
    assertEquals(1, check.disagreements());
  }

  private static int port(String member) {
    return Integer.parseInt(member.substring(member.lastIndexOf(':') + 1));
  }

  /** Asks {@code stats cluster} until no peer with a listener is still unreached. */
  private static Map<String, String> awaitChecked(EmbeddedNode node, int peersToHear)
      throws InterruptedException {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (true) {
      Map<String, String> stats = new LinkedHashMap<>();
      try (RawConnection conn = node.connect()) {
        conn.send("stats cluster\r\n");
        for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
          String[] parts = line.trim().split(" ", 3);
          stats.put(parts[1], parts[2]);
        }
      }
      long heard =
          stats.entrySet().stream()
              .filter(e -> e.getKey().startsWith("peer:") && !e.getKey().endsWith(":members"))
              .filter(e -> !e.getValue().equals("unreached"))
              .count();
      if (heard >= peersToHear || System.nanoTime() > deadline) {
        return stats;
      }
      Thread.sleep(50);
    }
  }

  /** Copies each accepted connection to the port and back until the relay is closed. */
  private static void relay(ServerSocket relay, int port) {
    while (!relay.isClosed()) {
      Socket in;
      try {
        in = relay.accept();
      } catch (IOException closed) {
        return; // the test is over
      }
      try {
        Socket out = new Socket("127.0.0.1", port);
        Thread.ofVirtual().start(() -> copy(in, out));
        Thread.ofVirtual().start(() -> copy(out, in));
      } catch (IOException notListeningYet) {
        try {
          in.close(); // the node is still starting: this connection fails, the next one works
        } catch (IOException ignored) {
          // closing anyway
        }
      }
    }
  }

  private static void copy(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      in.transferTo(out);
    } catch (IOException closed) {
      // either side went away
    }
  }
}

package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** stats and cluster status: per node, totals, a node that is down. */
class StatsClusterTest {
  private static EmbeddedNode a;
  private static EmbeddedNode b;
  private static String down;

  @BeforeAll
  static void start() throws IOException {
    a = EmbeddedNode.start();
    b = EmbeddedNode.start();
    try (ServerSocket s = new ServerSocket(0)) {
      down = "127.0.0.1:" + s.getLocalPort(); // free once closed: nothing listens there
    }
    Cli cli = new Cli(a.address() + "," + b.address());
    for (int i = 0; i < 10; i++) {
      assertEquals(0, cli.run("set", "s:" + i, "{\"n\":" + i + "}").exitCode());
    }
    try (var raw = a.connect()) {
      raw.send("set opaque 0 0 1\r\nx\r\n");
      assertEquals("STORED\r\n", raw.readLine());
    }
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  @Test
  void shouldShowEveryNodeAndTheTotals() {
    Cli.Run run = new Cli(a.address() + "," + b.address()).run("stats");
    assertEquals(0, run.exitCode(), run.toString());
    List<String> lines = run.lines();
    assertEquals(5, lines.size(), run.out());
    assertTrue(
        lines
            .get(0)
            .matches(
                "SERVER +STATUS +UPTIME +ITEMS +PROFILES +MEMORY +CONNS +GETS +HIT% +SETS +EVICTIONS"),
        lines.get(0));
    assertTrue(lines.get(1).matches("127\\.0\\.0\\.1:\\d+ +up .*"), lines.get(1));
    assertTrue(lines.get(3).startsWith("-----"), lines.get(3));
    assertTrue(lines.get(4).matches("total +2/2 up +11 +10 .*"), lines.get(4));
  }

  @Test
  void shouldPrintEveryStatisticWithAll() {
    Cli.Run run = new Cli(a.address()).run("stats", "--all");
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(run.out().lines().anyMatch(l -> l.matches("curr_items +\\d+ +\\d+")), run.out());
    assertTrue(
        run.out().lines().anyMatch(l -> l.matches("version +1\\.6\\.18-whack-\\S+")), run.out());
  }

  @Test
  void shouldGiveTotalsAsJson() {
    Cli.Run run = new Cli(a.address() + "," + b.address()).run("stats", "--json");
    assertEquals(0, run.exitCode());
    assertTrue(run.out().startsWith("{\"servers\":[{\"server\":\""), run.out());
    assertTrue(run.out().contains("\"totals\":{"), run.out());
    assertTrue(run.out().contains("\"curr_items\":11"), run.out());
    assertTrue(run.out().contains("\"profiles\":10"), run.out());
  }

  @Test
  void shouldShowANodeDownAndExitOne() {
    Cli cli = new Cli(a.address() + "," + b.address() + "," + down);
    Cli.Run status = cli.run("cluster", "status");
    assertEquals(1, status.exitCode(), status.toString());
    assertTrue(
        status
            .out()
            .lines()
            .anyMatch(l -> l.startsWith(down) && l.contains("down: Connection refused")),
        status.out());
    assertTrue(
        status.out().lines().anyMatch(l -> l.matches("total +2/3 up +11 +10")), status.out());

    Cli.Run stats = cli.run("stats");
    assertEquals(1, stats.exitCode());
    assertTrue(stats.err().startsWith("whack stats: " + down + " is down: "), stats.err());

    Cli.Run json = cli.run("cluster", "status", "--json");
    assertTrue(json.out().startsWith("{\"up\":2,\"down\":1,\"servers\":["), json.out());
  }

  @Test
  void shouldExitZeroWhenEveryNodeIsUp() {
    Cli.Run run = new Cli(a.address() + "," + b.address()).run("cluster", "status");
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(
        run.lines()
            .get(0)
            .matches("SERVER +STATUS +VERSION +UPTIME +ITEMS +PROFILES +MEMORY +MEMBERS"),
        run.out());
    assertEquals(
        2,
        run.lines().stream()
            .filter(l -> l.matches("127\\.0\\.0\\.1:\\d+ +up +1\\.6\\.18-whack.* alone"))
            .count(),
        run.out());
  }

  /**
   * Issue 13: nodes whose --peers disagree route keys differently with no warning. Each node asks
   * its peers for their lists when it reaches them; cluster status shows what they found, names the
   * problem and exits 1.
   */
  @Test
  void shouldFlagMembersWhoseListsDisagreeAndExitOne() throws Exception {
    int[] ports = new int[3];
    for (int i = 0; i < 3; i++) {
      try (ServerSocket s = new ServerSocket(0)) {
        ports[i] = s.getLocalPort();
      }
    }
    String first = "127.0.0.1:" + ports[0];
    String second = "127.0.0.1:" + ports[1];
    String third = "127.0.0.1:" + ports[2]; // never started
    EmbeddedNode x = EmbeddedNode.start(c -> c.port(ports[0]).peers(List.of(first, second)));
    EmbeddedNode y = EmbeddedNode.start(c -> c.port(ports[1]).peers(List.of(first, second, third)));
    try {
      Cli cli = new Cli(first + "," + second);
      Cli.Run run = cli.run("cluster", "status");
      for (long deadline = System.nanoTime() + 10_000_000_000L;
          run.out().lines().filter(l -> l.endsWith("differs")).count() < 2
              && System.nanoTime() < deadline;
          run = cli.run("cluster", "status")) {
        Thread.sleep(100); // each node asks a peer it has not reached yet once a second
      }
      assertEquals(1, run.exitCode(), run.toString());
      String out = run.out();
      assertTrue(
          out.lines().anyMatch(l -> l.startsWith(first) && l.endsWith(" 2, 1 differs")), out);
      assertTrue(
          out.lines().anyMatch(l -> l.startsWith(second) && l.endsWith(" 3, 1 differs")), out);
      assertTrue(run.err().contains(first + " found peers with other member lists"), run.err());

      Cli.Run json = cli.run("cluster", "status", "--json");
      assertEquals(1, json.exitCode());
      String firstsList = String.join(",", new java.util.TreeSet<>(List.of(first, second)));
      assertTrue(
          json.out().contains("\"members\":\"" + firstsList + "\",\"disagreements\":1"),
          json.out());
    } finally {
      x.close();
      y.close();
    }
  }

  @Test
  void shouldSummariseAManagedMembersMapInsteadOfPeerAgreement() {
    NodeReport managed =
        new NodeReport(
            "127.0.0.1:11211",
            java.util.Map.of(),
            0,
            java.util.Map.of(
                "mode", "kafka",
                "epoch", "7",
                "members", "127.0.0.1:11211,127.0.0.1:11212,127.0.0.1:11213",
                "slots", "12",
                "slots_owned", "4"),
            null);
    assertEquals("3 in map 7, owns 4/12 slots", managed.membersSummary());
  }

  @Test
  void shouldTellAManagedMembersCopiesAndTheHandOffsItsMapMarks() {
    NodeReport managed =
        new NodeReport(
            "127.0.0.1:11211",
            java.util.Map.of(),
            0,
            java.util.Map.of(
                "mode", "kafka",
                "epoch", "9",
                "members", "127.0.0.1:11211,127.0.0.1:11212,127.0.0.1:11213",
                "slots", "12",
                "slots_owned", "4",
                "standby_slots", "4",
                "standby_lag", "130",
                "standby_lags", "1:0,5:120,9:10",
                "slots_moving", "2",
                "moving", "3:127.0.0.1:11212>127.0.0.1:11211,7:127.0.0.1:11213>127.0.0.1:11211"),
            null);
    assertEquals("3 in map 9, owns 4/12 slots, copies of 4 (130 behind)", managed.membersSummary());
    assertEquals(
        java.util.Map.of(
            3, "127.0.0.1:11212>127.0.0.1:11211", 7, "127.0.0.1:11213>127.0.0.1:11211"),
        managed.moving());
    assertEquals(120, managed.copyLag(5));
    assertEquals(-1, managed.copyLag(3));
  }
}

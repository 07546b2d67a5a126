package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Segment questions asked of any node of a three-node cluster answer for the whole cluster, and
 * equal what one node holding the same profiles answers.
 */
class ClusterSegmentsTest {
  private final List<EmbeddedNode> cluster = new ArrayList<>();
  private EmbeddedNode single;

  @BeforeEach
  void start() throws IOException {
    int[] ports = ForwardingTest.freePorts(3);
    List<String> members = new ArrayList<>();
    for (int port : ports) {
      members.add("127.0.0.1:" + port);
    }
    for (int port : ports) {
      cluster.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
    }
    ForwardingTest.awaitConnected(cluster);
    single = EmbeddedNode.start();
  }

  @AfterEach
  void stop() {
    cluster.forEach(EmbeddedNode::close);
    single.close();
  }

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  /** Sends the same commands to node 0 of the cluster and to the single node. */
  private void both(RawConnection a, RawConnection b, String commands) {
    a.send(commands);
    b.send(commands);
  }

  @Test
  void shouldAnswerForTheWholeClusterLikeOneNodeWithTheSameData() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection c2 = cluster.get(2).connect();
        RawConnection one = single.connect()) {
      both(c0, one, block("segdef dk <n>", "country == \"DK\""));
      assertEquals("DEFINED 0\r\n", c0.readLine());
      assertEquals("DEFINED 0\r\n", one.readLine());
      Random random = new Random(7);
      String[] countries = {"DK", "SE", "NO"};
      for (int i = 0; i < 300; i++) {
        String json =
            "{\"country\":\""
                + countries[random.nextInt(3)]
                + "\",\"age\":"
                + random.nextInt(90)
                + "}";
        both(c2, one, "set p" + i + " 0 0 " + json.length() + "\r\n" + json + "\r\n");
        assertEquals("STORED\r\n", c2.readLine());
        assertEquals("STORED\r\n", one.readLine());
      }
      both(c0, one, block("segdef old <n>", "age >= 60"));
      String defined = one.readLine();
      assertEquals(defined, c0.readLine(), "backfill sizes add up over the members");
      for (String query : List.of("dk", "old", "dk and old", "dk or old", "not dk", "dk xor old")) {
        both(c0, one, block("segcount <n>", query));
        assertEquals(one.readLine(), c0.readLine(), query);
      }
      both(c0, one, block("filtercount <n>", "age < 30 and country != \"SE\""));
      assertEquals(one.readLine(), c0.readLine());
      for (String key :
          List.of(
              "_whack/size/dk",
              "_whack/size/dk%20and%20old",
              "_whack/count/age%20%3C%2030",
              "_whack/in/dk/p7",
              "_whack/in/old/p8",
              "_whack/of/p9",
              "_whack/of/p10")) {
        both(c0, one, "get " + key + "\r\n");
        String header = one.readLine();
        assertEquals(header, c0.readLine(), key);
        if (header.startsWith("VALUE ")) {
          assertEquals(one.readLine(), c0.readLine(), key);
          assertEquals(one.readLine(), c0.readLine(), key);
        }
      }
      both(c0, one, "seglist\r\n");
      for (int i = 0; i < 5; i++) {
        assertEquals(one.readLine(), c0.readLine());
      }
      assertEquals(members(one, "dk or old"), members(c0, "dk or old"));
      assertEquals(dumpKeys(one), dumpKeys(c0));
      both(c0, one, "segdrop old\r\nsegdrop old\r\n");
      assertEquals("DROPPED\r\n", c0.readLine());
      assertEquals("NOT_FOUND\r\n", c0.readLine());
      one.readLine();
      one.readLine();
      c0.send("local seglist\r\n");
      assertTrue(c0.readLine().startsWith("SEGMENT dk "), "the drop reached this node");
      assertEquals("country == \"DK\"\r\n", c0.readLine());
      assertEquals("END\r\n", c0.readLine());
    }
  }

  /**
   * A count that cannot reach every member fails naming it, unless the caller asks for a partial
   * answer: then it is the sum of the members that answered and names each member left out, over
   * the text protocol and through the Java client alike.
   */
  @Test
  void shouldCountPartiallyOnlyWhenAskedAndNameWhatIsMissing() {
    long[] held = new long[3];
    try (RawConnection c0 = cluster.get(0).connect()) {
      c0.send(block("segdef all <n>", "exists(n)"));
      assertEquals("DEFINED 0\r\n", c0.readLine());
      for (int i = 0; i < 60; i++) {
        c0.send("set p" + i + " 0 0 7\r\n{\"n\":1}\r\n");
        assertEquals("STORED\r\n", c0.readLine());
      }
      for (int n = 0; n < 3; n++) {
        try (RawConnection c = cluster.get(n).connect()) {
          c.send(block("local segcount <n>", "all"));
          String line = c.readLine();
          held[n] = Long.parseLong(line.substring(6, line.length() - 2));
        }
      }
      c0.send(block("segcount <n> partial", "all"));
      assertEquals("COUNT 60\r\n", c0.readLine(), "everyone answered: the whole count");

      String stopped = "127.0.0.1:" + cluster.get(2).port();
      cluster.get(2).close();
      c0.send(block("segcount <n>", "all"));
      String refused = c0.readLine();
      assertTrue(refused.startsWith("SERVER_ERROR") && refused.contains(stopped), refused);
      c0.send(block("segcount <n> partial", "all"));
      String missing = c0.readLine();
      assertTrue(missing.startsWith("MISSING " + stopped + " "), missing);
      assertEquals("COUNT " + (held[0] + held[1]) + "\r\n", c0.readLine());
      c0.send(block("filtercount <n> partial", "n == 1"));
      assertTrue(c0.readLine().startsWith("MISSING " + stopped + " "));
      assertEquals("COUNT " + (held[0] + held[1]) + "\r\n", c0.readLine());
      // A question every member would refuse is refused, partial or not; a bad option is ERROR.
      c0.send(block("segcount <n> partial", "nosuch"));
      assertTrue(c0.readLine().startsWith("CLIENT_ERROR"));
      c0.send(block("segcount <n> whole", "all"));
      assertEquals("ERROR\r\n", c0.readLine());

      try (dev.whack.client.WhackClient client =
          dev.whack.client.WhackClient.builder()
              .servers(List.of("127.0.0.1:" + cluster.get(0).port()))
              .build()) {
        dev.whack.client.PartialCount count = client.blocking().segments().countPartial("all");
        assertEquals(held[0] + held[1], count.count());
        assertEquals(java.util.Set.of(stopped), count.missing().keySet(), count.toString());
      }
    }
  }

  @Test
  void shouldKeepSegmentsOfSegmentsOnEveryMemberAndDropThemWithForceFromAnyNode() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection c1 = cluster.get(1).connect()) {
      for (int i = 0; i < 60; i++) {
        String json =
            "{\"spend\":" + (i * 10) + ",\"country\":\"" + (i % 2 == 0 ? "DK" : "SE") + "\"}";
        c1.send("set p" + i + " 0 0 " + json.length() + "\r\n" + json + "\r\n");
        assertEquals("STORED\r\n", c1.readLine());
      }
      c0.send(block("segdef vip <n>", "spend >= 300"));
      assertEquals("DEFINED 30\r\n", c0.readLine());
      c0.send(block("segdef vip_dk <n>", "in_segment(\"vip\") and country == \"DK\""));
      assertEquals("DEFINED 15\r\n", c0.readLine());
      c1.send(block("segcount <n>", "vip_dk"));
      assertEquals("COUNT 15\r\n", c1.readLine());
      // segof ... since is forwarded to the key's owner as segof is: every node gives its answer.
      for (int i = 0; i < 60; i += 7) {
        String lines0 = segofSince(c0, "p" + i);
        assertEquals(lines0, segofSince(c1, "p" + i));
        String expected =
            i < 30
                ? ""
                : i % 2 == 0 ? "IN vip \\d{13}\r\nIN vip_dk \\d{13}\r\n" : "IN vip \\d{13}\r\n";
        assertTrue(lines0.matches(expected + "END\r\n"), lines0);
      }
      c1.send("segdrop vip\r\n");
      String refused = c1.readLine();
      assertTrue(refused.startsWith("CLIENT_ERROR segment vip is read by vip_dk"), refused);
      c1.send("segdrop vip force\r\nseglist\r\n");
      assertEquals("DROPPED\r\n", c1.readLine());
      assertEquals("END\r\n", c1.readLine(), "gone from every member");
    }
  }

  private static String segofSince(RawConnection c, String key) {
    c.send("segof " + key + " since\r\n");
    StringBuilder lines = new StringBuilder();
    String line;
    do {
      line = c.readLine();
      lines.append(line);
    } while (!line.equals("END\r\n"));
    return lines.toString();
  }

  @Test
  void shouldAnswerLocalCommandsForThisNodeOnly() {
    try (RawConnection c0 = cluster.get(0).connect()) {
      c0.send(block("segdef all <n>", "exists(n)"));
      assertEquals("DEFINED 0\r\n", c0.readLine());
      for (int i = 0; i < 60; i++) {
        c0.send("set q" + i + " 0 0 7\r\n{\"n\":1}\r\n");
        assertEquals("STORED\r\n", c0.readLine());
      }
      long sum = 0;
      for (EmbeddedNode node : cluster) {
        try (RawConnection c = node.connect()) {
          c.send(block("local segcount <n>", "all"));
          String line = c.readLine();
          sum += Long.parseLong(line.substring(6, line.length() - 2));
        }
      }
      assertEquals(60, sum);
      c0.send(block("segcount <n>", "all"));
      assertEquals("COUNT 60\r\n", c0.readLine());
    }
  }

  @Test
  void shouldStreamChangesFromEveryMemberToAWatcherOnOneNode() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection watcher = cluster.get(1).connect()) {
      c0.send(block("segdef dk <n>", "country == \"DK\""));
      assertEquals("DEFINED 0\r\n", c0.readLine());
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      Set<String> expected = new HashSet<>();
      for (int i = 0; i < 30; i++) {
        c0.send("set w" + i + " 0 0 16\r\n{\"country\":\"DK\"}\r\n");
        assertEquals("STORED\r\n", c0.readLine());
        expected.add("w" + i);
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 30; i++) {
        String line = watcher.readLine();
        assertTrue(line.startsWith("CHANGE enter dk "), line);
        seen.add(line.split(" ")[3]);
      }
      assertEquals(expected, seen, "every member's profiles, each once");
      watcher.send("unwatch\r\n");
      assertEquals("UNWATCHED\r\n", watcher.readLine());
    }
  }

  private static Set<String> members(RawConnection c, String query) {
    Set<String> keys = new HashSet<>();
    String cursor = null;
    while (true) {
      c.send(block("segmembers <n> 7" + (cursor == null ? "" : " " + cursor), query));
      String line;
      while ((line = c.readLine()).startsWith("KEY ")) {
        assertTrue(keys.add(line.substring(4).trim()), "repeated " + line);
      }
      if (line.equals("END\r\n")) {
        return keys;
      }
      assertTrue(line.startsWith("NEXT "), line);
      cursor = line.substring(5).trim();
    }
  }

  private static Set<String> dumpKeys(RawConnection c) {
    Set<String> keys = new HashSet<>();
    String cursor = null;
    while (true) {
      c.send("segdump 0 50" + (cursor == null ? "" : " " + cursor) + "\r\n\r\n");
      String line;
      while ((line = c.readLine()).startsWith("PROFILE ")) {
        String[] t = line.trim().split(" ");
        keys.add(t[1]);
        c.read(Integer.parseInt(t[2]) + 2);
      }
      if (line.equals("END\r\n")) {
        return keys;
      }
      cursor = line.substring(5).trim();
    }
  }
}

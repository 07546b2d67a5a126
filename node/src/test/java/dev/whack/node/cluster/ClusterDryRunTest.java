package dev.whack.node.cluster;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.int4;
import static dev.whack.node.testing.BinaryPacket.read;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.DefineSegmentReply;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A dry run asked of any member of a three-node static cluster answers for the whole cluster, over
 * the text and binary ports and gRPC: the count is every member's summed, the sample takes keys of
 * every member, and nothing is defined on any member nor told to a cluster-wide watcher.
 */
class ClusterDryRunTest {
  private static final String SE = "country == \"SE\"";

  private final List<EmbeddedNode> cluster = new ArrayList<>();
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    int[] ports = ForwardingTest.freePorts(4);
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      members.add("127.0.0.1:" + ports[i]);
    }
    for (int i = 0; i < 3; i++) {
      int port = ports[i];
      cluster.add(
          EmbeddedNode.start(
              c -> c.port(port).peers(members).grpcPort(port == ports[0] ? ports[3] : 0)));
    }
    ForwardingTest.awaitConnected(cluster);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", ports[3]).usePlaintext().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    cluster.forEach(EmbeddedNode::close);
  }

  private static String block(String command, String body) {
    return command.replace("<n>", Integer.toString(body.getBytes(StandardCharsets.UTF_8).length))
        + "\r\n"
        + body
        + "\r\n";
  }

  /** A reply's lines up to and including the one {@code last} is, or its first if an error. */
  private static List<String> lines(RawConnection c, String last) {
    List<String> lines = new ArrayList<>();
    String line;
    do {
      line = c.readLine();
      lines.add(line);
    } while (!line.equals(last) && !line.contains("ERROR"));
    return lines;
  }

  private static long count(RawConnection c, String command, String body) {
    c.send(block(command, body));
    String line = c.readLine();
    assertTrue(line.startsWith("COUNT "), line);
    return Long.parseLong(line.substring(6).strip());
  }

  /** This member's own profiles matching the filter. */
  private static Set<String> localMatches(RawConnection c, String filter) {
    c.send(block("local filtermembers <n> 100000", filter));
    Set<String> keys = new HashSet<>();
    for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
      keys.add(line.substring(4).strip());
    }
    return keys;
  }

  @Test
  void shouldCountOverEveryMemberSampleEachAndDefineNothingAnywhere() {
    try (RawConnection c0 = cluster.get(0).connect();
        RawConnection c1 = cluster.get(1).connect();
        RawConnection c2 = cluster.get(2).connect();
        RawConnection watcher = cluster.get(1).connect()) {
      String[] countries = {"DK", "SE", "NO"};
      for (int i = 0; i < 300; i++) {
        String json = "{\"country\":\"" + countries[i % 3] + "\",\"age\":" + i % 90 + "}";
        c2.send("set p" + i + " 0 0 " + json.length() + "\r\n" + json + "\r\n");
        assertEquals("STORED\r\n", c2.readLine());
      }
      c0.send(block("segdef dk <n>", "country == \"DK\""));
      assertEquals("DEFINED 100\r\n", c0.readLine());
      watcher.send("watch dk\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      c0.send("seglist\r\n");
      List<String> before = lines(c0, "END\r\n");

      // Text, through member 1: the whole cluster's count, and keys of each member in turn.
      List<RawConnection> members = List.of(c0, c1, c2);
      long sum = 0;
      List<Set<String>> held = new ArrayList<>();
      for (RawConnection c : members) {
        sum += count(c, "local filtercount <n>", SE);
        held.add(localMatches(c, SE));
      }
      assertEquals(100, sum);
      c1.send(block("segdef se <n> dryrun 12", SE));
      List<String> reply = lines(c1, "END\r\n");
      assertEquals("COUNT " + sum + "\r\n", reply.get(0), "every member's count, summed");
      List<String> sample =
          reply.subList(1, reply.size() - 1).stream().map(l -> l.substring(4).strip()).toList();
      assertEquals(12, new HashSet<>(sample).size(), reply.toString());
      for (Set<String> mine : held) {
        assertTrue(mine.size() >= 4, "each member holds enough SE profiles: " + mine.size());
        assertEquals(
            4,
            sample.stream().filter(mine::contains).count(),
            "the sample takes each member's keys in turn: " + sample);
      }

      // The same question refused as a definition is, with the same words.
      c1.send(block("segdef se <n>", "country == "));
      String refused = c1.readLine();
      assertTrue(refused.startsWith("CLIENT_ERROR bad expression at position 11"), refused);
      c1.send(block("segdef se <n> dryrun", "country == "));
      assertEquals(refused, c1.readLine());

      // Binary, through member 2: a dry run of the defined name with another expression.
      try (RawConnection binary = cluster.get(2).connect()) {
        binary.send(request(0x62, 5, 0, int4(0), bytes("dk"), bytes(SE)));
        BinaryPacket counted = read(binary);
        assertEquals(0, counted.status(), counted::toString);
        assertEquals(0, counted.key().length, "a sample of 0: the count alone");
        assertEquals(sum, counted.valueLong());
      }

      // gRPC, through member 0.
      DefineSegmentReply grpc =
          WhackGrpc.newBlockingStub(channel)
              .defineSegment(
                  DefineSegmentRequest.newBuilder()
                      .setSegment(SegmentDefinition.newBuilder().setName("se").setExpression(SE))
                      .setDryRun(true)
                      .build());
      assertEquals(sum, grpc.getSize());
      assertEquals(10, grpc.getSampleCount());
      held.forEach(
          mine ->
              assertTrue(
                  grpc.getSampleList().stream().anyMatch(mine::contains),
                  "keys of every member: " + grpc.getSampleList()));

      // Nothing defined or replaced on any member.
      c0.send("seglist\r\n");
      assertEquals(before, lines(c0, "END\r\n"), "the cluster's segments as they were");
      long sizes = 0;
      for (RawConnection c : members) {
        c.send("local seglist\r\n");
        List<String> mine = lines(c, "END\r\n");
        assertEquals(3, mine.size(), "only dk, on every member: " + mine);
        assertEquals("country == \"DK\"\r\n", mine.get(1), "dk as it was defined");
        sizes += Long.parseLong(mine.get(0).split(" ")[2]);
      }
      assertEquals(100, sizes);

      // A watcher of the cluster gets no change from the dry runs: its first is this write's.
      String json = "{\"country\":\"DK\"}";
      c0.send("set fresh 0 0 " + json.length() + "\r\n" + json + "\r\n");
      assertEquals("STORED\r\n", c0.readLine());
      String change = watcher.readLine();
      assertTrue(change.startsWith("CHANGE enter dk fresh "), change);
    }
  }
}

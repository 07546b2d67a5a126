package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Segment calls over three scripted nodes that answer as docs/protocol.md says: what the client
 * sends, and how it merges what each node answers (sizes add, members concatenate in ring order).
 */
class SegmentCallsTest {
  /** What one scripted node holds. */
  static final class NodeData {
    volatile List<String> members = List.of();
    volatile List<String> filterMembers = List.of();
    volatile long count;
    final Map<String, String[]> segments = new LinkedHashMap<>(); // name -> {size, expression}
    volatile boolean hasDroppable;
    volatile String defineReply;
  }

  private final List<FakeServer> servers = new ArrayList<>();
  private final Map<String, NodeData> data = new LinkedHashMap<>();
  private WhackClient client;

  @BeforeEach
  void startThreeNodes() {
    for (int i = 0; i < 3; i++) {
      NodeData d = new NodeData();
      FakeServer server = FakeServer.start((cmd, reply) -> respond(d, cmd, reply));
      servers.add(server);
      data.put(server.address(), d);
    }
    client = Clients.builder(servers.toArray(FakeServer[]::new)).membersPageSize(2).build();
  }

  @AfterEach
  void stop() {
    client.close();
    servers.forEach(FakeServer::close);
  }

  private static void respond(NodeData d, FakeServer.Command c, FakeServer.Reply reply)
      throws java.io.IOException {
    String[] t = c.tokens();
    switch (c.verb()) {
      case "segcount", "filtercount" -> reply.write("COUNT " + d.count + "\r\n");
      case "segmembers", "filtermembers" -> {
        List<String> all = c.verb().equals("segmembers") ? d.members : d.filterMembers;
        int limit = Integer.parseInt(t[2]);
        int from = t.length > 3 ? Integer.parseInt(t[3].substring(3)) : 0;
        StringBuilder out = new StringBuilder();
        int to = Math.min(all.size(), from + limit);
        for (int i = from; i < to; i++) {
          out.append("KEY ").append(all.get(i)).append("\r\n");
        }
        out.append(to < all.size() ? "NEXT at:" + to + "\r\n" : "END\r\n");
        reply.write(out.toString());
      }
      case "segdef" ->
          reply.write(
              d.defineReply != null ? d.defineReply : "DEFINED " + d.members.size() + "\r\n");
      case "segdrop" -> reply.write(d.hasDroppable ? "DROPPED\r\n" : "NOT_FOUND\r\n");
      case "seglist" -> {
        StringBuilder out = new StringBuilder();
        d.segments.forEach(
            (name, s) ->
                out.append("SEGMENT ")
                    .append(name)
                    .append(' ')
                    .append(s[0])
                    .append(' ')
                    .append(s[1].length())
                    .append("\r\n")
                    .append(s[1])
                    .append("\r\n"));
        reply.write(out.append("END\r\n").toString());
      }
      case "segof" -> reply.write("IN on_" + t[1].replace(':', '_') + "\r\nIN everyone\r\nEND\r\n");
      default -> reply.write("ERROR\r\n");
    }
  }

  private List<String> ringOrder() {
    return client.servers();
  }

  private NodeData node(int ringIndex) {
    return data.get(ringOrder().get(ringIndex));
  }

  private FakeServer server(String address) {
    return servers.stream().filter(s -> s.address().equals(address)).findFirst().orElseThrow();
  }

  @Test
  void shouldSumASegmentCountOverEveryNode() {
    node(0).count = 1;
    node(1).count = 20;
    node(2).count = 300;
    assertEquals(321L, Await.value(client.segments().count("dk_buyers and not churned")));
    for (FakeServer s : servers) {
      assertEquals(List.of("local segcount 25"), s.received());
    }
    assertEquals(321L, Await.value(client.segments().filterCount("country == \"DK\"")));
    assertEquals(321L, client.blocking().segments().count("x"));
  }

  @Test
  void shouldDefineOnEveryNodeAndSumTheBackfilledSizes() {
    node(0).members = List.of("a", "b");
    node(2).members = List.of("c");
    String expression = "count(purchase, 30d) >= 3";
    assertEquals(3L, Await.value(client.segments().define("buyers", expression)));
    for (FakeServer s : servers) {
      assertEquals(List.of("local segdef buyers " + expression.length()), s.received());
    }
  }

  @Test
  void shouldReportABadExpressionWithItsPosition() {
    for (NodeData d : data.values()) {
      d.defineReply = "CLIENT_ERROR bad expression at position 6: unknown function cnt\r\n";
    }
    BadExpressionException e =
        Await.failure(
            client.segments().define("buyers", "cnt(p) > 1"), BadExpressionException.class);
    assertEquals(6, e.position());
    assertEquals("unknown function cnt", e.reason());
    BadExpressionException thrown =
        assertThrows(
            BadExpressionException.class,
            () -> client.blocking().segments().define("buyers", "cnt(p) > 1"));
    assertEquals(6, thrown.position());
  }

  @Test
  void shouldDropOnEveryNode() {
    assertFalse(Await.value(client.segments().drop("gone")));
    node(1).hasDroppable = true;
    assertTrue(Await.value(client.segments().drop("gone")));
    for (FakeServer s : servers) {
      assertEquals(List.of("local segdrop gone", "local segdrop gone"), s.received());
    }
  }

  @Test
  void shouldMergeSegmentListsAddingSizesByName() {
    node(0).segments.put("vip", new String[] {"2", "\"vip\" in tags"});
    node(0).segments.put("dk", new String[] {"5", "country == \"DK\""});
    node(2).segments.put("dk", new String[] {"7", "country == \"DK\""});
    assertEquals(
        List.of(
            new SegmentInfo("dk", 12, "country == \"DK\""),
            new SegmentInfo("vip", 2, "\"vip\" in tags")),
        Await.value(client.segments().list()));
  }

  @Test
  void shouldPageThroughEveryNodesMembersInRingOrder() {
    node(0).members = List.of("a1", "a2", "a3", "a4", "a5");
    node(1).members = List.of();
    node(2).members = List.of("c1", "c2", "c3");
    List<String> all = client.segments().members("dk").toList();
    assertEquals(List.of("a1", "a2", "a3", "a4", "a5", "c1", "c2", "c3"), all);
    assertEquals(
        List.of("local segmembers 2 2", "local segmembers 2 2 at:2", "local segmembers 2 2 at:4"),
        server(ringOrder().get(0)).received());
    assertEquals(List.of("local segmembers 2 2"), server(ringOrder().get(1)).received());
    assertEquals(
        List.of("local segmembers 2 2", "local segmembers 2 2 at:2"),
        server(ringOrder().get(2)).received());
  }

  @Test
  void shouldFetchOnlyThePagesALimitNeeds() {
    node(0).members = List.of("a1", "a2", "a3", "a4", "a5");
    node(2).members = List.of("c1");
    assertEquals(List.of("a1", "a2", "a3"), client.blocking().segments().members("dk", 3));
    assertEquals(
        List.of("local segmembers 2 2", "local segmembers 2 1 at:2"),
        server(ringOrder().get(0)).received());
    assertEquals(List.of(), server(ringOrder().get(2)).received());

    assertEquals(
        List.of("a1", "a2", "a3", "a4", "a5", "c1"),
        Await.value(client.segments().members("dk", 100)));
  }

  @Test
  void shouldPageThroughFilterMembers() {
    node(1).filterMembers = List.of("b1", "b2", "b3");
    assertEquals(
        List.of("b1", "b2", "b3"),
        client.segments().filterMembers("age > 30").collect(Collectors.toList()));
    assertEquals(List.of("b1", "b2"), Await.value(client.segments().filterMembers("age > 30", 2)));
    assertTrue(server(ringOrder().get(1)).received().contains("local filtermembers 8 2 at:2"));
  }

  @Test
  void shouldAskTheOwnerForTheSegmentsOfAKey() {
    for (int i = 0; i < 20; i++) {
      String key = "user:" + i;
      assertEquals(List.of("on_user_" + i, "everyone"), Await.value(client.segments().of(key)));
      assertTrue(server(client.ownerOf(key)).received().contains("segof " + key));
    }
  }

  @Test
  void shouldStopWhenANodeHandsBackTheSameCursorOnAnEmptyPage() {
    FakeServer looping = FakeServer.start((cmd, reply) -> reply.write("NEXT same\r\n"));
    try (WhackClient one = Clients.client(looping)) {
      CorruptReplyException e =
          assertThrows(CorruptReplyException.class, () -> one.segments().members("dk").toList());
      assertEquals(
          looping.address() + " answered an empty page with the same cursor same", e.getMessage());
      Await.failure(one.segments().members("dk", 10), CorruptReplyException.class);
    } finally {
      looping.close();
    }
  }
}

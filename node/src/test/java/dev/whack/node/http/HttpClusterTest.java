package dev.whack.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three static members, each with an HTTP port: whichever node a request goes to answers for the
 * whole cluster. Keyed reads of another member's keys come from their owner with the same bytes a
 * local read gives (JSON and protobuf profiles, opaque values, absent keys, keys of any bytes);
 * counts and lists add every member's part; a member that is down is named in a 503.
 */
class HttpClusterTest {
  private static final int PROFILES = 90;

  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private final int[] http = new int[3];

  @AfterEach
  void stop() {
    for (EmbeddedNode n : nodes) {
      n.close();
    }
  }

  @Test
  void shouldAnswerForTheWholeClusterFromAnyNode() throws Exception {
    int[] ports = FreePorts.take(6);
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      members.add("127.0.0.1:" + ports[i]);
    }
    for (int i = 0; i < 3; i++) {
      int port = ports[i];
      int httpPort = ports[3 + i];
      http[i] = httpPort;
      nodes.add(EmbeddedNode.start(c -> c.port(port).httpPort(httpPort).peers(members)));
    }
    awaitConnected();

    // Written through node 0's memcached port, which forwards each key to its owner.
    try (RawConnection c = nodes.get(0).connect()) {
      for (int p = 0; p < PROFILES; p++) {
        HttpApiTest.set(c, "c" + p, "{\"n\":" + p + ",\"big\":" + (p % 3 == 0) + "}");
      }
      HttpApiTest.set(c, "plain", "hello");
      byte[] protobuf =
          ProfileJson.parse("{\"proto\":7}".getBytes(StandardCharsets.UTF_8)).toByteArray();
      c.send("set pb " + Keyspace.PROTOBUF_PROFILE_FLAGS + " 0 " + protobuf.length + "\r\n")
          .send(protobuf)
          .send("\r\n");
      assertEquals("STORED\r\n", c.readLine());
      HttpApiTest.define(c, "big", "big == true");
    }
    try (RawConnection c = nodes.get(0).connect()) { // a binary connection: the key has a space
      c.send(
          BinaryPacket.request(
              0x01, 0, 0, new byte[8], new byte[] {'o', ' ', 0x02}, bytes("{\"odd\":1}")));
      assertEquals(0, BinaryPacket.read(c).status());
    }
    Set<Integer> holders = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      if (nodes.get(i).node().keyspace().itemCount() > 0) {
        holders.add(i);
      }
    }
    assertEquals(Set.of(0, 1, 2), holders, "the keys spread over every member");

    for (int i = 0; i < 3; i++) {
      for (int p = 0; p < PROFILES; p++) {
        assertEquals(
            "{\"n\":" + p + ",\"big\":" + (p % 3 == 0) + "}",
            body(200, i, "/profiles/c" + p),
            "node " + i + ", c" + p);
        assertEquals(
            p % 3 == 0 ? "[\"big\"]" : "[]", body(200, i, "/profiles/c" + p + "/segments"));
      }
      assertEquals(
          body(200, 0, "/profiles/c0/segments?since"),
          body(200, i, "/profiles/c0/segments?since"),
          "the owner's entered time, from any member");
      assertTrue(
          body(200, i, "/profiles/c0/segments?since")
              .matches("\\[\\{\"segment\":\"big\",.*\\}\\]"));
      assertEquals("{\"proto\":7}", body(200, i, "/profiles/pb"), "a protobuf profile as JSON");
      assertEquals("{\"odd\":1}", body(200, i, "/profiles/o%20%02"));
      assertTrue(body(404, i, "/profiles/plain").contains("not_a_profile"));
      assertTrue(body(404, i, "/profiles/plain/segments").contains("not_a_profile"));
      assertTrue(body(404, i, "/profiles/nobody").contains("no_such_key"));
      assertTrue(body(404, i, "/profiles/nobody/segments").contains("no_such_key"));
      assertEquals(
          "{\"segment\":\"big\",\"count\":" + PROFILES / 3 + "}",
          body(200, i, "/segments/big/count"));
      assertEquals(
          "[{\"name\":\"big\",\"expression\":\"big == true\",\"size\":" + PROFILES / 3 + "}]",
          body(200, i, "/segments"));
      assertTrue(body(200, i, "/health").contains("\"down\":[]"));
    }

    // Node 2 stops: node 0 names it for its keys and for counts, and still serves its own keys.
    String gone = members.get(2);
    nodes.remove(2).close();
    String theirs = null;
    String mine = null;
    for (int p = 0; p < PROFILES && (theirs == null || mine == null); p++) {
      String owner = nodes.get(0).node().cluster().ownerOf(bytes("c" + p), 0, ("c" + p).length());
      if (owner.equals(gone)) {
        theirs = "c" + p;
      } else if (owner.equals(members.get(0))) {
        mine = "c" + p;
      }
    }
    HttpResponse<String> down = HttpWire.get(http[0], "/profiles/" + theirs);
    assertEquals(503, down.statusCode(), down.body());
    assertTrue(down.body().startsWith("{\"error\":\"unavailable\""), down.body());
    assertTrue(down.body().endsWith("\"member\":\"" + gone + "\"}"), down.body());
    HttpResponse<String> count = HttpWire.get(http[0], "/segments/big/count");
    assertEquals(503, count.statusCode(), count.body());
    assertTrue(count.body().contains(gone), count.body());
    HttpResponse<String> partial = HttpWire.get(http[0], "/segments/big/count?partial");
    assertEquals(200, partial.statusCode(), partial.body());
    assertTrue(partial.body().contains("\"missing\":{\"" + gone + "\":"), partial.body());
    assertEquals(200, HttpWire.get(http[0], "/profiles/" + mine).statusCode());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private String body(int status, int node, String path) {
    HttpResponse<String> r = HttpWire.get(http[node], path);
    assertEquals(status, r.statusCode(), "node " + node + " " + path + ": " + r.body());
    return r.body();
  }

  private void awaitConnected() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (EmbeddedNode node : nodes) {
      while (!node.node().cluster().downPeers().isEmpty()) {
        assertTrue(System.nanoTime() < deadline, "peers still down");
        Thread.sleep(20);
      }
    }
  }
}

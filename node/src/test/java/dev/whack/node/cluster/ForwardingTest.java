package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.HashRing;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes on loopback that know each other: any of them answers for every key, forwarding what
 * it does not own to the owner the ring names, the same owner the Java client computes.
 */
class ForwardingTest {
  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private List<String> members;

  @BeforeEach
  void startThree() throws IOException {
    int[] ports = freePorts(3);
    members = new ArrayList<>();
    for (int port : ports) {
      members.add("127.0.0.1:" + port);
    }
    for (int i = 0; i < 3; i++) {
      int port = ports[i];
      nodes.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
    }
    awaitConnected(nodes);
  }

  /** Nodes started one after another first saw the later ones down; wait until all see all. */
  static void awaitConnected(List<EmbeddedNode> nodes) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (EmbeddedNode node : nodes) {
      while (!node.node().cluster().downPeers().isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("peers still down: " + node.node().cluster().downPeers());
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      }
    }
  }

  @AfterEach
  void stopAll() {
    nodes.forEach(EmbeddedNode::close);
  }

  static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ServerSocket s = new ServerSocket(0);
      held.add(s);
      ports[i] = s.getLocalPort();
    }
    for (ServerSocket s : held) {
      s.close();
    }
    return ports;
  }

  private int ownerIndex(String key) {
    return members.indexOf(HashRing.of(members).owner(key));
  }

  private boolean holds(int node, String key) {
    byte[] k = key.getBytes();
    return nodes.get(node).node().keyspace().session().peek(k, 0, k.length, false, new Outcome());
  }

  @Test
  void shouldStoreEveryKeyOnItsOwnerWhicheverNodeIsAsked() {
    try (RawConnection conn = nodes.get(0).connect()) {
      for (int i = 0; i < 60; i++) {
        String key = "k" + i;
        conn.send("set " + key + " 5 0 2\r\nv" + (i % 10) + "\r\n");
        assertEquals("STORED\r\n", conn.readLine());
      }
      for (int i = 0; i < 60; i++) {
        String key = "k" + i;
        int owner = ownerIndex(key);
        for (int n = 0; n < 3; n++) {
          assertEquals(n == owner, holds(n, key), key + " on node " + n + ", owner " + owner);
        }
        conn.send("get " + key + "\r\n");
        assertEquals("VALUE " + key + " 5 2\r\n", conn.readLine());
        assertEquals("v" + (i % 10) + "\r\n", conn.readLine());
        assertEquals("END\r\n", conn.readLine());
      }
    }
  }

  @Test
  void shouldMergeAMultiGetAcrossOwnersInRequestOrder() {
    try (RawConnection conn = nodes.get(1).connect()) {
      StringBuilder get = new StringBuilder("get");
      for (int i = 0; i < 30; i++) {
        if (i % 3 != 0) {
          conn.send("set m" + i + " 0 0 " + Integer.toString(i).length() + "\r\n" + i + "\r\n");
          assertEquals("STORED\r\n", conn.readLine());
        }
        get.append(" m").append(i);
      }
      get.append(" m1"); // a repeated key is answered twice, like memcached
      conn.send(get + "\r\nversion\r\n");
      for (int i = 0; i < 30; i++) {
        if (i % 3 != 0) {
          assertEquals(
              "VALUE m" + i + " 0 " + Integer.toString(i).length() + "\r\n", conn.readLine());
          assertEquals(i + "\r\n", conn.readLine());
        }
      }
      assertEquals("VALUE m1 0 1\r\n", conn.readLine());
      assertEquals("1\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine());
      assertTrue(conn.readLine().startsWith("VERSION "), "the next reply follows in order");
    }
  }

  @Test
  void shouldForwardEveryKeyedCommandAndKeepPipelinedRepliesInOrder() {
    try (RawConnection conn = nodes.get(2).connect()) {
      StringBuilder pipeline = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        pipeline.append("set n").append(i).append(" 0 0 1\r\n1\r\n");
        pipeline.append("incr n").append(i).append(" 41\r\n");
        pipeline.append("mg n").append(i).append(" v\r\n");
        pipeline.append("touch n").append(i).append(" 100\r\n");
        pipeline.append("delete n").append(i).append("\r\n");
        pipeline.append("mg n").append(i).append(" v q\r\n");
      }
      pipeline.append("mn\r\n");
      conn.send(pipeline.toString());
      for (int i = 0; i < 20; i++) {
        assertEquals("STORED\r\n", conn.readLine());
        assertEquals("42\r\n", conn.readLine());
        assertEquals("VA 2\r\n", conn.readLine());
        assertEquals("42\r\n", conn.readLine());
        assertEquals("TOUCHED\r\n", conn.readLine());
        assertEquals("DELETED\r\n", conn.readLine());
      }
      assertEquals("MN\r\n", conn.readLine(), "a quiet miss forwarded says nothing");
    }
  }

  /**
   * A base64 key routes by the bytes its owner will decode it to, with memcached's decoder (which
   * skips the '!' in {@code a2V5!MA==}), so the owner of {@code key0} stores it.
   */
  @Test
  void shouldRouteABase64KeyByTheBytesMemcachedDecodesItTo() {
    try (RawConnection conn = nodes.get(0).connect()) {
      for (int i = 0; i < 10; i++) {
        String encoded = java.util.Base64.getEncoder().encodeToString(("key" + i).getBytes());
        String spelled = encoded.substring(0, 4) + "!" + encoded.substring(4);
        conn.send("ms " + spelled + " 1 b k\r\nx\r\n");
        assertEquals("HD k" + encoded + " b\r\n", conn.readLine(), spelled);
      }
    }
    for (int i = 0; i < 10; i++) {
      try (RawConnection owner = nodes.get(ownerIndex("key" + i)).connect()) {
        owner.send("local get key" + i + "\r\n");
        assertEquals("VALUE key" + i + " 0 1\r\n", owner.readLine(), "key" + i + " on its owner");
      }
    }
  }

  @Test
  void shouldLetAPlainMemcachedClientOnOneNodeReachEveryKey() throws Exception {
    MemcachedClient client =
        new MemcachedClient(new java.net.InetSocketAddress("127.0.0.1", nodes.get(0).port()));
    try {
      for (int i = 0; i < 100; i++) {
        assertTrue(client.set("spy" + i, 0, "value" + i).get(5, TimeUnit.SECONDS));
      }
      for (int i = 0; i < 100; i++) {
        assertEquals("value" + i, client.get("spy" + i));
      }
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        keys.add("spy" + i);
      }
      assertEquals(100, client.getBulk(keys).size());
      int[] perNode = new int[3];
      for (String key : keys) {
        perNode[ownerIndex(key)]++;
        assertTrue(holds(ownerIndex(key), key));
      }
      for (int count : perNode) {
        assertTrue(
            count > 10, "keys spread over the three nodes: " + java.util.Arrays.toString(perNode));
      }
    } finally {
      client.shutdown();
    }
  }

  @Test
  void shouldAnswerWholeAgainWhenAStoppedNodeIsBackAndRefilled() {
    int victim = 1;
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      keys.add("r" + i);
    }
    try (RawConnection conn = nodes.get(0).connect()) {
      for (String key : keys) {
        conn.send("set " + key + " 0 0 1\r\nx\r\n");
        assertEquals("STORED\r\n", conn.readLine());
      }
    }
    int port =
        Integer.parseInt(members.get(victim).substring(members.get(victim).lastIndexOf(':') + 1));
    nodes.get(victim).close();
    nodes.set(victim, EmbeddedNode.start(c -> c.port(port).peers(members)));
    awaitConnected(nodes);
    try (RawConnection conn = nodes.get(0).connect()) {
      for (String key : keys) { // the refill: the restarted node came back empty
        if (ownerIndex(key) == victim) {
          conn.send("set " + key + " 0 0 1\r\nx\r\n");
          assertEquals("STORED\r\n", conn.readLine());
        }
      }
      conn.send("get " + String.join(" ", keys) + "\r\n");
      for (String key : keys) {
        assertEquals("VALUE " + key + " 0 1\r\n", conn.readLine());
        assertEquals("x\r\n", conn.readLine());
      }
      assertEquals("END\r\n", conn.readLine());
    }
  }

  @Test
  void shouldForwardTheBinaryProtocolToo() throws Exception {
    MemcachedClient client =
        new MemcachedClient(
            new net.spy.memcached.ConnectionFactoryBuilder()
                .setProtocol(net.spy.memcached.ConnectionFactoryBuilder.Protocol.BINARY)
                .build(),
            List.of(new java.net.InetSocketAddress("127.0.0.1", nodes.get(1).port())));
    try {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        keys.add("bin" + i);
        assertTrue(client.set("bin" + i, 0, "v" + i).get(5, TimeUnit.SECONDS));
      }
      for (int i = 0; i < 60; i++) {
        assertTrue(holds(ownerIndex("bin" + i), "bin" + i), "stored on its owner");
        assertEquals("v" + i, client.get("bin" + i));
      }
      assertEquals(60, client.getBulk(keys).size(), "quiet gets forwarded and merged");
      assertEquals(10, client.incr("counter", 1, 10), "created with the initial value");
      assertEquals(11, client.incr("counter", 1, 10));
      assertTrue(client.delete("bin0").get(5, TimeUnit.SECONDS));
      assertEquals(null, client.get("bin0"));
    } finally {
      client.shutdown();
    }
  }

  @Test
  void shouldFailOnlyTheKeysOfAStoppedNodeAndQuickly() {
    int victim = 2;
    nodes.get(victim).close();
    try (RawConnection conn = nodes.get(0).connect()) {
      int failed = 0;
      for (int i = 0; i < 60; i++) {
        String key = "d" + i;
        long start = System.nanoTime();
        conn.send("set " + key + " 0 0 1\r\nx\r\n");
        String reply = conn.readLine();
        long millis = (System.nanoTime() - start) / 1_000_000;
        if (ownerIndex(key) == victim) {
          assertTrue(
              reply.startsWith("SERVER_ERROR ") && reply.contains(members.get(victim)),
              "an error naming the stopped node: " + reply);
          failed++;
        } else {
          assertEquals("STORED\r\n", reply, key);
        }
        assertTrue(millis < 2500, "answered in " + millis + " ms");
      }
      assertTrue(failed > 0);
    }
  }
}

package dev.whack.node.client;

import static dev.whack.node.client.ClusterFixture.failure;
import static dev.whack.node.client.ClusterFixture.holds;
import static dev.whack.node.client.ClusterFixture.until;
import static dev.whack.node.client.ClusterFixture.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.Item;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.WhackException;
import dev.whack.node.testing.EmbeddedNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java client against three real nodes: every key lands on its ring owner and nowhere else, and
 * losing a node fails only its keys, fast, until it is back (target R6).
 */
class ClientRoutingTest {
  private ClusterFixture cluster;

  @BeforeEach
  void start() {
    cluster = new ClusterFixture();
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldStoreEveryKeyOnItsRingOwnerOnly() {
    List<CompletableFuture<Void>> sets = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      sets.add(cluster.client.set("user:" + i, bytes("v" + i), i, 0));
    }
    sets.forEach(ClusterFixture::value);
    int[] perNode = new int[3];
    for (int i = 0; i < 600; i++) {
      String key = "user:" + i;
      String owner = cluster.client.ownerOf(key);
      for (int n = 0; n < 3; n++) {
        EmbeddedNode node = cluster.nodes.get(n);
        assertEquals(node.address().equals(owner), holds(node, key), key + " on " + node.address());
        if (node.address().equals(owner)) {
          perNode[n]++;
        }
      }
      Item item = value(cluster.client.get(key)).orElseThrow();
      assertEquals("v" + i, item.valueAsString());
      assertEquals(i, item.flags());
    }
    for (int count : perNode) {
      assertTrue(count > 100, "each node owns a share: " + count);
    }
  }

  @Test
  void shouldMergeAMultiGetAcrossNodesInRequestOrder() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      keys.add("k" + i);
      if (i % 3 != 0) {
        value(cluster.client.set("k" + i, bytes("v" + i)));
      }
    }
    Collections.shuffle(keys, new Random(42));
    Map<String, Item> hits = value(cluster.client.getMulti(keys));
    List<String> expected =
        keys.stream().filter(k -> Integer.parseInt(k.substring(1)) % 3 != 0).toList();
    assertEquals(expected, List.copyOf(hits.keySet()));
    hits.forEach((k, item) -> assertEquals("v" + k.substring(1), item.valueAsString()));
  }

  @Test
  void shouldDeleteFromTheOwner() {
    value(cluster.client.set("gone", bytes("x")));
    EmbeddedNode owner = cluster.node(cluster.client.ownerOf("gone"));
    assertTrue(holds(owner, "gone"));
    assertTrue(value(cluster.client.delete("gone")));
    assertFalse(holds(owner, "gone"));
    assertFalse(value(cluster.client.delete("gone")));
    assertEquals(Optional.empty(), value(cluster.client.get("gone")));
  }

  @Test
  void shouldFailOnlyTheStoppedNodesKeysQuicklyAndRecoverAfterARestart() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      keys.add("p:" + i);
      value(cluster.client.set("p:" + i, bytes("v" + i)));
    }
    EmbeddedNode stopped = cluster.nodes.get(1);
    int port = stopped.port();
    String address = stopped.address();
    List<String> lost =
        keys.stream().filter(k -> cluster.client.ownerOf(k).equals(address)).toList();
    assertFalse(lost.isEmpty());
    stopped.close();

    // The first call for its keys finds out (connection closed, reconnect refused); then it is
    // down.
    failure(cluster.client.get(lost.get(0)));
    until("marked down", () -> cluster.client.downNodes().equals(List.of(address)));

    long worstMillis = 0;
    for (String key : keys) {
      long start = System.nanoTime();
      CompletableFuture<Optional<Item>> f = cluster.client.get(key);
      if (lost.contains(key)) {
        NodeUnavailableException e = assertInstanceOf(NodeUnavailableException.class, failure(f));
        assertTrue(e.getMessage().startsWith(address + " is down"), e.getMessage());
        assertEquals(address, e.node());
      } else {
        assertEquals("v" + key.substring(2), value(f).orElseThrow().valueAsString());
      }
      worstMillis = Math.max(worstMillis, (System.nanoTime() - start) / 1_000_000);
    }
    assertTrue(
        worstMillis < ClusterFixture.REQUEST_TIMEOUT.toMillis() / 4,
        "every call answered well under the "
            + ClusterFixture.REQUEST_TIMEOUT.toMillis()
            + " ms timeout; the slowest took "
            + worstMillis
            + " ms");
    WhackException multi =
        assertInstanceOf(WhackException.class, failure(cluster.client.getMulti(keys)));
    assertInstanceOf(NodeUnavailableException.class, multi);

    EmbeddedNode restarted = EmbeddedNode.start(c -> c.port(port));
    cluster.nodes.set(1, restarted);
    until("up again", () -> cluster.client.downNodes().isEmpty());
    for (String key : lost) {
      assertEquals(Optional.empty(), value(cluster.client.get(key)), "a restarted node is empty");
      value(cluster.client.set(key, bytes("v" + key.substring(2))));
      assertTrue(holds(restarted, key));
    }
    Map<String, Item> all = value(cluster.client.getMulti(keys));
    assertEquals(keys, List.copyOf(all.keySet()), "whole again after the refill");
  }

  @Test
  void shouldKeepManyPipelinedRequestsInFlightAgainstRealNodes() {
    List<CompletableFuture<Void>> sets = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      sets.add(cluster.client.set("load:" + i, bytes(Integer.toString(i))));
      if (sets.size() == 900) {
        sets.forEach(ClusterFixture::value);
        sets.clear();
      }
    }
    sets.forEach(ClusterFixture::value);
    List<CompletableFuture<Optional<Item>>> gets = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      gets.add(cluster.client.get("load:" + i));
      if (gets.size() == 900 || i == 4_999) {
        int base = i - gets.size() + 1;
        for (int j = 0; j < gets.size(); j++) {
          assertEquals(
              Integer.toString(base + j), value(gets.get(j)).orElseThrow().valueAsString());
        }
        gets.clear();
      }
    }
  }

  @Test
  void shouldKeepTheServersGivenWhenEachNodeIsAlone() {
    // Independent nodes sharded by the client, the memcached way: each says it is alone, and the
    // client's discovery leaves its ring of the three as it was.
    List<String> given = cluster.nodes.stream().map(EmbeddedNode::address).sorted().toList();
    assertEquals(given, cluster.client.servers());
    assertTrue(cluster.client.map().isRing());
  }

  @Test
  void shouldLearnEveryMemberOfAStaticClusterFromOneAddress() {
    int[] ports = dev.whack.node.testing.FreePorts.take(3);
    List<String> members = new ArrayList<>();
    for (int port : ports) {
      members.add("127.0.0.1:" + port);
    }
    List<EmbeddedNode> nodes = new ArrayList<>();
    try {
      for (int port : ports) {
        nodes.add(EmbeddedNode.start(c -> c.port(port).peers(members)));
      }
      try (dev.whack.client.WhackClient full =
              dev.whack.client.WhackClient.builder().servers(members).build();
          dev.whack.client.WhackClient one =
              dev.whack.client.WhackClient.builder().servers(members.get(1)).build()) {
        assertEquals(members.stream().sorted().toList(), one.servers());
        value(full.segments().define("dk", "country == \"DK\""));
        for (int i = 0; i < 60; i++) {
          value(full.setProfile("p:" + i, "{\"country\":\"" + (i % 3 == 0 ? "DK" : "SE") + "\"}"));
        }
        assertEquals(20L, value(one.segments().count("dk")), "the whole cluster's count");
        for (int i = 0; i < 60; i++) {
          assertEquals(full.ownerOf("p:" + i), one.ownerOf("p:" + i));
        }
      }
    } finally {
      for (EmbeddedNode node : nodes) {
        node.close();
      }
    }
  }
}

package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Many requests in flight at once: every reply reaches its own request, and keys reach owners. */
class PipeliningTest {

  @Test
  void shouldMatchEveryPipelinedReplyToItsRequestUnderLoad() throws Exception {
    try (FakeServer server = FakeServer.start(FakeServer.memcached());
        WhackClient client = Clients.builder(server).connectionsPerNode(2).build()) {
      int keys = 2_000;
      List<CompletableFuture<Void>> sets = new ArrayList<>();
      for (int i = 0; i < keys; i++) {
        sets.add(client.set("key:" + i, ("value-" + i).getBytes(StandardCharsets.UTF_8), i, 0));
        if (sets.size() == 500) {
          sets.forEach(Await::value);
          sets.clear();
        }
      }
      sets.forEach(Await::value);

      int threads = 4;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Integer>> checked = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          long seed = t;
          checked.add(pool.submit(() -> readRandomKeys(client, keys, new Random(seed))));
        }
        for (Future<Integer> f : checked) {
          assertEquals(2_000, f.get());
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(2, server.connections(), "no connection was lost or replaced");
    }
  }

  /** Gets keys in pipelined bursts and checks each value and flags belong to the key asked. */
  private static int readRandomKeys(WhackClient client, int keys, Random random) {
    int checked = 0;
    for (int burst = 0; burst < 10; burst++) {
      Map<Integer, CompletableFuture<Optional<Item>>> inFlight = new LinkedHashMap<>();
      for (int i = 0; i < 200; i++) {
        int k = random.nextInt(keys + 100); // some misses
        inFlight.putIfAbsent(k, client.get("key:" + k));
      }
      for (Map.Entry<Integer, CompletableFuture<Optional<Item>>> e : inFlight.entrySet()) {
        Optional<Item> item = Await.value(e.getValue());
        int k = e.getKey();
        if (k < keys) {
          assertEquals("value-" + k, item.orElseThrow().valueAsString());
          assertEquals(k, item.get().flags());
        } else {
          assertTrue(item.isEmpty());
        }
      }
      checked += 200;
    }
    return checked;
  }

  @Test
  void shouldRouteEveryKeyToItsRingOwner() {
    List<FakeServer> servers = startThree();
    try (WhackClient client = Clients.client(servers)) {
      for (int i = 0; i < 300; i++) {
        Await.value(client.set("user:" + i, new byte[] {1}));
      }
      for (FakeServer server : servers) {
        List<String> lines = server.received();
        assertTrue(lines.size() > 50, "each of three nodes gets a share: " + lines.size());
        for (String line : lines) {
          String key = line.split(" ")[1];
          assertEquals(server.address(), client.ownerOf(key), "owner of " + key);
        }
      }
    } finally {
      servers.forEach(FakeServer::close);
    }
  }

  @Test
  void shouldSplitAMultiGetByOwnerAndMergeInRequestOrder() {
    List<FakeServer> servers = startThree();
    try (WhackClient client = Clients.client(servers)) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 250; i++) {
        keys.add("p:" + i);
        if (i % 5 != 0) {
          Await.value(client.set("p:" + i, ("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
      }
      Collections.shuffle(keys, new Random(7));
      List<String> asked = new ArrayList<>(keys);
      asked.add(keys.get(3)); // asked twice, answered once

      Map<String, Item> hits = Await.value(client.getMulti(asked));

      List<String> expectedOrder =
          keys.stream().filter(k -> Integer.parseInt(k.substring(2)) % 5 != 0).toList();
      assertEquals(expectedOrder, List.copyOf(hits.keySet()));
      hits.forEach((k, item) -> assertEquals("v" + k.substring(2), item.valueAsString()));
      for (FakeServer server : servers) {
        Set<String> askedHere = new HashSet<>();
        for (String line : server.received()) {
          if (line.startsWith("get ")) {
            String[] t = line.split(" ");
            assertTrue(t.length - 1 <= 100, "at most 100 keys per get line");
            for (int i = 1; i < t.length; i++) {
              assertEquals(server.address(), client.ownerOf(t[i]));
              assertTrue(askedHere.add(t[i]), "each key asked once: " + t[i]);
            }
          }
        }
      }
    } finally {
      servers.forEach(FakeServer::close);
    }
  }

  @Test
  void shouldRejectABadKeyWithoutSendingAnything() {
    try (FakeServer server = FakeServer.start(FakeServer.memcached());
        WhackClient client = Clients.client(server)) {
      IllegalArgumentException e =
          Await.failure(client.get("two words"), IllegalArgumentException.class);
      assertEquals("a key cannot contain spaces or control characters: two words", e.getMessage());
      Await.failure(
          client.getMulti(List.of("ok", "k".repeat(251))), IllegalArgumentException.class);
      assertEquals(List.of(), server.received());
    }
  }

  static List<FakeServer> startThree() {
    List<FakeServer> servers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      servers.add(FakeServer.start(FakeServer.memcached()));
    }
    return servers;
  }
}

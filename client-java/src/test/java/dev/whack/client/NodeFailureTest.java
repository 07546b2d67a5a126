package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A node that stops answering is marked down within a bounded time; its keys then fail at once
 * naming it, the other nodes' keys keep working, and it is back once it answers again.
 */
class NodeFailureTest {
  /** Long, so that "fails fast" is visibly not "waited for the timeout". */
  private static final Duration LONG_TIMEOUT = Duration.ofSeconds(3);

  @Test
  void shouldFailFastWhileANodeIsDownAndRecoverWhenItComesBack() {
    FakeServer server = FakeServer.start(FakeServer.memcached());
    int port = server.port();
    try (WhackClient client =
        Clients.builder(server).requestTimeout(LONG_TIMEOUT).connectTimeout(LONG_TIMEOUT).build()) {
      Await.value(client.set("k", new byte[] {1}));
      server.close();

      // The first call may be the one that finds out; after that the node is down.
      Await.failure(client.get("k"));
      Await.until("marked down", () -> client.downNodes().equals(List.of(server.address())));

      long start = System.nanoTime();
      for (int i = 0; i < 50; i++) {
        NodeUnavailableException e = Await.failure(client.get("k"), NodeUnavailableException.class);
        assertTrue(e.getMessage().startsWith(server.address() + " is down"), e.getMessage());
        assertEquals(List.of(server.address()), e.nodes());
      }
      long elapsed = Await.millisSince(start);
      assertTrue(elapsed < 500, "50 calls failed fast, in " + elapsed + " ms");

      FakeServer back = FakeServer.start(port, FakeServer.memcached());
      try {
        Await.until("up again", () -> client.downNodes().isEmpty());
        Await.value(client.set("k", new byte[] {2}));
        assertEquals(2, Await.value(client.get("k")).orElseThrow().value()[0]);
        assertEquals(1, back.connections(), "reconnected to the node that came back");
      } finally {
        back.close();
      }
    }
  }

  @Test
  void shouldFailOnlyTheKeysOfTheNodeThatIsDown() {
    List<FakeServer> servers = PipeliningTest.startThree();
    try (WhackClient client =
        Clients.builder(servers.toArray(FakeServer[]::new)).requestTimeout(LONG_TIMEOUT).build()) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        keys.add("user:" + i);
        Await.value(client.set("user:" + i, new byte[] {(byte) i}));
      }
      FakeServer stopped = servers.get(1);
      stopped.close();
      Await.until(
          "marked down",
          () -> {
            client.get(
                keys.stream()
                    .filter(k -> client.ownerOf(k).equals(stopped.address()))
                    .findFirst()
                    .orElseThrow());
            return client.downNodes().equals(List.of(stopped.address()));
          });

      long start = System.nanoTime();
      for (String key : keys) {
        CompletableFuture<Optional<Item>> f = client.get(key);
        if (client.ownerOf(key).equals(stopped.address())) {
          NodeUnavailableException e = Await.failure(f, NodeUnavailableException.class);
          assertEquals(stopped.address(), e.node());
        } else {
          assertEquals(Integer.parseInt(key.substring(5)), Await.value(f).orElseThrow().value()[0]);
        }
      }
      assertTrue(Await.millisSince(start) < 1_000, "no call waited for a timeout");

      NodeUnavailableException multi =
          Await.failure(client.getMulti(keys), NodeUnavailableException.class);
      assertEquals(List.of(stopped.address()), multi.nodes());
    } finally {
      servers.forEach(FakeServer::close);
    }
  }

  @Test
  void shouldMarkDownANodeThatDoesNotAnswerWithinTheRequestTimeout() {
    AtomicBoolean answering = new AtomicBoolean(false);
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer server =
            FakeServer.start(
                (cmd, reply) -> {
                  if (answering.get()) {
                    memcached.respond(cmd, reply);
                  }
                });
        WhackClient client = Clients.client(server)) {
      long start = System.nanoTime();
      WhackTimeoutException timeout = Await.failure(client.get("k"), WhackTimeoutException.class);
      long waited = Await.millisSince(start);
      assertTrue(
          waited >= Clients.TIMEOUT.toMillis() && waited < Clients.TIMEOUT.toMillis() + 1000,
          "failed at the timeout: " + waited + " ms");
      assertEquals(
          server.address() + " did not answer get within " + Clients.TIMEOUT.toMillis() + " ms",
          timeout.getMessage());
      assertEquals(List.of(server.address()), client.downNodes());

      NodeUnavailableException down =
          Await.failure(client.get("k"), NodeUnavailableException.class);
      assertTrue(down.getMessage().startsWith(server.address() + " is down"), down.getMessage());

      answering.set(true);
      Await.until("up once it answers the probe", () -> client.downNodes().isEmpty());
      assertEquals(Optional.empty(), Await.value(client.get("k")));
    }
  }

  @Test
  void shouldNotReconnectInATightLoopToANodeThatClosesEveryConnection() throws Exception {
    try (FakeServer closing = FakeServer.closingEveryConnection();
        WhackClient client = Clients.client(closing)) {
      Await.until("marked down", () -> client.downNodes().equals(List.of(closing.address())));
      Thread.sleep(100); // probes back off: 10, 20, 40 ms...
      int connections = closing.connections();
      assertTrue(connections < 10, "reconnected " + connections + " times in ~100 ms");
      assertInstanceOf(NodeUnavailableException.class, Await.failure(client.get("k")));
    }
  }

  @Test
  void shouldFailAScatterGatherCallNamingTheNodesThatAreDown() {
    List<FakeServer> servers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      servers.add(FakeServer.start((cmd, reply) -> reply.write("COUNT 1\r\n")));
    }
    try (WhackClient client = Clients.client(servers)) {
      assertEquals(3L, Await.value(client.segments().count("dk")));
      servers.get(0).close();
      servers.get(2).close();
      Await.until(
          "both marked down",
          () -> {
            client.segments().count("dk");
            return client.downNodes().size() == 2;
          });
      NodeUnavailableException e =
          Await.failure(client.segments().count("dk"), NodeUnavailableException.class);
      List<String> down = client.downNodes();
      assertEquals(down, e.nodes());
      assertEquals(
          "segment count needs every node; " + String.join(", ", down) + " are down",
          e.getMessage());
      assertThrows(
          NodeUnavailableException.class, () -> client.segments().members("dk").findFirst());
      assertInstanceOf(NodeUnavailableException.class, Await.failure(client.segments().list()));
    } finally {
      servers.forEach(FakeServer::close);
    }
  }

  @Test
  void shouldCompleteEveryPendingCallWhenTheClientCloses() {
    try (FakeServer silent = FakeServer.start((cmd, reply) -> {})) {
      WhackClient client = Clients.builder(silent).requestTimeout(LONG_TIMEOUT).build();
      List<CompletableFuture<Optional<Item>>> pending = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        pending.add(client.get("k" + i));
      }
      client.close();
      for (CompletableFuture<Optional<Item>> f : pending) {
        ConnectionClosedException e = Await.failure(f, ConnectionClosedException.class);
        assertEquals("the client is closed", e.getMessage());
      }
      assertInstanceOf(ConnectionClosedException.class, Await.failure(client.get("k")));
    }
  }
}

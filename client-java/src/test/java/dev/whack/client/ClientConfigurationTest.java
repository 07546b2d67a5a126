package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The builder's checks and defaults, and the blocking facade's exceptions. */
class ClientConfigurationTest {

  @Test
  void shouldTakeServersFromWhackServersWhenNoneAreGiven() {
    Map<String, String> env = Map.of("WHACK_SERVERS", " 10.0.0.2:11211, 10.0.0.1:11211 ,");
    assertEquals(
        List.of("10.0.0.2:11211", "10.0.0.1:11211"),
        WhackClient.builder().environment(env::get).resolvedServers());
    assertEquals(
        List.of("127.0.0.1:11211"),
        WhackClient.builder().environment(name -> null).resolvedServers());
    assertEquals(
        List.of("h:1"),
        WhackClient.builder().environment(env::get).servers("h:1").resolvedServers());
  }

  @Test
  void shouldRejectBadSettingsBeforeConnecting() {
    assertEquals(
        "a server is host:port, got 'localhost'",
        assertThrows(
                IllegalArgumentException.class,
                () -> WhackClient.builder().servers("localhost").build())
            .getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> WhackClient.builder().servers("h:0").build());
    assertThrows(
        IllegalArgumentException.class, () -> WhackClient.builder().servers("h:http").build());
    assertThrows(
        IllegalArgumentException.class, () -> WhackClient.builder().servers("::1:11211").build());
    assertThrows(
        IllegalArgumentException.class, () -> WhackClient.builder().servers(" , ").build());
    assertThrows(
        IllegalArgumentException.class,
        () -> WhackClient.builder().servers("h:1").requestTimeout(Duration.ZERO).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> WhackClient.builder().servers("h:1").connectionsPerNode(0).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> WhackClient.builder().servers("h:1").maxInFlightPerConnection(0).build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            WhackClient.builder()
                .servers("h:1")
                .reconnectBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1))
                .build());
  }

  @Test
  void shouldKeepServerNamesAsGivenForTheRing() {
    try (WhackClient client =
        WhackClient.builder().servers("[::1]:1, 127.0.0.1:2,127.0.0.1:2").build()) {
      assertEquals(List.of("127.0.0.1:2", "[::1]:1"), client.servers());
    }
  }

  @Test
  void shouldThrowTheClientsExceptionUnwrappedFromTheBlockingFacade() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (WhackClient client = Clients.builder().servers("127.0.0.1:" + closedPort).build()) {
      NodeUnavailableException e =
          assertThrows(NodeUnavailableException.class, () -> client.blocking().get("k"));
      assertEquals("127.0.0.1:" + closedPort, e.node());
      assertThrows(IllegalArgumentException.class, () -> client.blocking().get("bad key"));
    }
  }

  @Test
  void shouldRefuseToBlockOnAnIoThread() {
    // The reply waits until the callback is attached, so the callback runs on the I/O thread that
    // completes the get (attached to a get already done, it would run on this test's thread).
    java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer server =
            FakeServer.start(
                (command, reply) -> {
                  if (command.verb().equals("get")) {
                    attached.await(10, java.util.concurrent.TimeUnit.SECONDS);
                  }
                  memcached.respond(command, reply);
                });
        WhackClient client = Clients.client(server)) {
      CompletableFuture<Object> outcome = new CompletableFuture<>();
      CompletableFuture<?> get = client.get("k");
      get.whenComplete(
          (v, e) -> {
            try {
              outcome.complete(client.blocking().get("k"));
            } catch (RuntimeException refused) {
              outcome.complete(refused);
            }
          });
      attached.countDown();
      IllegalStateException e = assertInstanceOf(IllegalStateException.class, Await.value(outcome));
      assertEquals(
          "a blocking Whack call on a Whack I/O thread would stall it; use the async API here",
          e.getMessage());
    }
  }
}

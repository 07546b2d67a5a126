package dev.whack.client;

import dev.whack.client.testing.FakeServer;
import java.time.Duration;
import java.util.List;

/** Client settings for tests against fake servers: short timeouts, quick probes, one I/O thread. */
final class Clients {
  static final Duration TIMEOUT = Duration.ofMillis(300);

  private Clients() {}

  static WhackClient.Builder builder(FakeServer... servers) {
    return WhackClient.builder()
        .servers(java.util.Arrays.stream(servers).map(FakeServer::address).toList())
        .connectTimeout(TIMEOUT)
        .requestTimeout(TIMEOUT)
        .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
        .ioThreads(1);
  }

  static WhackClient client(FakeServer... servers) {
    return builder(servers).build();
  }

  static WhackClient client(List<FakeServer> servers) {
    return client(servers.toArray(FakeServer[]::new));
  }
}

package dev.whack.client;

import dev.whack.client.testing.FakeServer;
import java.time.Duration;
import java.util.List;

/** Client settings for tests against fake servers: short timeouts, quick probes, one I/O thread. */
final class Clients {
  /**
   * Long enough that a request to a scripted server never times out on a busy 2-core machine (300
   * ms did, once fuzzing and other builds shared the cores), short enough for the few tests that
   * wait for a timeout on purpose.
   */
  static final Duration TIMEOUT = Duration.ofMillis(2000);

  private Clients() {}

  static WhackClient.Builder builder(FakeServer... servers) {
    return WhackClient.builder()
        .servers(java.util.Arrays.stream(servers).map(FakeServer::address).toList())
        .connectTimeout(TIMEOUT)
        .requestTimeout(TIMEOUT)
        .reconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
        .ioThreads(1)
        .discoverCluster(false); // scripted servers answer only what a test expects
  }

  static WhackClient client(FakeServer... servers) {
    return builder(servers).build();
  }

  static WhackClient client(List<FakeServer> servers) {
    return client(servers.toArray(FakeServer[]::new));
  }
}

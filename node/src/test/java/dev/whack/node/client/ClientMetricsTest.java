package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.BlockingWhackClient;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackClient;
import dev.whack.client.WhackException;
import dev.whack.client.metrics.MicrometerMetrics;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Client metrics (docs/client.md, "Metrics") against a real node: every request counted and timed
 * per node, command and outcome; failures counted by why, on the node they concern.
 */
class ClientMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private EmbeddedNode node;

  @BeforeEach
  void start() {
    node = EmbeddedNode.start();
  }

  @AfterEach
  void stop() {
    node.close();
    registry.close();
  }

  private Timer timer(String node, String command, String outcome) {
    return registry
        .find(MicrometerMetrics.REQUESTS)
        .tags("node", node, "command", command, "outcome", outcome)
        .timer();
  }

  private Counter errors(String node, String command, String error) {
    return registry
        .find(MicrometerMetrics.ERRORS)
        .tags("node", node, "command", command, "error", error)
        .counter();
  }

  @Test
  void shouldTimeEveryRequestPerNodeCommandAndOutcome() {
    try (WhackClient client =
        WhackClient.builder()
            .servers(node.address())
            .requestTimeout(Duration.ofSeconds(5))
            .meterRegistry(registry)
            .build()) {
      BlockingWhackClient blocking = client.blocking();
      for (int i = 0; i < 10; i++) {
        blocking.set("k" + i, "v".getBytes(StandardCharsets.UTF_8));
      }
      for (int i = 0; i < 5; i++) {
        blocking.get("k" + i);
      }
      blocking.getMulti(java.util.List.of("k1", "k2", "missing"));
      assertThrows(ServerErrorException.class, () -> blocking.setProfile("p", "{\"a\":null}"));
      blocking.segments().filterCount("true");

      String n = node.address();
      assertEquals(10, timer(n, "set", "success").count());
      assertEquals(6, timer(n, "get", "success").count());
      assertEquals(1, timer(n, "set", "error").count());
      assertEquals(1, timer(n, "filtercount", "success").count());
      assertEquals(1.0, errors(n, "set", "server_error").count());
      assertTrue(timer(n, "set", "success").totalTime(TimeUnit.NANOSECONDS) > 0);
      assertTrue(
          timer(n, "set", "success").max(TimeUnit.SECONDS) < 5,
          "a set on loopback took under the timeout");
      assertNull(errors(n, "get", "server_error"), "no get failed");
    }
  }

  @Test
  void shouldCountTheFailuresOfANodeThatIsDownOnThatNode() {
    String dead = "127.0.0.1:" + FreePorts.take(1)[0];
    try (WhackClient client =
        WhackClient.builder()
            .servers(dead)
            .discoverCluster(false)
            .connectTimeout(Duration.ofMillis(500))
            .requestTimeout(Duration.ofMillis(500))
            .reconnectBackoff(Duration.ofSeconds(10), Duration.ofSeconds(10))
            .meterRegistry(registry)
            .build()) {
      for (int i = 0; i < 3; i++) {
        WhackException e =
            assertInstanceOf(
                WhackException.class,
                assertThrows(WhackException.class, () -> client.blocking().get("key")));
        assertEquals(dead, e.node(), e.toString());
      }
      assertEquals(3, timer(dead, "get", "error").count());
      double failures =
          registry.find(MicrometerMetrics.ERRORS).tags("node", dead).counters().stream()
              .mapToDouble(Counter::count)
              .sum();
      assertEquals(3.0, failures);
      assertTrue(errors(dead, "get", "unavailable").count() >= 2, registry.getMetersAsString());
    }
  }
}

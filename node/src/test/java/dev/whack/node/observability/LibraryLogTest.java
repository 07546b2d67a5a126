package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A library logging through SLF4J (Kafka's client) writes node log lines: the node's time, level
 * and format, JSON with {@code --log-format json}; its INFO lines are left out.
 */
class LibraryLogTest {
  @Test
  void shouldWriteALibrarysWarningAsANodeLogLineInEitherFormat() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    InstantSource at = InstantSource.fixed(Instant.parse("2026-12-07T20:41:04.123Z"));
    NodeLog.Format before = NodeLog.format(NodeLog.Format.JSON);
    NodeLog.output(new PrintStream(bytes, true, StandardCharsets.UTF_8), at);
    try {
      Logger kafka = LoggerFactory.getLogger("org.apache.kafka.clients.NetworkClient");
      kafka.info("connected to {}", "broker 1");
      kafka.warn("broker {} is not reachable", "127.0.0.1:9092", new IllegalStateException("no"));
      NodeLog.format(NodeLog.Format.TEXT);
      kafka.error("gave up");
    } finally {
      NodeLog.format(before);
      NodeLog.output(null, null);
    }
    assertEquals(
        "{\"time\":\"2026-12-07T20:41:04.123Z\",\"level\":\"WARN\",\"message\":\"kafka: broker"
            + " 127.0.0.1:9092 is not reachable (java.lang.IllegalStateException: no)\"}\n"
            + "2026-12-07T20:41:04.123Z ERROR kafka: gave up\n",
        bytes.toString(StandardCharsets.UTF_8));
  }
}

package dev.whack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.KafkaBroker;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Kafka steps of {@code scripts/bench kafka} (P10) against a real broker and a node consuming
 * its topic: the backlog produced, drained as the node's metrics tell it, and every probe timed to
 * its change on the changes topic and on a watch line.
 */
class KafkaLoadTest {
  private static final String UPDATES = "bench-updates";
  private static final String CHANGES = "bench-changes";

  @Test
  void shouldApplyTheWholeBacklogThenTimeEveryProbeToItsChange() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    broker.createTopic(UPDATES, 4, false);
    broker.createTopic(CHANGES, 4, false);
    int metricsPort = freePort();
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c ->
                c.metricsPort(metricsPort)
                    .kafka(
                        new KafkaOptions(
                            broker.bootstrap(),
                            UPDATES,
                            "bench",
                            null,
                            CHANGES,
                            List.of("probe"),
                            true,
                            null,
                            0)))) {
      String port = String.valueOf(node.port());
      String epoch = String.valueOf(EmbeddedNode.TEST_EPOCH_MILLIS);
      Harness.Run preload =
          Harness.run(
              "bench",
              "--workload",
              "profiles",
              "--profiles",
              "500",
              "--epoch-ms",
              epoch,
              "--port",
              port,
              "--preload-only");
      assertEquals(0, preload.exitCode(), preload.toString());

      Harness.Run backlog = backlog(broker, epoch, 3000);
      assertEquals(0, backlog.exitCode(), backlog.toString());
      assertTrue(
          backlog
              .line("bench ")
              .matches(
                  "bench P10-backlog producer records=3000 seconds=[0-9.]+ records_s=[0-9]+"
                      + " failed=0"),
          backlog.toString());

      Harness.Run drain = drain(metricsPort, 0, 3000);
      assertEquals(0, drain.exitCode(), drain.toString());
      assertTrue(
          drain
              .line("bench ")
              .matches(
                  "bench P10-kafka-ingest whack ops_s=[0-9]+ records=[0-9]+ seconds=[0-9.]+"
                      + " duplicates=0 dead_letters=0 handled_total=3000"),
          drain.toString());
      assertEquals(3000, node.node().kafkaSource().applied());

      // A second backlog after the first (as the bench's after its warm-up): the drain waits for
      // and times only the records after those applied before it.
      Harness.Run more = backlog(broker, epoch, 1000);
      assertEquals(0, more.exitCode(), more.toString());
      Harness.Run after = drain(metricsPort, 3000, 1000);
      assertEquals(0, after.exitCode(), after.toString());
      String drained = after.line("bench ");
      assertTrue(drained.contains(" handled_total=4000"), drained);
      assertTrue(Harness.number(drained, "records") <= 1000, drained);
      assertEquals(4000, node.node().kafkaSource().applied());

      Harness.Run delay =
          Harness.run(
              "bench",
              "--workload",
              "kafka-delay",
              "--port",
              port,
              "--kafka-bootstrap",
              broker.bootstrap(),
              "--kafka-updates",
              UPDATES,
              "--kafka-changes",
              CHANGES,
              "--profiles",
              "500",
              "--epoch-ms",
              epoch,
              "--rate",
              "500",
              "--warmup",
              "0",
              "--duration",
              "1",
              "--id",
              "P10-change-delay",
              "--system",
              "whack");
      assertEquals(0, delay.exitCode(), delay.toString());
      String stream = delay.line("bench P10-change-delay-stream ");
      assertTrue(Harness.number(stream, "ops_s") > 0, stream);
      String changed = delay.line("bench P10-change-delay whack ");
      // 100 probes a second, each an enter or a leave of its key, each matched to its change
      assertEquals(100, Harness.number(changed, "probes"), changed);
      assertEquals(100, Harness.number(changed, "changes"), changed);
      assertEquals(0, Harness.number(changed, "unmatched"), changed);
      assertTrue(Harness.number(changed, "p99_us") > 0, changed);
      String watched = delay.line("bench P10-change-delay-watch ");
      assertEquals(100, Harness.number(watched, "changes"), watched);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** {@code records} of P10's update stream produced into the updates topic. */
  private static Harness.Run backlog(KafkaBroker broker, String epoch, int records) {
    return Harness.run(
        "bench",
        "--workload",
        "kafka-backlog",
        "--kafka-bootstrap",
        broker.bootstrap(),
        "--kafka-updates",
        UPDATES,
        "--profiles",
        "500",
        "--epoch-ms",
        epoch,
        "--records",
        String.valueOf(records),
        "--id",
        "P10-backlog",
        "--system",
        "producer");
  }

  /** The node's drain of {@code records} after the {@code after} it had applied. */
  private static Harness.Run drain(int metricsPort, int after, int records) {
    return Harness.run(
        "bench",
        "--workload",
        "kafka-drain",
        "--metrics-port",
        String.valueOf(metricsPort),
        "--after",
        String.valueOf(after),
        "--records",
        String.valueOf(records),
        "--id",
        "P10-kafka-ingest",
        "--system",
        "whack");
  }
}

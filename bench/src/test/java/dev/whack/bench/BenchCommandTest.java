package dev.whack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code whack bench} against real nodes: each workload of {@code scripts/bench} for a fraction of
 * a second, on a small data set, printing the result line the script parses.
 */
class BenchCommandTest {
  /** The fields every figure line carries, in this order. */
  private static final String RESULT = "ops_s=[0-9]+ p50_us=[0-9.]+ p99_us=[0-9.]+ p999_us=[0-9.]+";

  private static String[] brief(String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    System.arraycopy(new String[] {"--warmup", "0", "--duration", "0.5"}, 0, all, args.length, 4);
    return all;
  }

  @Test
  void shouldPreloadEveryKeyThenReportTheGetSetMix() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Harness.Run run =
          Harness.run(
              brief(
                  "bench",
                  "--port",
                  String.valueOf(node.port()),
                  "--keys",
                  "2000",
                  "--connections",
                  "4",
                  "--pipeline",
                  "4",
                  "--id",
                  "P1-pipeline-4",
                  "--system",
                  "whack"));
      assertEquals(0, run.exitCode(), run.toString());
      String line = run.line("bench ");
      assertTrue(line.matches("bench P1-pipeline-4 whack " + RESULT), line);
      assertTrue(Harness.number(line, "ops_s") > 0, line);
      try (RawConnection c = node.connect()) {
        c.send("get key:0 key:1999\r\n");
        assertTrue(c.readLine().startsWith("VALUE key:0 0 100"));
      }
    }
  }

  @Test
  void shouldGiveBothTargetsTheSameSegmentsAfterTheSameReplay() {
    // The check scripts/bench makes between Whack and Redis rests on the preload and the update
    // stream being the same for a seed and an epoch: two nodes must end with the same 50 sizes.
    String epoch = String.valueOf(EmbeddedNode.TEST_EPOCH_MILLIS);
    List<String> first;
    List<String> second;
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start()) {
      for (EmbeddedNode node : List.of(a, b)) {
        Harness.Run preload =
            Harness.run(
                "bench",
                "--workload",
                "profiles",
                "--profiles",
                "3000",
                "--epoch-ms",
                epoch,
                "--port",
                String.valueOf(node.port()),
                "--preload-only",
                "--replay",
                "2000");
        assertEquals(0, preload.exitCode(), preload.toString());
        assertEquals("", preload.out(), "no figure from a preload");
        assertTrue(preload.err().contains("preloaded 3000 profiles"), preload.err());
      }
      first =
          Harness.run("bench", "--workload", "segment-sizes", "--port", String.valueOf(a.port()))
              .lines();
      second =
          Harness.run("bench", "--workload", "segment-sizes", "--port", String.valueOf(b.port()))
              .lines();
    }
    assertEquals(50, first.size(), first.toString());
    assertEquals(first, second);
    assertTrue(
        first.stream().allMatch(l -> l.matches("segment [a-z0-9_A-Z]+ [0-9]+")), first.toString());
    assertTrue(first.contains("segment has_region 3000"), "every profile has a region: " + first);
  }

  @Test
  void shouldReportUpdatesAndTheWatchersChangeDelay() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      String port = String.valueOf(node.port());
      assertEquals(
          0,
          Harness.run(
                  "bench",
                  "--workload",
                  "profiles",
                  "--profiles",
                  "2000",
                  "--port",
                  port,
                  "--preload-only")
              .exitCode());
      Harness.Run run =
          Harness.run(
              brief(
                  "bench",
                  "--workload",
                  "profiles",
                  "--profiles",
                  "2000",
                  "--port",
                  port,
                  "--no-preload",
                  "--watch",
                  "--rate",
                  "2000",
                  "--connections",
                  "4",
                  "--id",
                  "P7-updates",
                  "--system",
                  "whack"));
      assertEquals(0, run.exitCode(), run.toString());
      String updates = run.line("bench P7-updates ");
      assertTrue(updates.matches("bench P7-updates whack " + RESULT), updates);
      String delay = run.line("bench P7-change-delay ");
      assertTrue(
          delay.matches(
              "bench P7-change-delay whack changes=[0-9]+ p50_us=[0-9.]+ p99_us=[0-9.]+ p999_us=[0-9.]+"),
          delay);
    }
  }

  @Test
  void shouldSendUpdatesThroughTheGrpcPortInBatchesAndTimeSubscribe() throws Exception {
    int grpc;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      grpc = free.getLocalPort();
    }
    int grpcPort = grpc;
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(grpcPort))) {
      String port = String.valueOf(node.port());
      assertEquals(
          0,
          Harness.run(
                  "bench",
                  "--workload",
                  "profiles",
                  "--profiles",
                  "2000",
                  "--port",
                  port,
                  "--preload-only")
              .exitCode());
      Harness.Run run =
          Harness.run(
              brief(
                  "bench",
                  "--workload",
                  "profiles",
                  "--profiles",
                  "2000",
                  "--port",
                  port,
                  "--no-preload",
                  "--target",
                  "grpc",
                  "--grpc-port",
                  String.valueOf(grpcPort),
                  "--batch",
                  "4",
                  "--pipeline",
                  "8",
                  "--watch",
                  "--connections",
                  "4",
                  "--id",
                  "P2-grpc",
                  "--system",
                  "whack"));
      assertEquals(0, run.exitCode(), run.toString());
      String updates = run.line("bench P2-grpc ");
      assertTrue(updates.matches("bench P2-grpc whack " + RESULT), updates);
      String delay = run.line("bench P7-change-delay ");
      assertTrue(delay.matches("bench P7-change-delay whack changes=[1-9][0-9]* .*"), delay);
    }
  }

  @Test
  void shouldReadProfilesOpenLoopThroughTheHttpPortAndTheMemcachedPort() throws Exception {
    int free;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      free = s.getLocalPort();
    }
    int httpPort = free;
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.httpPort(httpPort))) {
      String port = String.valueOf(node.port());
      assertEquals(
          0,
          Harness.run(
                  "bench",
                  "--workload",
                  "profiles",
                  "--profiles",
                  "2000",
                  "--port",
                  port,
                  "--preload-only")
              .exitCode());
      for (String target : new String[] {"http", "whack"}) {
        Harness.Run run =
            Harness.run(
                brief(
                    "bench",
                    "--workload",
                    "profile-get",
                    "--profiles",
                    "2000",
                    "--port",
                    port,
                    "--no-preload",
                    "--target",
                    target,
                    "--http-port",
                    String.valueOf(httpPort),
                    "--rate",
                    "1000",
                    "--connections",
                    "3",
                    "--id",
                    "get-" + target,
                    "--system",
                    "whack"));
        assertEquals(0, run.exitCode(), run.toString());
        String line = run.line("bench get-" + target + " ");
        assertTrue(
            line.matches("bench get-" + target + " whack " + RESULT + " rate=1000 .*"), line);
        assertTrue(Harness.number(line, "ops_s") > 900, line);
        assertEquals(0, Harness.number(line, "misses"), line);
      }
    }
    Harness.Run http = Harness.run("bench", "--workload", "profiles", "--target", "http");
    assertEquals(2, http.exitCode(), http.toString());
  }

  @Test
  void shouldCountTheIntersectionOfTwoSegmentsOfTwoThirdsEach() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Harness.Run run =
          Harness.run(
              brief(
                  "bench",
                  "--workload",
                  "segcount",
                  "--segcount-profiles",
                  "9000",
                  "--connections",
                  "1",
                  "--port",
                  String.valueOf(node.port()),
                  "--id",
                  "P3-and-count",
                  "--system",
                  "whack"));
      assertEquals(0, run.exitCode(), run.toString());
      String line = run.line("bench P3-and-count ");
      assertTrue(line.matches("bench P3-and-count whack " + RESULT + " count=[0-9]+"), line);
      // Each profile is in a and in b with probability 2/3, independently: about 4/9 in both.
      double count = Harness.number(line, "count");
      assertTrue(count > 9000 * 0.40 && count < 9000 * 0.49, line);
    }
  }

  @Test
  void shouldDriveTheJavaClient() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      for (String op : List.of("set", "get", "update")) {
        Harness.Run run =
            Harness.run(
                brief(
                    "bench",
                    "--workload",
                    "client-" + op,
                    "--servers",
                    node.address(),
                    "--keys",
                    "1000",
                    "--in-flight",
                    "100",
                    "--id",
                    "client-" + op,
                    "--system",
                    "whack-1"));
        assertEquals(0, run.exitCode(), run.toString());
        String line = run.line("bench client-" + op + " ");
        assertTrue(line.matches("bench client-" + op + " whack-1 " + RESULT), line);
        assertTrue(Harness.number(line, "ops_s") > 0, line);
      }
    }
  }

  @Test
  void shouldSoakWithoutErrorsForWellBehavedClients() {
    try (EmbeddedNode node = EmbeddedNode.start(config -> config.memoryBytes(64L << 20))) {
      Harness.Run run =
          Harness.run(
              "bench",
              "--workload",
              "soak",
              "--port",
              String.valueOf(node.port()),
              "--duration",
              "3",
              "--interval",
              "1",
              "--connections",
              "2",
              "--rate",
              "400");
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(
          run.lines().stream().filter(l -> l.startsWith("soak t_s=")).count() >= 2, run.toString());
      String summary = run.line("bench soak whack ");
      assertTrue(Harness.number(summary, "normal_ops") > 0, summary);
      assertEquals(0, Harness.number(summary, "errors"), run.toString());
    }
  }

  @Test
  void shouldPrintTheRedisScriptAndRefuseUnknownWorkloadsAndTargets() {
    Harness.Run script = Harness.run("bench", "--print-script");
    assertEquals(0, script.exitCode());
    assertTrue(script.out().startsWith("-- Whack's P2 work done by Redis"), script.out());
    assertTrue(script.out().contains("redis.call("), script.out());

    Harness.Run workload = Harness.run("bench", "--workload", "nosuch");
    assertEquals(2, workload.exitCode(), workload.toString());
    assertTrue(
        workload.err().startsWith("whack bench: unknown workload nosuch (memcache, profiles,"),
        workload.err());
    Harness.Run target = Harness.run("bench", "--target", "mongo");
    assertEquals(2, target.exitCode(), target.toString());
    assertEquals("whack bench: unknown target mongo (whack, redis, grpc, http)\n", target.err());
  }

  @Test
  void shouldListBenchAndGenBesideTheShippedCommands() {
    Harness.Run help = Harness.run("bench", "--help");
    assertEquals(0, help.exitCode());
    assertTrue(help.out().startsWith("Usage: whack bench"), help.out());
    assertTrue(help.out().contains("Examples:"), help.out());
    assertTrue(
        Harness.run("--help").out().contains("bench"), "bench is a command of the harness's jar");
    assertEquals(
        0, Harness.run("node", "--help").exitCode(), "and the shipped commands are there too");
    assertFalse(Harness.run("--help").out().contains(" gen "), "gen stays hidden");
  }
}

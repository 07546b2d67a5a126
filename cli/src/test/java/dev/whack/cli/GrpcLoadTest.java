package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.proto.LoadRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code whack load --grpc} end to end against a node's gRPC port: the memcached load's summary,
 * each key's records in order, records the Ingest stream cannot carry refused by line, records the
 * node refuses reported with their gRPC code, and the options that do not go with it.
 */
class GrpcLoadTest {
  @TempDir Path dir;

  private EmbeddedNode node;
  private String grpc;
  private Cli cli;

  @BeforeEach
  void start() {
    int port = FreePorts.take(1)[0];
    node = EmbeddedNode.start(c -> c.grpcPort(port));
    grpc = "127.0.0.1:" + port;
    cli = new Cli(node.address()); // whack get reads back through the memcached port
  }

  @AfterEach
  void stop() {
    node.close();
  }

  /** Profiles and updates of 300 keys interleaved; the last word for key i is n = i + 15. */
  private Path mixedStream() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int round = 0; round < 4; round++) {
      for (int i = 0; i < 300; i++) {
        switch (round) {
          case 0 -> s.append("{\"key\":\"k:").append(i).append("\",\"profile\":{\"n\":1}}\n");
          case 1 ->
              s.append("{\"key\":\"k:").append(i).append("\",\"update\":{\"incr\":{\"n\":1}}}\n");
          case 2 ->
              s.append("{\"key\":\"k:")
                  .append(i)
                  .append("\",\"profile\":{\"n\":")
                  .append(i + 10)
                  .append("}}\n");
          default ->
              s.append("{\"key\":\"k:").append(i).append("\",\"update\":{\"incr\":{\"n\":5}}}\n");
        }
      }
    }
    Path file = dir.resolve("mixed.ndjson");
    Files.writeString(file, s);
    return file;
  }

  @Test
  void shouldLoadProfilesAndUpdatesInOrderWithTheSameSummary() throws IOException {
    Path file = mixedStream();
    Cli.Run run = cli.run("load", "--grpc", grpc, file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(
        run.out()
            .matches(
                "loaded 1,200 records \\(600 profiles, 600 updates\\) from .* in .*: .* records/s,"
                    + " .*/s\n"),
        run.out());
    assertEquals("", run.err());
    for (int i : new int[] {0, 1, 150, 299}) {
      assertEquals("{\"n\":" + (i + 15) + "}\n", cli.run("get", "k:" + i).out(), "k:" + i);
    }
    try (var raw = node.connect()) {
      raw.send("get k:7\r\n");
      assertTrue(raw.readLine().startsWith("VALUE k:7 2003304449 "), "stored as protobuf");
    }
  }

  @Test
  void shouldPrintTheJsonSummaryOfAMemcachedLoad() throws IOException {
    Path file = mixedStream();
    Cli.Run run = cli.run("load", "--grpc", grpc, "--json", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(
        run.out()
            .startsWith(
                "{\"records\":1200,\"sent\":1200,\"applied\":1200,\"profiles\":600,\"updates\":600,"
                    + "\"items\":0,\"segments\":0,\"ignored\":0,\"skipped\":0,\"bytes\":"
                    + Files.size(file)
                    + ","),
        run.out());
    assertTrue(run.out().endsWith(",\"complete\":true}\n"), run.out());
  }

  @Test
  void shouldLoadLengthDelimitedProtobufRecords() throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (int i = 0; i < 100; i++) {
      LoadRecord.newBuilder()
          .setKey("pb:" + i)
          .setProfile(ProfileJson.parse(("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)))
          .build()
          .writeDelimitedTo(stream);
      LoadRecord.newBuilder()
          .setKey("pb:" + i)
          .setUpdate(UpdateJson.parse("{\"incr\":{\"n\":1000}}".getBytes(StandardCharsets.UTF_8)))
          .build()
          .writeDelimitedTo(stream);
    }
    Path file = dir.resolve("records.pb");
    Files.write(file, stream.toByteArray());
    Cli.Run run = cli.run("load", "--grpc", grpc, file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(run.out().startsWith("loaded 200 records (100 profiles, 100 updates)"), run.out());
    assertEquals("{\"n\":1007}\n", cli.run("get", "pb:7").out());
  }

  @Test
  void shouldRefuseAnItemRecordNamingItsLineAndStopThere() throws IOException {
    Path file = dir.resolve("items.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"a\",\"profile\":{\"n\":1}}\n"
            + "{\"key\":\"page:7\",\"item\":{\"value\":\"aGk=\",\"flags\":0,\"ttl\":0}}\n"
            + "{\"key\":\"b\",\"profile\":{\"n\":2}}\n");
    Cli.Run run = cli.run("load", "--grpc", grpc, file.toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals(
        List.of(
            "whack load: "
                + file
                + ": line 2: an item record cannot be loaded with --grpc: a gRPC Ingest stream"
                + " carries profiles and updates only (load it without --grpc)",
            "whack load: stopped at the bad record at "
                + file
                + ": line 2; the records before it were applied (--skip-bad goes on past bad"
                + " records)"),
        run.err().lines().toList());
    assertTrue(run.out().startsWith("loaded 1 record (1 profiles, 0 updates)"), run.out());
    assertEquals(1, cli.run("get", "b").exitCode(), "nothing after it was sent");
  }

  @Test
  void shouldSkipASegmentRecordWithSkipBadAndLoadTheRest() throws IOException {
    Path file = dir.resolve("segments.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"a\",\"profile\":{\"n\":1}}\n"
            + "{\"segment\":{\"name\":\"big\",\"expression\":\"n > 1\"}}\n"
            + "{\"key\":\"b\",\"profile\":{\"n\":2}}\n");
    Cli.Run run = cli.run("load", "--grpc", grpc, "--skip-bad", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals(
        "whack load: "
            + file
            + ": line 2: a segment record cannot be loaded with --grpc: a gRPC Ingest stream"
            + " carries profiles and updates only (load it without --grpc)\n",
        run.err());
    assertTrue(run.out().startsWith("loaded 2 records (2 profiles, 0 updates)"), run.out());
    assertTrue(run.out().endsWith("; 1 bad skipped\n"), run.out());
    assertEquals("{\"n\":2}\n", cli.run("get", "b").out());
  }

  @Test
  void shouldReportARecordTheNodeRefusesWithItsGrpcCode() throws IOException {
    Path file = dir.resolve("refused.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"r:1\",\"update\":{\"incr\":{\"n\":1}}}\n"
            + "{\"key\":\"_whack/x\",\"update\":{\"incr\":{\"n\":1}}}\n"
            + "{\"key\":\"r:2\",\"update\":{\"incr\":{\"n\":1}}}\n");
    Cli.Run run = cli.run("load", "--grpc", grpc, "--skip-bad", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals(
        "whack load: " + file + ": line 2: INVALID_ARGUMENT: keys under _whack/ are reserved\n",
        run.err());
    assertTrue(run.out().startsWith("loaded 2 records (0 profiles, 3 updates)"), run.out());
    assertTrue(run.out().endsWith("; 1 bad skipped\n"), run.out());

    Cli.Run stopped = cli.run("load", "--grpc", grpc, file.toString());
    assertEquals(1, stopped.exitCode(), stopped.toString());
    assertTrue(
        stopped
            .err()
            .contains(
                "whack load: stopped at the bad record at "
                    + file
                    + ": line 2; the records before it were applied"),
        stopped.err());
  }

  @Test
  void shouldCheckRecordsForGrpcInADryRunWithoutConnecting() throws IOException {
    Path file = dir.resolve("dry.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"a\",\"update\":{\"incr\":{\"n\":1}}}\n"
            + "{\"key\":\"p\",\"item\":{\"value\":\"aGk=\",\"flags\":0,\"ttl\":0}}\n");
    Cli.Run run =
        cli.run("load", "--grpc", "127.0.0.1:1", "--dry-run", "--skip-bad", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(
        run.err().contains("line 2: an item record cannot be loaded with --grpc"), run.err());
    assertTrue(run.out().startsWith("checked 1 record from"), run.out());
  }

  @Test
  void shouldRefuseOptionsOfTheMemcachedPort() throws IOException {
    Path file = mixedStream();
    Cli.Run json = cli.run("load", "--grpc", grpc, "--store-as", "json", file.toString());
    assertEquals(2, json.exitCode(), json.toString());
    assertEquals(
        "whack load: --store-as json needs the memcached port: --grpc stores profiles as protobuf"
            + " (an Ingest item is a Profile message)\n",
        json.err());
    Cli.Run servers = cli.run("load", "--grpc", grpc, "--servers", node.address(), file.toString());
    assertEquals(2, servers.exitCode(), servers.toString());
    assertEquals(
        "whack load: --servers is for the memcached port; --grpc names the one node to send to\n",
        servers.err());
    Cli.Run target = cli.run("load", "--grpc", "nowhere", file.toString());
    assertEquals(2, target.exitCode(), target.toString());
    assertEquals("whack load: --grpc: a server is host:port, got 'nowhere'\n", target.err());
    assertEquals(
        0, cli.run("load", "--grpc", grpc, "--store-as", "proto", file.toString()).exitCode());
  }

  @Test
  void shouldExitUnreachableBeforeReadingWhenNothingListens() throws IOException {
    int closed = FreePorts.take(1)[0];
    Cli.Run run = cli.run("load", "--grpc", "127.0.0.1:" + closed, "-");
    assertEquals(3, run.exitCode(), run.toString());
    assertTrue(
        run.err()
            .startsWith(
                "whack load: cannot reach the cluster: 127.0.0.1:"
                    + closed
                    + " is down: UNAVAILABLE"),
        run.err());
    assertEquals("", run.out());
  }
}

package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.proto.LoadRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** load and dump end to end: formats, bad records, order per key, and the round trip. */
class LoadDumpTest {
  @TempDir Path dir;

  /** Profiles and updates of 500 keys interleaved; the last word for key i is n = i + 15. */
  private static String mixedStream() {
    StringBuilder s = new StringBuilder();
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 500; i++) {
        switch (round) {
          case 0 -> s.append("{\"key\":\"k:").append(i).append("\",\"profile\":{\"n\":1}}\n");
          case 1, 2 ->
              s.append("{\"key\": \"k:")
                  .append(i)
                  .append("\", \"update\": {\"incr\":{\"n\":1}}}\n");
          case 3 ->
              s.append("{\"profile\":{\"n\":")
                  .append(i + 10)
                  .append("},\"key\":\"k:")
                  .append(i)
                  .append("\"}\n");
          default ->
              s.append("{\"key\":\"k:").append(i).append("\",\"update\":{\"incr\":{\"n\":5}}}\n");
        }
      }
    }
    return s.toString();
  }

  private static void assertMixedStreamApplied(Cli cli) {
    for (int i : new int[] {0, 1, 250, 499}) {
      assertEquals("{\"n\":" + (i + 15) + "}\n", cli.run("get", "k:" + i).out(), "k:" + i);
    }
  }

  /**
   * A load into a node too small for it says so: the summary counts the items the node evicted
   * while loading, and a warning names the member, its cap and the flag to raise (issue 20: a load
   * printed "loaded 4,000,000 records" while a fifth of them were already gone).
   */
  @Test
  void shouldWarnOfEvictionsWhileLoading() throws IOException {
    StringBuilder s = new StringBuilder();
    String padding = "x".repeat(900);
    for (int i = 0; i < 3000; i++) { // about 3 MB of profiles into a 1 MiB cap
      s.append("{\"key\":\"big:")
          .append(i)
          .append("\",\"profile\":{\"pad\":\"")
          .append(padding)
          .append("\"}}\n");
    }
    Path file = dir.resolve("big.ndjson");
    Files.writeString(file, s.toString());
    try (EmbeddedNode small =
        EmbeddedNode.start(c -> c.memoryBytes(1 << 20).maxItemSize(64 * 1024))) {
      Cli cli = new Cli(small.address());
      Cli.Run run = cli.run("load", file.toString());
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(
          run.err()
              .matches(
                  "(?s)whack load: warning: "
                      + java.util.regex.Pattern.quote(small.address())
                      + " evicted [0-9,]+ items while loading: its memory cap \\(1\\.00 MiB\\) is full,"
                      + " so some of what was just loaded may be gone already; start it with a larger"
                      + " --memory\n"),
          run.err());
      assertTrue(run.out().contains(" evicted while loading (see above)\n"), run.out());
      Cli.Run json = cli.run("load", "--json", file.toString());
      long evicted = Long.parseLong(json.out().replaceAll("(?s).*\"evicted\":([0-9]+).*", "$1"));
      assertTrue(evicted > 1000, json.out());
    }
    try (EmbeddedNode roomy = EmbeddedNode.start()) {
      Cli.Run run = new Cli(roomy.address()).run("load", "--json", file.toString());
      assertEquals("", run.err());
      assertTrue(run.out().contains("\"evicted\":0"), run.out());
    }
  }

  @Test
  void shouldLoadNdjsonApplyingEachKeysRecordsInOrder() throws IOException {
    Path file = dir.resolve("mixed.ndjson");
    Files.writeString(file, mixedStream());
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start()) {
      Cli cli = new Cli(a.address() + "," + b.address());
      Cli.Run run = cli.run("load", file.toString());
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(
          run.out()
              .matches(
                  "loaded 2,500 records \\(1,000 profiles, 1,500 updates\\) from .* in .*: .* records/s, .*/s\n"),
          run.out());
      assertEquals("", run.err());
      assertMixedStreamApplied(cli);
    }
  }

  @Test
  void shouldLoadGzipWhateverItsNameAndFromStdin() throws IOException {
    byte[] gz = gzip(mixedStream().getBytes(StandardCharsets.UTF_8));
    Path file = dir.resolve("mixed.data");
    Files.write(file, gz);
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", file.toString(), "--json");
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(
          run.out()
              .startsWith(
                  "{\"records\":2500,\"sent\":2500,\"applied\":2500,\"profiles\":1000,\"updates\":1500,\"items\":0,\"segments\":0,\"ignored\":0,\"skipped\":0,\"bytes\":"
                      + gz.length
                      + ","),
          run.out());
      assertMixedStreamApplied(cli);
    }
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address()).stdin(gz);
      Cli.Run run = cli.run("load", "-");
      assertEquals(0, run.exitCode(), run.toString());
      assertMixedStreamApplied(cli);
    }
  }

  @Test
  void shouldLoadLengthDelimitedProtobufGzippedOrNot() throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (int i = 0; i < 300; i++) {
      LoadRecord.newBuilder()
          .setKey("pb:" + i)
          .setProfile(
              ProfileJson.parse(
                  ("{\"country\":\"DK\",\"n\":" + i + ",\"tags\":[\"a\"]}")
                      .getBytes(StandardCharsets.UTF_8)))
          .build()
          .writeDelimitedTo(stream);
      LoadRecord.newBuilder()
          .setKey("pb:" + i)
          .setUpdate(UpdateJson.parse("{\"incr\":{\"n\":1000}}".getBytes(StandardCharsets.UTF_8)))
          .build()
          .writeDelimitedTo(stream);
    }
    Path plain = dir.resolve("records.pb");
    Files.write(plain, stream.toByteArray());
    Path packed = dir.resolve("records.pb.gz");
    Files.write(packed, gzip(stream.toByteArray()));
    for (Path file : List.of(plain, packed)) {
      try (EmbeddedNode node = EmbeddedNode.start()) {
        Cli cli = new Cli(node.address());
        Cli.Run run = cli.run("load", file.toString());
        assertEquals(0, run.exitCode(), run.toString());
        assertTrue(
            run.out().startsWith("loaded 600 records (300 profiles, 300 updates)"), run.out());
        assertEquals(
            "{\"country\":\"DK\",\"n\":1007,\"tags\":[\"a\"]}\n", cli.run("get", "pb:7").out());
        // Stored as JSON by default: a plain memcached client reads JSON.
        try (var raw = node.connect()) {
          raw.send("get pb:7\r\n");
          assertEquals("VALUE pb:7 0 38\r\n", raw.readLine());
        }
      }
    }
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      assertEquals(0, cli.run("load", plain.toString(), "--store-as", "as-read").exitCode());
      try (var raw = node.connect()) {
        raw.send("get pb:7\r\n");
        assertTrue(raw.readLine().startsWith("VALUE pb:7 2003304449 "), "kept as protobuf");
      }
      assertEquals(
          "{\"country\":\"DK\",\"n\":1007,\"tags\":[\"a\"]}\n", cli.run("get", "pb:7").out());
    }
  }

  @Test
  void shouldStopAtTheFirstBadRecordBeforeSendingAnythingAfterIt() throws IOException {
    Path file = dir.resolve("bad.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"b:1\",\"profile\":{\"a\":1}}\n"
            + "\n"
            + "{\"key\":\"b:2\",\"profile\":{\"a\":2}}\n"
            + "{\"key\":\"b:3\",\"profile\":{\"a\":3}\n"
            + "{\"key\":\"b:4\",\"profile\":{\"a\":4}}\n");
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", file.toString());
      assertEquals(1, run.exitCode(), run.toString());
      List<String> err = run.err().lines().toList();
      assertEquals(
          "whack load: "
              + file
              + ": line 4, column 31: unexpected end of the line, expected ',' or '}'",
          err.get(0));
      assertEquals(
          "whack load: stopped at the bad record at "
              + file
              + ": line 4, column 31; the records before it were applied (--skip-bad goes on past bad records)",
          err.get(1));
      assertEquals(2, err.size());
      assertTrue(run.out().startsWith("loaded 2 records (2 profiles, 0 updates)"), run.out());
      assertEquals(0, cli.run("get", "b:2").exitCode());
      assertEquals(1, cli.run("get", "b:3").exitCode());
      assertEquals(1, cli.run("get", "b:4").exitCode(), "nothing after the bad record was sent");
    }
  }

  @Test
  void shouldReportARecordTheNodeRejectsWithItsLineAndApplyNothingOfIt() throws IOException {
    Path file = dir.resolve("rejected.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"r:1\",\"profile\":{\"a\":1}}\n"
            + "{\"key\":\"r:2\",\"profile\":{\"a\":null}}\n");
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", file.toString());
      assertEquals(1, run.exitCode(), run.toString());
      assertEquals(
          "whack load: "
              + file
              + ": line 2: bad profile: invalid JSON at line 1, column 6: null is not a value; use \"unset\" to remove an attribute",
          run.err().lines().findFirst().orElseThrow());
      assertTrue(
          run.err().contains("stopped at the bad record at " + file + ": line 2;"), run.err());
      assertEquals(0, cli.run("get", "r:1").exitCode());
      assertEquals(1, cli.run("get", "r:2").exitCode());
    }
  }

  @Test
  void shouldSkipAndCountBadRecordsWithSkipBad() throws IOException {
    Path file = dir.resolve("dirty.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"s:1\",\"profile\":{\"a\":1}}\n"
            + "not json\n"
            + "{\"key\":\"has space\",\"profile\":{\"a\":1}}\n"
            + "{\"key\":\"s:2\",\"profile\":{\"a\":null}}\n"
            + "{\"key\":\"s:3\",\"update\":{\"frob\":1}}\n"
            + "{\"key\":\"s:4\",\"profile\":{\"a\":4},\"extra\":1}\n"
            + "{\"key\":\"s:5\",\"profile\":{\"a\":5}}\n");
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", "--skip-bad", file.toString());
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(run.out().startsWith("loaded 2 records (3 profiles, 1 updates)"), run.out());
      assertTrue(run.out().endsWith("; 5 bad skipped\n"), run.out());
      List<String> err = run.err().lines().toList(); // in input order
      assertEquals(5, err.size(), run.err());
      String prefix = "whack load: " + file + ": ";
      assertEquals(prefix + "line 2, column 1: expected a record object", err.get(0));
      assertTrue(
          err.get(1).startsWith(prefix + "line 3: bad key: a key cannot contain spaces"),
          err.get(1));
      assertTrue(err.get(2).startsWith(prefix + "line 4: bad profile: "), err.get(2));
      assertTrue(err.get(3).startsWith(prefix + "line 5: bad update: "), err.get(3));
      assertEquals(
          prefix
              + "line 6, column 32: unknown record member \"extra\" (expected key, profile, update, item, segment)",
          err.get(4));
      assertEquals("{\"a\":5}\n", cli.run("get", "s:5").out());
      assertEquals(1, cli.run("get", "s:4").exitCode());
    }
  }

  /**
   * Bad records are reported in input order, though the nodes' refusals arrive as each node answers
   * (two nodes, pipelined): the reader's own finds and the nodes' refusals interleaved.
   */
  @Test
  void shouldReportBadRecordsInInputOrderWhateverNodeRefusedThem() throws IOException {
    StringBuilder s = new StringBuilder();
    int bad = 0;
    for (int i = 1; i <= 600; i++) {
      if (i % 7 == 0) {
        s.append("{\"key\":\"o:").append(i).append("\",\"profile\":{\"a\":null}}\n"); // node
        bad++;
      } else if (i % 11 == 0) {
        s.append("[]\n"); // the reader
        bad++;
      } else {
        s.append("{\"key\":\"o:").append(i).append("\",\"profile\":{\"a\":1}}\n");
      }
    }
    Path file = dir.resolve("interleaved.ndjson");
    Files.writeString(file, s.toString());
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start()) {
      Cli.Run run =
          new Cli(a.address() + "," + b.address()).run("load", "--skip-bad", file.toString());
      assertEquals(0, run.exitCode(), run.toString());
      List<String> err = run.err().lines().toList();
      assertEquals(
          "whack load: " + (bad - 100) + " more bad records: counted, not shown",
          err.get(err.size() - 1));
      List<Integer> lines =
          err.subList(0, err.size() - 1).stream()
              .map(l -> Integer.parseInt(l.replaceAll(".*: line ([0-9]+).*", "$1")))
              .toList();
      assertEquals(100, lines.size(), run.err());
      assertEquals(lines.stream().sorted().toList(), lines, "in input order: " + run.err());
    }
  }

  @Test
  void shouldReportAProtobufRecordByItsOffsetAndStopAtABrokenFrameEvenWhenSkipping()
      throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    LoadRecord.newBuilder()
        .setKey("o:1")
        .setProfile(ProfileJson.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_8)))
        .build()
        .writeDelimitedTo(stream);
    int second = stream.size();
    LoadRecord.newBuilder().setKey("o:2").build().writeDelimitedTo(stream); // no body
    LoadRecord.newBuilder()
        .setKey("o:3")
        .setProfile(ProfileJson.parse("{\"a\":3}".getBytes(StandardCharsets.UTF_8)))
        .build()
        .writeDelimitedTo(stream);
    int fourth = stream.size();
    stream.write(new byte[] {50, 10, 3}); // a record of 50 bytes, cut short
    Path file = dir.resolve("broken.pb");
    Files.write(file, stream.toByteArray());
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", "--skip-bad", file.toString());
      assertEquals(1, run.exitCode(), run.toString());
      List<String> err = run.err().lines().toList();
      assertEquals(
          "whack load: "
              + file
              + ": offset "
              + second
              + ": a record needs a profile, an update or an item",
          err.get(0));
      assertEquals(
          "whack load: "
              + file
              + ": offset "
              + fourth
              + ": the stream ends inside a record (50 bytes announced, 2 there)",
          err.get(1));
      assertEquals(
          0, cli.run("get", "o:3").exitCode(), "records before the broken frame are applied");
    }
  }

  @Test
  void shouldRoundTripLoadDumpLoadIntoFreshNodesIdentically() throws IOException {
    Path generated = dir.resolve("gen.ndjson");
    Path first = dir.resolve("first.ndjson");
    Path second = dir.resolve("second.ndjson.gz");
    Path third = dir.resolve("third.pb");
    Path fourth = dir.resolve("fourth.ndjson");
    String[] segments = {
      "dk", "country == \"DK\"",
      "buyers", "count(purchase, 30d) >= 1",
      "viewers", "sum(view, 30d) >= 0 and count(view, 30d) >= 5",
      "vip", "\"vip\" in tags and age >= 30"
    };
    writeProfilesThenUpdates(generated, 3000, 2000);

    List<String> counts = new ArrayList<>();
    String list;
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start()) {
      Cli cli = new Cli(a.address() + "," + b.address());
      define(cli, segments);
      assertEquals(0, cli.run("load", generated.toString()).exitCode());
      Cli.Run dump = cli.run("dump", "-o", first.toString());
      assertEquals(0, dump.exitCode(), dump.toString());
      assertTrue(dump.out().startsWith("dumped 3,000 profiles to " + first), dump.out());
      for (int i = 0; i < segments.length; i += 2) {
        counts.add(cli.run("segment", "count", segments[i]).out());
      }
      list = cli.run("segment", "list").out();
      String dk = cli.run("dump", "--segment", "dk and not vip").out();
      assertEquals(
          Long.parseLong(cli.run("segment", "count", "dk and not vip").out().trim()),
          dk.lines().count());
    }
    assertTrue(Files.readString(first).contains("\"$events\":{"), "event series are dumped");
    assertTrue(Files.readString(first).contains("\"$producers\":{"), "producer marks are dumped");

    assertTrue(
        Files.readString(first).startsWith("{\"segment\":{\"name\":\"buyers\""),
        () -> "a whole dump starts with the segment definitions: " + head(first));

    // Load the dump into a fresh, empty cluster of the same shape: the dump alone brings back the
    // same profiles and the same segments. Two connections per node store concurrently, so a
    // node's order may differ: compare sorted.
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start()) {
      Cli cli = new Cli(a.address() + "," + b.address());
      assertEquals(0, cli.run("load", first.toString()).exitCode());
      assertEquals(0, cli.run("dump", "-o", second.toString()).exitCode());
      assertEquals(list, cli.run("segment", "list").out());
      for (int i = 0; i < segments.length; i += 2) {
        assertEquals(
            counts.get(i / 2), cli.run("segment", "count", segments[i]).out(), segments[i]);
      }
    }
    assertEquals(
        sortedLines(Files.readAllBytes(first)), sortedLines(gunzip(Files.readAllBytes(second))));

    // One node loaded over one connection keeps the order: the very same dump, byte for byte,
    // and again through the protobuf form.
    byte[] oneNodeDump;
    try (EmbeddedNode one = EmbeddedNode.start()) {
      Cli cli = new Cli(one.address());
      define(cli, segments);
      assertEquals(0, cli.run("load", "--connections", "1", first.toString()).exitCode());
      assertEquals(list, cli.run("segment", "list").out());
      oneNodeDump = cli.run("dump").outBytes();
      assertEquals(0, cli.run("dump", "-o", third.toString()).exitCode());
      assertEquals(0, cli.run("dump", "-o", second.toString()).exitCode());
    }
    try (EmbeddedNode one = EmbeddedNode.start()) {
      Cli cli = new Cli(one.address());
      define(cli, segments);
      assertEquals(0, cli.run("load", "--connections", "1", second.toString()).exitCode());
      assertArrayEquals(oneNodeDump, cli.run("dump").outBytes());
    }
    try (EmbeddedNode one = EmbeddedNode.start()) {
      Cli cli = new Cli(one.address());
      define(cli, segments);
      assertEquals(0, cli.run("load", "--connections", "1", third.toString()).exitCode());
      assertEquals(list, cli.run("segment", "list").out());
      assertEquals(0, cli.run("dump", "-o", fourth.toString()).exitCode());
    }
    assertArrayEquals(oneNodeDump, Files.readAllBytes(fourth));
    assertEquals(sortedLines(Files.readAllBytes(first)), sortedLines(oneNodeDump));
  }

  /**
   * {@code profiles} whole profiles {@code g:0 ..} as a dump has them (country, age, tags, most
   * with daily {@code view} and {@code purchase} buckets of the last 30 days, some with a producer
   * mark), then {@code updates} update records on them (events, attribute changes, a producer's
   * sequence), as NDJSON; deterministic.
   */
  private static void writeProfilesThenUpdates(Path file, int profiles, int updates)
      throws IOException {
    String[] countries = {"DK", "SE", "NO", "DE"};
    String[] tags = {"vip", "newsletter", "trial", "mobile"};
    SplittableRandom r = new SplittableRandom(42);
    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < profiles; i++) {
      b.append("{\"key\":\"g:")
          .append(i)
          .append("\",\"profile\":{\"country\":\"")
          .append(countries[r.nextInt(countries.length)])
          .append("\",\"age\":")
          .append(16 + r.nextInt(60))
          .append(",\"tags\":[\"")
          .append(tags[r.nextInt(tags.length)])
          .append('"');
      if (r.nextBoolean()) {
        b.append(",\"").append(tags[r.nextInt(tags.length)]).append('"');
      }
      b.append("],\"$events\":{");
      String separator = "";
      for (String event : new String[] {"view", "purchase"}) {
        if (r.nextInt(10) < (event.equals("view") ? 8 : 4)) {
          b.append(separator).append('"').append(event).append("\":{");
          separator = ",";
          String day = "";
          for (int ago = 29; ago >= 0; ago--) {
            if (r.nextInt(5) == 0 || ago == 0 && day.isEmpty()) {
              int count = 1 + r.nextInt(3);
              b.append(day).append('"').append(today.minusDays(ago)).append("\":[").append(count);
              if (event.equals("purchase")) {
                long sum = 0;
                long squares = 0;
                for (int k = 0; k < count; k++) {
                  long value = 5 + r.nextInt(200);
                  sum += value;
                  squares += value * value;
                }
                b.append(',').append(sum).append(',').append(squares);
              }
              b.append(']');
              day = ",";
            }
          }
          b.append('}');
        }
      }
      b.append('}');
      if (r.nextInt(4) == 0) {
        b.append(",\"$producers\":{\"shop-1\":").append(1 + r.nextInt(10_000)).append('}');
      }
      b.append("}}\n");
    }
    for (int i = 0; i < updates; i++) {
      b.append("{\"key\":\"g:").append(r.nextInt(profiles)).append("\",\"update\":");
      b.append(
          switch (r.nextInt(4)) {
            case 0 -> "{\"events\":[{\"name\":\"view\"}]}";
            case 1 ->
                "{\"events\":[{\"name\":\"purchase\",\"value\":" + (1 + r.nextInt(200)) + "}]}";
            case 2 ->
                "{\"set\":{\"age\":"
                    + (16 + r.nextInt(60))
                    + "},\"producer\":\"shop-2\",\"seq\":"
                    + i
                    + "}";
            default -> "{\"add\":{\"tags\":[\"" + tags[r.nextInt(tags.length)] + "\"]}}";
          });
      b.append("}\n");
    }
    Files.writeString(file, b);
  }

  private static List<String> sortedLines(byte[] text) {
    return new String(text, StandardCharsets.UTF_8).lines().sorted().toList();
  }

  @Test
  void shouldDumpToStdoutQuietly() {
    try (EmbeddedNode node = EmbeddedNode.start()) {
      Cli cli = new Cli(node.address());
      cli.run("set", "d:1", "{\"x\":\"a \\\"quoted\\\" text\"}");
      cli.run("set", "d\"2", "{}");
      Cli.Run run = cli.run("dump");
      assertEquals(0, run.exitCode(), run.toString());
      assertEquals("", run.err());
      assertEquals(
          List.of(
              "{\"key\":\"d:1\",\"profile\":{\"x\":\"a \\\"quoted\\\" text\"}}",
              "{\"key\":\"d\\\"2\",\"profile\":{}}"),
          run.lines());
      Cli.Run bad = cli.run("dump", "--segment", "nosuch");
      assertEquals(1, bad.exitCode());
      assertEquals("whack dump: unknown segment nosuch\n", bad.err());
    }
  }

  @Test
  void shouldCheckAFileWithoutSendingOnDryRun() throws IOException {
    Path file = dir.resolve("check.ndjson");
    Files.writeString(
        file,
        "{\"key\":\"c:1\",\"profile\":{\"a\":1}}\n{\"key\":\"c:2\",\"profile\":{\"a\":null}}\n");
    Cli cli = new Cli("127.0.0.1:1");
    Cli.Run run = cli.run("load", "--dry-run", "--validate", file.toString());
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(
        run.err()
            .startsWith(
                "whack load: " + file + ": line 2: bad profile: invalid JSON at line 1, column 6"),
        run.err());
    assertEquals(
        0, cli.run("load", "--dry-run", file.toString()).exitCode(), "the node would be the judge");
  }

  @Test
  void shouldCountARecordWithABadKeyOnceAmongTheRecordsRead() throws IOException {
    // It was counted when read and again when found bad: 3 records read from a file of 2.
    Path file = dir.resolve("badkey.ndjson");
    Files.writeString(
        file, "{\"key\":\"a\",\"profile\":{\"n\":1}}\n{\"key\":\"a b\",\"profile\":{\"n\":1}}\n");
    Cli cli = new Cli("127.0.0.1:1");
    Cli.Run run = cli.run("load", "--dry-run", "--skip-bad", "--json", file.toString());
    assertEquals(0, run.exitCode(), run.toString());
    assertTrue(run.out().startsWith("{\"records\":2,\"sent\":0,"), run.out());
    assertTrue(run.out().contains("\"skipped\":1,"), run.out());
    Cli.Run human = cli.run("load", "--dry-run", "--skip-bad", file.toString());
    assertTrue(human.out().startsWith("checked 1 record from "), human.out());
  }

  @Test
  void shouldExitTwoForAMissingFileAndThreeForAnUnreachableCluster() throws IOException {
    Cli cli = new Cli("127.0.0.1:1");
    Cli.Run missing = cli.run("load", dir.resolve("nope.ndjson").toString());
    assertEquals(2, missing.exitCode(), missing.toString());
    assertEquals("whack load: " + dir.resolve("nope.ndjson") + ": no such file\n", missing.err());

    Path file = dir.resolve("ok.ndjson");
    Files.writeString(file, "{\"key\":\"x\",\"profile\":{}}\n");
    long start = System.nanoTime();
    Cli.Run down = cli.run("load", file.toString());
    assertEquals(3, down.exitCode(), down.toString());
    assertTrue(
        down.err().startsWith("whack load: cannot reach the cluster: 127.0.0.1:1 is down"),
        down.err());
    assertTrue(System.nanoTime() - start < 3_000_000_000L, "fails fast");
    assertFalse(down.out().contains("loaded"));
  }

  private static void define(Cli cli, String[] segments) {
    for (int i = 0; i < segments.length; i += 2) {
      Cli.Run run = cli.run("segment", "define", segments[i], segments[i + 1]);
      assertEquals(0, run.exitCode(), run.toString());
    }
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }

  private static byte[] gunzip(byte[] data) throws IOException {
    try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(data))) {
      return in.readAllBytes();
    }
  }

  private static String head(Path file) {
    try {
      String text = Files.readString(file);
      return text.substring(0, Math.min(300, text.length()));
    } catch (IOException e) {
      return e.toString();
    }
  }
}

package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Segment commands against two real nodes (so every answer is merged from both): output, errors
 * with positions, exit codes.
 */
class SegmentCommandsTest {
  private static EmbeddedNode a;
  private static EmbeddedNode b;
  private static Cli cli;

  @BeforeAll
  static void start() {
    a = EmbeddedNode.start();
    b = EmbeddedNode.start();
    cli = new Cli(a.address() + "," + b.address());
    for (int i = 0; i < 20; i++) {
      String country = i % 2 == 0 ? "DK" : "SE";
      String tags = i % 4 == 0 ? "[\"vip\"]" : "[]";
      Cli.Run set =
          cli.run(
              "set",
              "u:" + i,
              "{\"country\":\"" + country + "\",\"age\":" + (20 + i) + ",\"tags\":" + tags + "}");
      assertEquals(0, set.exitCode(), set.toString());
    }
    assertEquals(0, cli.run("segment", "define", "dk", "country == \"DK\"").exitCode());
    assertEquals(0, cli.run("segment", "define", "vip", "\"vip\"", "in", "tags").exitCode());
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  @Test
  void shouldDefineAndPrintTheSize() {
    Cli.Run run = cli.run("segment", "define", "old", "age >= 35");
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("defined old: 5 profiles\n", run.out());
    assertEquals(
        "{\"name\":\"old\",\"size\":5}\n",
        cli.run("segment", "define", "old", "age >= 35", "--json").out());
    assertEquals(0, cli.run("segment", "drop", "old").exitCode());
  }

  @Test
  void shouldDryRunADefinitionPrintingTheSizeAndASampleAndDefineNothing() {
    Cli.Run run = cli.run("segment", "define", "--dry-run", "--sample", "3", "old", "age >= 35");
    assertEquals(0, run.exitCode(), run.toString());
    List<String> lines = run.lines();
    assertEquals("would define old: 5 profiles (dry run: nothing defined)", lines.get(0));
    assertEquals(4, lines.size(), run.out());
    List<String> old = List.of("u:15", "u:16", "u:17", "u:18", "u:19");
    assertTrue(old.containsAll(lines.subList(1, 4)), run.out());
    assertEquals(3, lines.stream().skip(1).distinct().count(), run.out());

    Cli.Run byDefault = cli.run("segment", "define", "old", "age >= 35", "--dry-run");
    assertEquals(
        old, byDefault.lines().stream().skip(1).sorted().toList(), "ten keys by default: all five");
    Cli.Run json =
        cli.run("segment", "define", "--dry-run", "--sample", "0", "old", "age >= 35", "--json");
    assertEquals("{\"name\":\"old\",\"dry_run\":true,\"size\":5,\"sample\":[]}\n", json.out());
    Cli.Run none = cli.run("segment", "define", "--dry-run", "nobody", "age", ">", "1000");
    assertEquals("would define nobody: 0 profiles (dry run: nothing defined)\n", none.out());

    Cli.Run list = cli.run("segment", "list", "--json");
    assertTrue(!list.out().contains("old") && !list.out().contains("nobody"), list.out());
    assertEquals(1, cli.run("segment", "count", "old").exitCode(), "nothing was defined");
  }

  @Test
  void shouldExitAsADefinitionDoesWhenADryRunIsRefused() {
    Cli.Run bad = cli.run("segment", "define", "--dry-run", "broken", "country == \"DK\" and and");
    assertEquals(1, bad.exitCode(), bad.toString());
    assertTrue(
        bad.err().startsWith("whack segment define: bad expression at position 20: "), bad.err());
    assertTrue(bad.err().endsWith("(near 'and')\n"), bad.err());
    Cli.Run badName = cli.run("segment", "define", "--dry-run", "xor", "age > 1");
    assertEquals(1, badName.exitCode(), badName.toString());
    assertTrue(
        badName.err().startsWith("whack segment define: bad segment name xor"), badName.err());
    for (String[] args :
        new String[][] {
          {"segment", "define", "--sample", "3", "x", "age > 1"},
          {"segment", "define", "--dry-run", "--sample", "1001", "x", "age > 1"},
          {"segment", "define", "--dry-run", "--sample", "-1", "x", "age > 1"}
        }) {
      Cli.Run usage = cli.run(args);
      assertEquals(2, usage.exitCode(), usage.toString());
      assertEquals("", usage.out());
    }
    assertEquals(1, cli.run("segment", "count", "x").exitCode(), "nothing was defined");
  }

  @Test
  void shouldRejectABadExpressionWithItsPositionAndDefineNothing() {
    Cli.Run run = cli.run("segment", "define", "broken", "country == \"DK\" and and");
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(
        run.err().startsWith("whack segment define: bad expression at position 20: "), run.err());
    assertTrue(run.err().endsWith("(near 'and')\n"), run.err());
    assertEquals(1, run.err().lines().count());
    assertEquals(1, cli.run("segment", "count", "broken").exitCode(), "nothing was defined");
    // A reason that already says where (the end) is not told twice.
    for (String[] args :
        new String[][] {
          {"segment", "query", "age > 1 and", "--count"}, {"segment", "define", "x", "age >"}
        }) {
      Cli.Run end = cli.run(args);
      assertEquals(1, end.exitCode(), end.toString());
      int said = end.err().split("the end", -1).length - 1;
      assertEquals(1, said, "'the end' once: " + end.err());
    }
  }

  @Test
  void shouldWarnWhenANewSegmentIsEmptyForComparingANumberWithAString() {
    assertEquals(0, cli.run("set", "warn:1", "{\"years\":42}").exitCode());
    Cli.Run quoted = cli.run("segment", "define", "years_x", "years > \"30\"");
    assertEquals(0, quoted.exitCode(), quoted.toString());
    assertTrue(
        quoted.err().contains("warning: years_x is empty, and it compares years with a string"),
        quoted.toString());
    Cli.Run plain = cli.run("segment", "define", "years_n", "years > 30");
    assertEquals("", plain.err(), plain.toString());
    cli.run("segment", "drop", "years_x");
    cli.run("segment", "drop", "years_n");
    cli.run("delete", "warn:1");
  }

  @Test
  void shouldListSegmentsAsATableAndAsJson() {
    Cli.Run list = cli.run("segment", "list");
    assertEquals(0, list.exitCode(), list.toString());
    assertEquals(
        List.of(
            "NAME  SIZE  EXPRESSION",
            "dk      10  country == \"DK\"",
            "vip      5  \"vip\" in tags"),
        list.lines());
    assertEquals(
        "[{\"name\":\"dk\",\"size\":10,\"expression\":\"country == \\\"DK\\\"\"},"
            + "{\"name\":\"vip\",\"size\":5,\"expression\":\"\\\"vip\\\" in tags\"}]\n",
        cli.run("segment", "list", "--json").out());
  }

  @Test
  void shouldPrintTheCountAloneForASegmentQuery() {
    assertEquals("10\n", cli.run("segment", "count", "dk").out());
    assertEquals("5\n", cli.run("segment", "count", "dk and not vip").out());
    assertEquals(
        "5\n", cli.run("segment", "count", "dk", "and", "not", "vip").out(), "words are joined");
    assertEquals(
        "{\"query\":\"vip or dk\",\"count\":10}\n",
        cli.run("segment", "count", "vip or dk", "--json").out());
    // Asked as partial, a whole answer says nothing is missing.
    Cli.Run partial = cli.run("segment", "count", "dk", "--partial");
    assertEquals("10\n", partial.out());
    assertEquals("", partial.err());
    assertEquals(
        "{\"query\":\"dk\",\"count\":10,\"missing\":{}}\n",
        cli.run("segment", "count", "dk", "--partial", "--json").out());
    assertEquals(
        "{\"query\":\"country == \\\"DK\\\"\",\"count\":10,\"missing\":{}}\n",
        cli.run("segment", "query", "country == \"DK\"", "--count", "--partial", "--json").out());
    assertEquals(2, cli.run("segment", "query", "country == \"DK\"", "--partial").exitCode());
  }

  @Test
  void shouldExitOneForAnUnknownSegment() {
    Cli.Run run = cli.run("segment", "count", "nosuch and dk");
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("whack segment count: unknown segment nosuch\n", run.err());
  }

  @Test
  void shouldPrintMembersOnePerLineUpToTheLimit() {
    Cli.Run all = cli.run("segment", "members", "vip");
    assertEquals(0, all.exitCode(), all.toString());
    assertEquals(
        List.of("u:0", "u:12", "u:16", "u:4", "u:8"), all.lines().stream().sorted().toList());
    Cli.Run two = cli.run("segment", "members", "dk and not vip", "--limit", "2");
    assertEquals(2, two.lines().size());
    Cli.Run json = cli.run("segment", "members", "vip", "--json", "--limit", "1");
    assertTrue(json.out().matches("\\[\"u:\\d+\"]\n"), json.out());
    assertEquals(2, cli.run("segment", "members", "vip", "--limit", "0").exitCode());
  }

  @Test
  void shouldPrintTheSegmentsOfAProfileWithTheirEnteredTimesAndExitOneForAMissingOne() {
    List<String> lines = cli.run("segment", "of", "u:4").lines().stream().sorted().toList();
    String iso = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ";
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(0).matches("dk\t" + iso), lines.get(0));
    assertTrue(lines.get(1).matches("vip\t" + iso), lines.get(1));
    assertEquals(
        List.of("dk", "vip"),
        cli.run("segment", "of", "u:4", "--names").lines().stream().sorted().toList());
    String json = cli.run("segment", "of", "u:4", "--json").out();
    String member = "\\{\"segment\":\"(dk|vip)\",\"entered\":\"" + iso + "\"}";
    assertTrue(json.matches("\\[" + member + "," + member + "]\n"), json);
    assertEquals("[]\n", cli.run("segment", "of", "u:1", "--json").out());
    Cli.Run none = cli.run("segment", "of", "u:1");
    assertEquals(0, none.exitCode());
    assertEquals("", none.out());
    Cli.Run missing = cli.run("segment", "of", "u:absent");
    assertEquals(1, missing.exitCode());
    assertEquals("whack segment of: no profile u:absent\n", missing.err());
  }

  @Test
  void shouldEvaluateAnAdHocFilter() {
    assertEquals("3\n", cli.run("segment", "query", "age < 23", "--count").out());
    assertEquals(
        List.of("u:0", "u:1", "u:2"),
        cli.run("segment", "query", "age < 23").lines().stream().sorted().toList());
    Cli.Run bad = cli.run("segment", "query", "age <", "--count");
    assertEquals(1, bad.exitCode());
    assertTrue(
        bad.err().startsWith("whack segment query: bad expression at position 5: "), bad.err());
  }

  @Test
  void shouldDropOnceAndThenExitOne() {
    cli.run("segment", "define", "tmp", "age > 1");
    assertEquals("dropped tmp\n", cli.run("segment", "drop", "tmp").out());
    Cli.Run again = cli.run("segment", "drop", "tmp");
    assertEquals(1, again.exitCode());
    assertEquals("whack segment drop: no segment tmp\n", again.err());
  }

  @Test
  void shouldDropASegmentOthersReadOnlyWithForce() {
    assertEquals(0, cli.run("segment", "define", "base", "age > 1").exitCode());
    assertEquals(0, cli.run("segment", "define", "reader", "in_segment(\"base\")").exitCode());
    Cli.Run refused = cli.run("segment", "drop", "base");
    assertEquals(1, refused.exitCode());
    assertTrue(
        refused.err().contains("segment base is read by reader (in_segment, entered or time_in)"),
        refused.err());
    assertEquals("dropped base\n", cli.run("segment", "drop", "base", "--force").out());
    assertEquals(1, cli.run("segment", "drop", "reader").exitCode(), "dropped with it");
  }

  @Test
  void shouldPrintChangesAsTheyHappen() throws Exception {
    cli.run("segment", "define", "watched", "flag == true");
    CompletableFuture<Cli.Run> watch =
        CompletableFuture.supplyAsync(
            () -> cli.run("segment", "watch", "watched", "--count", "2", "--for", "20s"));
    // Until the watch is in place, entries are not seen: keep flipping until two are.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    int i = 0;
    while (!watch.isDone() && System.nanoTime() < deadline) {
      cli.run("update", "w:" + (i++ % 2), "{\"set\":{\"flag\":" + (i % 4 < 2) + "}}");
      Thread.sleep(20);
    }
    Cli.Run run = watch.get(5, TimeUnit.SECONDS);
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals(2, run.lines().size(), run.toString());
    for (String line : run.lines()) {
      assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z (enter|leave) watched w:[01]"), line);
    }
    cli.run("segment", "drop", "watched");
  }

  /** Issue 13, finding 5: a segment name is ASCII on every path, the CLI's included. */
  @Test
  void shouldRefuseANonAsciiSegmentNameWithTheNodesReason() {
    for (String[] args :
        new String[][] {
          {"segment", "define", "ünïcödé", "age > 1"},
          {"segment", "drop", "ünïcödé"},
          {"segment", "watch", "ünïcödé", "--for", "1s"}
        }) {
      Cli.Run run = cli.run(args);
      assertEquals(1, run.exitCode(), run.toString());
      assertTrue(
          run.err().startsWith("whack segment " + args[1] + ": bad segment name "), run.err());
      assertEquals(1, run.err().lines().count(), run.err());
    }
  }

  @Test
  void shouldExitOneWatchingAnUnknownSegment() {
    Cli.Run run = cli.run("segment", "watch", "nosuch", "--for", "1s");
    assertEquals(1, run.exitCode(), run.toString());
    assertEquals("whack segment watch: unknown segment nosuch\n", run.err());
  }
}

package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** get, set, update and delete against a real node: output, errors and exit codes. */
class ProfileCommandsTest {
  private static EmbeddedNode node;
  private static Cli cli;

  @BeforeAll
  static void start() {
    node = EmbeddedNode.start();
    cli = new Cli(node.address());
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void shouldStoreAProfileAndPrintItBackAsCanonicalJson() {
    Cli.Run set =
        cli.run(
            "set",
            "p:1",
            "{\"country\":\"DK\", \"age\":31, \"last_seen\":\"2026-11-20T12:00:00+02:00\"}");
    assertEquals(0, set.exitCode(), set.toString());
    assertEquals("stored p:1\n", set.out());

    Cli.Run get = cli.run("get", "p:1");
    assertEquals(0, get.exitCode(), get.toString());
    assertEquals(
        "{\"country\":\"DK\",\"age\":31,\"last_seen\":\"2026-11-20T10:00:00Z\"}\n", get.out());
    assertEquals("", get.err());
  }

  @Test
  void shouldPrintARecordWithJsonAndIndentWithPretty() {
    cli.run("set", "p:2", "{\"a\":1}");
    assertEquals(
        "{\"key\":\"p:2\",\"profile\":{\"a\":1}}\n", cli.run("get", "p:2", "--json").out());
    assertEquals("{\n  \"a\" : 1\n}\n", cli.run("get", "p:2", "--pretty").out());
  }

  @Test
  void shouldExitOneOnAMissWithOneLineOnStderr() {
    Cli.Run get = cli.run("get", "p:absent");
    assertEquals(1, get.exitCode());
    assertEquals("", get.out());
    assertEquals("whack get: no profile p:absent\n", get.err());
  }

  @Test
  void shouldExitOneOnBadProfileJsonWithTheNodesReason() {
    Cli.Run set = cli.run("set", "p:3", "{\"a\":null}");
    assertEquals(1, set.exitCode(), set.toString());
    assertEquals(
        "whack set: bad profile: invalid JSON at line 1, column 6: null is not a value; use \"unset\" to remove an attribute\n",
        set.err());

    Cli.Run broken = cli.run("set", "p:3", "{\"a\":");
    assertEquals(1, broken.exitCode());
    assertTrue(
        broken.err().startsWith("whack set: bad profile: invalid JSON at line 1"), broken.err());
    assertEquals(1, broken.err().lines().count(), "one line, no stack trace");

    Cli.Run notAnObject = cli.run("set", "p:3", "[1,2]");
    assertEquals(1, notAnObject.exitCode());
    assertEquals(
        "whack set: bad profile: Profile JSON is an object, starting with '{'\n",
        notAnObject.err());
    assertEquals(1, cli.run("get", "p:3").exitCode(), "nothing was stored");
  }

  @Test
  void shouldReadTheProfileFromAFileOrStdin(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("p.json");
    Files.writeString(file, "{\"plan\":\"pro\"}\n");
    assertEquals(0, cli.run("set", "p:4", "@" + file).exitCode());
    assertEquals("{\"plan\":\"pro\"}\n", cli.run("get", "p:4").out());

    assertEquals(
        0, new Cli(node.address()).stdin("{\"plan\":\"free\"}").run("set", "p:4", "@-").exitCode());
    assertEquals("{\"plan\":\"free\"}\n", cli.run("get", "p:4").out());

    Cli.Run missing = cli.run("set", "p:4", "@" + dir.resolve("nope.json"));
    assertEquals(1, missing.exitCode());
    assertTrue(
        missing.err().startsWith("whack set: ")
            && missing.err().contains("nope.json: no such file"),
        missing.err());
  }

  @Test
  void shouldStoreAsProtobufAndStillPrintJson() {
    assertEquals(0, cli.run("set", "p:5", "{\"age\":40,\"tags\":[\"x\"]}", "--proto").exitCode());
    assertEquals("{\"age\":40,\"tags\":[\"x\"]}\n", cli.run("get", "p:5").out());
  }

  @Test
  void shouldApplyAnUpdateAndSayWhenAReplayIsIgnored() {
    cli.run("set", "p:6", "{\"visits\":1}");
    String update =
        "{\"incr\":{\"visits\":2},\"add\":{\"tags\":[\"vip\"]},\"producer\":\"shop\",\"seq\":5}";
    Cli.Run first = cli.run("update", "p:6", update);
    assertEquals(0, first.exitCode(), first.toString());
    assertEquals("updated p:6\n", first.out());
    Cli.Run replay = cli.run("update", "p:6", update, "--json");
    assertEquals(0, replay.exitCode());
    assertEquals("{\"key\":\"p:6\",\"result\":\"ignored\"}\n", replay.out());
    assertEquals(
        "{\"visits\":3,\"tags\":[\"vip\"],\"$producers\":{\"shop\":5}}\n",
        cli.run("get", "p:6").out());
  }

  @Test
  void shouldCreateAProfileFromAnUpdateSentAsProtobuf() {
    Cli.Run run = cli.run("update", "p:7", "{\"set\":{\"country\":\"SE\"}}", "--proto");
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("{\"country\":\"SE\"}\n", cli.run("get", "p:7").out());
  }

  @Test
  void shouldExitOneOnARejectedUpdateAndApplyNothing() {
    cli.run("set", "p:8", "{\"name\":\"x\",\"n\":1}");
    Cli.Run run = cli.run("update", "p:8", "{\"set\":{\"n\":2},\"incr\":{\"name\":1}}");
    assertEquals(1, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("whack update: bad update: "), run.err());
    assertEquals("{\"name\":\"x\",\"n\":1}\n", cli.run("get", "p:8").out());
  }

  @Test
  void shouldDeleteOnceAndThenReportAMiss() {
    cli.run("set", "p:9", "{}");
    Cli.Run first = cli.run("delete", "p:9");
    assertEquals(0, first.exitCode());
    assertEquals("deleted p:9\n", first.out());
    Cli.Run second = cli.run("delete", "p:9");
    assertEquals(1, second.exitCode());
    assertEquals("whack delete: nothing stored under p:9\n", second.err());
    assertEquals("{\"key\":\"p:9\",\"deleted\":false}\n", cli.run("delete", "p:9", "--json").out());
  }

  @Test
  void shouldRefuseToPrintAnOpaqueValueAsAProfileUnlessRaw() {
    try (var raw = node.connect()) {
      raw.send("set plain 5 0 5\r\nhello\r\n");
      assertEquals("STORED\r\n", raw.readLine());
    }
    Cli.Run get = cli.run("get", "plain");
    assertEquals(1, get.exitCode());
    assertEquals(
        "whack get: plain holds an opaque value (5 bytes, flags 5), not a profile; --raw prints it\n",
        get.err());
    assertEquals("hello\n", cli.run("get", "plain", "--raw").out());
  }

  @Test
  void shouldTreatABadKeyAsBadUsage() {
    Cli.Run run = cli.run("get", "has space");
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals(
        "whack get: a key cannot contain spaces or control characters: has space\n", run.err());
  }
}

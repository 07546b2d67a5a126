package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dimension commands against two real nodes (a definition reaches both, a listing merges them):
 * output, errors with the node's reason, exit codes.
 */
class DimensionCommandsTest {
  private static EmbeddedNode a;
  private static EmbeddedNode b;
  private static Cli cli;

  @TempDir Path dir;

  @BeforeAll
  static void start() {
    a = EmbeddedNode.start();
    b = EmbeddedNode.start();
    cli = new Cli(a.address() + "," + b.address());
  }

  @AfterAll
  static void stop() {
    a.close();
    b.close();
  }

  @Test
  void shouldDefineListAndDropOnEveryNode() throws Exception {
    Cli.Run define =
        cli.run("dimension", "define", "color", "{\"property\":\"color\",\"event\":\"view\"}");
    assertEquals(0, define.exitCode(), define.toString());
    assertEquals(
        "defined color: {\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\","
            + "\"max_categories\":64}\n",
        define.out());
    Path file = dir.resolve("price.json");
    Files.writeString(file, "{\"property\":\"price\",\"bounds\":[10000,20000]}");
    Cli.Run fromFile = cli.run("dimension", "define", "price", "--file", file.toString(), "--json");
    assertEquals(0, fromFile.exitCode(), fromFile.toString());
    assertEquals(
        "{\"name\":\"price\",\"definition\":{\"property\":\"price\",\"kind\":\"numeric\","
            + "\"bounds\":[10000,20000]}}\n",
        fromFile.out());
    for (EmbeddedNode node : new EmbeddedNode[] {a, b}) {
      Cli.Run one = new Cli(node.address()).run("dimension", "list", "--json");
      assertTrue(one.out().startsWith("[{\"name\":\"color\""), node.address() + ": " + one.out());
      assertTrue(one.out().contains("{\"name\":\"price\""), node.address() + ": " + one.out());
    }
    Cli.Run list = cli.run("dimension", "list");
    assertEquals(0, list.exitCode(), list.toString());
    assertEquals(
        "NAME   DEFINITION\n"
            + "color  {\"property\":\"color\",\"event\":\"view\",\"kind\":\"categorical\","
            + "\"max_categories\":64}\n"
            + "price  {\"property\":\"price\",\"kind\":\"numeric\",\"bounds\":[10000,20000]}\n",
        list.out());
    assertEquals("dropped price\n", cli.run("dimension", "drop", "price").out());
    Cli.Run again = cli.run("dimension", "drop", "price");
    assertEquals(1, again.exitCode(), again.toString());
    assertEquals("whack dimension drop: no dimension price\n", again.err());
    assertEquals(0, cli.run("dimension", "drop", "color").exitCode());
    assertEquals("[]\n", cli.run("dimension", "list", "--json").out());
  }

  @Test
  void shouldExitOneWithTheNodesReasonWhenADefinitionIsRefused() {
    Cli.Run bad = cli.run("dimension", "define", "size", "{\"prop\":\"size\"}");
    assertEquals(1, bad.exitCode(), bad.toString());
    assertEquals("whack dimension define: unknown field \"prop\"\n", bad.err());
    Cli.Run name = cli.run("dimension", "define", "9lives", "{\"property\":\"x\"}");
    assertEquals(1, name.exitCode(), name.toString());
    assertEquals(
        "whack dimension define: bad dimension name 9lives: it must start with an ASCII letter or"
            + " '_'\n",
        name.err());
    assertTrue(cli.run("dimension", "list", "--json").out().equals("[]\n"), "nothing defined");
  }

  @Test
  void shouldExitTwoWithBothOrNeitherOfJsonAndFile() throws Exception {
    Path file = dir.resolve("d.json");
    Files.write(file, "{\"property\":\"x\"}".getBytes(StandardCharsets.UTF_8));
    Cli.Run both =
        cli.run("dimension", "define", "x", "{\"property\":\"x\"}", "--file", file.toString());
    assertEquals(2, both.exitCode(), both.toString());
    Cli.Run missing = cli.run("dimension", "define", "x", "--file", dir.resolve("no").toString());
    assertEquals(2, missing.exitCode(), missing.toString());
  }
}

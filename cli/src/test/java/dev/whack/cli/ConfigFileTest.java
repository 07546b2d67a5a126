package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code whack node --config FILE} and {@code --print-config} (docs/install.md, "The configuration
 * file"): every flag has a key, flags win over the file, mistakes name the key and the line and
 * exit 2, relative paths are the file's, and what --print-config prints reads back as the same
 * configuration.
 */
class ConfigFileTest {
  @TempDir Path dir;

  private final Cli cli = new Cli(null);

  private static CommandSpec nodeSpec() {
    return Whack.commandLine(Terminal.captured(null, System.out, System.err, Map.of()))
        .getSubcommands()
        .get("node")
        .getCommandSpec();
  }

  private Path file(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  /** --print-config's keys and values, in order (a list's items joined by commas). */
  private static Map<String, String> printed(Cli.Run run) {
    assertEquals(0, run.exitCode(), run.toString());
    assertEquals("", run.err());
    Map<String, String> values = new LinkedHashMap<>();
    String listKey = null;
    for (String line : run.lines()) {
      if (line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("  - ")) {
        values.merge(listKey, line.substring(4), (a, b) -> a.isEmpty() ? b : a + "," + b);
        continue;
      }
      int colon = line.indexOf(':');
      listKey = line.substring(0, colon);
      values.put(listKey, line.substring(colon + 1).strip());
    }
    return values;
  }

  @Test
  void shouldGiveEveryNodeFlagAKeyNamedAsTheFlag() {
    List<String> keys = new ArrayList<>();
    for (OptionSpec option : ConfigFile.keyed(nodeSpec())) {
      keys.add(ConfigFile.key(option));
    }
    for (OptionSpec option : nodeSpec().options()) {
      String name = option.longestName();
      if (option.usageHelp()
          || option.versionHelp()
          || option.inherited()
          || name.equals("--config")
          || name.equals("--print-config")) {
        continue;
      }
      assertTrue(keys.contains(name.substring(2)), name + " has no key in the configuration file");
    }
    assertTrue(
        keys.containsAll(
            List.of("port", "memory", "data-dir", "kafka-bootstrap", "tls-cert", "log-format")),
        keys.toString());
    assertEquals(
        keys.size(),
        printed(cli.run("node", "--print-config")).size(),
        "--print-config prints every key");
  }

  @Test
  void shouldRunWithTheFilesSettings() throws IOException {
    Path config =
        file(
            "whack.yaml",
            """
            # a node for the tests
            port: 11311
            memory: 64m
            skip-damaged: true
            peers:
              - 10.0.0.1:11311
              - 10.0.0.2:11311
            advertise: 10.0.0.1:11311
            fsync: no
            kafka-group:
            """);
    Map<String, String> values =
        printed(cli.run("node", "--config", config.toString(), "--print-config"));
    assertEquals("11311", values.get("port"));
    assertEquals("64m", values.get("memory"));
    assertEquals("true", values.get("skip-damaged"));
    assertEquals("10.0.0.1:11311,10.0.0.2:11311", values.get("peers"));
    assertEquals("\"no\"", values.get("fsync"), "read as the flag reads it: the text no");
    assertEquals("whack", values.get("kafka-group"), "a key without a value keeps the default");
    assertEquals("1m", values.get("max-item-size"), "a key not in the file keeps the default");
  }

  @Test
  void shouldLetTheFlagsWinOverTheFile() throws IOException {
    Path config =
        file(
            "whack.yaml",
            "port: 11311\nmemory: 64m\npeers: 10.0.0.1:11311,10.0.0.2:11311\n"
                + "advertise: 10.0.0.1:11311\nskip-damaged: false\n");
    Map<String, String> values =
        printed(
            cli.run(
                "node",
                "--port",
                "11312",
                "--config",
                config.toString(),
                "--peers",
                "10.0.0.3:11312",
                "--advertise",
                "10.0.0.3:11312",
                "--skip-damaged",
                "--print-config"));
    assertEquals("11312", values.get("port"));
    assertEquals("64m", values.get("memory"));
    assertEquals("10.0.0.3:11312", values.get("peers"), "the flag's list, not both");
    assertEquals("true", values.get("skip-damaged"));
  }

  @Test
  void shouldTurnOffAFilesTrueWithTheNoFlag() throws IOException {
    Path config = file("on.yaml", "skip-damaged: true\ninsecure-plaintext: true\n");
    Map<String, String> values =
        printed(
            cli.run(
                "node",
                "--config",
                config.toString(),
                "--no-skip-damaged",
                "--no-insecure-plaintext",
                "--print-config"));
    assertEquals("false", values.get("skip-damaged"));
    assertEquals("false", values.get("insecure-plaintext"));
    Map<String, String> fromFile =
        printed(cli.run("node", "--config", config.toString(), "--print-config"));
    assertEquals("true", fromFile.get("skip-damaged"));
  }

  @Test
  void shouldNameAnUnknownKeyAndItsLine() throws IOException {
    Path config = file("whack.yaml", "port: 11311\n\n# the cap\nmemroy: 1g\n");
    Cli.Run run = cli.run("node", "--config", config.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals(
        "whack node: " + config + " line 4: unknown key \"memroy\" (did you mean \"memory\"?)\n",
        run.err());
    assertEquals("", run.out());

    Path far = file("far.yaml", "colour: blue\n");
    assertEquals(
        "whack node: " + far + " line 1: unknown key \"colour\"\n",
        cli.run("node", "--config", far.toString()).err());

    Path itself = file("itself.yaml", "config: other.yaml\n");
    assertEquals(
        "whack node: " + itself + " line 1: unknown key \"config\"\n",
        cli.run("node", "--config", itself.toString()).err());
  }

  @Test
  void shouldNameTheKeyTheLineAndTheExpectedFormOfAWrongValue() throws IOException {
    assertWrong(
        "port: 11211\nmetrics-port: abc\n",
        "line 2: \"metrics-port\" must be an integer, not \"abc\"");
    assertWrong("port: 11.5\n", "line 1: \"port\" must be an integer, not \"11.5\"");
    assertWrong(
        "skip-damaged: maybe\n", "line 1: \"skip-damaged\" must be true or false, not \"maybe\"");
    assertWrong(
        "memory:\n  cap: 1g\n", "line 2: \"memory\" must be a single value, not a section of keys");
    assertWrong("bind: [a, b]\n", "line 1: \"bind\" must be a single value, not a list");
    assertWrong(
        "peers:\n  - a:1\n  - [b, c]\n",
        "line 3: an item of \"peers\" must be a single value, not a list");
    assertWrong(
        "peers: {a: 1}\n",
        "line 1: \"peers\" must be a list (- item lines, [a, b], or a,b), not a section of keys");
    assertWrong("port: 99999999999\n", "line 1: \"port\" is out of range: 99999999999");
    assertWrong("port: 1\nport: 2\n", "line 2: \"port\" is given twice (first on line 1)");
    assertWrong(
        "- port\n- memory\n",
        "line 1: expected keys and values (port: 11211), one per line, found a list");
  }

  private void assertWrong(String text, String expected) throws IOException {
    Path config = file("wrong.yaml", text);
    Cli.Run run = cli.run("node", "--config", config.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals("whack node: " + config + " " + expected + "\n", run.err());
  }

  /**
   * A value of the right form that the node refuses says where it is, as the file's mistakes do.
   */
  @Test
  void shouldNameTheLineOfAValueTheNodeRefuses() throws IOException {
    Path config = file("whack.yaml", "port: 11311\nmemory: 1x\n");
    Cli.Run run = cli.run("node", "--config", config.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals(
        "whack node: "
            + config
            + " line 2, \"memory\": not a size (try 64m, 1g or a byte count): 1x\n",
        run.err());

    Path format = file("format.yaml", "log-format: xml\n");
    assertEquals(
        "whack node: "
            + format
            + " line 1, \"log-format\": --log-format must be text or json: xml\n",
        cli.run("node", "--config", format.toString()).err());

    // The same mistake in a flag reads as it always did; the flag wins over the file's good value.
    Path good = file("good.yaml", "memory: 64m\n");
    assertEquals(
        "whack node: not a size (try 64m, 1g or a byte count): 1x\n",
        cli.run("node", "--config", good.toString(), "--memory", "1x").err());
  }

  @Test
  void shouldSayWhereTheYamlIsBroken() throws IOException {
    Path config = file("broken.yaml", "port: 11311\nmemory: [1g\nbind: x\n");
    Cli.Run run = cli.run("node", "--config", config.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.err().startsWith("whack node: " + config + " line "), run.err());
    assertTrue(run.err().contains(": not YAML: "), run.err());
  }

  @Test
  void shouldSayWhenTheFileIsMissing() {
    Path missing = dir.resolve("missing.yaml");
    Cli.Run run = cli.run("node", "--config", missing.toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertEquals("whack node: cannot read " + missing + ": no such file\n", run.err());
  }

  @Test
  void shouldTakeAnEmptyFileAsAllDefaults() throws IOException {
    Path config = file("empty.yaml", "# nothing yet\n");
    assertEquals(
        printed(cli.run("node", "--print-config")),
        printed(cli.run("node", "--config", config.toString(), "--print-config")));
  }

  @Test
  void shouldResolveRelativePathsInTheFileAgainstTheFilesDirectory() throws IOException {
    Path config = file("etc/whack.yaml", "data-dir: data\nauth-file: ../users.txt\n");
    Map<String, String> values =
        printed(cli.run("node", "--config", config.toString(), "--print-config"));
    assertEquals(dir.resolve("etc/data").toAbsolutePath().toString(), values.get("data-dir"));
    assertEquals(dir.resolve("users.txt").toAbsolutePath().toString(), values.get("auth-file"));

    // On the command line a relative path is the working directory's, as for any command.
    Map<String, String> flagged =
        printed(
            cli.run("node", "--config", config.toString(), "--data-dir", "here", "--print-config"));
    assertEquals(Path.of("here").toAbsolutePath().toString(), flagged.get("data-dir"));
  }

  @Test
  void shouldReadWhatPrintConfigPrintsAsTheSameConfiguration() throws IOException {
    Path config =
        file(
            "whack.yaml",
            """
            port: 11411
            bind: 0.0.0.0
            advertise: 10.0.0.1:11411
            memory: 256m
            max-item-size: 2m
            metrics-port: 0
            grpc-port: 11412
            http-port: 11413
            threads: 3
            max-connections: 77
            idle-timeout: 30
            watch-buffer: 1m
            watch-lapped-timeout: 2m
            peers: [10.0.0.1:11411, "10.0.0.2:11411"]
            producer-mark-age: 12h
            data-dir: "data dir/with # and: colon"
            fsync: always
            skip-damaged: true
            snapshot-every: 5m,1000writes
            kafka-bootstrap: 127.0.0.1:9092
            kafka-updates: updates
            kafka-group: "true"
            kafka-dead-letters: dead
            kafka-changes: changes
            kafka-changes-segments: a,b
            kafka-changes-format: protobuf
            kafka-profiles-delay: 2s
            bulk-share: 35
            log-format: json
            """);
    Cli.Run first = cli.run("node", "--config", config.toString(), "--print-config");
    Map<String, String> values = printed(first);
    assertEquals("\"true\"", values.get("kafka-group"), "text that YAML would take for a boolean");
    assertEquals("a,b", values.get("kafka-changes-segments"));
    Path saved = dir.resolve("elsewhere/effective.yaml");
    Files.createDirectories(saved.getParent());
    Files.writeString(saved, first.out());
    Cli.Run again = cli.run("node", "--config", saved.toString(), "--print-config");
    assertEquals(first.out(), again.out());
  }

  /** dist/src/etc/whack.yaml, the archive's sample: every key, and a file the node runs with. */
  @Test
  void shouldShipASampleThatNamesEveryKeyAndReads() throws IOException {
    Path sample = Path.of("..", "dist", "src", "etc", "whack.yaml");
    String text = Files.readString(sample);
    for (OptionSpec option : ConfigFile.keyed(nodeSpec())) {
      String key = ConfigFile.key(option);
      assertTrue(
          text.contains("\n" + key + ":") || text.contains("\n# " + key + ":"),
          "the sample does not name " + key);
    }
    Map<String, String> values =
        printed(cli.run("node", "--config", sample.toString(), "--print-config"));
    assertEquals("/var/lib/whack", values.get("data-dir"));
    assertEquals("127.0.0.1", values.get("bind"));
  }
}

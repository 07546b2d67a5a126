package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * {@code --help} as terminals of 80 and 140 columns show it: two commands' whole output against
 * snapshots (src/test/resources/help; a changed help text changes them on purpose), and every
 * command's lines within the width. A failing snapshot's output is written under target/ to
 * compare.
 */
class HelpSnapshotTest {
  private static String usage(String[] path, int width) {
    CommandLine c = Whack.commandLine();
    for (String name : path) {
      c = c.getSubcommands().get(name);
    }
    c.setUsageHelpAutoWidth(false); // the width asked for, not a terminal's the test runs in
    c.setUsageHelpWidth(width);
    return c.getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  @ParameterizedTest
  @CsvSource({"tenant create, 80", "tenant create, 140", "node, 80", "node, 140"})
  void shouldMatchTheSnapshot(String command, int width) throws IOException {
    String[] path = command.isEmpty() ? new String[0] : command.split(" ");
    String actual = usage(path, width);
    String name = "help/" + String.join("-", path) + "-" + width + ".txt";
    String expected;
    try (InputStream in = HelpSnapshotTest.class.getClassLoader().getResourceAsStream(name)) {
      expected = in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!actual.equals(expected)) {
      Path out = Path.of("target", name);
      Files.createDirectories(out.getParent());
      Files.writeString(out, actual);
    }
    assertEquals(expected, actual, "whack " + command + " --help at " + width + " columns");
  }

  @ParameterizedTest
  @ValueSource(ints = {80, 140})
  void shouldKeepEveryLineOfEveryCommandWithinTheWidth(int width) {
    List<List<String>> paths = new ArrayList<>();
    walk(Whack.commandLine(), new ArrayList<>(), paths);
    assertTrue(paths.size() >= 28, "every command: " + paths.size());
    for (List<String> path : paths) {
      for (String line : usage(path.toArray(String[]::new), width).split("\n")) {
        assertTrue(
            line.length() <= width,
            "whack " + String.join(" ", path) + " --help at " + width + ": " + line);
      }
    }
  }

  private static void walk(CommandLine c, List<String> path, List<List<String>> out) {
    out.add(List.copyOf(path));
    for (var e : new LinkedHashSet<>(c.getSubcommands().entrySet())) {
      if (!e.getValue().getCommandName().equals(e.getKey())) {
        continue; // an alias
      }
      path.add(e.getKey());
      walk(e.getValue(), path, out);
      path.remove(path.size() - 1);
    }
  }
}

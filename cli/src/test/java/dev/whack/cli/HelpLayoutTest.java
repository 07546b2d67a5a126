package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's {@code --help} as a user reads it at the default width of 80 columns: no line
 * wider, a command list that shows whole sentences, and an example for every command that runs.
 */
class HelpLayoutTest {
  private static List<CommandLine> commands() {
    List<CommandLine> all = new ArrayList<>();
    walk(Whack.commandLine(), all);
    assertTrue(all.size() >= 28, "every command, subcommands included: " + all.size());
    return all;
  }

  private static void walk(CommandLine c, List<CommandLine> out) {
    out.add(c);
    for (CommandLine sub : new LinkedHashSet<>(c.getSubcommands().values())) {
      walk(sub, out);
    }
  }

  /**
   * picocli wraps what is wider than the terminal at its left margin, so an example line (kept as
   * it is) wider than 80 columns would break in two there: none is, once laid out.
   */
  @Test
  void shouldFitEveryExampleLineInEightyColumns() {
    for (CommandLine c : commands()) {
      String name = c.getCommandSpec().qualifiedName();
      Cli.Run run = new Cli(null).run(helpArgs(name));
      assertEquals(0, run.exitCode(), name + " --help: " + run);
      var usage = c.getCommandSpec().usageMessage();
      for (String[] lines : List.of(usage.description(), usage.footer())) {
        for (String line : lines) {
          boolean verbatim = !line.isEmpty() && Character.isWhitespace(line.charAt(0));
          assertTrue(!verbatim || line.length() <= HelpLayout.WIDTH, name + " --help: " + line);
        }
      }
    }
  }

  @Test
  void shouldShowEachCommandsFirstSentenceWholeInTheCommandLists() {
    for (CommandLine c : commands()) {
      String[] description = c.getCommandSpec().usageMessage().description();
      String name = c.getCommandSpec().qualifiedName();
      assertTrue(description.length > 0, name + " has a description");
      String first = description[0].strip();
      assertTrue(
          first.endsWith(".") || first.endsWith(")") || first.endsWith(":"),
          name + "'s first line is a whole sentence: " + first);
    }
  }

  @Test
  void shouldGiveAnExampleForEveryCommandThatRuns() {
    for (CommandLine c : commands()) {
      String name = c.getCommandSpec().qualifiedName();
      boolean group = !c.getSubcommands().isEmpty() && c.getParent() != null;
      if (group || name.equals("whack help") || c.getParent() == null) {
        continue; // a group only lists its commands; the root's help shows a tour
      }
      String footer = String.join("\n", c.getCommandSpec().usageMessage().footer());
      assertTrue(footer.contains("Example"), name + " has an example: " + footer);
    }
  }

  @Test
  void shouldJoinTheLinesOfAParagraphAndKeepExamplesAsTheyAre() {
    assertArrayEquals(
        new String[] {
          "First line goes on. Second sentence.", "", "Examples:", "  whack get k", "Last."
        },
        HelpLayout.paragraphs(
            new String[] {
              "First line",
              "goes on. Second",
              "sentence.",
              "",
              "Examples:",
              "  whack get k",
              "Last."
            }));
    assertArrayEquals(
        new String[] {"Do a thing.", "Then more. And more."},
        HelpLayout.summarised(new String[] {"Do a thing. Then more. And more."}));
    assertArrayEquals(
        new String[] {
          "  whack load --dry-run --validate profiles.pb --progress never --json",
          "      check a file"
        },
        HelpLayout.paragraphs(
            new String[] {
              "  whack load --dry-run --validate profiles.pb --progress never --json   check a file"
            }));
  }

  private static String[] helpArgs(String qualifiedName) {
    List<String> args = new ArrayList<>(List.of(qualifiedName.split(" ")));
    args.remove(0); // "whack"
    args.add("--help");
    return args.toArray(String[]::new);
  }
}

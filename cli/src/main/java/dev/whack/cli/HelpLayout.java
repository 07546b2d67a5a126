package dev.whack.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Lays every command's help out for the terminal it is printed on: picocli prints each line of a
 * description or footer as it is given and wraps it at the width, so text written as lines of a
 * source file would break mid-sentence at every line's end, and a command list, which shows a
 * command's first line, would end mid-sentence. Here the lines of each paragraph are joined (and
 * wrapped by picocli at the terminal's width), and a description's first sentence becomes a line of
 * its own, so a command list shows that sentence whole.
 *
 * <p>A paragraph ends at a blank line, at a line ending in ':' (a heading, or what introduces a
 * list) and before an indented line; an indented line (an example, a JSON document, a row of a
 * list) is kept as it is, but for an example too wide with a comment after it: the comment goes on
 * the next line.
 */
final class HelpLayout {
  private HelpLayout() {}

  /** Applies the layout to {@code root} and every subcommand (call once all are added). */
  static void apply(CommandLine root) {
    root.setUsageHelpAutoWidth(true);
    apply(root, Collections.newSetFromMap(new IdentityHashMap<>()));
  }

  private static void apply(CommandLine command, Set<CommandSpec> done) {
    CommandSpec spec = command.getCommandSpec();
    if (!done.add(spec)) {
      return; // an alias: laid out already
    }
    UsageMessageSpec usage = spec.usageMessage();
    usage.description(summarised(paragraphs(usage.description())));
    usage.footer(paragraphs(usage.footer()));
    for (CommandLine sub : command.getSubcommands().values()) {
      apply(sub, done);
    }
  }

  /** {@code lines} with each paragraph's lines joined by a space. */
  static String[] paragraphs(String[] lines) {
    List<String> out = new ArrayList<>();
    StringBuilder paragraph = new StringBuilder();
    for (String line : lines) {
      boolean verbatim = line.isBlank() || Character.isWhitespace(line.charAt(0));
      if (verbatim) {
        flush(paragraph, out);
        addExample(line, out);
        continue;
      }
      if (!paragraph.isEmpty()) {
        paragraph.append(' ');
      }
      paragraph.append(line.strip());
      if (line.strip().endsWith(":")) {
        flush(paragraph, out);
      }
    }
    flush(paragraph, out);
    return out.toArray(String[]::new);
  }

  /**
   * Adds an indented line: one wider than {@link #WIDTH} that has a comment after its command (two
   * or more spaces apart) goes on two lines, the comment under the command, so that it is not
   * wrapped at the margin.
   */
  private static void addExample(String line, List<String> out) {
    int text = 0;
    while (text < line.length() && Character.isWhitespace(line.charAt(text))) {
      text++;
    }
    int gap = line.indexOf("  ", text);
    if (line.length() <= WIDTH || gap < 0) {
      out.add(line);
      return;
    }
    String comment = line.substring(gap).strip();
    out.add(line.substring(0, gap));
    out.add(line.substring(0, text) + "    " + comment);
  }

  /** The width of a terminal that does not say (picocli's default). */
  static final int WIDTH = 80;

  /**
   * {@code description} with its first paragraph's first sentence (up to a '.' followed by a space
   * and a capital letter) on a line of its own.
   */
  static String[] summarised(String[] description) {
    if (description.length == 0 || description[0].isBlank()) {
      return description;
    }
    String first = description[0];
    for (int i = first.indexOf(". "); i >= 0; i = first.indexOf(". ", i + 1)) {
      if (i + 2 < first.length() && Character.isUpperCase(first.charAt(i + 2))) {
        List<String> out = new ArrayList<>(List.of(description));
        out.set(0, first.substring(0, i + 1));
        out.add(1, first.substring(i + 2));
        return out.toArray(String[]::new);
      }
    }
    return description;
  }

  private static void flush(StringBuilder paragraph, List<String> out) {
    if (!paragraph.isEmpty()) {
      out.add(paragraph.toString());
      paragraph.setLength(0);
    }
  }
}

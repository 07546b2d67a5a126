package dev.whack.bench;

import dev.whack.cli.Terminal;
import dev.whack.cli.Whack;
import picocli.CommandLine;

/**
 * The harness's jar ({@code bench/target/whack-bench.jar}): the {@code whack} command line with
 * {@code bench} and {@code gen} added, so that {@code java -jar whack-bench.jar bench ...} is what
 * {@code whack bench ...} was, and every other command runs as in the shipped jar. {@code
 * scripts/whack} sends those two commands here; {@code scripts/bench} and {@code scripts/soak} run
 * this jar for their load and the shipped {@code whack.jar} for the nodes they measure.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) {
    System.exit(commandLine(Terminal.system()).execute(args));
  }

  /** The command line over the given streams (tests capture them). */
  public static CommandLine commandLine(Terminal terminal) {
    return Whack.commandLine(terminal, new BenchCommand(), new GenCommand());
  }
}

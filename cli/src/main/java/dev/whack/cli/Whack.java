package dev.whack.cli;

import dev.whack.node.Versions;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code whack} command: runs a node, and talks to a cluster from the shell.
 *
 * <p>Exit codes are a contract scripts rely on: 0 ok, 1 a failed operation (a miss, a rejected
 * expression or record), 2 bad usage, 3 the cluster (or a node the command needs) cannot be
 * reached. Errors are one line on stderr, {@code whack <command>: <what went wrong>}; {@code
 * --verbose} adds the stack trace.
 */
@Command(
    name = "whack",
    mixinStandardHelpOptions = true,
    versionProvider = Whack.Version.class,
    description = "A real-time profile and segmentation cache that speaks memcached.",
    subcommands = {
      NodeCommand.class,
      GetCommand.class,
      SetCommand.class,
      UpdateCommand.class,
      DeleteCommand.class,
      SegmentCommand.class,
      DimensionCommand.class,
      LoadCommand.class,
      DumpCommand.class,
      StatsCommand.class,
      SnapshotCommand.class,
      ClusterCommand.class,
      AuthCommand.class,
      TenantCommand.class,
      CompletionCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Client commands talk to the servers in --servers, else $WHACK_SERVERS, else 127.0.0.1:11211.",
      "",
      "Exit codes:",
      "  0  ok",
      "  1  the operation failed: a miss, a rejected expression, profile or record",
      "  2  bad usage",
      "  3  the cluster, or a node the command needs, cannot be reached",
      "",
      "Examples:",
      "  whack node --memory 4g",
      "  whack set user:42 '{\"country\":\"DK\",\"age\":31,\"tags\":[\"vip\"]}'",
      "  whack update user:42 '{\"incr\":{\"visits\":1},\"events\":[{\"name\":\"buy\"}]}'",
      "  whack segment define dk_vip 'country == \"DK\" and \"vip\" in tags'",
      "  whack segment count 'dk_vip and not churned'",
      "  whack dimension define color '{\"property\":\"color\",\"event\":\"view\"}'",
      "  whack load profiles.ndjson.gz",
      "  whack dump -o backup.ndjson.gz",
      "  source <(whack completion)        # tab completion in bash or zsh"
    })
public final class Whack implements Callable<Integer> {
  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = 2;
  public static final int EXIT_UNREACHABLE = 3;

  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "print the stack trace of an error")
  boolean verbose;

  @Spec CommandSpec spec;

  private final Terminal terminal;

  Whack(Terminal terminal) {
    this.terminal = terminal;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line over the process's streams. */
  static CommandLine commandLine() {
    return commandLine(Terminal.system());
  }

  /** The command line over the given streams (tests capture them). */
  public static CommandLine commandLine(Terminal terminal) {
    return commandLine(terminal, new Object[0]);
  }

  /**
   * The command line with more commands beside the built-in ones: the benchmark harness ({@code
   * dev.whack.bench.BenchMain}) adds {@code bench} and {@code gen} this way, so that the shipped
   * command carries no load generator and the harness's jar runs every command alike. Each is a
   * picocli {@code @Command} object; its errors and exit codes are handled as the built-in
   * commands' are.
   */
  public static CommandLine commandLine(Terminal terminal, Object... commands) {
    CommandLine cli = new CommandLine(new Whack(terminal));
    // Before the settings below: picocli applies them to the subcommands present at the time.
    for (Object command : commands) {
      cli.addSubcommand(command);
    }
    cli.setOut(new PrintWriter(terminal.out(), true));
    cli.setErr(new PrintWriter(terminal.err(), true));
    // "whack set KEY @profile.json" reads the file itself; picocli must not expand it.
    cli.setExpandAtFiles(false);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExitCodeExceptionMapper(Failures::exitCode);
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine failed = e.getCommandLine();
          failed.getErr().println(failed.getCommandSpec().qualifiedName() + ": " + e.getMessage());
          failed.getErr().println("Try '" + failed.getCommandSpec().qualifiedName() + " --help'.");
          return EXIT_USAGE;
        });
    cli.setExecutionExceptionHandler(
        (e, failed, parsed) -> {
          Throwable cause = e;
          while (cause instanceof picocli.CommandLine.ExecutionException
              && cause.getCause() != null) {
            cause = cause.getCause();
          }
          terminal
              .err()
              .println(failed.getCommandSpec().qualifiedName() + ": " + Failures.message(cause));
          if (verbose(parsed)) {
            cause.printStackTrace(terminal.err());
          }
          terminal.err().flush();
          return Failures.exitCode(cause);
        });
    HelpLayout.apply(cli);
    return cli;
  }

  /** Whether --verbose was given anywhere on the command line. */
  static boolean verbose(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /** The streams of the command line a command runs in. */
  public static Terminal terminal(CommandSpec spec) {
    return ((Whack) spec.root().userObject()).terminal;
  }

  /** Whether --verbose was given, for a running command. */
  static boolean verbose(CommandSpec spec) {
    ParseResult parsed = spec.root().commandLine().getParseResult();
    return parsed != null && verbose(parsed);
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(terminal.err());
    return EXIT_USAGE;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"whack " + Versions.WHACK};
    }
  }
}

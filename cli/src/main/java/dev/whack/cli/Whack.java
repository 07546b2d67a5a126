package dev.whack.cli;

import dev.whack.node.Versions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code whack} command. Exit codes: 0 ok, 1 a failed operation, 2 bad usage, 3 unreachable. */
@Command(
    name = "whack",
    mixinStandardHelpOptions = true,
    versionProvider = Whack.Version.class,
    description = "A real-time profile and segmentation cache that speaks memcached.",
    subcommands = {NodeCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Whack {
  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = 2;
  public static final int EXIT_UNREACHABLE = 3;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Whack());
    cli.setExitCodeExceptionMapper(e -> EXIT_FAILED);
    cli.setParameterExceptionHandler(
        (e, params) -> {
          CommandLine failed = e.getCommandLine();
          failed.getErr().println("whack: " + e.getMessage());
          failed.getErr().println("Try '" + failed.getCommandSpec().qualifiedName() + " --help'.");
          return EXIT_USAGE;
        });
    return cli;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"whack " + Versions.WHACK};
    }
  }
}

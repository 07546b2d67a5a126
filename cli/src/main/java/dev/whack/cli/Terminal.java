package dev.whack.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where a command reads and writes, and what it may know of its environment: the process's standard
 * streams in {@code main}, captured streams in tests.
 *
 * @param errIsTerminal whether stderr is a terminal, so that a progress bar may redraw itself
 * @param hidden reads a secret typed at a terminal without showing it
 */
public record Terminal(
    InputStream in,
    PrintStream out,
    PrintStream err,
    boolean errIsTerminal,
    Function<String, String> environment,
    HiddenInput hidden) {

  /** A line typed at a terminal with its echo off: a password. */
  @FunctionalInterface
  public interface HiddenInput {
    /**
     * Shows {@code prompt} where the person typing sees it (never on stdout, which is often a file)
     * and reads a line from standard input without echoing it.
     *
     * @return the line, empty at the end of input; or nothing when standard input is not a
     *     terminal, to be read then as any other input
     */
    Optional<String> readLine(String prompt) throws IOException;
  }

  /** The process's own streams and environment. */
  public static Terminal system() {
    return new Terminal(
        System.in,
        System.out,
        System.err,
        stderrIsTerminal(),
        System::getenv,
        Terminal::readHiddenFromStdin);
  }

  /** Captured streams, no terminal, the given environment (tests). */
  public static Terminal captured(
      InputStream in, PrintStream out, PrintStream err, Map<String, String> environment) {
    return new Terminal(in, out, err, false, environment::get, prompt -> Optional.empty());
  }

  /**
   * Whether file descriptor 2 is a terminal. Java 21 has no portable way to ask ({@code
   * Console.isTerminal} is Java 22), so on Linux it reads where /proc/self/fd/2 points; elsewhere a
   * console being attached stands for it.
   */
  private static boolean stderrIsTerminal() {
    Path fd = Path.of("/proc/self/fd/2");
    try {
      if (Files.isSymbolicLink(fd)) {
        String target = Files.readSymbolicLink(fd).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      }
    } catch (java.io.IOException | SecurityException | UnsupportedOperationException e) {
      // fall through
    }
    return System.console() != null;
  }

  /**
   * {@link HiddenInput} for the process's stdin. {@code java.io.Console} cannot serve the usual
   * case, {@code whack auth hash alice write >> users}: the JDK gives no console when stdout is not
   * a terminal (checked on 17 and 25 under a pseudo-terminal: {@code System.console()} is null and
   * the typed password is echoed). So the terminal's echo is switched off with {@code stty -echo}
   * on the process's own stdin, which also tells whether stdin is a terminal at all (stty fails
   * otherwise), and switched on again afterwards, by a shutdown hook too if the user presses Ctrl-C
   * meanwhile. Where there is no stty (Windows) the JDK's console is used when there is one.
   */
  private static Optional<String> readHiddenFromStdin(String prompt) throws IOException {
    int echoOff = stty("-echo");
    if (echoOff == 0) {
      Thread restore = new Thread(() -> stty("echo"), "whack-restore-echo");
      Runtime.getRuntime().addShutdownHook(restore);
      try {
        System.err.print(prompt);
        System.err.flush();
        String line =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        return Optional.of(line == null ? "" : line);
      } finally {
        stty("echo");
        System.err.println(); // the Enter typed was not echoed either
        try {
          Runtime.getRuntime().removeShutdownHook(restore);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs anyway, harmlessly
        }
      }
    }
    java.io.Console console = System.console();
    if (echoOff < 0 && console != null) {
      char[] typed = console.readPassword("%s", prompt);
      return Optional.of(typed == null ? "" : new String(typed));
    }
    return Optional.empty();
  }

  /** Runs {@code stty <setting>} on this process's stdin: its exit code, or -1 without stty. */
  private static int stty(String setting) {
    try {
      return new ProcessBuilder("stty", setting)
          .redirectInput(ProcessBuilder.Redirect.INHERIT)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}

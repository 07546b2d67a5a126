package dev.whack.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Where a command reads and writes, and what it may know of its environment: the process's standard
 * streams in {@code main}, captured streams in tests.
 *
 * @param errIsTerminal whether stderr is a terminal, so that a progress bar may redraw itself
 */
public record Terminal(
    InputStream in,
    PrintStream out,
    PrintStream err,
    boolean errIsTerminal,
    Function<String, String> environment) {

  /** The process's own streams and environment. */
  public static Terminal system() {
    return new Terminal(System.in, System.out, System.err, stderrIsTerminal(), System::getenv);
  }

  /** Captured streams, no terminal, the given environment (tests). */
  public static Terminal captured(
      InputStream in, PrintStream out, PrintStream err, Map<String, String> environment) {
    return new Terminal(in, out, err, false, environment::get);
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
}

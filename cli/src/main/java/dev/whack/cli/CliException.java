package dev.whack.cli;

/**
 * A command's failure with the exit code it stands for and a one-line message for people ({@code
 * whack get: no profile user:42}).
 */
final class CliException extends RuntimeException {
  private final int exitCode;

  CliException(int exitCode, String message) {
    this(exitCode, message, null);
  }

  CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A failed operation (exit 1): a miss, a rejected expression or record. */
  static CliException failed(String message) {
    return new CliException(Whack.EXIT_FAILED, message);
  }

  /** Bad usage (exit 2): a wrong argument that picocli could not see. */
  static CliException usage(String message) {
    return new CliException(Whack.EXIT_USAGE, message);
  }

  int exitCode() {
    return exitCode;
  }
}

package dev.whack.cli;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackTimeoutException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** What an exception means for the user: an exit code and a one-line message. */
final class Failures {
  private Failures() {}

  static int exitCode(Throwable t) {
    if (t instanceof CliException c) {
      return c.exitCode();
    }
    if (unreachable(t)) {
      return Whack.EXIT_UNREACHABLE;
    }
    if (t instanceof IllegalArgumentException) {
      return Whack.EXIT_USAGE;
    }
    return Whack.EXIT_FAILED;
  }

  /**
   * The cluster, or a node the command needs, could not be reached or did not answer: refused,
   * timed out, or the connection was lost mid-request.
   */
  static boolean unreachable(Throwable t) {
    return t instanceof NodeUnavailableException
        || t instanceof WhackTimeoutException
        || t instanceof ConnectionClosedException;
  }

  static String message(Throwable t) {
    if (t instanceof CliException) {
      return t.getMessage();
    }
    if (t instanceof ServerErrorException s) {
      return s.serverMessage().isEmpty()
          ? "the node answered " + s.kind() + " (from " + s.node() + ")"
          : s.serverMessage();
    }
    if (unreachable(t)) {
      return "cannot reach the cluster: " + t.getMessage();
    }
    if (t instanceof UncheckedIOException u) {
      return message(u.getCause());
    }
    if (t instanceof NoSuchFileException f) {
      return f.getFile() + ": no such file";
    }
    if (t instanceof AccessDeniedException f) {
      return f.getFile() + ": permission denied";
    }
    if (t instanceof IOException) {
      return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
    if (t instanceof IllegalArgumentException || t instanceof dev.whack.client.WhackException) {
      return String.valueOf(t.getMessage());
    }
    return t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }
}

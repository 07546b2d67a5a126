package dev.whack.cli;

import dev.whack.client.WhackClient;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command that talks to a cluster shares: its options and its streams. */
abstract class ClientCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin ClientOptions cluster;

  final Terminal terminal() {
    return Whack.terminal(spec);
  }

  final PrintStream out() {
    return terminal().out();
  }

  final PrintStream err() {
    return terminal().err();
  }

  final WhackClient connect() {
    return cluster.connect(terminal());
  }

  /** A one-line note on stderr, prefixed like errors ({@code whack load: ...}). */
  final void note(String message) {
    err().println(spec.qualifiedName() + ": " + message);
  }

  /**
   * A JSON argument given inline, or {@code @FILE} for a file's contents, or {@code @-} for stdin.
   */
  final String jsonArgument(String argument) {
    if (!argument.startsWith("@")) {
      return argument;
    }
    String file = argument.substring(1);
    try {
      byte[] bytes =
          file.equals("-") ? terminal().in().readAllBytes() : Files.readAllBytes(Path.of(file));
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** True if the text, after whitespace, starts an object. */
  static boolean isJsonObject(String text) {
    String t = text.stripLeading();
    return t.startsWith("{");
  }
}

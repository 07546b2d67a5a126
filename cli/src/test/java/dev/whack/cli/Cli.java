package dev.whack.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code whack} in-process the way a shell would, with stdout and stderr captured and {@code
 * WHACK_SERVERS} pointing where the test says.
 */
final class Cli {
  /** What a run printed and how it exited. */
  record Run(int exitCode, String out, String err, byte[] outBytes) {
    /** stdout's lines. */
    List<String> lines() {
      return out.lines().toList();
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private final Map<String, String> environment = new HashMap<>();
  private byte[] stdin = new byte[0];

  Cli(String servers) {
    if (servers != null) {
      environment.put("WHACK_SERVERS", servers);
    }
  }

  /** Sets an environment variable the commands see. */
  Cli env(String name, String value) {
    environment.put(name, value);
    return this;
  }

  Cli stdin(byte[] bytes) {
    this.stdin = bytes;
    return this;
  }

  Cli stdin(String text) {
    return stdin(text.getBytes(StandardCharsets.UTF_8));
  }

  Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    InputStream in = new ByteArrayInputStream(stdin);
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      int code = Whack.commandLine(Terminal.captured(in, o, e, environment)).execute(args);
      o.flush();
      e.flush();
      return new Run(
          code,
          out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8),
          out.toByteArray());
    }
  }

  /** {@code args} then {@code more}. */
  static String[] args(String[] args, String... more) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(Arrays.asList(more));
    return all.toArray(String[]::new);
  }
}

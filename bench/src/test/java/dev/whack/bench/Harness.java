package dev.whack.bench;

import dev.whack.cli.Terminal;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the harness's command line ({@link BenchMain}) in-process with stdout and stderr captured.
 */
final class Harness {
  private static final Pattern FIELD = Pattern.compile(" ([a-z0-9_]+)=([^ ]+)");

  /** What a run printed and how it exited. */
  record Run(int exitCode, String out, String err) {
    List<String> lines() {
      return out.lines().toList();
    }

    /** The one stdout line that starts with {@code prefix}. */
    String line(String prefix) {
      List<String> found = out.lines().filter(l -> l.startsWith(prefix)).toList();
      if (found.size() != 1) {
        throw new AssertionError("expected one line starting with '" + prefix + "' in\n" + this);
      }
      return found.get(0);
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private Harness() {}

  static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      int code =
          BenchMain.commandLine(
                  Terminal.captured(new ByteArrayInputStream(new byte[0]), o, e, Map.of()))
              .execute(args);
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  /** The {@code key=value} fields of a result line ("bench <id> <system> ops_s=... ..."). */
  static Map<String, String> fields(String line) {
    Map<String, String> fields = new java.util.LinkedHashMap<>();
    Matcher m = FIELD.matcher(line);
    while (m.find()) {
      fields.put(m.group(1), m.group(2));
    }
    return fields;
  }

  /** A field of a result line as a number. */
  static double number(String line, String key) {
    String v = fields(line).get(key);
    if (v == null) {
      throw new AssertionError("no " + key + "= in " + line);
    }
    return Double.parseDouble(v);
  }
}

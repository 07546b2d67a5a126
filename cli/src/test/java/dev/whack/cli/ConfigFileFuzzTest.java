package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Fuzz target: {@code whack node --config}'s reader ({@link ConfigFile#read}) returns settings or
 * throws {@link ConfigFile.Invalid}, never anything else; and whatever it accepts, printed as
 * {@code --print-config} prints it and read again, prints the same (the round trip, on any input).
 * Seeds in {@code ConfigFileFuzzTestInputs/read/}.
 */
class ConfigFileFuzzTest {
  private static final Path BASE = Path.of("/etc/whack");

  @FuzzTest(maxDuration = "5m")
  void read(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    CommandSpec first = spec();
    try {
      ConfigFile.apply(read(text, first), option -> false);
    } catch (ConfigFile.Invalid e) {
      return; // the documented refusal
    }
    String printed = ConfigFile.print(first);
    CommandSpec again = spec();
    try {
      ConfigFile.apply(read(printed, again), option -> false);
    } catch (ConfigFile.Invalid e) {
      throw new AssertionError("--print-config's output does not read back: " + e.getMessage());
    }
    assertEquals(printed, ConfigFile.print(again));
  }

  private static List<ConfigFile.Setting> read(String text, CommandSpec spec)
      throws ConfigFile.Invalid {
    return ConfigFile.read(new StringReader(text), BASE, "fuzz.yaml", spec);
  }

  /** A fresh node command: its options at their defaults. */
  private static CommandSpec spec() {
    return new CommandLine(new NodeCommand()).getCommandSpec();
  }
}

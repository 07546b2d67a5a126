package dev.whack.node.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.testing.EmbeddedNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libmemcached's own conformance suite, the real {@code memcapable} binary, run against a node:
 * once over the ASCII protocol only and once over the binary protocol only. Each test it runs is a
 * conversation with exact expectations, so a pass here is what libmemcached-based clients rely on.
 * The binary is required (CI installs libmemcached-tools); a missing binary fails the test.
 */
class MemcapableTest {
  /** Debian ships it as memccapable; upstream and other distributions as memcapable. */
  private static final List<String> BINARY_NAMES = List.of("memccapable", "memcapable");

  /** Each run takes about 2.5 s against memcached; this only catches a hang. */
  private static final long RUN_TIMEOUT_SECONDS = 60;

  /** libmemcached 1.0.18 runs 27 ASCII tests and 27 binary tests. */
  private static final int MIN_ASCII_TESTS = 27;

  private static final int MIN_BINARY_TESTS = 27;

  private static final Pattern RESULT_LINE =
      Pattern.compile("^(ascii|binary) .*\\[(pass|fail|skip)]\\s*$", Pattern.MULTILINE);

  private static EmbeddedNode node;

  @BeforeAll
  static void startNode() {
    node = EmbeddedNode.start();
  }

  @AfterAll
  static void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void shouldPassEveryAsciiTest() throws Exception {
    assertAllPassed("-a", "ascii", MIN_ASCII_TESTS);
  }

  @Test
  void shouldPassEveryBinaryTest() throws Exception {
    assertAllPassed("-b", "binary", MIN_BINARY_TESTS);
  }

  private static void assertAllPassed(String protocolFlag, String prefix, int minTests)
      throws IOException, InterruptedException {
    Path memcapable = findMemcapable();
    List<String> command =
        List.of(
            memcapable.toString(),
            "-h",
            "127.0.0.1",
            "-p",
            Integer.toString(node.port()),
            "-t",
            "5",
            protocolFlag);
    Path output = Files.createTempFile("memcapable", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .start();
      boolean finished = process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (!finished) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      String text = Files.readString(output, StandardCharsets.ISO_8859_1);
      String context = String.join(" ", command) + "\n--- output ---\n" + text;
      assertTrue(
          finished, () -> "memcapable did not finish in " + RUN_TIMEOUT_SECONDS + " s: " + context);
      assertEquals(0, process.exitValue(), () -> "memcapable exit code: " + context);
      assertTrue(text.contains("All tests passed"), () -> "no 'All tests passed': " + context);
      List<String> results = new ArrayList<>();
      Matcher m = RESULT_LINE.matcher(text);
      while (m.find()) {
        results.add(m.group());
        assertEquals(prefix, m.group(1), () -> "ran a test of the other protocol: " + context);
        assertFalse("fail".equals(m.group(2)), () -> "a test failed: " + context);
      }
      assertTrue(
          results.size() >= minTests,
          () -> "expected at least " + minTests + " " + prefix + " tests to run: " + context);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private static Path findMemcapable() {
    List<Path> candidates = new ArrayList<>();
    for (String name : BINARY_NAMES) {
      candidates.add(Path.of("/usr/bin", name));
      candidates.add(Path.of("/usr/local/bin", name));
      String path = System.getenv("PATH");
      if (path != null) {
        for (String dir : path.split(File.pathSeparator)) {
          if (!dir.isEmpty()) {
            candidates.add(Path.of(dir, name));
          }
        }
      }
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return fail(
        "memcapable is not installed (looked for "
            + BINARY_NAMES
            + " in /usr/bin, /usr/local/bin and PATH). Install libmemcached-tools"
            + " (apt-get install libmemcached-tools); CI installs it, so this test never skips.");
  }
}

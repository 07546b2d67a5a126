package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: on JDK 24 and later {@code java -jar whack.jar} printed four {@code sun.misc.Unsafe}
 * warnings from the hashing library and a native-access warning from Netty before any output. The
 * packaged jar, run with no JVM option as a user runs it, prints nothing of the JVM's own: a
 * command, a node (up to its banner) and the client commands that talk to it. Runs after {@code
 * package} (the {@code packaged-jar} execution in cli/pom.xml).
 */
class QuietJarIT {
  private static final Path JAR = Path.of("target", "whack.jar");

  /** The node log's line once it listens: a UTC time, the level, the message (docs/install.md). */
  private static final Pattern LISTENING =
      Pattern.compile(
          "\\d{4}-\\d\\d-\\d\\dT[\\d:.]{12}Z INFO  whack node listening on 127\\.0\\.0\\.1:.*");

  @BeforeAll
  static void onJdk24OrLater() {
    assumeTrue(Runtime.version().feature() >= 24, "JDKs before 24 print none of these warnings");
    assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " is built by package");
  }

  @Test
  void shouldPrintTheVersionAndNothingElse() throws Exception {
    Result version = run("--version");
    assertEquals("", version.err());
    assertTrue(version.out().startsWith("whack "), version.out());
  }

  @Test
  void shouldRunANodeAndClientCommandsWithoutJvmWarnings() throws Exception {
    int port = freePort();
    int metricsPort = freePort();
    Process node =
        new ProcessBuilder(
                java(),
                "-jar",
                JAR.toString(),
                "node",
                "--port",
                Integer.toString(port),
                "--metrics-port",
                Integer.toString(metricsPort),
                "--memory",
                "64m")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      BufferedReader err =
          new BufferedReader(new InputStreamReader(node.getErrorStream(), StandardCharsets.UTF_8));
      String first = err.readLine();
      assertTrue(
          first != null && LISTENING.matcher(first).matches() && first.contains(":" + port + " "),
          "the node's first line on stderr: " + first);
      // Generous timeouts: these are cold JVMs on a build machine that may be busy.
      String[] client = {
        "--servers", "127.0.0.1:" + port, "--timeout", "30s", "--connect-timeout", "30s"
      };
      Result set = run(concat(new String[] {"set", "user:1", "{\"country\":\"DK\"}"}, client));
      assertEquals(new Result(0, "", ""), set.withoutOut());
      Result get = run(concat(new String[] {"get", "user:1"}, client));
      assertEquals("", get.err());
      assertTrue(get.out().contains("\"country\""), get.out());
    } finally {
      node.destroy();
      node.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * protobuf-java's warning on JDK 24 and later (protocolbuffers/protobuf#20760: every version so
   * far reads arrays through {@code sun.misc.Unsafe}; only {@code
   * --sun-misc-unsafe-memory-access=allow} silences it), printed by any command that encodes a
   * protobuf message, as client-java's {@code JvmWarningsTest} allows it too. Nothing else may be.
   */
  private static final Pattern PROTOBUF_UNSAFE_WARNING =
      Pattern.compile(
          "WARNING: A terminally deprecated method in sun\\.misc\\.Unsafe has been called\n"
              + "WARNING: sun\\.misc\\.Unsafe::(\\w+) has been called by"
              + " com\\.google\\.protobuf\\.UnsafeUtil\\$MemoryAccessor \\(file:[^)]*\\)\n"
              + "WARNING: Please consider reporting this to the maintainers of class"
              + " com\\.google\\.protobuf\\.UnsafeUtil\\$MemoryAccessor\n"
              + "WARNING: sun\\.misc\\.Unsafe::\\1 will be removed in a future release\n");

  @Test
  void shouldLoadThroughTheGrpcPortWithoutJvmWarningsOfItsOwn() throws Exception {
    int port = freePort();
    int grpcPort = freePort();
    int metricsPort = freePort();
    Process node =
        new ProcessBuilder(
                java(),
                "-jar",
                JAR.toString(),
                "node",
                "--port",
                Integer.toString(port),
                "--grpc-port",
                Integer.toString(grpcPort),
                "--metrics-port",
                Integer.toString(metricsPort),
                "--memory",
                "64m")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    Path records = Files.createTempFile("whack-grpc", ".ndjson");
    try {
      BufferedReader err =
          new BufferedReader(new InputStreamReader(node.getErrorStream(), StandardCharsets.UTF_8));
      String first = err.readLine(); // written once both ports listen
      assertTrue(
          first != null && LISTENING.matcher(first).matches() && first.contains(":" + port + " "),
          "the node's first line on stderr: " + first);
      Files.writeString(
          records,
          "{\"key\":\"user:1\",\"profile\":{\"country\":\"DK\"}}\n"
              + "{\"key\":\"user:1\",\"update\":{\"incr\":{\"visits\":1}}}\n");
      // The node's shaded Netty loads its epoll library here too: the gRPC writer connects with
      // native access enabled by the manifest, and must print nothing about it.
      String[] load = {
        "load",
        "--grpc",
        "127.0.0.1:" + grpcPort,
        "--timeout",
        "30s",
        "--connect-timeout",
        "30s",
        records.toString()
      };
      Result loaded = run(load);
      assertEquals(0, loaded.exitCode(), loaded.toString());
      assertTrue(loaded.out().startsWith("loaded 2 records (1 profiles, 1 updates)"), loaded.out());
      assertEquals(
          "",
          PROTOBUF_UNSAFE_WARNING.matcher(loaded.err()).replaceFirst(""),
          "stderr, but for protobuf's warning: " + loaded.err());
    } finally {
      Files.delete(records);
      node.destroy();
      node.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private record Result(int exitCode, String out, String err) {
    Result withoutOut() {
      return new Result(exitCode, "", err);
    }
  }

  private static Result run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(java(), "-jar", JAR.toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("whack-out", ".txt");
    Path err = Files.createTempFile("whack-err", ".txt");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(command + " did not finish within 120 s");
      }
      return new Result(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

package dev.whack.client.quiet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whack.client.testing.FakeGrpcNode;
import dev.whack.client.testing.FakeServer;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: on JDK 24 and later every application using the Java client printed four {@code
 * sun.misc.Unsafe} warnings from the hashing library before its own output. An application gets
 * none: the client's own classpath, a JVM without options. The gRPC bulk writer adds none of its
 * own (its shaded Netty would load its epoll library, and with TLS its OpenSSL: a restricted-method
 * warning), only protobuf's.
 */
class JvmWarningsTest {
  /**
   * protobuf-java's own warning on JDK 24 and later: every version so far reads arrays through
   * {@code sun.misc.Unsafe} (protocolbuffers/protobuf#20760, open), and only the JVM option {@code
   * --sun-misc-unsafe-memory-access=allow} silences it. Any application that uses protobuf prints
   * it once; the gRPC writer may not add anything of its own.
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
  void shouldPrintNoJvmWarningInAnApplicationThatUsesTheClient() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "JDKs before 24 print none of these warnings");
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer one = FakeServer.start(memcached);
        FakeServer two = FakeServer.start(memcached)) {
      Output run =
          run(QuietClientProgram.class, "127.0.0.1:" + one.port() + ",127.0.0.1:" + two.port());
      assertEquals("", run.err(), "stderr");
      assertEquals(
          "value0 value1 value2 value3 value4 value5 value6 value7 value8 value9\n", run.out());
      assertEquals(0, run.exitCode());
    }
  }

  @Test
  void shouldPrintNoJvmWarningOfItsOwnInAnApplicationThatUsesTheGrpcWriter() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "JDKs before 24 print none of these warnings");
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.ACK_EACH)) {
      Output run = run(QuietGrpcProgram.class, node.target());
      assertEquals(
          "",
          PROTOBUF_UNSAFE_WARNING.matcher(run.err()).replaceFirst(""),
          "stderr, but for protobuf's warning: " + run.err());
      assertEquals("acknowledged 10\n", run.out());
      assertEquals(0, run.exitCode());
    }
  }

  @Test
  void shouldPrintNoJvmWarningOfItsOwnWhenTheGrpcWriterSpeaksTls() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "JDKs before 24 print none of these warnings");
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.ACK_EACH)) {
      Output run = run(QuietGrpcProgram.class, node.target(), "tls");
      assertEquals(
          "",
          PROTOBUF_UNSAFE_WARNING.matcher(run.err()).replaceFirst(""),
          "stderr, but for protobuf's warning: " + run.err());
      assertEquals("refused: true\n", run.out());
      assertEquals(0, run.exitCode());
    }
  }

  private record Output(int exitCode, String out, String err) {}

  /** Runs {@code program} in a JVM of its own with no option, on the client's classpath. */
  private static Output run(Class<?> program, String... arguments) throws Exception {
    Path err = Files.createTempFile("client-stderr", ".txt");
    Path out = Files.createTempFile("client-stdout", ".txt");
    try {
      List<String> command =
          new java.util.ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  clientClassPath(),
                  program.getName()));
      command.addAll(List.of(arguments));
      Process process =
          new ProcessBuilder(command)
              .redirectError(err.toFile())
              .redirectOutput(out.toFile())
              .start();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("the program did not finish within 60 s");
      }
      return new Output(
          process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.delete(err);
      Files.delete(out);
    }
  }

  /** This test's classpath: the client, its dependencies, and test libraries it does not load. */
  private static String clientClassPath() {
    String classPath = System.getProperty("java.class.path");
    for (String entry : classPath.split(File.pathSeparator)) {
      if (entry.contains("whack-node") || entry.contains("/node/target")) {
        throw new IllegalStateException("the node is on the client's test classpath: " + entry);
      }
    }
    return classPath;
  }
}

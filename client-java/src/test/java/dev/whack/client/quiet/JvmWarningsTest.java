package dev.whack.client.quiet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whack.client.testing.FakeServer;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: on JDK 24 and later every application using the Java client printed four {@code
 * sun.misc.Unsafe} warnings from the hashing library before its own output. An application gets
 * none: the client's own classpath, a JVM without options.
 */
class JvmWarningsTest {
  @Test
  void shouldPrintNoJvmWarningInAnApplicationThatUsesTheClient() throws Exception {
    assumeTrue(Runtime.version().feature() >= 24, "JDKs before 24 print none of these warnings");
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer one = FakeServer.start(memcached);
        FakeServer two = FakeServer.start(memcached)) {
      Path err = Files.createTempFile("client-stderr", ".txt");
      Path out = Files.createTempFile("client-stdout", ".txt");
      try {
        Process program =
            new ProcessBuilder(
                    List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        clientClassPath(),
                        QuietClientProgram.class.getName(),
                        "127.0.0.1:" + one.port() + ",127.0.0.1:" + two.port()))
                .redirectError(err.toFile())
                .redirectOutput(out.toFile())
                .start();
        if (!program.waitFor(60, TimeUnit.SECONDS)) {
          program.destroyForcibly();
          throw new AssertionError("the program did not finish within 60 s");
        }
        assertEquals("", Files.readString(err, StandardCharsets.UTF_8), "stderr");
        assertEquals(
            "value0 value1 value2 value3 value4 value5 value6 value7 value8 value9\n",
            Files.readString(out, StandardCharsets.UTF_8));
        assertEquals(0, program.exitValue());
      } finally {
        Files.delete(err);
        Files.delete(out);
      }
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

package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node log as a real {@code whack node} process writes it on stderr, from its start to a
 * SIGTERM: every line a UTC time to the millisecond, a level and the message, or with {@code
 * --log-format json} one JSON object per line. The node is started from a configuration file, so
 * this is also the file's settings reaching a running node.
 */
class NodeLogFormatTest {
  private static final Pattern TEXT_LINE =
      Pattern.compile(
          "(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z) (INFO |WARN |ERROR) (\\S.*)");

  @TempDir Path dir;

  @Test
  void shouldWriteTimestampedLeveledTextLinesFromStartToStop() throws Exception {
    int port = freePort();
    Path config =
        Files.writeString(
            dir.resolve("whack.yaml"),
            "port: " + port + "\nmetrics-port: 0\nmemory: 64m\ndata-dir: data\n");
    List<String> lines = runUntilStopped(List.of("node", "--config", config.toString()), port);
    List<String> messages = new ArrayList<>();
    for (String line : lines) {
      Matcher m = TEXT_LINE.matcher(line);
      assertTrue(m.matches(), "not a log line: " + line);
      Instant at = Instant.parse(m.group(1));
      assertTrue(
          Duration.between(at, Instant.now()).abs().compareTo(Duration.ofMinutes(10)) < 0,
          "a time of now, in UTC: " + line);
      messages.add(m.group(2).strip() + " " + m.group(3));
    }
    assertTrue(
        messages.stream()
            .anyMatch(m -> m.startsWith("INFO whack node listening on 127.0.0.1:" + port + " (")),
        messages.toString());
    assertTrue(messages.contains("INFO whack node: stopping on SIGTERM"), messages.toString());
    assertTrue(
        messages.stream().anyMatch(m -> m.startsWith("INFO whack node: wrote a snapshot")),
        messages.toString());
    assertTrue(Files.isDirectory(dir.resolve("data")), "data-dir is the file's directory's");
  }

  @Test
  void shouldWriteOneJsonObjectPerLineWithLogFormatJson() throws Exception {
    int port = freePort();
    Path config = Files.writeString(dir.resolve("whack.yaml"), "log-format: json\n");
    List<String> lines =
        runUntilStopped(
            List.of(
                "node",
                "--config",
                config.toString(),
                "--port",
                Integer.toString(port),
                "--metrics-port",
                "0",
                "--memory",
                "64m"),
            port);
    List<String> messages = new ArrayList<>();
    for (String line : lines) {
      Map<String, String> object = json(line);
      assertEquals(List.of("time", "level", "message"), List.copyOf(object.keySet()), line);
      assertTrue(
          object.get("time").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line);
      assertTrue(List.of("INFO", "WARN", "ERROR").contains(object.get("level")), line);
      messages.add(object.get("level") + " " + object.get("message"));
    }
    assertTrue(
        messages.stream()
            .anyMatch(m -> m.startsWith("INFO whack node listening on 127.0.0.1:" + port + " (")),
        messages.toString());
    assertTrue(messages.contains("INFO whack node: stopping on SIGTERM"), messages.toString());
  }

  /**
   * Runs {@code whack} from the test class path until it listens on {@code port}, stops it with
   * SIGTERM and returns its stderr lines, less the JVM's own warnings (not the node's to format).
   */
  private static List<String> runUntilStopped(List<String> args, int port) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 24) {
      command.add("--enable-native-access=ALL-UNNAMED");
      command.add("--sun-misc-unsafe-memory-access=allow");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Whack.class.getName()));
    command.addAll(args);
    Process node =
        new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    List<String> lines = new ArrayList<>();
    try (BufferedReader err =
        new BufferedReader(new InputStreamReader(node.getErrorStream(), StandardCharsets.UTF_8))) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      for (String line = err.readLine(); line != null; line = err.readLine()) {
        if (!line.startsWith("WARNING: ")) {
          lines.add(line);
        }
        if (line.contains("listening on 127.0.0.1:" + port)) {
          break;
        }
        assertTrue(System.nanoTime() < deadline, "no start within 90 s: " + lines);
      }
      assertTrue(node.isAlive(), "the node stopped: " + lines);
      node.toHandle().destroy(); // SIGTERM (Process.destroy would close the pipe we read)
      assertTrue(node.waitFor(60, TimeUnit.SECONDS), "no stop within 60 s: " + lines);
      assertEquals(0, node.exitValue(), "the exit code of a SIGTERM stop: " + lines);
      for (String line = err.readLine(); line != null; line = err.readLine()) {
        if (!line.startsWith("WARNING: ")) {
          lines.add(line);
        }
      }
    } finally {
      node.destroyForcibly();
    }
    return lines;
  }

  /** A flat JSON object's fields in order, or a failed assertion when the line is not one. */
  private static Map<String, String> json(String line) throws IOException {
    Map<String, String> fields = new LinkedHashMap<>();
    try (JsonParser p = new JsonFactory().createParser(line)) {
      assertEquals(JsonToken.START_OBJECT, p.nextToken(), line);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        assertEquals(JsonToken.VALUE_STRING, p.nextToken(), line);
        fields.put(name, p.getText());
      }
      assertEquals(null, p.nextToken(), "one object per line: " + line);
    }
    return fields;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

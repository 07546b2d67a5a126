package dev.whack.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The node's layers point one way (docs/architecture.md, "Who owns what"): the front ends ({@code
 * protocol}, and the gRPC and HTTP ports, {@code grpc} and {@code http}) and the network ({@code
 * server}) sit above everything else, and nothing below them names them. Read from the main source
 * tree (Maven runs tests in the module's directory), so a fully qualified name in code or in a
 * {@code {@link}} counts as much as an import.
 */
class LayeringTest {
  private static final Path SOURCES = Path.of("src/main/java/dev/whack/node");

  /** The packages below the front ends, each with its sub-packages. */
  private static final List<String> LOWER_LAYERS =
      List.of("engine", "keyspace", "observability", "cluster", "config");

  private static final Pattern UPWARD =
      Pattern.compile("\\bdev\\.whack\\.node\\.(protocol|server|grpc|http)\\b");

  @Test
  void shouldKeepLayersBelowTheFrontEndsFreeOfFrontEndsAndServer() throws IOException {
    List<String> upward = new ArrayList<>();
    for (String layer : LOWER_LAYERS) {
      Path dir = SOURCES.resolve(layer);
      assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is not a source directory");
      List<Path> files;
      try (Stream<Path> walk = Files.walk(dir)) {
        files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
      }
      assertFalse(files.isEmpty(), "no sources under " + dir);
      for (Path file : files) {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
          if (UPWARD.matcher(lines.get(i)).find()) {
            upward.add(SOURCES.relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
          }
        }
      }
    }
    assertEquals(List.of(), upward, "a lower layer names a front end or the server");
  }
}

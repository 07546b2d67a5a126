package dev.whack.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Data directories that earlier versions of main wrote, kept under {@code
 * src/test/resources/snapshots/<name>/}: a test copies one into its own directory and starts a node
 * on it.
 */
public final class SnapshotFixtures {
  private SnapshotFixtures() {}

  /** Copies the files of fixture {@code name} (its snapshot and log) into {@code dir}. */
  public static void copy(String name, Path dir) {
    try {
      Path fixture = Path.of(SnapshotFixtures.class.getResource("/snapshots/" + name).toURI());
      try (Stream<Path> files = Files.list(fixture)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalArgumentException("no snapshot fixture " + name, e);
    }
  }
}

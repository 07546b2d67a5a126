package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code whack snapshot}: every member with a data directory writes one; one without says why. */
class SnapshotCommandTest {
  @TempDir Path dir;

  @Test
  void shouldWriteASnapshotOnEveryMemberAndSayWhichHasNoDataDirectory() throws IOException {
    try (EmbeddedNode durable = EmbeddedNode.start(c -> c.dataDir(dir).snapshotEvery(0, 0));
        EmbeddedNode inMemory = EmbeddedNode.start()) {
      assertEquals(0, new Cli(durable.address()).run("set", "u:1", "{\"n\":1}").exitCode());
      Cli.Run run = new Cli(durable.address()).run("snapshot");
      assertEquals(0, run.exitCode(), run.toString());
      assertTrue(run.lines().get(0).matches("SERVER +SNAPSHOT +SIZE +RECORDS +TOOK"), run.out());
      assertTrue(run.lines().get(1).matches("127\\.0\\.0\\.1:\\d+ +written +\\S+ .*"), run.out());
      try (Stream<Path> files = Files.list(dir)) {
        assertEquals(1, files.filter(p -> p.getFileName().toString().endsWith(".wsnap")).count());
      }

      run = new Cli(durable.address() + "," + inMemory.address()).run("snapshot");
      assertEquals(1, run.exitCode(), run.toString());
      assertTrue(run.out().lines().anyMatch(l -> l.matches(".* +failed +- +- +-")), run.out());
      assertTrue(
          run.err().contains("no data directory: start the node with --data-dir"), run.err());
    }
  }
}

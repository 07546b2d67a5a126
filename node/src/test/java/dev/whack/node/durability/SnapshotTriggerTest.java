package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --snapshot-every}: a node takes a snapshot by itself once the time since the last one, or
 * the writes logged since, reach the setting, and not before; its stats say so.
 */
class SnapshotTriggerTest {
  @TempDir Path dir;

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");

  private List<String> snapshots() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".wsnap"))
          .sorted()
          .toList();
    }
  }

  /** Waits up to 10 s of real time (the check runs every second) for {@code count} snapshots. */
  private void awaitSnapshots(int count) throws Exception {
    for (int i = 0; i < 100 && snapshots().size() < count; i++) {
      Thread.sleep(100);
    }
    assertEquals(count, snapshots().size(), "snapshots: " + snapshots());
  }

  private static String stats(RawConnection c) {
    c.send("stats\r\n");
    StringBuilder stats = new StringBuilder();
    for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
      stats.append(line);
    }
    return stats.toString();
  }

  private static void set(RawConnection c, int i) {
    c.send("set k" + i + " 0 0 1\r\nv\r\n");
    assertEquals("STORED\r\n", c.readLine());
  }

  @Test
  void shouldTakeASnapshotOnceTheTimeHasCome() throws Exception {
    try (EmbeddedNode node =
            EmbeddedNode.startWithClock(clock, c -> c.dataDir(dir).snapshotEvery(60, 0));
        RawConnection c = node.connect()) {
      set(c, 1);
      Thread.sleep(1500); // a check or more, before the time: nothing
      assertEquals(List.of(), snapshots());
      clock.advanceSeconds(61);
      awaitSnapshots(1);
      // The file is in place a moment before the node counts the snapshot as done.
      String stats = stats(c);
      for (int i = 0; i < 100 && stats.contains("STAT snapshot_in_progress 1\r\n"); i++) {
        Thread.sleep(100);
        stats = stats(c);
      }
      assertTrue(stats.contains("STAT snapshot_age 0\r\n"), stats);
      assertTrue(stats.contains("STAT log_writes_since_snapshot 0\r\n"), stats);
    }
  }

  @Test
  void shouldTakeASnapshotOnceEnoughWritesWereLogged() throws Exception {
    try (EmbeddedNode node =
            EmbeddedNode.startWithClock(clock, c -> c.dataDir(dir).snapshotEvery(0, 100));
        RawConnection c = node.connect()) {
      for (int i = 0; i < 99; i++) {
        set(c, i);
      }
      Thread.sleep(1500);
      assertEquals(List.of(), snapshots());
      set(c, 99);
      awaitSnapshots(1);
    }
  }
}

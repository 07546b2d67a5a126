package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code kill -9} of a node process under a concurrent write load with {@code --fsync always}:
 * after a restart on the same data directory every acknowledged write is there, no profile has more
 * increments than were sent, and the segment built on them equals a brute-force count; also when
 * snapshots were taken during the load (one on request, others by {@code --snapshot-every}, which a
 * kill may interrupt).
 */
class KillNineTest {
  private static final int WRITERS = 4;

  @TempDir Path dir;

  @ParameterizedTest(name = "snapshots during the load: {0}")
  @ValueSource(booleans = {false, true})
  void shouldKeepEveryAcknowledgedWriteAcrossAKillNine(boolean snapshots) throws Exception {
    long[] acknowledgedSets = new long[WRITERS];
    long[] acknowledgedIncrements = new long[WRITERS];
    try (NodeProcess node = NodeProcess.start(dir, "always", snapshots ? 3000 : 0)) {
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        String expr = "n >= 20";
        c.send("segdef big " + expr.length() + "\r\n" + expr + "\r\n");
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      long errors = writeUntilKilled(node, acknowledgedSets, acknowledgedIncrements, snapshots);
      assertEquals(0, errors, "every write before the kill was acknowledged as written");
    }
    for (int w = 0; w < WRITERS; w++) {
      assertTrue(
          acknowledgedSets[w] > 10, "writer " + w + " wrote under load: " + acknowledgedSets[w]);
    }
    try (NodeProcess node = NodeProcess.start(dir, "always");
        RawConnection c = new RawConnection("127.0.0.1", node.port())) {
      int big = 0;
      for (int w = 0; w < WRITERS; w++) {
        for (long i = 0; i < acknowledgedSets[w]; i++) {
          c.send("get w" + w + "-" + i + "\r\n");
          String header = c.readLine();
          assertTrue(
              header.startsWith("VALUE w" + w + "-" + i + " "), "acknowledged set lost: " + header);
          assertEquals(i + "\r\n", c.readLine());
          assertEquals("END\r\n", c.readLine());
        }
        c.send("mg p" + w + " v\r\n");
        c.readLine();
        String profile = c.readLine();
        long n = Long.parseLong(profile.replaceAll(".*\"n\":(\\d+).*\\s*", "$1"));
        assertTrue(
            n >= acknowledgedIncrements[w] && n <= acknowledgedIncrements[w] + 1,
            "p"
                + w
                + " has n="
                + n
                + " after "
                + acknowledgedIncrements[w]
                + " acknowledged increments");
        if (n >= 20) {
          big++;
        }
      }
      String expr = "big";
      c.send("segcount " + expr.length() + "\r\n" + expr + "\r\n");
      assertEquals("COUNT " + big + "\r\n", c.readLine());
      if (snapshots) {
        c.send("stats\r\n");
        long fromSnapshot = -1;
        for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
          if (line.startsWith("STAT snapshot_records_recovered ")) {
            fromSnapshot = Long.parseLong(line.substring(32).trim());
          }
        }
        assertTrue(fromSnapshot > 0, "started from a snapshot: " + fromSnapshot);
      }
    }
  }

  /**
   * The same with {@code --fsync everysec}: an acknowledged write may be lost, but only the last
   * moments, and nothing is half-applied: each writer's sets that survive are a prefix of what it
   * sent (they were written in order), and its profile's count is that prefix's.
   */
  @Test
  void shouldLoseOnlyTheLastMomentsAndNothingHalfAppliedWithEverysec() throws Exception {
    long[] acknowledgedSets = new long[WRITERS];
    try (NodeProcess node = NodeProcess.start(dir, "everysec")) {
      writeUntilKilled(node, acknowledgedSets, new long[WRITERS], false);
    }
    try (NodeProcess node = NodeProcess.start(dir, "everysec");
        RawConnection c = new RawConnection("127.0.0.1", node.port())) {
      for (int w = 0; w < WRITERS; w++) {
        long present = 0;
        boolean gap = false;
        for (long i = 0; i < acknowledgedSets[w] + 1; i++) {
          c.send("mg w" + w + "-" + i + " v\r\n");
          String header = c.readLine();
          if (header.startsWith("VA ")) {
            assertEquals(i + "\r\n", c.readLine(), "a set came back with another value");
            assertTrue(
                !gap, "w" + w + "-" + i + " is back but an earlier set of its writer is not");
            present = i + 1;
          } else {
            gap = true;
          }
        }
        long lost = acknowledgedSets[w] - present;
        assertTrue(
            lost <= Math.max(2000, acknowledgedSets[w] / 5),
            "writer " + w + " lost " + lost + " of " + acknowledgedSets[w] + ": not only the end");
        c.send("mg p" + w + " v\r\n");
        String header = c.readLine();
        long n = 0;
        if (header.startsWith("VA ")) {
          n = Long.parseLong(c.readLine().replaceAll(".*\"n\":(\\d+).*\\s*", "$1"));
        }
        assertTrue(
            n == present || n == present - 1,
            "p" + w + " counts " + n + " increments after " + present + " surviving sets");
      }
    }
  }

  /**
   * {@link #WRITERS} connections each alternate a set of a key of its own ({@code w<id>-<i>}, value
   * {@code i}) and an increment of its profile ({@code p<id>}) until the node is killed, 1.5 s in;
   * the counts of what was acknowledged are left in the arrays. With {@code snapshot}, a snapshot
   * is asked for 0.5 s in, and the kill comes at least 0.5 s after it is written.
   *
   * @return how many writes were answered other than as written
   */
  private static long writeUntilKilled(
      NodeProcess node, long[] sets, long[] increments, boolean snapshot)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong errors = new AtomicLong();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      int id = w;
      Thread t =
          new Thread(
              () -> {
                try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
                  String update = "{\"incr\":{\"n\":1}}";
                  for (long i = 0; !stop.get(); i++) {
                    String value = Long.toString(i);
                    c.send(
                        "set w"
                            + id
                            + "-"
                            + i
                            + " 0 0 "
                            + value.length()
                            + "\r\n"
                            + value
                            + "\r\n");
                    if (!c.readLine().equals("STORED\r\n")) {
                      errors.incrementAndGet();
                      return;
                    }
                    sets[id] = i + 1;
                    c.send("update p" + id + " " + update.length() + "\r\n" + update + "\r\n");
                    if (!c.readLine().equals("UPDATED\r\n")) {
                      errors.incrementAndGet();
                      return;
                    }
                    increments[id] = i + 1;
                  }
                } catch (RuntimeException killed) {
                  // the node died under it: what was acknowledged so far is what counts
                }
              });
      writers.add(t);
      t.start();
    }
    if (snapshot) {
      Thread.sleep(500);
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        c.send("snapshot\r\n");
        String reply = c.readLine();
        assertTrue(reply.startsWith("SNAPSHOT "), reply);
      }
      Thread.sleep(500);
    } else {
      Thread.sleep(1500);
    }
    node.kill();
    stop.set(true);
    for (Thread t : writers) {
      t.join();
    }
    return errors.get();
  }
}

package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot taken while writers change, delete, append to, increment and let expire their keys and
 * profiles equals the state at its cuts: a node started on the files copied afterwards (the
 * snapshot plus the log after its cuts) holds exactly what a model fed the acknowledged writes
 * holds. Every write here is one whose replay twice or not at all shows (increments, appends,
 * profile counters and events), so a record on the wrong side of a cut fails the test.
 */
class SnapshotUnderLoadTest {
  private static final int WRITERS = 4;
  private static final int KEYS_PER_WRITER = 40;
  private static final int OPS_PER_PHASE = 1500;

  @TempDir Path dir;
  @TempDir Path copy;

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");

  /** What one writer believes each of its keys holds: the model. */
  private static final class Model {
    final Map<String, String> values = new HashMap<>();
    final Map<String, Long> profileCounts = new HashMap<>();

    /**
     * Each profile's one attribute of a name used once ({@code t<writer>_<n>}), replaced now and
     * then: names keep losing their last use and being freed while snapshots render profiles.
     */
    final Map<String, String> passingName = new HashMap<>();

    int namesMade;

    /** Keys set with a one-second life in the current phase: gone once the clock moves on. */
    final java.util.Set<String> shortLived = new java.util.HashSet<>();
  }

  @Test
  void shouldEqualTheStateAtItsCutsWhenTakenUnderLoad() throws Exception {
    Model[] models = new Model[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
      models[w] = new Model();
    }
    try (EmbeddedNode node =
        EmbeddedNode.startWithClock(
            clock, c -> c.dataDir(dir).fsync("always").snapshotEvery(0, 0))) {
      try (RawConnection c = node.connect()) {
        String expr = "n >= 8 and count(e, 7d) >= 8";
        c.send("segdef busy " + expr.length() + "\r\n" + expr + "\r\n");
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      runPhase(node, models, 1, null);
      clock.advanceSeconds(2); // the phase's one-second keys expire, some while the snapshot runs
      for (Model m : models) {
        m.shortLived.forEach(m.values::remove);
        m.shortLived.clear();
      }
      AtomicReference<String> snapshotReply = new AtomicReference<>();
      runPhase(node, models, 2, snapshotReply);
      assertTrue(snapshotReply.get().startsWith("SNAPSHOT "), snapshotReply.get());
      try (var files = Files.list(dir)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          Files.copy(f, copy.resolve(f.getFileName()));
        }
      }
    }
    try (EmbeddedNode node =
            EmbeddedNode.startWithClock(clock, c -> c.dataDir(copy).snapshotEvery(0, 0));
        RawConnection c = node.connect()) {
      long busy = 0;
      for (int w = 0; w < WRITERS; w++) {
        for (int k = 0; k < KEYS_PER_WRITER; k++) {
          String key = "w" + w + "-" + k;
          c.send("mg " + key + " v\r\n");
          String header = c.readLine();
          String expected = models[w].values.get(key);
          if (expected == null) {
            assertEquals("EN\r\n", header, key);
          } else {
            assertTrue(header.startsWith("VA "), key + ": " + header);
            assertEquals(expected + "\r\n", c.readLine(), key);
          }
        }
        for (Map.Entry<String, Long> p : models[w].profileCounts.entrySet()) {
          c.send("mg " + p.getKey() + " v\r\n");
          c.readLine();
          String profile = c.readLine();
          long n = Long.parseLong(profile.replaceAll(".*\"n\":(\\d+).*\\s*", "$1"));
          assertEquals(p.getValue().longValue(), n, p.getKey() + ": " + profile);
          String passing = models[w].passingName.get(p.getKey());
          java.util.List<String> names =
              java.util.regex.Pattern.compile("\"(t\\d+_\\d+)\"")
                  .matcher(profile)
                  .results()
                  .map(r -> r.group(1))
                  .toList();
          assertEquals(
              passing == null ? java.util.List.of() : java.util.List.of(passing),
              names,
              p.getKey() + ": " + profile);
          if (n >= 8) {
            busy++;
          }
        }
      }
      c.send("segcount 4\r\nbusy\r\n");
      assertEquals("COUNT " + busy + "\r\n", c.readLine());
    }
  }

  /**
   * Runs {@link #WRITERS} writers of {@link #OPS_PER_PHASE} random writes each; with {@code
   * snapshotReply}, a snapshot is asked for once every writer is a third of the way through, and
   * its reply left there.
   */
  private void runPhase(
      EmbeddedNode node, Model[] models, int phase, AtomicReference<String> snapshotReply)
      throws Exception {
    CountDownLatch aThirdIn = new CountDownLatch(WRITERS);
    List<Thread> writers = new ArrayList<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    for (int w = 0; w < WRITERS; w++) {
      int id = w;
      Thread t =
          new Thread(
              () -> {
                try (RawConnection c = node.connect()) {
                  Random random = new Random(31L * phase + id);
                  for (int i = 0; i < OPS_PER_PHASE; i++) {
                    if (i == OPS_PER_PHASE / 3) {
                      aThirdIn.countDown();
                    }
                    write(c, random, id, models[id]);
                  }
                } catch (Throwable e) {
                  failed.compareAndSet(null, e);
                } finally {
                  aThirdIn.countDown();
                }
              });
      writers.add(t);
      t.start();
    }
    if (snapshotReply != null) {
      aThirdIn.await();
      try (RawConnection c = node.connect()) {
        c.send("snapshot\r\n");
        snapshotReply.set(c.readLine());
      }
    }
    for (Thread t : writers) {
      t.join();
    }
    if (failed.get() != null) {
      throw new AssertionError("a writer failed", failed.get());
    }
  }

  /** One random write of writer {@code id} on one of its keys, acknowledged, and the model's. */
  private static void write(RawConnection c, Random random, int id, Model m) throws IOException {
    String key = "w" + id + "-" + random.nextInt(KEYS_PER_WRITER);
    String value = m.values.get(key);
    switch (random.nextInt(6)) {
      case 0 -> {
        String v = Integer.toString(random.nextInt(1000));
        boolean shortLived = random.nextInt(4) == 0;
        expect(
            c,
            "set " + key + " 0 " + (shortLived ? 1 : 0) + " " + v.length() + "\r\n" + v,
            "STORED");
        m.values.put(key, v);
        if (shortLived) {
          m.shortLived.add(key);
        } else {
          m.shortLived.remove(key);
        }
      }
      case 1 -> {
        expect(c, "delete " + key, value == null ? "NOT_FOUND" : "DELETED");
        m.values.remove(key);
        m.shortLived.remove(key);
      }
      case 2 -> {
        expect(c, "append " + key + " 0 0 1\r\na", value == null ? "NOT_STORED" : "STORED");
        if (value != null) {
          m.values.put(key, value + "a");
        }
      }
      case 3 -> {
        if (value != null && value.chars().allMatch(Character::isDigit)) {
          String next = Long.toString(Long.parseLong(value) + 3);
          expect(c, "incr " + key + " 3", next);
          m.values.put(key, next);
        } else if (value == null) {
          expect(c, "incr " + key + " 3", "NOT_FOUND");
        }
      }
      default -> {
        String profile = "p" + id + "-" + random.nextInt(KEYS_PER_WRITER / 4);
        String update = "{\"incr\":{\"n\":1},\"events\":[{\"name\":\"e\"}]";
        if (random.nextBoolean()) {
          String name = "t" + id + "_" + m.namesMade++;
          String old = m.passingName.put(profile, name);
          update += ",\"set\":{\"" + name + "\":1}";
          if (old != null) {
            update += ",\"unset\":[\"" + old + "\"]";
          }
        }
        update += "}";
        expect(c, "update " + profile + " " + update.length() + "\r\n" + update, "UPDATED");
        m.profileCounts.merge(profile, 1L, Long::sum);
      }
    }
  }

  private static void expect(RawConnection c, String request, String reply) {
    c.send(request + "\r\n");
    assertEquals(reply + "\r\n", c.readLine(), request);
  }
}

package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random bit flips in a snapshot: start-up either refuses with a message naming the file, the
 * offset and the reason, or (a flip that no check covers cannot exist: every byte after the header
 * is under a record's checksum or is the header's reserved bytes) comes back with exactly what was
 * there. Never a wrong value.
 */
class SnapshotDamageTest {
  private static final int FLIPS = 60;

  @TempDir Path dir;
  @TempDir Path work;

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");

  private EmbeddedNode start(Path on) {
    return EmbeddedNode.startWithClock(clock, c -> c.dataDir(on).snapshotEvery(0, 0));
  }

  private static String state(RawConnection c) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 30; i++) {
      c.send("mg k" + i + " v f t c\r\n");
      String line = c.readLine();
      b.append(line);
      if (line.startsWith("VA ")) {
        b.append(c.readLine());
      }
      c.send("mg user:" + i + " v\r\n");
      line = c.readLine();
      b.append(line);
      if (line.startsWith("VA ")) {
        b.append(c.readLine());
      }
    }
    c.send("segcount 2\r\ndk\r\n");
    b.append(c.readLine());
    c.send("seglist\r\n");
    for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
      b.append(line);
    }
    return b.toString();
  }

  @Test
  void shouldRefuseADamagedSnapshotOrLoadExactlyWhatItHeld() throws IOException {
    String before;
    try (EmbeddedNode node = start(dir);
        RawConnection c = node.connect()) {
      String expr = "country == \"DK\"";
      c.send("segdef dk " + expr.length() + "\r\n" + expr + "\r\n");
      assertEquals("DEFINED 0\r\n", c.readLine());
      for (int i = 0; i < 30; i++) {
        c.send(
            "set k" + i + " " + i + " " + (i % 3 == 0 ? 3600 : 0) + " 3\r\nv" + (10 + i) + "\r\n");
        assertEquals("STORED\r\n", c.readLine());
        String profile =
            "{\"country\":\""
                + (i % 2 == 0 ? "DK" : "SE")
                + "\",\"$events\":{\"buy\":{\"2026-11-19\":["
                + i
                + ","
                + (i * 10)
                + "]}}}";
        c.send("set user:" + i + " 0 0 " + profile.length() + "\r\n" + profile + "\r\n");
        assertEquals("STORED\r\n", c.readLine());
      }
      before = state(c);
    } // the clean stop writes the snapshot
    Path snapshot = only(dir, ".wsnap");
    byte[] good = Files.readAllBytes(snapshot);
    Random random = new Random(7);
    int refused = 0;
    for (int round = 0; round < FLIPS; round++) {
      Path on = Files.createDirectory(work.resolve("round-" + round));
      for (Path f : list(dir)) {
        Files.copy(f, on.resolve(f.getFileName()));
      }
      byte[] damaged = good.clone();
      int at = random.nextInt(damaged.length);
      damaged[at] ^= (byte) (1 << random.nextInt(8));
      Files.write(on.resolve(snapshot.getFileName()), damaged);
      try (EmbeddedNode node = start(on);
          RawConnection c = node.connect()) {
        assertEquals(before, state(c), "a flip at byte " + at + " was loaded as another state");
        assertTrue(at >= 12 && at < 16, "a flip at byte " + at + " went unnoticed");
      } catch (UncheckedIOException e) {
        refused++;
        String message = e.getMessage();
        assertTrue(message.contains(snapshot.getFileName().toString()), message);
        assertTrue(message.contains("at byte"), message);
      }
    }
    assertTrue(refused >= FLIPS - 10, "refused " + refused + " of " + FLIPS);
  }

  /**
   * A damaged record in the middle of the log stops start-up with a message that names the flag;
   * with {@code --skip-damaged} the node starts without that record's write and with every other,
   * and writes a snapshot at once, so the next start-up (without the flag) meets no damage.
   */
  @Test
  void shouldPassOverADamagedLogRecordOnlyWhenToldTo() throws IOException {
    Path copy = work.resolve("copy");
    Files.createDirectory(copy);
    try (EmbeddedNode node =
            EmbeddedNode.startWithClock(
                clock, c -> c.dataDir(dir).fsync("always").snapshotEvery(0, 0));
        RawConnection c = node.connect()) {
      for (int i = 0; i < 10; i++) {
        c.send("set key-" + i + " 0 0 7\r\nvalue-" + i + "\r\n");
        assertEquals("STORED\r\n", c.readLine());
      }
      for (Path f : list(dir)) {
        Files.copy(f, copy.resolve(f.getFileName())); // as a crash leaves it: the log only
      }
    }
    Path log = only(copy, ".wlog");
    byte[] bytes = Files.readAllBytes(log);
    int at = indexOf(bytes, "value-5".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    bytes[at] ^= 0x20;
    Files.write(log, bytes);

    UncheckedIOException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            UncheckedIOException.class, () -> start(copy).close());
    assertTrue(
        refused.getMessage().contains("record checksum does not match"), refused.getMessage());
    assertTrue(refused.getMessage().contains("--skip-damaged"), refused.getMessage());

    for (boolean skip : new boolean[] {true, false}) {
      try (EmbeddedNode node =
              EmbeddedNode.startWithClock(
                  clock, c -> c.dataDir(copy).snapshotEvery(0, 0).skipDamaged(skip));
          RawConnection c = node.connect()) {
        for (int i = 0; i < 10; i++) {
          c.send("get key-" + i + "\r\n");
          if (i == 5) {
            assertEquals("END\r\n", c.readLine(), "the damaged record's write is lost");
          } else {
            assertEquals("VALUE key-" + i + " 0 7\r\n", c.readLine());
            assertEquals("value-" + i + "\r\n", c.readLine());
            assertEquals("END\r\n", c.readLine());
          }
        }
      }
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  private static Path only(Path dir, String suffix) throws IOException {
    for (Path p : list(dir)) {
      if (p.getFileName().toString().endsWith(suffix)) {
        return p;
      }
    }
    fail("no " + suffix + " file in " + dir);
    return null;
  }

  private static java.util.List<Path> list(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }
}

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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A node with a data directory, stopped and started again on it: every memcached command's
 * observable state (values, flags, cas, remaining TTLs, incr results, stale marks), the profiles,
 * their segments and the segment definitions are the same after the restart as before. Three ways
 * back: a clean stop (which writes a snapshot), a crash with only the log, and a crash after a
 * snapshot taken midway (the snapshot plus the log after its cuts).
 */
class RestartTest {
  @TempDir Path dir;
  @TempDir Path crashed;

  /** How the first node ends and what the second one finds. */
  enum Way {
    /** Closed: the node writes a snapshot on its way out. */
    CLEAN_STOP,
    /** The files as they are while the node runs, with only the log. */
    CRASH_WITH_LOG_ONLY,
    /** The files as they are while the node runs, after a snapshot taken halfway. */
    CRASH_AFTER_A_SNAPSHOT
  }

  /** The directory the second node starts on: {@code dir}, or a copy of it taken while running. */
  private Path crashCopy(Way way) throws IOException {
    if (way == Way.CLEAN_STOP) {
      return dir;
    }
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.copy(f, crashed.resolve(f.getFileName()));
      }
    }
    return crashed;
  }

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");

  private EmbeddedNode start(String fsync) {
    return start(dir, fsync);
  }

  private EmbeddedNode start(Path on, String fsync) {
    return EmbeddedNode.startWithClock(clock, c -> c.dataDir(on).fsync(fsync));
  }

  /** Requests whose answers are the node's observable state, over every key the test used. */
  private static final String[] KEYS = {
    "plain", "added", "replaced", "appended", "counter", "touched", "deleted", "vivified",
    "invalid", "casd", "binaryish", "user:1", "user:2", "user:3", "proto-less", "gone"
  };

  private static String state(RawConnection c) {
    StringBuilder b = new StringBuilder();
    for (String k : KEYS) {
      c.send("mg " + k + " v f t c k\r\n");
      String line = line(c);
      b.append(line).append('\n');
      if (line.startsWith("VA ")) {
        b.append(line(c)).append('\n');
      }
    }
    for (String q : new String[] {"dk", "buyers", "dk or buyers"}) {
      b.append(q).append(" -> ").append(count(c, q)).append('\n');
    }
    c.send("seglist\r\n");
    for (String line = line(c); !line.equals("END"); line = line(c)) {
      b.append(line).append('\n');
    }
    for (String k : new String[] {"user:1", "user:2", "user:3"}) {
      c.send("segof " + k + "\r\n");
      for (String line = line(c); !line.equals("END"); line = line(c)) {
        b.append(k).append(' ').append(line).append('\n');
      }
    }
    return b.toString();
  }

  private static void expect(RawConnection c, String request, String reply) {
    c.send(request);
    assertEquals(reply + "\r\n", c.readLine(), request);
  }

  private static String line(RawConnection c) {
    return c.readLine().stripTrailing();
  }

  /** Defines a segment: {@code DEFINED <size>}. */
  private static void define(RawConnection c, String name, String expression, int size) {
    expect(
        c,
        "segdef " + name + " " + expression.length() + "\r\n" + expression + "\r\n",
        "DEFINED " + size);
  }

  /** {@code segcount}: the count's line. */
  private static String count(RawConnection c, String query) {
    c.send("segcount " + query.length() + "\r\n" + query + "\r\n");
    return line(c);
  }

  @ParameterizedTest
  @EnumSource(Way.class)
  void shouldComeBackWithEveryCommandsStateAfterARestart(Way way) throws IOException {
    String before;
    Path restartOn;
    try (EmbeddedNode node = start("always");
        RawConnection c = node.connect()) {
      expect(c, "set plain 5 0 5\r\nhello\r\n", "STORED");
      expect(c, "add added 6 3600 1\r\na\r\n", "STORED");
      expect(c, "add added 6 0 1\r\nb\r\n", "NOT_STORED");
      expect(c, "set replaced 0 0 3\r\nold\r\n", "STORED");
      expect(c, "replace replaced 7 100 3\r\nnew\r\n", "STORED");
      expect(c, "set appended 0 0 2\r\nbb\r\n", "STORED");
      expect(c, "append appended 0 0 2\r\ncc\r\n", "STORED");
      expect(c, "prepend appended 0 0 2\r\naa\r\n", "STORED");
      expect(c, "set counter 0 0 2\r\n98\r\n", "STORED");
      expect(c, "incr counter 5\r\n", "103");
      expect(c, "decr counter 1\r\n", "102");
      expect(c, "set touched 0 10 1\r\nt\r\n", "STORED");
      expect(c, "touch touched 500\r\n", "TOUCHED");
      expect(c, "set deleted 0 0 1\r\nd\r\n", "STORED");
      expect(c, "delete deleted\r\n", "DELETED");
      expect(c, "mg vivified N30 s\r\n", "HD s0 W");
      expect(c, "set invalid 3 0 1\r\ni\r\n", "STORED");
      expect(c, "md invalid I T30\r\n", "HD");
      expect(c, "mg casd c\r\n", "EN");
      expect(c, "set casd 0 0 1\r\nx\r\n", "STORED");
      c.send("gets casd\r\n");
      String cas = line(c).split(" ")[4];
      c.readLine();
      c.readLine();
      expect(c, "cas casd 9 0 1 " + cas + "\r\ny\r\n", "STORED");
      expect(c, "set gone 0 1 1\r\ng\r\n", "STORED");
      if (way == Way.CRASH_AFTER_A_SNAPSHOT) {
        c.send("snapshot\r\n");
        assertTrue(c.readLine().startsWith("SNAPSHOT "));
        expect(c, "set appended 0 0 2\r\nbb\r\n", "STORED"); // again, after the cut
        expect(c, "append appended 0 0 2\r\ncc\r\n", "STORED");
        expect(c, "prepend appended 0 0 2\r\naa\r\n", "STORED");
      }
      define(c, "dk", "country == \"DK\"", 0);
      define(c, "old", "true", 0);
      expect(c, "set user:1 0 0 16\r\n{\"country\":\"DK\"}\r\n", "STORED");
      expect(c, "set user:2 0 3600 16\r\n{\"country\":\"SE\"}\r\n", "STORED");
      String update = "{\"set\":{\"country\":\"DK\"},\"events\":[{\"name\":\"buy\",\"value\":3}]}";
      expect(c, "update user:2 " + update.length() + "\r\n" + update + "\r\n", "UPDATED");
      String created = "{\"events\":[{\"name\":\"buy\"},{\"name\":\"buy\"}]}";
      expect(c, "update user:3 " + created.length() + "\r\n" + created + "\r\n", "UPDATED");
      define(c, "buyers", "count(buy, 7d) >= 2", 1);
      expect(c, "segdrop old\r\n", "DROPPED");
      clock.advanceSeconds(2); // "gone" expires, "touched" does not
      state(c); // a read hands out win tokens (W), which the state after it shows as sent (Z)
      before = state(c);
      restartOn = crashCopy(way);
    }
    try (EmbeddedNode node = start(restartOn, "everysec");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c));
      long fromSnapshot = stat(stats(c), "snapshot_records_recovered");
      assertEquals(
          way == Way.CRASH_WITH_LOG_ONLY, fromSnapshot == 0, "from a snapshot: " + fromSnapshot);
    }
  }

  private static long stat(String stats, String name) {
    for (String line : stats.split("\n")) {
      if (line.startsWith("STAT " + name + " ")) {
        return Long.parseLong(line.substring(name.length() + 6));
      }
    }
    throw new AssertionError("no " + name + " in " + stats);
  }

  private static String stats(RawConnection c) {
    c.send("stats\r\n");
    StringBuilder stats = new StringBuilder();
    for (String line = line(c); !line.equals("END"); line = line(c)) {
      stats.append(line).append('\n');
    }
    return stats.toString();
  }

  /**
   * Segments that read segments come back in an order that defines each after what it reads, even
   * when a redefinition put a segment after its reader in definition order, and a forced drop's
   * readers stay dropped.
   */
  @ParameterizedTest
  @EnumSource(Way.class)
  void shouldComeBackWithSegmentsThatReadSegments(Way way) throws IOException {
    String before;
    Path restartOn;
    try (EmbeddedNode node = start("always");
        RawConnection c = node.connect()) {
      expect(c, "set user:1 0 0 27\r\n{\"spend\":50,\"country\":\"DK\"}\r\n", "STORED");
      expect(c, "set user:2 0 0 28\r\n{\"spend\":500,\"country\":\"SE\"}\r\n", "STORED");
      define(c, "vip", "spend > 100", 1);
      define(c, "dk", "in_segment(\"vip\") and country == \"DK\"", 0);
      define(c, "vip", "spend > 10", 2); // now after its reader in definition order
      if (way == Way.CRASH_AFTER_A_SNAPSHOT) {
        c.send("snapshot\r\n");
        assertTrue(c.readLine().startsWith("SNAPSHOT "));
      }
      define(c, "buyers", "in_segment(\"dk\")", 1);
      define(c, "dropped_with_dk", "in_segment(\"buyers\")", 1);
      expect(c, "segdrop buyers force\r\n", "DROPPED");
      define(c, "buyers", "not in_segment(\"vip\")", 0);
      before = state(c);
      assertTrue(before.contains("dk -> COUNT 1"), before);
      restartOn = crashCopy(way);
    }
    try (EmbeddedNode node = start(restartOn, "always");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c));
    }
  }

  /** {@code segof KEY since} of each key: its memberships with their entered times. */
  private static String since(RawConnection c, String... keys) {
    StringBuilder b = new StringBuilder();
    for (String k : keys) {
      c.send("segof " + k + " since\r\n");
      for (String line = line(c); !line.equals("END"); line = line(c)) {
        b.append(k).append(' ').append(line).append('\n');
      }
    }
    return b.toString();
  }

  /**
   * Memberships come back with the times they began, whether the snapshot carried them or the log
   * replayed what made them at its time: writes, a definition's backfill, and a timed entry between
   * the last write and the crash; a segment reading them (time_in) then goes on following the
   * clock.
   */
  @ParameterizedTest
  @EnumSource(Way.class)
  void shouldKeepTheTimeEachMembershipBeganAcrossARestart(Way way) throws IOException {
    long hour = 3_600_000L;
    long start = clock.millis();
    String before;
    Path restartOn;
    try (EmbeddedNode node = start("always");
        RawConnection c = node.connect()) {
      define(c, "vip", "spend > 100", 0);
      define(c, "loyal", "time_in(vip) > 1d", 0);
      expect(c, "set user:1 0 0 13\r\n{\"spend\":500}\r\n", "STORED");
      clock.advanceMillis(4 * hour);
      expect(c, "set user:2 0 0 13\r\n{\"spend\":500}\r\n", "STORED");
      clock.advanceMillis(hour);
      expect(c, "update user:3 21\r\n{\"set\":{\"spend\":200}}\r\n", "UPDATED");
      clock.advanceMillis(start + 24 * hour + 1 - clock.millis());
      node.node().runTimers(); // user:1 has been in vip more than a day: loyal, by the timer
      if (way == Way.CRASH_AFTER_A_SNAPSHOT) {
        c.send("snapshot\r\n");
        assertTrue(c.readLine().startsWith("SNAPSHOT "));
      }
      clock.advanceMillis(2 * hour);
      define(c, "big", "spend > 300", 2);
      clock.advanceMillis(hour);
      expect(c, "update user:3 21\r\n{\"set\":{\"spend\":400}}\r\n", "UPDATED");
      before = since(c, "user:1", "user:2", "user:3");
      assertEquals(
          String.join(
              "\n",
              "user:1 IN vip " + start,
              "user:1 IN loyal " + (start + 24 * hour),
              "user:1 IN big " + (start + 26 * hour),
              "user:2 IN vip " + (start + 4 * hour),
              "user:2 IN big " + (start + 26 * hour),
              "user:3 IN vip " + (start + 5 * hour),
              "user:3 IN big " + (start + 27 * hour),
              ""),
          before);
      restartOn = crashCopy(way);
    }
    clock.advanceMillis(hour / 2); // the restart is later than all of it
    try (EmbeddedNode node = start(restartOn, "always");
        RawConnection c = node.connect()) {
      assertEquals(before, since(c, "user:1", "user:2", "user:3"));
      clock.advanceMillis(start + 28 * hour - clock.millis()); // a day after user:2 entered vip
      node.node().runTimers();
      assertEquals(before, since(c, "user:1", "user:2", "user:3"), "exactly a day: not more");
      clock.advanceMillis(1);
      node.node().runTimers();
      assertTrue(
          since(c, "user:2").contains("user:2 IN loyal " + (start + 28 * hour) + "\n"),
          since(c, "user:2"));
    }
  }

  @Test
  void shouldComeBackEmptyAfterAFlushAndKeepWhatWasWrittenAfterIt() throws IOException {
    String before;
    Path restartOn;
    try (EmbeddedNode node = start("always");
        RawConnection c = node.connect()) {
      define(c, "dk", "country == \"DK\"", 0);
      expect(c, "set user:1 0 0 16\r\n{\"country\":\"DK\"}\r\n", "STORED");
      expect(c, "set plain 0 0 1\r\np\r\n", "STORED");
      expect(c, "flush_all\r\n", "OK");
      expect(c, "set user:2 0 0 16\r\n{\"country\":\"DK\"}\r\n", "STORED");
      before = state(c);
      assertTrue(before.contains("dk -> COUNT 1"), before);
      restartOn = crashCopy(Way.CRASH_WITH_LOG_ONLY);
    }
    try (EmbeddedNode node = start(restartOn, "always");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c));
      String stats = stats(c);
      assertTrue(stats.toString().contains("STAT log_fsync always\n"), stats);
      // a definition, three sets, and the flush once per stripe (64)
      assertTrue(stats.toString().contains("STAT log_records_recovered 68\n"), stats);
    }
  }

  /**
   * A snapshot that cannot be written (here its temporary file's name is taken by a directory)
   * fails with a SERVER_ERROR and loses nothing: the log it had moved on to keeps the writes, the
   * next snapshot goes under a later number, and a restart finds everything.
   */
  @Test
  void shouldLoseNothingWhenASnapshotFails() throws IOException {
    String before;
    Path restartOn;
    try (EmbeddedNode node = start("always");
        RawConnection c = node.connect()) {
      expect(c, "set plain 0 0 1\r\na\r\n", "STORED");
      Path blocker = Files.createDirectory(dir.resolve("snapshot-000000000002.wsnap.tmp"));
      c.send("snapshot\r\n");
      String failed = c.readLine();
      assertTrue(failed.startsWith("SERVER_ERROR snapshot failed: "), failed);
      expect(c, "set appended 0 0 1\r\nb\r\n", "STORED");
      Files.delete(blocker);
      c.send("snapshot\r\n");
      assertTrue(c.readLine().startsWith("SNAPSHOT "));
      expect(c, "append appended 0 0 1\r\nc\r\n", "STORED");
      before = state(c);
      assertTrue(Files.exists(dir.resolve("snapshot-000000000003.wsnap")));
      restartOn = crashCopy(Way.CRASH_AFTER_A_SNAPSHOT);
    }
    try (EmbeddedNode node = start(restartOn, "always");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c));
    }
  }

  @Test
  void shouldRefuseADataDirectoryAnotherNodeUses() {
    EmbeddedNode first = start("everysec");
    try {
      java.io.UncheckedIOException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              java.io.UncheckedIOException.class, () -> start("everysec").close());
      assertTrue(e.getMessage().contains("is in use by another node"), e.getMessage());
    } finally {
      first.close();
    }
  }

  @Test
  void shouldKeepRecordsOfEveryRestart() {
    List<String> states = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      try (EmbeddedNode node = start("no");
          RawConnection c = node.connect()) {
        if (round > 0) {
          assertEquals(states.get(round - 1), state(c), "round " + round);
        }
        expect(c, "set plain 0 0 1\r\n" + round + "\r\n", "STORED");
        expect(c, "incr counter 1\r\n", round == 0 ? "NOT_FOUND" : String.valueOf(round));
        if (round == 0) {
          expect(c, "set counter 0 0 1\r\n0\r\n", "STORED");
        }
        states.add(state(c));
      }
    }
  }
}

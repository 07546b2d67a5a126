package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The changes a node with a data directory logs for its publisher: read back in order, each with a
 * version that grows per profile and segment; a snapshot keeps the logs the feed has not passed;
 * and after a restart the feed goes on from the position it kept, handing over again, with the same
 * versions, what it had read but not kept as passed, and nothing twice that it had.
 */
class ChangeFeedTest {
  @TempDir Path dir;

  /** A node's parts on {@link #dir}. */
  private final class Node implements AutoCloseable {
    final ProfileEngine engine;
    final Keyspace keyspace;
    final Durability durability;
    final KeyspaceSession session;
    final Outcome outcome = new Outcome();

    Node() throws IOException {
      ReplayClock clock = new ReplayClock(Clock.systemUTC());
      engine = new ProfileEngine(new EngineConfig().clock(clock));
      keyspace = new Keyspace(clock, 64 << 20, 1 << 20, engine);
      durability =
          Durability.open(
              dir, DurableLog.Fsync.ALWAYS, false, keyspace, engine, clock, List.of(), r -> {});
      session = keyspace.session();
    }

    void update(String key, String json) {
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      byte[] b = json.getBytes(StandardCharsets.UTF_8);
      assertEquals(Status.STORED, session.update(k, 0, k.length, b, 0, b.length, false, outcome));
    }

    @Override
    public void close() throws IOException {
      durability.close();
    }
  }

  private record Change(long epoch, long seq, String segment, String key, boolean enter) {}

  /** Reads what the feed holds now (after the log has written it). */
  private static List<Change> readAll(ChangeFeed feed, List<String> lost) throws Exception {
    List<Change> out = new ArrayList<>();
    ChangeFeed.Reader reader =
        new ChangeFeed.Reader() {
          @Override
          public void change(
              long epoch, long seq, String segment, byte[] key, boolean enter, long time) {
            out.add(
                new Change(epoch, seq, segment, new String(key, StandardCharsets.UTF_8), enter));
          }

          @Override
          public void lost(String reason) {
            lost.add(reason);
          }
        };
    Thread.sleep(100); // two turns of the log: the changes records follow their writes
    while (feed.read(1000, reader) > 0) {
      // read on
    }
    return out;
  }

  private List<String> logs() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".wlog")).toList();
    }
  }

  @Test
  void shouldReadTheLoggedChangesAgainFromTheKeptPositionAfterARestart() throws Exception {
    List<String> lost = new ArrayList<>();
    List<Change> first;
    ChangeFeed.Position kept;
    try (Node node = new Node()) {
      node.engine.define("dk", "country == \"DK\"");
      ChangeFeed feed = node.durability.startRecordingChanges();
      for (int i = 0; i < 3; i++) {
        node.update("p" + i, "{\"set\":{\"country\":\"DK\"}}");
      }
      first = readAll(feed, lost);
      kept = feed.position();
      feed.commit(kept);
      node.durability.snapshot(); // the feed stood in the log the snapshot covers: it is kept
      node.update("p0", "{\"set\":{\"country\":\"SE\"}}");
      node.update("p0", "{\"set\":{\"country\":\"DK\"}}");
      List<Change> more = readAll(feed, lost);
      assertEquals(2, logs().size(), "the feed's log outlived the snapshot: " + logs());
      assertEquals(2, more.size(), more.toString());
      assertTrue(!more.get(0).enter() && more.get(1).enter(), more.toString());
      assertTrue(more.get(1).seq() > more.get(0).seq(), "versions grow: " + more);
      feed.close();
    }
    assertEquals(3, first.size(), first.toString());
    assertEquals(
        List.of("the changes publisher starts here: changes made before are not on the topic"),
        lost);

    try (Node node = new Node()) {
      lost.clear();
      ChangeFeed feed = node.durability.startRecordingChanges();
      List<Change> again = readAll(feed, lost);
      assertEquals(List.of(), lost, "nothing lost across the restart");
      assertEquals(2, again.size(), "what was read but not kept is read again: " + again);
      node.update("p1", "{\"set\":{\"country\":\"SE\"}}");
      List<Change> after = readAll(feed, lost);
      assertEquals(1, after.size(), after.toString());
      assertTrue(after.get(0).epoch() > again.get(0).epoch(), "a later life has greater versions");
      feed.commit(feed.position());
      node.durability.snapshot(); // the feed has passed the first log now: it goes
      assertEquals(
          List.of("log-000000000002.wlog", "log-000000000003.wlog"),
          logs().stream().sorted().toList(),
          "the feed stands in the second log; the snapshot began the third");
      feed.close();
    }
  }

  /**
   * A position file a power cut left empty (or anything else unreadable) is a gap, not a reason to
   * refuse to start: the feed says so and reads from the oldest log kept, so nothing kept is
   * skipped.
   */
  @Test
  void shouldStartFromTheOldestLogWithAGapWhenThePositionCannotBeRead() throws Exception {
    try (Node node = new Node()) {
      node.engine.define("dk", "country == \"DK\"");
      ChangeFeed feed = node.durability.startRecordingChanges();
      node.update("p0", "{\"set\":{\"country\":\"DK\"}}");
      readAll(feed, new ArrayList<>());
      feed.close();
    }
    Files.writeString(dir.resolve(ChangeFeed.POSITION_FILE), "");
    try (Node node = new Node()) {
      List<String> lost = new ArrayList<>();
      ChangeFeed feed = node.durability.startRecordingChanges();
      List<Change> again = readAll(feed, lost);
      assertEquals(1, lost.size(), lost.toString());
      assertTrue(lost.get(0).contains("could not be read"), lost.get(0));
      assertEquals(1, again.size(), "the oldest log's change read again: " + again);
      assertEquals("p0", again.get(0).key());
      feed.close();
    }
  }
}

package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Watchers that stop reading (issue 13, finding 3), over real sockets: what they may cost the node,
 * and what they may cost everyone else.
 */
class WatchersTest {
  /** A watcher's socket window: small, so that a watcher that stops reading is full at once. */
  private static final int SMALL_WINDOW_BYTES = 8 * 1024;

  /** Updates sent per write by the ingesting client, each answered before the next write. */
  private static final int PIPELINE = 128;

  private static final int WATCHERS = 200;
  private static final int SEGMENTS = 10;
  private static final int UPDATES = 15_000;

  @Test
  void shouldBoundMemoryOfWatchersThatNeverRead() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection ingest = node.connect()) {
      StringBuilder watch = new StringBuilder("watch");
      for (int i = 0; i < SEGMENTS; i++) {
        define(ingest, "on" + i, "flag == true");
        watch.append(" on").append(i);
      }
      watch.append("\r\n");
      long before = pooledDirectBytes();
      List<RawConnection> watchers = new ArrayList<>();
      try {
        for (int i = 0; i < WATCHERS; i++) {
          RawConnection w = new RawConnection("127.0.0.1", node.port(), SMALL_WINDOW_BYTES);
          watchers.add(w);
          w.send(watch.toString());
          assertEquals("WATCHING " + SEGMENTS + "\r\n", w.readLine());
        }
        // Every update moves one profile in or out of "on": 40,000 changes for each of the 100
        // watchers, about 1.5 MB of CHANGE lines each, none of which they read.
        flipFlags(ingest, UPDATES);
        long held = pooledDirectBytes() - before;
        // Each watcher may hold one write in the node (tens of kilobytes), and the pool takes
        // memory in 4 MiB chunks per arena: 16 MiB covers both, a node that queues what its
        // watchers do not read holds hundreds of megabytes here.
        assertTrue(
            held <= 16L << 20,
            "100 watchers that never read hold " + (held >> 20) + " MiB of direct memory");
      } finally {
        watchers.forEach(RawConnection::close);
      }
    }
  }

  @Test
  void shouldDisconnectWatcherThatStaysLapped() {
    ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    try (EmbeddedNode node = lappingNode(clock);
        RawConnection ingest = node.connect();
        RawConnection watcher = new RawConnection("127.0.0.1", node.port(), SMALL_WINDOW_BYTES)) {
      define(ingest, "on", "flag == true");
      watcher.send("watch on\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      flipFlags(ingest, 20_000); // far more than its socket and the 64 KiB change buffer hold
      node.node().runTimers(); // notes that it is lapped
      clock.advanceSeconds(9);
      node.node().runTimers();
      assertEquals(0, node.node().stats().watchersLappedClosed.sum(), "9 s is not too long yet");
      clock.advanceSeconds(1);
      node.node().runTimers();
      awaitLappedClosed(node, 1);
      String rest = watcher.readToEnd();
      assertTrue(rest.startsWith("CHANGE "), rest.substring(0, Math.min(80, rest.length())));
      assertTrue(
          rest.endsWith("\r\nSERVER_ERROR watch lapped for 10 s: closing\r\n"),
          "the last line before the close says why: "
              + rest.substring(Math.max(0, rest.length() - 200)));
      ingest.send("get nothing\r\n");
      assertEquals("END\r\n", ingest.readLine(), "everyone else carries on");
    }
  }

  @Test
  void shouldDisconnectBinaryWatcherThatStaysLapped() {
    ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    try (EmbeddedNode node = lappingNode(clock);
        RawConnection ingest = node.connect();
        RawConnection watcher = new RawConnection("127.0.0.1", node.port(), SMALL_WINDOW_BYTES)) {
      define(ingest, "on", "flag == true");
      watcher.send(binaryRequest(0x6a, 77, "on"));
      byte[] ok = watcher.read(24);
      assertEquals(0x6a, ok[1]);
      assertEquals(0, ok[6] << 8 | ok[7], "watch accepted");
      flipFlags(ingest, 20_000);
      node.node().runTimers();
      clock.advanceSeconds(10);
      node.node().runTimers();
      awaitLappedClosed(node, 1);
      byte[] rest = watcher.readToEnd().getBytes(StandardCharsets.ISO_8859_1);
      ByteBuffer all = ByteBuffer.wrap(rest);
      int last = -1;
      for (int at = 0; at < rest.length; at += 24 + all.getInt(at + 8)) {
        assertEquals((byte) 0x81, rest[at], "a response header at " + at);
        last = at;
      }
      assertEquals(0x6a, all.get(last + 1), "a Watch response");
      assertEquals(0x00f1, all.getShort(last + 6), "status: the watch ended");
      assertEquals(77, all.getInt(last + 12), "with the watch's opaque");
      assertEquals(
          "watch lapped for 10 s: closing",
          new String(rest, last + 24, all.getInt(last + 8), StandardCharsets.UTF_8));
    }
  }

  @Test
  void shouldTellALappedWatcherExactlyHowManyChangesItMissedAndKeepItWhenItCatchesUp() {
    ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    try (EmbeddedNode node = lappingNode(clock);
        RawConnection ingest = node.connect();
        RawConnection watcher = new RawConnection("127.0.0.1", node.port(), SMALL_WINDOW_BYTES)) {
      define(ingest, "on", "flag == true");
      watcher.send("watch on\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      int changes = 20_000;
      flipFlags(ingest, changes);
      node.node().runTimers();
      long seen = 0;
      long missed = 0;
      while (seen + missed < changes) {
        String line = watcher.readLine();
        if (line.startsWith("MISSED ")) {
          missed += Long.parseLong(line.substring(7, line.length() - 2));
        } else {
          assertTrue(line.startsWith("CHANGE "), line);
          seen++;
        }
      }
      assertEquals(changes, seen + missed, "every change read or counted, none twice");
      assertTrue(missed > 0 && seen > 0, seen + " read, " + missed + " missed");
      // Caught up: no longer lapped, however long it was before.
      clock.advanceSeconds(60);
      node.node().runTimers();
      flipFlags(ingest, 1);
      assertTrue(watcher.readLine().startsWith("CHANGE "));
      watcher.send("unwatch\r\n");
      assertEquals("UNWATCHED\r\n", watcher.readLine());
      assertEquals(0, node.node().stats().watchersLappedClosed.sum());
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * A node on a manual clock (its timer off: the test runs it) whose change buffer is the smallest
   * allowed, 64 KiB, and whose watchers may stay lapped for 10 s.
   */
  private static EmbeddedNode lappingNode(ManualClock clock) {
    return EmbeddedNode.startWithClock(
        clock, c -> c.watchBufferBytes(64 * 1024).watchLappedTimeoutMillis(10_000));
  }

  /** Waits until the node's event loops have closed this many lapped watchers. */
  private static void awaitLappedClosed(EmbeddedNode node, long count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (node.node().stats().watchersLappedClosed.sum() < count) {
      assertTrue(System.nanoTime() < deadline, "no lapped watcher was closed");
      Thread.onSpinWait();
    }
  }

  /** A binary request with no key or extras, {@code value} as its body. */
  private static byte[] binaryRequest(int opcode, int opaque, String value) {
    byte[] body = value.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(24 + body.length);
    b.put((byte) 0x80).put((byte) opcode).putShort((short) 0).put((byte) 0).put((byte) 0);
    b.putShort((short) 0).putInt(body.length).putInt(opaque).putLong(0).put(body);
    return b.array();
  }

  static void define(RawConnection conn, String name, String expression) {
    conn.send("segdef " + name + " " + expression.length() + "\r\n" + expression + "\r\n");
    String reply = conn.readLine();
    assertTrue(reply.startsWith("DEFINED "), reply);
  }

  /**
   * Sends {@code updates} updates that each flip one of 1,000 profiles in or out of {@code flag ==
   * true}, pipelined, and checks that every one is answered {@code UPDATED}.
   */
  static void flipFlags(RawConnection ingest, int updates) {
    StringBuilder batch = new StringBuilder();
    for (int sent = 0; sent < updates; ) {
      int n = Math.min(PIPELINE, updates - sent);
      batch.setLength(0);
      for (int i = sent; i < sent + n; i++) {
        String body = "{\"set\":{\"flag\":" + (i / 1000 % 2 == 0) + "}}";
        batch.append("update k:").append(i % 1000).append(' ').append(body.length()).append("\r\n");
        batch.append(body).append("\r\n");
      }
      ingest.send(batch.toString());
      for (int i = 0; i < n; i++) {
        assertEquals("UPDATED\r\n", ingest.readLine(), "reply to update " + (sent + i));
      }
      sent += n;
    }
  }

  private static long pooledDirectBytes() {
    return PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
  }
}

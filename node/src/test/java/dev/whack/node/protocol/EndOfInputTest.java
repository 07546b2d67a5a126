package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.keyspace.Outcome;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: a client that half-closes after its requests (memcached's own tests, {@code printf ...
 * | nc -q1}) gets a reply to every request the node read before end of input, and then the
 * connection closes, as memcached does; a request cut short by end of input is dropped unanswered.
 * The forwarded requests of a cluster are in {@code cluster.ForwardingAtEndOfInputTest}.
 */
class EndOfInputTest {
  private static final int HUGE_VALUE_BYTES = 512 * 1024;

  private static EmbeddedNode node;

  @BeforeAll
  static void startNode() {
    node = EmbeddedNode.start(c -> c.memoryBytes(64L * 1024 * 1024).maxItemSize(1024 * 1024));
    try (RawConnection conn = node.connect()) {
      conn.send(
          "set huge 0 0 " + HUGE_VALUE_BYTES + "\r\n" + "h".repeat(HUGE_VALUE_BYTES) + "\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      conn.send("segdef dk 15\r\ncountry == \"DK\"\r\n");
      assertEquals("DEFINED 0\r\n", conn.readLine());
    }
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  /**
   * The replies (16 MiB) pass the 4 MiB the node queues for a client that does not read, so the
   * node has paused this connection when end of input arrives. It used to close at once and drop
   * what was still queued.
   */
  @Test
  void shouldWriteEveryReplyOfAPausedConnectionBeforeClosingAtEndOfInput() {
    String value = "VALUE huge 0 " + HUGE_VALUE_BYTES + "\r\n" + "h".repeat(HUGE_VALUE_BYTES);
    StringBuilder requests = new StringBuilder();
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 16; i++) {
      requests.append("get huge\r\n");
      expected.append(value).append("\r\nEND\r\n");
    }
    requests.append("get huge huge huge huge huge huge huge huge\r\nmn\r\n");
    expected.append((value + "\r\n").repeat(8)).append("END\r\nMN\r\n");
    try (RawConnection conn = new RawConnection("127.0.0.1", node.port(), 64 * 1024)) {
      String all = conn.send(requests.toString()).endInput().readToEnd();
      assertEquals(expected.length(), all.length(), "bytes before the close");
      assertTrue(expected.toString().equals(all), "the replies differ from the expected ones");
    }
  }

  /** A watch ends with its connection, after the changes that had already happened. */
  @Test
  void shouldEndAWatchAtEndOfInputAfterTheChangesThatAlreadyHappened() {
    String profile = "{\"country\":\"DK\"}";
    try (RawConnection conn = node.connect()) {
      conn.send("watch dk\r\nset dane 0 0 " + profile.length() + "\r\n" + profile + "\r\n");
      String all = conn.endInput().readToEnd();
      assertTrue(
          all.matches("WATCHING 1\r\nSTORED\r\nCHANGE enter dk dane [0-9]+\r\n"),
          "the watch, the write and its change, then the close: " + all);
    }
    assertEquals(0, node.node().stats().watchers.sum(), "the watch ended with its connection");
  }

  @Test
  void shouldDropARequestCutShortByEndOfInput() {
    try (RawConnection conn = node.connect()) {
      assertEquals("END\r\n", conn.send("get cut\r\nset cut 0 0 10\r\nabc").endInput().readToEnd());
    }
    byte[] key = "cut".getBytes();
    assertFalse(
        node.node().keyspace().session().peek(key, 0, key.length, false, new Outcome()),
        "half a data block is not stored");
  }

  @Test
  void shouldCloseAConnectionThatEndsBeforeItsFirstByte() {
    try (RawConnection conn = node.connect()) {
      assertEquals("", conn.endInput().readToEnd());
    }
  }
}

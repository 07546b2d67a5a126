package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FailingAllocator;
import dev.whack.node.testing.RawConnection;
import org.junit.jupiter.api.Test;

/**
 * A request whose handling fails unexpectedly (here: its reply cannot be allocated, as when direct
 * memory runs out) must end its connection, not leave it open with the rest of the pipeline unread.
 * Issue 13 saw an ingesting client wait for good for 128 replies after non-reading watchers had
 * exhausted direct memory, even once they were gone: the failure escaped the decoder, Netty only
 * logged it, and the requests behind it sat in the decoder's buffer with nothing to make the node
 * read them again.
 */
class FailedRequestTest {
  private static final int PIPELINE = 128;

  @Test
  void shouldCloseConnectionInsteadOfStallingWhenAReplyCannotBeAllocated() {
    FailingAllocator allocator = new FailingAllocator();
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.allocator(allocator));
        RawConnection conn = node.connect()) {
      conn.send("set k 0 0 1\r\nv\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      // The node reads the pipeline into one buffer (the allocation let through), then fails to
      // allocate the buffer for the first reply.
      allocator.failAfter(1);
      conn.send("get k\r\n".repeat(PIPELINE));
      String answered = conn.readToEnd();
      assertTrue(
          ("VALUE k 0 1\r\nv\r\nEND\r\n".repeat(PIPELINE)).startsWith(answered),
          "what came before the close: " + answered);
      try (RawConnection other = node.connect()) {
        other.send("get k\r\n");
        assertEquals("VALUE k 0 1\r\n", other.readLine());
      }
    }
  }

  @Test
  void shouldCloseBinaryConnectionInsteadOfStallingWhenAReplyCannotBeAllocated() {
    FailingAllocator allocator = new FailingAllocator();
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.allocator(allocator));
        RawConnection conn = node.connect()) {
      conn.send(noop(0));
      assertEquals(24, conn.read(24).length);
      allocator.failAfter(1);
      byte[] pipeline = new byte[24 * PIPELINE];
      for (int i = 0; i < PIPELINE; i++) {
        System.arraycopy(noop(i + 1), 0, pipeline, 24 * i, 24);
      }
      conn.send(pipeline);
      String answered = conn.readToEnd();
      assertTrue(answered.length() % 24 == 0 && answered.length() < 24 * PIPELINE, answered);
    }
  }

  /** A binary Noop request with the given opaque. */
  private static byte[] noop(int opaque) {
    byte[] r = new byte[24];
    r[0] = (byte) 0x80;
    r[1] = 0x0a;
    r[12] = (byte) (opaque >>> 24);
    r[13] = (byte) (opaque >>> 16);
    r[14] = (byte) (opaque >>> 8);
    r[15] = (byte) opaque;
    return r;
  }
}

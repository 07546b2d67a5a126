package dev.whack.node.engine.segment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ReevaluationQueueTest {
  private final ReevaluationQueue queue = new ReevaluationQueue();

  @Test
  void shouldReturnEachOrdinalOnceAtItsEarliestTime() {
    queue.schedule(7, 500);
    queue.schedule(7, 300);
    queue.schedule(7, 900);
    queue.schedule(3, 400);
    int[] out = new int[8];
    assertEquals(0, queue.pollDue(299, out));
    assertEquals(1, queue.pollDue(300, out));
    assertEquals(7, out[0]);
    assertEquals(1, queue.pollDue(10_000, out));
    assertEquals(3, out[0]);
    assertEquals(0, queue.pollDue(10_000, out));
  }

  @Test
  void shouldForgetCancelledOrdinals() {
    queue.schedule(1, 100);
    queue.cancel(1);
    assertEquals(0, queue.pollDue(1_000, new int[4]));
  }

  @Test
  void shouldStayBoundedWhenProfilesComeAndGoWithFarWakeUps() {
    for (int round = 0; round < 200; round++) {
      for (int ord = 0; ord < 1_000; ord++) {
        queue.schedule(ord, 1_000_000L + round);
        queue.cancel(ord);
      }
    }
    assertTrue(queue.pending() < 10_000, "heap holds " + queue.pending());
    for (int ord = 0; ord < 10; ord++) {
      queue.schedule(ord, 5_000L - ord);
    }
    int[] out = new int[16];
    int n = queue.pollDue(Long.MAX_VALUE - 1, out);
    int[] got = Arrays.copyOf(out, n);
    Arrays.sort(got);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, got);
  }
}

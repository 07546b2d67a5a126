package dev.whack.node.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Netty's pooled allocator, except that a test can make one direct allocation fail the way an
 * exhausted direct memory fails it ({@link OutOfMemoryError}), to see what a node does then. Give
 * it to a node with {@code NodeConfig.allocator}.
 *
 * <p>Concurrency: the countdown is atomic; allocations come from any event loop.
 */
public final class FailingAllocator extends PooledByteBufAllocator {
  /** Allocations still to succeed before the one that fails; negative when none is armed. */
  private final AtomicInteger untilFailure = new AtomicInteger(-1);

  public FailingAllocator() {
    super(true);
  }

  /** Lets the next {@code succeeding} direct allocations through and fails the one after them. */
  public void failAfter(int succeeding) {
    untilFailure.set(succeeding);
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    if (untilFailure.getAndUpdate(n -> n < 0 ? n : n - 1) == 0) {
      throw new OutOfMemoryError("Direct buffer memory (a test's injected failure)");
    }
    return super.newDirectBuffer(initialCapacity, maxCapacity);
  }
}

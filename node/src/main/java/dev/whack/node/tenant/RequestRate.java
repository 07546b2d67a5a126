package dev.whack.node.tenant;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A tenant's request-rate quota: at most {@code perSecond} requests in each whole second of the
 * node's monotonic clock, over all the tenant's connections and event loops.
 *
 * <p>Concurrency: lock-free; the window's start and its count are two atomics, so a request at the
 * very turn of a second may be counted in either one: the quota holds to within the few requests
 * racing that turn. Only a tenant with a rate quota has one, so the node's default tenant pays
 * nothing on its hot path.
 */
final class RequestRate {
  private static final long SECOND_NANOS = 1_000_000_000L;

  private final long perSecond;
  private final AtomicLong second = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong used = new AtomicLong();

  RequestRate(long perSecond) {
    this.perSecond = perSecond;
  }

  long perSecond() {
    return perSecond;
  }

  /** Takes one request of the current second's allowance; false when it is used up. */
  boolean tryAcquire(long nowNanos) {
    long now = Math.floorDiv(nowNanos, SECOND_NANOS);
    long current = second.get();
    if (now != current && second.compareAndSet(current, now)) {
      used.set(0);
    }
    return used.incrementAndGet() <= perSecond;
  }
}

package dev.whack.node.time;

/**
 * The node's only source of wall-clock time, injected so that expiry and time-dependent segments
 * can be tested by advancing a fake clock instead of sleeping.
 */
@FunctionalInterface
public interface Clock {
  /** Milliseconds since the Unix epoch. */
  long currentTimeMillis();

  /** Seconds since the Unix epoch, the unit of memcached expiry times. */
  default long currentTimeSeconds() {
    return Math.floorDiv(currentTimeMillis(), 1000L);
  }

  Clock SYSTEM = System::currentTimeMillis;
}

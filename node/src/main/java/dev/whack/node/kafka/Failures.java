package dev.whack.node.kafka;

import dev.whack.node.observability.NodeLog;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the failures a Kafka part goes on after, and tells the node's log of them at most once per
 * ten seconds (a broker away for an hour is one line every ten seconds, not a flood).
 *
 * <p>Concurrency: {@link #failed} on the part's own thread; {@link #count} from any.
 */
final class Failures {
  private static final long REPORT_EVERY_MILLIS = 10_000;

  private final String what;
  private final AtomicLong count = new AtomicLong();
  private long lastReportMillis = Long.MIN_VALUE / 2;

  /**
   * @param what the part, as the log line names it ("the Kafka source")
   */
  Failures(String what) {
    this.what = what;
  }

  /**
   * Counts a failure and tells of it, unless told of one within ten seconds.
   *
   * @param then what the part does now ("it reads the records again in 1000 ms")
   */
  void failed(Throwable e, String then) {
    long n = count.incrementAndGet();
    long now = System.currentTimeMillis();
    if (now - lastReportMillis >= REPORT_EVERY_MILLIS) {
      lastReportMillis = now;
      NodeLog.warn(
          "whack node: " + what + " failed (" + e + "); " + then + " (" + n + " failures so far)");
    }
  }

  long count() {
    return count.get();
  }
}

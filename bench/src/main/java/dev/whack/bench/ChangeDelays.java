package dev.whack.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * P7's pairing, for every generator that times a change: a flip key's acknowledgement and its enter
 * change, whichever arrives first, and the delay from the first to the second (0 when the change
 * came first), capped at 10 s.
 *
 * <p>Concurrency: acknowledgements and changes arrive on different threads.
 */
final class ChangeDelays {
  /** Flip key -> nanos of the first of (ack, change) to arrive, negated for a change. */
  private final ConcurrentHashMap<String, Long> firstSeen = new ConcurrentHashMap<>();

  private final Histogram nanos = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(10), 3);

  void acknowledged(String key, long nowNanos) {
    arrived(key, nowNanos);
  }

  void changed(String key, long nowNanos) {
    arrived(key, -nowNanos);
  }

  /** Pairs an ack (positive nanos) with its change (negative nanos), whichever comes second. */
  private void arrived(String key, long signedNanos) {
    Long other = firstSeen.putIfAbsent(key, signedNanos);
    if (other == null) {
      return;
    }
    firstSeen.remove(key);
    long ack = signedNanos > 0 ? signedNanos : other;
    long change = signedNanos < 0 ? -signedNanos : -other;
    nanos.recordValue(Math.max(0, Math.min(change - ack, TimeUnit.SECONDS.toNanos(10))));
  }

  Histogram histogram() {
    return nanos;
  }
}

package dev.whack.node.observability;

import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Request latency by command family, cheap enough to record every request: a value's bucket comes
 * from its bits (no search over bounds), and recording is two uncontended adds. Exposed to
 * Prometheus as one classic histogram with a {@code command} label (or another one named).
 *
 * <p>Why not a micrometer timer: its percentile histogram searches about 70 bounds and records into
 * each of its three rotating time windows plus a decaying maximum, which cost about a tenth of the
 * node's CPU on the profile update path.
 *
 * <p>Buckets are two per power of two of nanoseconds (bounds 1.024 us, 1.536 us, 2.048 us ... up to
 * 1.07 s, then +Inf), so a quantile read from them is within about 20% of the true value. A value v
 * falls in the bucket whose bound is the least one at or above v, as {@code le} means.
 *
 * <p>Concurrency: recording is safe from any thread; a scrape taken while requests are recorded may
 * count a request in {@code _count} before its {@code _sum} (Prometheus tolerates this).
 */
final class LatencyHistograms implements Collector {
  private static final int MIN_SHIFT = 10; // the first bound: 2^10 ns
  private static final int OCTAVES = 20; // up to 2^30 ns
  private static final int PER_OCTAVE = 2;

  /** One bucket up to the first bound, {@code PER_OCTAVE} per octave, and +Inf. */
  static final int BUCKETS = 1 + OCTAVES * PER_OCTAVE + 1;

  private static final double[] UPPER_BOUNDS_SECONDS = upperBoundsSeconds();

  private final MetricMetadata metadata;
  private final String label;
  private final String[] families;
  private final LongAdder[][] counts;
  private final LongAdder[] sumNanos;

  /**
   * @param name the Prometheus name, ending in {@code _seconds}
   * @param families label values of {@code command}, indexed as {@link #record} is called
   */
  LatencyHistograms(String name, String help, String[] families) {
    this(name, help, "command", families);
  }

  /**
   * @param label the label that tells the families apart ({@code command}, or {@code route} for the
   *     HTTP API)
   */
  LatencyHistograms(String name, String help, String label, String[] families) {
    this.metadata = new MetricMetadata(name, help, Unit.SECONDS);
    this.label = label;
    this.families = families.clone();
    counts = new LongAdder[families.length][BUCKETS];
    sumNanos = new LongAdder[families.length];
    for (int f = 0; f < families.length; f++) {
      for (int b = 0; b < BUCKETS; b++) {
        counts[f][b] = new LongAdder();
      }
      sumNanos[f] = new LongAdder();
    }
  }

  void record(int family, long nanos) {
    counts[family][bucket(nanos)].increment();
    sumNanos[family].add(Math.max(0, nanos));
  }

  /** The bucket of a value: the least bound at or above it. */
  static int bucket(long nanos) {
    if (nanos <= 1L << MIN_SHIFT) {
      return 0;
    }
    long v = nanos - 1; // bounds are inclusive: 2^k itself belongs below 2^k
    int msb = 63 - Long.numberOfLeadingZeros(v);
    if (msb >= MIN_SHIFT + OCTAVES) {
      return BUCKETS - 1;
    }
    int half = (int) (v >>> (msb - 1)) & 1; // the bit below the leading one
    return 1 + (msb - MIN_SHIFT) * PER_OCTAVE + half;
  }

  /** The inclusive upper bound of bucket {@code i} in nanoseconds (+Inf for the last). */
  static double upperBoundNanos(int i) {
    if (i == BUCKETS - 1) {
      return Double.POSITIVE_INFINITY;
    }
    if (i == 0) {
      return 1L << MIN_SHIFT;
    }
    int octave = (i - 1) / PER_OCTAVE;
    int half = (i - 1) % PER_OCTAVE;
    long base = 1L << (MIN_SHIFT + octave);
    return half == 0 ? base + base / 2 : 2 * base;
  }

  private static double[] upperBoundsSeconds() {
    double[] bounds = new double[BUCKETS];
    for (int i = 0; i < BUCKETS; i++) {
      bounds[i] = upperBoundNanos(i) / 1e9;
    }
    return bounds;
  }

  @Override
  public MetricSnapshot collect() {
    List<HistogramDataPointSnapshot> points = new ArrayList<>(families.length);
    for (int f = 0; f < families.length; f++) {
      long[] perBucket = new long[BUCKETS]; // the exposition writes them cumulated
      for (int b = 0; b < BUCKETS; b++) {
        perBucket[b] = counts[f][b].sum();
      }
      points.add(
          HistogramDataPointSnapshot.builder()
              .classicHistogramBuckets(ClassicHistogramBuckets.of(UPPER_BOUNDS_SECONDS, perBucket))
              .sum(sumNanos[f].sum() / 1e9)
              .labels(Labels.of(label, families[f]))
              .build());
    }
    return new HistogramSnapshot(metadata, points);
  }
}

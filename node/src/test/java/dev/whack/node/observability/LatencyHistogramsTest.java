package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class LatencyHistogramsTest {
  /** The bucket a value lands in is the one whose bound is the least at or above it. */
  @Property
  void shouldPutEveryValueInTheLeastBucketBoundedAboveIt(
      @ForAll @LongRange(min = -5, max = 5_000_000_000L) long nanos) {
    int b = LatencyHistograms.bucket(nanos);
    assertTrue(nanos <= LatencyHistograms.upperBoundNanos(b), () -> nanos + " above bucket " + b);
    if (b > 0) {
      assertTrue(
          nanos > LatencyHistograms.upperBoundNanos(b - 1),
          () -> nanos + " fits the bucket below " + b);
    }
  }

  @Test
  void shouldHaveIncreasingBoundsEndingInInfinity() {
    for (int i = 1; i < LatencyHistograms.BUCKETS; i++) {
      assertTrue(LatencyHistograms.upperBoundNanos(i) > LatencyHistograms.upperBoundNanos(i - 1));
    }
    assertEquals(1024, LatencyHistograms.upperBoundNanos(0));
    assertEquals(1536, LatencyHistograms.upperBoundNanos(1));
    assertEquals(2048, LatencyHistograms.upperBoundNanos(2));
    assertEquals(
        Double.POSITIVE_INFINITY, LatencyHistograms.upperBoundNanos(LatencyHistograms.BUCKETS - 1));
  }

  @Test
  void shouldPlaceBoundsExactly() {
    assertEquals(0, LatencyHistograms.bucket(1024));
    assertEquals(1, LatencyHistograms.bucket(1025));
    assertEquals(1, LatencyHistograms.bucket(1536));
    assertEquals(2, LatencyHistograms.bucket(1537));
    assertEquals(LatencyHistograms.BUCKETS - 1, LatencyHistograms.bucket(Long.MAX_VALUE));
  }
}

package dev.whack.node.engine;

import dev.whack.node.engine.segment.SegmentRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * What defining a segment would give now, without defining it (docs/segments.md, "Dry runs"): the
 * number of profiles the expression matches and a sample of their keys. Nothing is defined, no
 * backfill runs, no change is told to watchers and nothing is logged.
 *
 * <p>A node's part is {@link ProfileEngine#dryRun}: the name is checked by the segment-name rule
 * ({@link SegmentRegistry#checkName}) and the expression compiled by the engine's one compiler and
 * checked as a definition is (the segments it reads exist and make no cycle), so a definition's
 * errors (with their positions) and every function of the language come out the same. Unlike a
 * definition, the compilation interns no names: a name no profile has simply matches nothing, as it
 * would in a fresh backfill, and leaves no trace in the name tables.
 *
 * @param count profiles matching now (on a cluster, summed over the members)
 * @param sample up to the asked number of their keys, one char per byte as engine keys are
 */
public record SegmentDryRun(long count, List<String> sample) {
  /** Keys in a sample when none is asked for. */
  public static final int DEFAULT_SAMPLE = 10;

  /** The largest sample: a sample is a look at some members, {@code segmembers} lists them all. */
  public static final int MAX_SAMPLE = 1000;

  public SegmentDryRun {
    sample = List.copyOf(sample);
  }

  /**
   * @throws IllegalArgumentException a sample outside 0 to {@link #MAX_SAMPLE}
   */
  public static void checkSample(int sample) {
    if (sample < 0 || sample > MAX_SAMPLE) {
      throw new IllegalArgumentException(
          "bad sample " + sample + ": a sample is 0 to " + MAX_SAMPLE + " keys");
    }
  }

  /**
   * The members' parts as one: counts added, and the sample taken from each part in turn (the first
   * key of each, then the second of each...) up to {@code sample} keys, so that a small sample
   * shows keys of every member rather than of the first alone.
   */
  public static SegmentDryRun merge(List<SegmentDryRun> parts, int sample) {
    long count = 0;
    int longest = 0;
    for (SegmentDryRun part : parts) {
      count += part.count();
      longest = Math.max(longest, part.sample().size());
    }
    List<String> keys = new ArrayList<>(sample);
    for (int i = 0; i < longest && keys.size() < sample; i++) {
      for (SegmentDryRun part : parts) {
        if (i < part.sample().size() && keys.size() < sample) {
          keys.add(part.sample().get(i));
        }
      }
    }
    return new SegmentDryRun(count, keys);
  }
}

package dev.whack.client;

import java.util.List;

/**
 * What defining a segment would give now, without defining it ({@link Segments#dryRun}).
 *
 * @param count the profiles the expression matches now, over the whole cluster
 * @param sample some of their keys, at most the sample asked for, taken from each node in turn
 */
public record SegmentDryRun(long count, List<String> sample) {
  public SegmentDryRun {
    sample = List.copyOf(sample);
  }
}

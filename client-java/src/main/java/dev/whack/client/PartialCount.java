package dev.whack.client;

import java.util.Map;

/**
 * A count asked for knowing it may be partial ({@link Segments#countPartial}): the sum over the
 * parts of the cluster that answered, and for each part that did not (a node, or {@code slot:N} for
 * a slot with no owner yet) why.
 *
 * @param count the sum of the parts that answered
 * @param missing the parts that did not answer, each with the reason, in name order
 */
public record PartialCount(long count, Map<String, String> missing) {
  public PartialCount {
    missing = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(missing));
  }

  /** Whether every part answered: the count is the cluster's whole count. */
  public boolean whole() {
    return missing.isEmpty();
  }
}

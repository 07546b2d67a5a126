package dev.whack.node.engine.expr;

/**
 * A segment or filter expression compiled once into a tree of evaluator nodes. It knows which
 * attributes and events it reads (so an update re-evaluates only the segments it can affect) and
 * whether its answer depends on time.
 *
 * <p>Concurrency: immutable and safe to share; evaluation state lives in the caller's {@link
 * EvalContext}.
 */
public final class CompiledExpression {
  private final String source;
  private final Cond root;
  private final int[] attributes;
  private final int[] events;
  private final int[] dimensions;
  private final boolean timeDependent;
  private final String[] segments;
  private final int[] segmentPositions;

  CompiledExpression(
      String source,
      Cond root,
      int[] attributes,
      int[] events,
      int[] dimensions,
      boolean timeDependent,
      String[] segments,
      int[] segmentPositions) {
    this.source = source;
    this.root = root;
    this.attributes = attributes;
    this.events = events;
    this.dimensions = dimensions;
    this.timeDependent = timeDependent;
    this.segments = segments;
    this.segmentPositions = segmentPositions;
  }

  public String source() {
    return source;
  }

  /** Attribute ids the expression reads (sorted, distinct). Ids of -1 are never read. */
  public int[] attributes() {
    return attributes.clone();
  }

  /** Event ids the expression reads (sorted, distinct). */
  public int[] events() {
    return events.clone();
  }

  /**
   * The segments the expression reads with {@code in_segment(...)}, {@code entered(...)} or {@code
   * time_in(...)}, distinct, in order of first use; an evaluation is handed their members in this
   * order ({@link EvalContext#segments}).
   */
  public String[] segments() {
    return segments.clone();
  }

  /**
   * The position in the source of the first {@code in_segment} (or {@code entered}, {@code
   * time_in}) that reads {@code segments()[i]}, for errors about that segment.
   */
  public int segmentPosition(int i) {
    return segmentPositions[i];
  }

  /** Dimension ids the expression reads ({@code share}, {@code top}; sorted, distinct). */
  public int[] dimensions() {
    return dimensions.clone();
  }

  /** Whether the expression reads dimension {@code id}. */
  public boolean readsDimension(int id) {
    return java.util.Arrays.binarySearch(dimensions, id) >= 0;
  }

  /** Whether it reads any segment's members (cheaper than {@code segments().length > 0}). */
  public boolean readsSegments() {
    return segments.length > 0;
  }

  /** Whether the answer can change with time alone ({@code now()} or a window function). */
  public boolean timeDependent() {
    return timeDependent;
  }

  /**
   * Evaluates against the profile bound in {@code c}; afterwards {@link EvalContext#validUntil()}
   * says until when the answer holds without an update. Allocates nothing.
   */
  public boolean test(EvalContext c) {
    c.validUntil = Long.MAX_VALUE;
    return root.test(c);
  }

  @Override
  public String toString() {
    return source;
  }
}

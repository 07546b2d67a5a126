package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.CompiledExpression;

/**
 * A defined segment: its name, compiled expression and members.
 *
 * <p>Concurrency: the name and expression are immutable; {@link #members} documents its own
 * locking; {@code ready} and {@code dropped} are volatile flags written once.
 */
public final class Segment {
  private final int id;
  private final String name;
  private final CompiledExpression expression;
  private final PartitionedBitmap members = new PartitionedBitmap();
  private volatile boolean ready;
  private volatile boolean dropped;

  Segment(int id, String name, CompiledExpression expression) {
    this.id = id;
    this.name = name;
    this.expression = expression;
  }

  /** Small dense id, recycled after a drop; unique among the segments of one catalog. */
  public int id() {
    return id;
  }

  public String name() {
    return name;
  }

  public CompiledExpression expression() {
    return expression;
  }

  public PartitionedBitmap members() {
    return members;
  }

  /** True once the backfill over existing profiles has finished. */
  public boolean ready() {
    return ready;
  }

  void markReady() {
    ready = true;
  }

  public boolean dropped() {
    return dropped;
  }

  void markDropped() {
    dropped = true;
  }
}

package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.CompiledExpression;
import dev.whack.node.engine.expr.MemberSet;

/**
 * A defined segment: its name, compiled expression and members.
 *
 * <p>Concurrency: the name and expression are immutable; {@link #members} documents its own
 * locking; {@code ready} and {@code dropped} are volatile flags written once.
 */
public final class Segment implements MemberSet {
  private final int id;
  private final String name;
  private final CompiledExpression expression;
  private final PartitionedBitmap members = PartitionedBitmap.timed();
  private volatile boolean ready;
  private volatile boolean dropped;

  /**
   * The segment of the same name this one replaced, while this one is backfilled: segments that
   * read this one ({@code in_segment}) read the replaced one's members until then, rather than a
   * half-built set. Null once the dependants have been brought up to date.
   */
  private volatile Segment replaced;

  Segment(int id, String name, CompiledExpression expression, Segment replaced) {
    this.id = id;
    this.name = name;
    this.expression = expression;
    this.replaced = replaced;
  }

  /**
   * Whether {@code ordinal} is a member as the segments reading this one see it: this one's
   * members, or the replaced segment's until this one's backfill and its dependants' are done.
   */
  @Override
  public boolean contains(int ordinal) {
    return membersForReaders().contains(ordinal);
  }

  /** The members readers see: this segment's, or the replaced one's while this one backfills. */
  private PartitionedBitmap membersForReaders() {
    Segment previous = replaced;
    return previous == null ? members : previous.members;
  }

  /**
   * Clears a removed profile's ordinal from the replaced segment its readers still read: the
   * replaced segment is out of the catalog, so removal does not clear it otherwise, and a profile
   * later given the same ordinal would be read as its member. Caller holds the profile's stripe.
   */
  public void removeFromReplaced(int ordinal) {
    Segment previous = replaced;
    if (previous != null) {
      previous.members.remove(ordinal);
    }
  }

  /**
   * When {@code ordinal} entered, in epoch millis (kept to the second), as the segments reading
   * this one see it ({@link #contains}); {@link Long#MIN_VALUE} when it is not a member.
   */
  @Override
  public long enteredMillis(int ordinal) {
    long s = membersForReaders().enteredSeconds(ordinal);
    return s == PartitionedBitmap.NOT_MEMBER ? Long.MIN_VALUE : s * 1000;
  }

  /** Dependants read this segment's own members from now on. */
  public void forgetReplaced() {
    replaced = null;
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

package dev.whack.node.engine.expr;

/**
 * The members of another segment as {@code in_segment(...)}, {@code entered(...)} and {@code
 * time_in(...)} read them: whether a profile's ordinal is in it, and since when. The segment
 * package implements it; the evaluator only asks.
 */
public interface MemberSet {
  boolean contains(int ordinal);

  /**
   * When {@code ordinal} entered, in epoch millis (a whole second), or {@link Long#MIN_VALUE} when
   * it is not a member.
   */
  long enteredMillis(int ordinal);
}

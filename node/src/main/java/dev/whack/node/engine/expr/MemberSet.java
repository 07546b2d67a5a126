package dev.whack.node.engine.expr;

/**
 * The members of another segment as {@code in_segment(...)} reads them: whether a profile's ordinal
 * is in it. The segment package implements it; the evaluator only asks.
 */
public interface MemberSet {
  boolean contains(int ordinal);
}

package dev.whack.node.engine.expr;

import dev.whack.node.engine.dimension.DistinctWindow;
import dev.whack.node.engine.event.Days;

/**
 * {@code distinct(...)} compared with a literal. The value changes on the midnights a counted day
 * leaves the window (or a future-dated one enters), but the answer often does not: this finds the
 * first midnight on which the answer itself flips, so a profile comes back to the timer queue only
 * then. An exact count without future days can only fall (each day leaving takes a subset away), so
 * an answer that falling cannot change holds until a write. A sketch's estimate of a smaller union
 * is not bound to be smaller, so then the change days are stepped through (at most one per day
 * kept, each a merge of the window's days).
 */
final class DistinctCompare extends Cond {
  final Ast.Op op;
  final Operand left;
  final Operand right;

  DistinctCompare(Ast.Op op, Operand left, Operand right) {
    this.op = op;
    this.left = left;
    this.right = right;
  }

  @Override
  boolean test(EvalContext c) {
    boolean onLeft = left instanceof DistinctOperand;
    DistinctOperand distinct = (DistinctOperand) (onLeft ? left : right);
    int ds = onLeft ? 0 : 1;
    int litType = (onLeft ? right : left).load(c, 1 - ds);
    DistinctWindow w = distinct.loadAt(c, ds, c.today);
    boolean result = holds(c, onLeft, litType);
    int next = w.nextChangeDay();
    if (next == Integer.MAX_VALUE || !c.needValidity) {
      return result;
    }
    Ast.Op norm = onLeft ? op : op.mirror(); // distinct op literal
    boolean falling = w.exact() && !w.future();
    if (falling
        && ((norm == Ast.Op.GT || norm == Ast.Op.GE) && !result
            || (norm == Ast.Op.LT || norm == Ast.Op.LE) && result)) {
      return result;
    }
    int day = next;
    while (day != Integer.MAX_VALUE) {
      distinct.loadAt(c, ds, day);
      if (holds(c, onLeft, litType) != result) {
        break;
      }
      day = c.distinct.nextChangeDay();
    }
    if (day != Integer.MAX_VALUE) {
      c.validUntil = Math.min(c.validUntil, Days.startOf(day));
    }
    return result;
  }

  private boolean holds(EvalContext c, boolean onLeft, int litType) {
    if (litType == EvalContext.MISSING) {
      return false;
    }
    int cmp =
        onLeft
            ? Cond.compare(c, EvalContext.INT, litType, op)
            : Cond.compare(c, litType, EvalContext.INT, op);
    return cmp != Cond.INCOMPARABLE && op.holds(cmp);
  }
}

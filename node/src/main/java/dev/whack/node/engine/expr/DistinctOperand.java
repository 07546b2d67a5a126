package dev.whack.node.engine.expr;

import dev.whack.node.engine.dimension.DistinctWindow;
import dev.whack.node.engine.event.Days;

/**
 * {@code distinct(dimension, Nd)}: how many distinct values the profile had in a distinct dimension
 * over the window (exact while every day in it kept its set, else the sketches' estimate rounded;
 * {@link DistinctWindow}), an integer. Lowers "valid until" to the next midnight the value can
 * change on ({@link DistinctCompare} does better against a literal).
 */
final class DistinctOperand extends Operand {
  final int dimensionId;
  final int days;

  DistinctOperand(int dimensionId, int days) {
    this.dimensionId = dimensionId;
    this.days = days;
  }

  @Override
  int load(EvalContext c, int slot) {
    DistinctWindow w = loadAt(c, slot, c.today);
    if (w.nextChangeDay() != Integer.MAX_VALUE) {
      c.validUntil = Math.min(c.validUntil, Days.startOf(w.nextChangeDay()));
    }
    return EvalContext.INT;
  }

  /**
   * The value as it will be on {@code day} if no write comes, into register {@code slot}; the
   * returned window tells the next change after that day. Leaves validity alone.
   */
  DistinctWindow loadAt(EvalContext c, int slot, int day) {
    int pos = c.view.distinctDimension(dimensionId);
    DistinctWindow w = c.distinct.read(c.view.blob(), pos, day, days);
    c.lng[slot] = w.value();
    return w;
  }
}

package dev.whack.node.engine.expr;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.WindowResult;
import dev.whack.node.engine.profile.ProfileView;

/**
 * Per-thread scratch for evaluating compiled expressions: the profile view, the time, two operand
 * registers and the "valid until" accumulator. Evaluating allocates nothing.
 *
 * <p>Concurrency: not thread-safe; each evaluating thread owns one context.
 */
public final class EvalContext {
  static final int MISSING = 0;
  static final int STRING = 1;
  static final int INT = 2;
  static final int FLOAT = 3;
  static final int BOOL = 4;
  static final int TIMESTAMP = 5;
  static final int SET = 6;

  ProfileView view;
  long now;
  int today;
  long validUntil = Long.MAX_VALUE;
  boolean needValidity = true;

  final int[] type = new int[2];
  final long[] lng = new long[2];
  final double[] dbl = new double[2];
  final byte[][] buf = new byte[2][];
  final int[] off = new int[2];
  final int[] len = new int[2];
  final WindowResult window = new WindowResult();

  /** Binds the profile and the evaluation time. */
  public EvalContext bind(ProfileView profile, long nowMillis) {
    this.view = profile;
    this.now = nowMillis;
    this.today = Days.dayOf(nowMillis);
    return this;
  }

  /**
   * Whether evaluations must work out until when their answer holds (default true). Turning it off
   * skips the search for the flip day of window comparisons, for evaluations whose validity is not
   * used; {@link #validUntil()} is then only an upper bound of nothing in particular.
   */
  public EvalContext needValidity(boolean need) {
    this.needValidity = need;
    return this;
  }

  /**
   * Until when (exclusive, epoch ms) the last evaluation's answer holds; MAX_VALUE: until an
   * update.
   */
  public long validUntil() {
    return validUntil;
  }
}

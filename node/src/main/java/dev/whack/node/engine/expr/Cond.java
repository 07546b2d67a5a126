package dev.whack.node.engine.expr;

import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.profile.ValueType;
import java.util.Arrays;

/**
 * A compiled condition. Each node lowers {@link EvalContext#validUntil} to the time its answer may
 * change; {@code and}/{@code or} short-circuit and then only the deciding operand's validity
 * counts, since the other cannot change the answer.
 */
abstract class Cond {
  abstract boolean test(EvalContext c);

  static final class Const extends Cond {
    final boolean value;

    Const(boolean value) {
      this.value = value;
    }

    @Override
    boolean test(EvalContext c) {
      return value;
    }
  }

  static final class And extends Cond {
    final Cond left;
    final Cond right;

    And(Cond left, Cond right) {
      this.left = left;
      this.right = right;
    }

    @Override
    boolean test(EvalContext c) {
      long outer = c.validUntil;
      c.validUntil = Long.MAX_VALUE;
      boolean a = left.test(c);
      long va = c.validUntil;
      if (!a) {
        c.validUntil = Math.min(outer, va);
        return false;
      }
      c.validUntil = Long.MAX_VALUE;
      boolean b = right.test(c);
      long vb = c.validUntil;
      c.validUntil = b ? Math.min(outer, Math.min(va, vb)) : Math.min(outer, vb);
      return b;
    }
  }

  static final class Or extends Cond {
    final Cond left;
    final Cond right;

    Or(Cond left, Cond right) {
      this.left = left;
      this.right = right;
    }

    @Override
    boolean test(EvalContext c) {
      long outer = c.validUntil;
      c.validUntil = Long.MAX_VALUE;
      boolean a = left.test(c);
      long va = c.validUntil;
      if (a) {
        c.validUntil = Math.min(outer, va);
        return true;
      }
      c.validUntil = Long.MAX_VALUE;
      boolean b = right.test(c);
      long vb = c.validUntil;
      c.validUntil = b ? Math.min(outer, vb) : Math.min(outer, Math.min(va, vb));
      return b;
    }
  }

  static final class Not extends Cond {
    final Cond inner;

    Not(Cond inner) {
      this.inner = inner;
    }

    @Override
    boolean test(EvalContext c) {
      return !inner.test(c);
    }
  }

  static final class Exists extends Cond {
    final int id;

    Exists(int id) {
      this.id = id;
    }

    @Override
    boolean test(EvalContext c) {
      return c.view.attribute(id) >= 0;
    }
  }

  /** {@code in_segment(...)}: the bound ordinal is in the segment at {@code index}. */
  static final class InSegment extends Cond {
    final int index;

    InSegment(int index) {
      this.index = index;
    }

    @Override
    boolean test(EvalContext c) {
      return c.segments[index].contains(c.ordinal);
    }
  }

  /** A bare attribute as a condition: true exactly when it is the boolean {@code true}. */
  static final class Truthy extends Cond {
    final int id;

    Truthy(int id) {
      this.id = id;
    }

    @Override
    boolean test(EvalContext c) {
      int pos = c.view.attribute(id);
      return pos >= 0 && c.view.blob()[pos] == ValueType.TRUE;
    }
  }

  /** Which side of a comparison is {@code now()}-based, for computing when its answer flips. */
  enum NowSide {
    NONE,
    LEFT,
    RIGHT
  }

  static final class Compare extends Cond {
    final Ast.Op op;
    final Operand left;
    final Operand right;
    final NowSide nowSide;

    /**
     * Which side is a window compared with a literal: then validity is the answer's, not the
     * value's.
     */
    final NowSide windowSide;

    Compare(Ast.Op op, Operand left, Operand right, NowSide nowSide) {
      this.op = op;
      this.left = left;
      this.right = right;
      this.nowSide = nowSide;
      this.windowSide =
          left instanceof Operand.Window && right instanceof Operand.Literal
              ? NowSide.LEFT
              : right instanceof Operand.Window && left instanceof Operand.Literal
                  ? NowSide.RIGHT
                  : NowSide.NONE;
    }

    @Override
    boolean test(EvalContext c) {
      if (windowSide != NowSide.NONE) {
        return windowCompare(c);
      }
      int lt = left.load(c, 0);
      int rt = right.load(c, 1);
      if (lt == EvalContext.MISSING || rt == EvalContext.MISSING) {
        return false;
      }
      if (lt == EvalContext.TIMESTAMP && rt == EvalContext.TIMESTAMP && nowSide != NowSide.NONE) {
        return nowCompare(c);
      }
      int cmp = compare(c, lt, rt, op);
      return cmp != INCOMPARABLE && op.holds(cmp);
    }

    /**
     * A window aggregate against a literal. The aggregate changes on some midnights, but the answer
     * often does not: this finds the first midnight on which the answer itself flips, so a profile
     * comes back to the timer queue only then. Without updates, {@code count} and {@code decayed}
     * can only fall (buckets leave, weights decay) unless future-dated buckets exist, so an answer
     * that falling cannot change holds forever; otherwise the future change days are stepped
     * through (at most one per bucket). {@code decayed} answers that can flip are re-checked every
     * midnight.
     */
    private boolean windowCompare(EvalContext c) {
      boolean winLeft = windowSide == NowSide.LEFT;
      Operand.Window win = (Operand.Window) (winLeft ? left : right);
      int ws = winLeft ? 0 : 1;
      int ls = 1 - ws;
      int litType = (winLeft ? right : left).load(c, ls);
      int winType = win.loadAt(c, ws, c.today);
      boolean result = holds(c, winLeft ? winType : litType, winLeft ? litType : winType);
      int next = c.window.nextChangeDay;
      if (next == Integer.MAX_VALUE || !c.needValidity) {
        return result;
      }
      Ast.Op norm = winLeft ? op : op.mirror(); // window op literal
      boolean falling = (win.fn == Ast.Fn.COUNT || win.fn == Ast.Fn.DECAYED) && !c.window.future;
      if (falling
          && ((norm == Ast.Op.GT || norm == Ast.Op.GE) && !result
              || (norm == Ast.Op.LT || norm == Ast.Op.LE) && result)) {
        return result; // can only fall, so the answer holds until an update
      }
      if (win.fn == Ast.Fn.DECAYED) {
        c.validUntil =
            Math.min(
                c.validUntil,
                Days.startOf(decayedFlipDay(c, win, ws, ls, litType, norm, result, next)));
        return result;
      }
      int day = next;
      while (day != Integer.MAX_VALUE) {
        int t = win.loadAt(c, ws, day);
        if (holds(c, winLeft ? t : litType, winLeft ? litType : t) != result) {
          break;
        }
        day = c.window.nextChangeDay;
      }
      if (day != Integer.MAX_VALUE) {
        c.validUntil = Math.min(c.validUntil, Days.startOf(day));
      }
      return result;
    }

    /**
     * A lower bound of the day a decayed comparison flips. Without future buckets the value only
     * falls: by {@code 2^(-1/H)} a day while no bucket leaves the retention, faster when one does.
     * An answer that needs the value to fall below the literal therefore holds for at least {@code
     * floor(H * log2(value / literal)) - 1} days (one day of slack against rounding), and at least
     * until the oldest counted bucket leaves. Otherwise: the next midnight.
     */
    private int decayedFlipDay(
        EvalContext c,
        Operand.Window win,
        int ws,
        int ls,
        int litType,
        Ast.Op norm,
        boolean result,
        int next) {
      boolean needsFall =
          (norm == Ast.Op.GT || norm == Ast.Op.GE) && result
              || (norm == Ast.Op.LT || norm == Ast.Op.LE) && !result;
      if (!needsFall || c.window.future || c.window.oldestCounted == Integer.MAX_VALUE) {
        return next;
      }
      int dropDay = c.window.oldestCounted + win.retentionDays + 1;
      double value = c.dbl[ws];
      double literal = litType == EvalContext.INT ? (double) c.lng[ls] : c.dbl[ls];
      if (literal <= 0) {
        return dropDay; // a positive sum stays above a non-positive literal while any bucket counts
      }
      double days = Math.floor(win.halfLifeDays * (Math.log(value / literal) / Math.log(2))) - 1;
      int decayDay = c.today + (int) Math.max(1, Math.min(days, 100_000));
      return Math.max(next, Math.min(decayDay, dropDay));
    }

    private boolean holds(EvalContext c, int lt, int rt) {
      if (lt == EvalContext.MISSING || rt == EvalContext.MISSING) {
        return false;
      }
      int cmp = compare(c, lt, rt, op);
      return cmp != INCOMPARABLE && op.holds(cmp);
    }

    /**
     * {@code t op (now + k)}: the answer flips at most once as time moves forward, at {@code t -
     * k}.
     */
    private boolean nowCompare(EvalContext c) {
      Ast.Op o = op;
      long t = c.lng[0];
      long shifted = c.lng[1];
      if (nowSide == NowSide.LEFT) {
        o = op.mirror();
        t = c.lng[1];
        shifted = c.lng[0];
      }
      long k = shifted - c.now;
      long cross = t - k;
      long now = c.now;
      boolean result;
      long until;
      switch (o) {
        case GT -> {
          result = now < cross;
          until = result ? cross : Long.MAX_VALUE;
        }
        case GE -> {
          result = now <= cross;
          until = result ? cross + 1 : Long.MAX_VALUE;
        }
        case LT -> {
          result = now > cross;
          until = result ? Long.MAX_VALUE : cross + 1;
        }
        case LE -> {
          result = now >= cross;
          until = result ? Long.MAX_VALUE : cross;
        }
        case EQ -> {
          result = now == cross;
          until = result ? cross + 1 : (now < cross ? cross : Long.MAX_VALUE);
        }
        default -> {
          result = now != cross;
          until = !result ? cross + 1 : (now < cross ? cross : Long.MAX_VALUE);
        }
      }
      c.validUntil = Math.min(c.validUntil, until);
      return result;
    }
  }

  static final int INCOMPARABLE = Integer.MIN_VALUE;

  /** Compares registers 0 and 1; {@link #INCOMPARABLE} when the types do not meet. */
  static int compare(EvalContext c, int lt, int rt, Ast.Op op) {
    if ((lt == EvalContext.INT || lt == EvalContext.FLOAT)
        && (rt == EvalContext.INT || rt == EvalContext.FLOAT)) {
      if (lt == EvalContext.INT && rt == EvalContext.INT) {
        return Long.compare(c.lng[0], c.lng[1]);
      }
      if (lt == EvalContext.FLOAT && rt == EvalContext.FLOAT) {
        return c.dbl[0] < c.dbl[1] ? -1 : (c.dbl[0] > c.dbl[1] ? 1 : 0);
      }
      if (lt == EvalContext.INT) {
        return compareLongDouble(c.lng[0], c.dbl[1]);
      }
      return -compareLongDouble(c.lng[1], c.dbl[0]);
    }
    if (lt != rt) {
      return INCOMPARABLE;
    }
    switch (lt) {
      case EvalContext.STRING -> {
        return Integer.signum(
            Arrays.compareUnsigned(
                c.buf[0], c.off[0], c.off[0] + c.len[0], c.buf[1], c.off[1], c.off[1] + c.len[1]));
      }
      case EvalContext.TIMESTAMP -> {
        return Long.compare(c.lng[0], c.lng[1]);
      }
      case EvalContext.BOOL -> {
        if (op != Ast.Op.EQ && op != Ast.Op.NE) {
          return INCOMPARABLE;
        }
        return Long.compare(c.lng[0], c.lng[1]);
      }
      default -> {
        return INCOMPARABLE;
      }
    }
  }

  /** Exact comparison of a long with a finite double (no rounding of the long to 53 bits). */
  static int compareLongDouble(long a, double b) {
    if (b >= 0x1p63) {
      return -1;
    }
    if (b < -0x1p63) {
      return 1;
    }
    long whole = (long) b;
    if (a != whole) {
      return Long.compare(a, whole);
    }
    double fraction = b - whole;
    return fraction > 0 ? -1 : (fraction < 0 ? 1 : 0);
  }

  /** {@code needle in [literals]}: equal to any item (by the comparison rules). */
  static final class InList extends Cond {
    final Operand needle;
    final Operand[] items;

    InList(Operand needle, Operand[] items) {
      this.needle = needle;
      this.items = items;
    }

    @Override
    boolean test(EvalContext c) {
      int nt = needle.load(c, 0);
      if (nt == EvalContext.MISSING) {
        return false;
      }
      for (Operand item : items) {
        int it = item.load(c, 1);
        if (compare(c, nt, it, Ast.Op.EQ) == 0) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code needle in set_attribute}: the string is an element of the set. */
  static final class InSet extends Cond {
    final Operand needle;
    final int setId;

    InSet(Operand needle, int setId) {
      this.needle = needle;
      this.setId = setId;
    }

    @Override
    boolean test(EvalContext c) {
      if (needle.load(c, 0) != EvalContext.STRING) {
        return false;
      }
      int pos = c.view.attribute(setId);
      byte[] b = c.view.blob();
      if (pos < 0 || b[pos] != ValueType.SET) {
        return false;
      }
      int n = Bytes.varintInt(b, pos + 1);
      int p = Bytes.next(b, pos + 1);
      byte[] nb = c.buf[0];
      int nOff = c.off[0];
      int nLen = c.len[0];
      for (int i = 0; i < n; i++) {
        int len = Bytes.varintInt(b, p);
        int s = Bytes.next(b, p);
        if (len == nLen && Arrays.equals(b, s, s + len, nb, nOff, nOff + nLen)) {
          return true;
        }
        p = s + len;
      }
      return false;
    }
  }
}

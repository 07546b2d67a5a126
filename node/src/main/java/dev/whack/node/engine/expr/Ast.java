package dev.whack.node.engine.expr;

import java.util.List;

/** Syntax tree of a parsed expression; every node keeps its source position for errors. */
sealed interface Ast {
  int pos();

  record Or(Ast left, Ast right, int pos) implements Ast {}

  record And(Ast left, Ast right, int pos) implements Ast {}

  record Not(Ast inner, int pos) implements Ast {}

  record Compare(Op op, Ast left, Ast right, int pos) implements Ast {}

  record In(Ast needle, Ast haystack, boolean negated, int pos) implements Ast {}

  record Exists(String attribute, int pos) implements Ast {}

  record Attr(String name, int pos) implements Ast {}

  record Str(String value, int pos) implements Ast {}

  record Int(long value, int pos) implements Ast {}

  record Real(double value, int pos) implements Ast {}

  record Bool(boolean value, int pos) implements Ast {}

  record Timestamp(long millis, int pos) implements Ast {}

  record Duration(long millis, int pos) implements Ast {}

  /** {@code now()} plus a constant offset (from {@code now() - 7d} and the like). */
  record Now(long offsetMillis, int pos) implements Ast {}

  record ListOf(List<Ast> items, int pos) implements Ast {}

  record Window(Fn fn, String event, long millis, int argPos, int pos) implements Ast {}

  /**
   * {@code first_time(e)} or {@code last_time(e)}: the first or last event time of a series, a
   * timestamp (missing when the profile has no such series).
   */
  record SeriesTime(boolean last, String event, int pos) implements Ast {}

  /** {@code bucket(n)} or {@code bucket(n, "salt")}: the key's stable bucket in [0, n). */
  record Bucket(long buckets, String salt, int pos) implements Ast {}

  /**
   * {@code share(dimension, value, window[, halfLife])}: the value's weighted share of the
   * profile's counts in a dimension; {@code value} is a string or a number (a numeric dimension's
   * bucket).
   */
  record Share(
      String dimension,
      String value,
      boolean numeric,
      double number,
      long windowMillis,
      long halfLifeMillis,
      int dimensionPos,
      int argPos,
      int pos)
      implements Ast {}

  /** {@code top(dimension, window[, halfLife])}: the category with the largest weighted count. */
  record Top(
      String dimension,
      long windowMillis,
      long halfLifeMillis,
      int dimensionPos,
      int argPos,
      int pos)
      implements Ast {}

  /** {@code in_segment("name")}: the profile is a member of another segment. */
  record InSegment(String segment, int pos) implements Ast {}

  /** {@code entered("name")}: when the profile entered another segment (missing if not in it). */
  record Entered(String segment, int pos) implements Ast {}

  /**
   * {@code time_in("name")}, before the parser rewrites its comparison with a duration into one of
   * {@link Entered} with {@code now()}; never left in a parsed tree.
   */
  record TimeIn(String segment, int segmentPos, int pos) implements Ast {}

  /**
   * {@code distinct(name, 30d)}: the distinct values a profile had in a distinct dimension over a
   * window; {@code name} is the dimension's, or {@code event.property}.
   */
  record Distinct(String dimension, int dimensionPos, long millis, int argPos, int pos)
      implements Ast {}

  enum Op {
    EQ("=="),
    NE("!="),
    LT("<"),
    LE("<="),
    GT(">"),
    GE(">=");

    final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    /** The operator that holds with the operands swapped. */
    Op mirror() {
      return switch (this) {
        case LT -> GT;
        case LE -> GE;
        case GT -> LT;
        case GE -> LE;
        default -> this;
      };
    }

    boolean holds(int cmp) {
      return switch (this) {
        case EQ -> cmp == 0;
        case NE -> cmp != 0;
        case LT -> cmp < 0;
        case LE -> cmp <= 0;
        case GT -> cmp > 0;
        case GE -> cmp >= 0;
      };
    }
  }

  enum Fn {
    COUNT,
    SUM,
    AVG,
    VARIANCE,
    MIN,
    MAX,
    DECAYED
  }
}

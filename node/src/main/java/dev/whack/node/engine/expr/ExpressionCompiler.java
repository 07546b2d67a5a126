package dev.whack.node.engine.expr;

import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionKind;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.NameTable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses and type-checks an expression and compiles it into evaluator nodes. Every error carries
 * the position of the offending token; nothing is compiled from a rejected expression.
 *
 * <p>A compiled expression holds one reference to each name it reads ({@link NameTable}), so that
 * its ids keep their names for as long as it is used; {@link #release} gives them back.
 *
 * <p>Concurrency: holds no state of its own between calls; the name tables are thread-safe.
 */
public final class ExpressionCompiler {
  private final NameTable attributes;
  private final NameTable events;
  private final int retentionDays;
  private final DimensionRegistry dimensions;

  /**
   * @param retentionDays the longest window or decay horizon, in days (the node's retention)
   * @param dimensions the dimensions {@code share} and {@code top} read
   */
  public ExpressionCompiler(
      NameTable attributes, NameTable events, int retentionDays, DimensionRegistry dimensions) {
    this.attributes = attributes;
    this.events = events;
    this.retentionDays = retentionDays;
    this.dimensions = dimensions;
  }

  /** A compiler for a node without dimensions. */
  public ExpressionCompiler(NameTable attributes, NameTable events, int retentionDays) {
    this(attributes, events, retentionDays, new DimensionRegistry(retentionDays));
  }

  /** Static type of an operand, for compile-time checks; DYNAMIC is an attribute. */
  private enum Type {
    STRING,
    NUMBER,
    BOOL,
    TIMESTAMP,
    DYNAMIC
  }

  /** The names one compilation has referenced, each once: id, or -1 for a name not interned. */
  private final class Unit {
    final boolean intern;
    final Map<String, Integer> attrs = new HashMap<>();
    final Map<String, Integer> evts = new HashMap<>();
    final Map<String, Integer> segments = new LinkedHashMap<>();
    final List<Integer> segmentPositions = new ArrayList<>();
    final List<Integer> dimensions = new ArrayList<>();
    boolean timeDependent;

    Unit(boolean intern) {
      this.intern = intern;
    }

    /**
     * The attribute's id, interned for a definition; a name table that is full is an error at the
     * name's position, as any other error of the expression is.
     */
    int attr(String name, int pos) {
      try {
        return attrs.computeIfAbsent(
            name, n -> intern ? attributes.acquire(n) : attributes.acquireExisting(n));
      } catch (InvalidProfileException full) {
        throw new ExpressionException(pos, full.getMessage());
      }
    }

    /** {@link #attr} for an event name. */
    int event(String name, int pos) {
      try {
        return evts.computeIfAbsent(
            name, n -> intern ? events.acquire(n) : events.acquireExisting(n));
      } catch (InvalidProfileException full) {
        throw new ExpressionException(pos, full.getMessage());
      }
    }

    /** The index of a segment {@code in_segment} reads, each name once, in order of first use. */
    int segment(String name, int pos) {
      return segments.computeIfAbsent(
          name,
          n -> {
            segmentPositions.add(pos);
            return segments.size();
          });
    }

    void release() {
      releaseAll(attributes, ids(attrs));
      releaseAll(events, ids(evts));
    }
  }

  /** The ids of the names that were found, sorted. */
  private static int[] ids(Map<String, Integer> names) {
    return names.values().stream()
        .mapToInt(Integer::intValue)
        .filter(id -> id >= 0)
        .sorted()
        .toArray();
  }

  private static void releaseAll(NameTable table, int[] ids) {
    for (int id : ids) {
      table.release(id);
    }
  }

  /**
   * Compiles {@code source}; the result holds a reference to every name it reads until {@link
   * #release}.
   *
   * @param internNames true for segment definitions (names the expression reads are registered,
   *     since profiles may get them later); false for ad-hoc filters, where an unknown name simply
   *     never matches and leaves no trace in the name tables
   * @throws ExpressionException with position and reason; nothing stays referenced
   */
  public CompiledExpression compile(String source, boolean internNames) {
    Ast ast = Parser.parse(source);
    Unit u = new Unit(internNames);
    try {
      Cond root = cond(ast, u);
      return new CompiledExpression(
          source,
          root,
          ids(u.attrs),
          ids(u.evts),
          u.dimensions.stream().mapToInt(Integer::intValue).sorted().distinct().toArray(),
          u.timeDependent,
          u.segments.keySet().toArray(String[]::new),
          u.segmentPositions.stream().mapToInt(Integer::intValue).toArray());
    } catch (RuntimeException e) {
      u.release();
      throw e;
    }
  }

  /** Gives back the names {@code expression} references; it must not be evaluated afterwards. */
  public void release(CompiledExpression expression) {
    releaseAll(attributes, expression.attributes());
    releaseAll(events, expression.events());
  }

  private Cond cond(Ast e, Unit u) {
    return switch (e) {
      case Ast.Or o -> new Cond.Or(cond(o.left(), u), cond(o.right(), u));
      case Ast.And a -> new Cond.And(cond(a.left(), u), cond(a.right(), u));
      case Ast.Not n -> new Cond.Not(cond(n.inner(), u));
      case Ast.Exists x -> new Cond.Exists(u.attr(x.attribute(), x.pos()));
      case Ast.Attr a -> new Cond.Truthy(u.attr(a.name(), a.pos()));
      case Ast.Bool b -> new Cond.Const(b.value());
      case Ast.InSegment in -> new Cond.InSegment(u.segment(in.segment(), in.pos()));
      case Ast.Compare c -> compare(c, u);
      case Ast.In in -> {
        Cond inner = in(in, u);
        yield in.negated() ? new Cond.Not(inner) : inner;
      }
      default ->
          throw new ExpressionException(
              e.pos(),
              "expected a condition, found " + describe(e) + " (compare it with something)");
    };
  }

  private Cond compare(Ast.Compare c, Unit u) {
    Type lt = type(c.left());
    Type rt = type(c.right());
    if (lt != Type.DYNAMIC && rt != Type.DYNAMIC && lt != rt) {
      throw new ExpressionException(
          c.pos(), "cannot compare " + describe(c.left()) + " with " + describe(c.right()));
    }
    boolean ordering = c.op() != Ast.Op.EQ && c.op() != Ast.Op.NE;
    if (c.left() instanceof Ast.Distinct || c.right() instanceof Ast.Distinct) {
      Operand l = operand(c.left(), u);
      Operand r = operand(c.right(), u);
      if (l instanceof DistinctOperand && r instanceof Operand.Literal
          || r instanceof DistinctOperand && l instanceof Operand.Literal) {
        return new DistinctCompare(c.op(), l, r);
      }
      return new Cond.Compare(c.op(), l, r, Cond.NowSide.NONE);
    }
    if (ordering && (lt == Type.BOOL || rt == Type.BOOL)) {
      throw new ExpressionException(c.pos(), "booleans compare only with == and !=");
    }
    Cond.NowSide side =
        c.left() instanceof Ast.Now
            ? Cond.NowSide.LEFT
            : c.right() instanceof Ast.Now ? Cond.NowSide.RIGHT : Cond.NowSide.NONE;
    if (c.left() instanceof Ast.Now && c.right() instanceof Ast.Now) {
      side = Cond.NowSide.NONE; // now() vs now(): a constant answer
    }
    return new Cond.Compare(c.op(), operand(c.left(), u), operand(c.right(), u), side);
  }

  private Cond in(Ast.In in, Unit u) {
    if (in.needle() instanceof Ast.Now) {
      throw new ExpressionException(
          in.needle().pos(), "now() cannot be looked up with 'in'; compare it with <, <=, >, >=");
    }
    Type nt = type(in.needle());
    if (in.haystack() instanceof Ast.ListOf list) {
      List<Ast> items = list.items();
      Operand[] ops = new Operand[items.size()];
      for (int i = 0; i < ops.length; i++) {
        Type it = type(items.get(i));
        if (nt != Type.DYNAMIC && it != nt) {
          throw new ExpressionException(
              items.get(i).pos(),
              "cannot compare " + describe(in.needle()) + " with " + describe(items.get(i)));
        }
        ops[i] = operand(items.get(i), u);
      }
      return new Cond.InList(operand(in.needle(), u), ops);
    }
    if (in.haystack() instanceof Ast.Attr set) {
      if (nt != Type.STRING && nt != Type.DYNAMIC) {
        throw new ExpressionException(
            in.needle().pos(),
            "only a string can be looked up in a set attribute, found " + describe(in.needle()));
      }
      return new Cond.InSet(operand(in.needle(), u), u.attr(set.name(), set.pos()));
    }
    throw new ExpressionException(
        in.haystack().pos(),
        "'in' takes a list like [\"a\", \"b\"] or a set attribute, found "
            + describe(in.haystack()));
  }

  private Type type(Ast e) {
    return switch (e) {
      case Ast.Str s -> Type.STRING;
      case Ast.Int i -> Type.NUMBER;
      case Ast.Real r -> Type.NUMBER;
      case Ast.Bool b -> Type.BOOL;
      case Ast.Timestamp t -> Type.TIMESTAMP;
      case Ast.Now n -> Type.TIMESTAMP;
      case Ast.Window w -> Type.NUMBER;
      case Ast.Bucket b -> Type.NUMBER;
      case Ast.Entered x -> Type.TIMESTAMP;
      case Ast.Share x -> Type.NUMBER;
      case Ast.Top x -> Type.STRING;
      case Ast.SeriesTime x -> Type.TIMESTAMP;
      case Ast.Distinct x -> Type.NUMBER;
      case Ast.Attr a -> Type.DYNAMIC;
      case Ast.Duration d ->
          throw new ExpressionException(
              d.pos(),
              "a duration is only allowed as a window, a half-life, or added to now() or a"
                  + " timestamp");
      case Ast.ListOf l ->
          throw new ExpressionException(l.pos(), "a list is only allowed after 'in'");
      default ->
          throw new ExpressionException(
              e.pos(), "expected a value, found a condition (" + describe(e) + ")");
    };
  }

  private Operand operand(Ast e, Unit u) {
    return switch (e) {
      case Ast.Str s -> Operand.Literal.string(s.value());
      case Ast.Int i -> Operand.Literal.integer(i.value());
      case Ast.Real r -> Operand.Literal.real(r.value());
      case Ast.Bool b -> Operand.Literal.bool(b.value());
      case Ast.Timestamp t -> Operand.Literal.timestamp(t.millis());
      case Ast.Now n -> {
        u.timeDependent = true;
        yield new Operand.Now(n.offsetMillis());
      }
      case Ast.Attr a -> new Operand.AttrRef(u.attr(a.name(), a.pos()));
      case Ast.Window w -> window(w, u);
      case Ast.Bucket b -> new Operand.Bucket(b.buckets(), b.salt());
      case Ast.Entered x -> new Operand.Entered(u.segment(x.segment(), x.pos()));
      case Ast.Share x -> share(x, u);
      case Ast.Top x -> {
        Dimension d = dimension(x.dimension(), x.dimensionPos(), x.windowMillis(), x.argPos(), u);
        yield new Operand.Top(d, days(x.windowMillis()), halfLifeDays(x.halfLifeMillis()));
      }
      case Ast.SeriesTime x -> new Operand.SeriesTime(x.last(), u.event(x.event(), x.pos()));
      case Ast.Distinct x -> distinct(x, u);
      default -> {
        type(e);
        throw new ExpressionException(e.pos(), "expected a value, found " + describe(e));
      }
    };
  }

  private Operand share(Ast.Share x, Unit u) {
    Dimension d = dimension(x.dimension(), x.dimensionPos(), x.windowMillis(), x.argPos(), u);
    int category = -1;
    if (d.spec().kind() == DimensionKind.NUMERIC) {
      category = x.numeric() ? d.categoryOfNumber(x.number()) : d.bucketOfLabel(x.value());
      if (category < 0) {
        throw new ExpressionException(
            x.argPos(),
            "dimension "
                + d.name()
                + " is numeric: share(...) takes a number or a bucket's label (like \""
                + d.label(0)
                + "\")");
      }
    } else if (x.numeric() && !x.value().matches("-?[0-9]+")) {
      throw new ExpressionException(
          x.argPos(),
          "dimension " + d.name() + " is categorical: share(...) takes a string or an integer");
    }
    return new Operand.Share(
        d, x.value(), category, days(x.windowMillis()), halfLifeDays(x.halfLifeMillis()));
  }

  /**
   * The dimension {@code share}/{@code top} reads, checked with its window; read by the expression
   * from now on (a segment reading it is re-evaluated when a write counts in it).
   */
  private Dimension dimension(String name, int pos, long windowMillis, int windowPos, Unit u) {
    Dimension d = dimensions.current().byName(name);
    if (d == null) {
      throw new ExpressionException(pos, "no dimension " + name + " is defined");
    }
    if (d.isDistinct()) {
      throw new ExpressionException(
          pos,
          "dimension "
              + name
              + " counts distinct values, not categories: read it with distinct("
              + name
              + ", Nd)");
    }
    if (windowMillis % Days.MILLIS_PER_DAY != 0 || windowMillis == 0) {
      throw new ExpressionException(
          windowPos, "a window is a whole number of days (like 7d or 30d); counts are daily");
    }
    if (windowMillis / Days.MILLIS_PER_DAY > retentionDays) {
      throw new ExpressionException(
          windowPos, "a window is at most the retention of " + retentionDays + "d");
    }
    u.dimensions.add(d.id());
    u.timeDependent = true;
    return d;
  }

  private static int days(long millis) {
    return (int) (millis / Days.MILLIS_PER_DAY);
  }

  private static double halfLifeDays(long millis) {
    return (double) millis / Days.MILLIS_PER_DAY;
  }

  private Operand window(Ast.Window w, Unit u) {
    if (w.fn() == Ast.Fn.DECAYED) {
      if (w.millis() <= 0) {
        throw new ExpressionException(w.argPos(), "a half-life must be positive");
      }
    } else {
      if (w.millis() % Days.MILLIS_PER_DAY != 0 || w.millis() == 0) {
        throw new ExpressionException(
            w.argPos(), "a window is a whole number of days (like 7d or 30d); buckets are daily");
      }
      if (w.millis() / Days.MILLIS_PER_DAY > retentionDays) {
        throw new ExpressionException(
            w.argPos(), "a window is at most the retention of " + retentionDays + "d");
      }
    }
    u.timeDependent = true;
    return new Operand.Window(w.fn(), u.event(w.event(), w.pos()), w.millis(), retentionDays);
  }

  /**
   * {@code distinct(name, Nd)}: the distinct dimension called {@code name}, else the one that
   * counts property {@code p} of event {@code e} for a name {@code e.p} ({@link
   * DimensionRegistry.Set#distinct}).
   */
  private Operand distinct(Ast.Distinct x, Unit u) {
    long millis = x.millis();
    if (millis % Days.MILLIS_PER_DAY != 0 || millis == 0) {
      throw new ExpressionException(
          x.argPos(), "a window is a whole number of days (like 7d or 30d); days are UTC days");
    }
    if (millis / Days.MILLIS_PER_DAY > retentionDays) {
      throw new ExpressionException(
          x.argPos(), "a window is at most the retention of " + retentionDays + "d");
    }
    Dimension d = dimensions.current().distinct(x.dimension());
    if (d == null) {
      Dimension named = dimensions.current().byName(x.dimension());
      throw new ExpressionException(
          x.dimensionPos(),
          named != null
              ? "dimension "
                  + x.dimension()
                  + " is "
                  + named.spec().kind().label()
                  + "; distinct(...) reads a distinct dimension"
              : "no distinct dimension "
                  + x.dimension()
                  + " is defined (by name, or as event.property of one with \"kind\":"
                  + " \"distinct\")");
    }
    u.dimensions.add(d.id());
    u.timeDependent = true;
    return new DistinctOperand(d.id(), (int) (millis / Days.MILLIS_PER_DAY));
  }

  private static String describe(Ast e) {
    return switch (e) {
      case Ast.Str s -> "a string";
      case Ast.Int i -> "a number";
      case Ast.Real r -> "a number";
      case Ast.Bool b -> "a boolean";
      case Ast.Timestamp t -> "a timestamp";
      case Ast.Now n -> "a timestamp";
      case Ast.Duration d -> "a duration";
      case Ast.ListOf l -> "a list";
      case Ast.Window w -> "a number";
      case Ast.Bucket b -> "a number";
      case Ast.Entered x -> "a timestamp";
      case Ast.Share x -> "a number";
      case Ast.Top x -> "a string";
      case Ast.SeriesTime x -> "a timestamp";
      case Ast.Distinct x -> "a number";
      case Ast.Attr a -> "attribute " + a.name();
      case Ast.Exists x -> "exists(...)";
      case Ast.InSegment x -> "in_segment(...)";
      default -> "a condition";
    };
  }
}

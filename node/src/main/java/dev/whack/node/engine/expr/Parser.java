package dev.whack.node.engine.expr;

import dev.whack.node.engine.expr.Token.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Recursive-descent parser for the segment language; the grammar is in docs/segments.md.
 *
 * <pre>
 * expr      := or EOF
 * or        := and ("or" and)*
 * and       := unary ("and" unary)*
 * unary     := "not" unary | predicate
 * predicate := operand [ cmpop operand | "in" operand | "not" "in" operand ]
 * operand   := "(" or ")" | literal | list | call | name
 * </pre>
 */
final class Parser {
  /** Deepest accepted nesting of parentheses and prefix operators. */
  static final int MAX_DEPTH = 64;

  /** Most buckets {@code bucket(n)} may split profiles into. */
  static final long MAX_BUCKETS = 1_000_000_000L;

  private final List<Token> tokens;
  private int i;
  private int depth;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  static Ast parse(String source) {
    Parser p = new Parser(Lexer.tokenize(source));
    if (p.peek().kind() == Kind.EOF) {
      throw new ExpressionException(0, "empty expression");
    }
    Ast e = p.or();
    p.expect(Kind.EOF, "an operator ('and', 'or', a comparison) or the end");
    return e;
  }

  private Token peek() {
    return tokens.get(i);
  }

  private Token peek(int ahead) {
    return tokens.get(Math.min(i + ahead, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(i);
    if (t.kind() != Kind.EOF) {
      i++;
    }
    return t;
  }

  private Token expect(Kind kind, String what) {
    Token t = peek();
    if (t.kind() != kind) {
      throw new ExpressionException(t.pos(), "expected " + what + ", found " + t.describe());
    }
    return next();
  }

  private void enter(int pos) {
    if (++depth > MAX_DEPTH) {
      throw new ExpressionException(pos, "expression nests deeper than " + MAX_DEPTH + " levels");
    }
  }

  private Ast or() {
    Ast left = and();
    while (peek().kind() == Kind.OR) {
      int pos = next().pos();
      left = new Ast.Or(left, and(), pos);
    }
    return left;
  }

  private Ast and() {
    Ast left = unary();
    while (peek().kind() == Kind.AND) {
      int pos = next().pos();
      left = new Ast.And(left, unary(), pos);
    }
    return left;
  }

  private Ast unary() {
    if (peek().kind() == Kind.NOT) {
      Token not = next();
      enter(not.pos());
      Ast inner = unary();
      depth--;
      return new Ast.Not(inner, not.pos());
    }
    return predicate();
  }

  private Ast predicate() {
    Ast left = operand();
    Token t = peek();
    Ast.Op op =
        switch (t.kind()) {
          case EQ -> Ast.Op.EQ;
          case NE -> Ast.Op.NE;
          case LT -> Ast.Op.LT;
          case LE -> Ast.Op.LE;
          case GT -> Ast.Op.GT;
          case GE -> Ast.Op.GE;
          default -> null;
        };
    if (op != null) {
      next();
      Ast right = operand();
      if (left instanceof Ast.TimeIn || right instanceof Ast.TimeIn) {
        return timeIn(op, left, right, t.pos());
      }
      return new Ast.Compare(op, left, right, t.pos());
    }
    if (left instanceof Ast.TimeIn bare) {
      throw timeInAlone(bare);
    }
    if (t.kind() == Kind.IN) {
      next();
      return new Ast.In(left, notTimeIn(operand()), false, t.pos());
    }
    if (t.kind() == Kind.NOT && peek(1).kind() == Kind.IN) {
      next();
      next();
      return new Ast.In(left, notTimeIn(operand()), true, t.pos());
    }
    return left;
  }

  /**
   * {@code time_in(s) op D} as the comparison of {@code entered(s)} with {@code now() - D} that
   * holds exactly when it does ({@code now - entered > D} is {@code entered < now - D}: the
   * operator mirrored), so the comparison with {@code now()} works out when its answer flips;
   * {@code D op time_in(s)} likewise.
   */
  private static Ast timeIn(Ast.Op op, Ast left, Ast right, int pos) {
    boolean onLeft = left instanceof Ast.TimeIn;
    Ast other = onLeft ? right : left;
    if (other instanceof Ast.Duration d) {
      Ast.TimeIn in = (Ast.TimeIn) (onLeft ? left : right);
      return new Ast.Compare(
          onLeft ? op.mirror() : op,
          new Ast.Entered(in.segment(), in.segmentPos()),
          new Ast.Now(-d.millis(), d.pos()),
          pos);
    }
    throw new ExpressionException(
        other.pos(),
        "time_in(...) is compared with a duration, like time_in(vip) > 7d; found "
            + (other instanceof Ast.TimeIn ? "time_in(...)" : "something else"));
  }

  private static Ast notTimeIn(Ast operand) {
    if (operand instanceof Ast.TimeIn bare) {
      throw timeInAlone(bare);
    }
    return operand;
  }

  private static ExpressionException timeInAlone(Ast.TimeIn bare) {
    return new ExpressionException(
        bare.pos(),
        "time_in(...) is only compared with a duration, like time_in(vip) > 7d (or use"
            + " entered(vip), a timestamp)");
  }

  private Ast operand() {
    Token t = next();
    switch (t.kind()) {
      case LPAREN -> {
        enter(t.pos());
        Ast inner = or();
        depth--;
        expect(Kind.RPAREN, "')' to close the '(' at position " + t.pos());
        return inner;
      }
      case STRING -> {
        return new Ast.Str(t.text(), t.pos());
      }
      case INT -> {
        return new Ast.Int(integer(t, false), t.pos());
      }
      case FLOAT -> {
        return new Ast.Real(t.real(), t.pos());
      }
      case MINUS -> {
        Token n = next();
        if (n.kind() == Kind.INT) {
          return new Ast.Int(integer(n, true), t.pos());
        }
        if (n.kind() == Kind.FLOAT) {
          return new Ast.Real(-n.real(), t.pos());
        }
        throw new ExpressionException(
            n.pos(), "expected a number after '-', found " + n.describe());
      }
      case TRUE, FALSE -> {
        return new Ast.Bool(t.kind() == Kind.TRUE, t.pos());
      }
      case DURATION -> {
        return new Ast.Duration(t.number(), t.pos());
      }
      case TIMESTAMP -> {
        return new Ast.Timestamp(t.number() + offset(), t.pos());
      }
      case LBRACKET -> {
        return list(t);
      }
      case IDENT -> {
        if (peek().kind() == Kind.LPAREN) {
          return call(t);
        }
        return new Ast.Attr(t.text(), t.pos());
      }
      default ->
          throw new ExpressionException(
              t.pos(), "expected a value, a name or '(', found " + t.describe());
    }
  }

  private static long integer(Token t, boolean negative) {
    try {
      return Long.parseLong(negative ? "-" + t.text() : t.text());
    } catch (NumberFormatException e) {
      throw new ExpressionException(t.pos(), "integer " + t.text() + " does not fit in 64 bits");
    }
  }

  /** Folds {@code + 1d - 2h ...} after a timestamp or now(). */
  private long offset() {
    long total = 0;
    while ((peek().kind() == Kind.PLUS || peek().kind() == Kind.MINUS)
        && peek(1).kind() == Kind.DURATION) {
      boolean minus = next().kind() == Kind.MINUS;
      long d = next().number();
      total += minus ? -d : d;
    }
    if (peek().kind() == Kind.PLUS || peek().kind() == Kind.MINUS) {
      Token t = peek(1);
      throw new ExpressionException(
          t.pos(),
          "only a duration (like 7d or 12h) can be added to a time, found " + t.describe());
    }
    return total;
  }

  private Ast list(Token open) {
    List<Ast> items = new ArrayList<>();
    if (peek().kind() != Kind.RBRACKET) {
      while (true) {
        Ast item = operand();
        if (!(item instanceof Ast.Str
            || item instanceof Ast.Int
            || item instanceof Ast.Real
            || item instanceof Ast.Bool
            || item instanceof Ast.Timestamp)) {
          throw new ExpressionException(item.pos(), "a list holds literals only");
        }
        items.add(item);
        if (peek().kind() != Kind.COMMA) {
          break;
        }
        next();
      }
    }
    expect(Kind.RBRACKET, "',' or ']' to close the list at position " + open.pos());
    return new Ast.ListOf(List.copyOf(items), open.pos());
  }

  private Ast call(Token name) {
    next(); // (
    switch (name.text()) {
      case "now" -> {
        expect(Kind.RPAREN, "')' after now(");
        return new Ast.Now(offset(), name.pos());
      }
      case "exists" -> {
        Token attr = expect(Kind.IDENT, "an attribute name in exists(...)");
        expect(Kind.RPAREN, "')' to close exists(");
        return new Ast.Exists(attr.text(), name.pos());
      }
      case "first_time", "last_time" -> {
        Token event = next();
        if (event.kind() != Kind.IDENT && event.kind() != Kind.STRING) {
          throw new ExpressionException(
              event.pos(),
              "expected an event name in " + name.text() + "(...), found " + event.describe());
        }
        expect(Kind.RPAREN, "')' to close " + name.text() + "(");
        return new Ast.SeriesTime(name.text().equals("last_time"), event.text(), name.pos());
      }
      case "count", "sum", "avg", "variance", "min", "max", "decayed" -> {
        Ast.Fn fn = Ast.Fn.valueOf(name.text().toUpperCase(java.util.Locale.ROOT));
        Token event = next();
        if (event.kind() != Kind.IDENT && event.kind() != Kind.STRING) {
          throw new ExpressionException(
              event.pos(),
              "expected an event name in " + name.text() + "(...), found " + event.describe());
        }
        expect(
            Kind.COMMA,
            "',' and a "
                + (fn == Ast.Fn.DECAYED ? "half-life" : "window")
                + " (like 30d) in "
                + name.text()
                + "(...)");
        Token d = expect(Kind.DURATION, "a duration like 30d");
        expect(Kind.RPAREN, "')' to close " + name.text() + "(");
        return new Ast.Window(fn, event.text(), d.number(), d.pos(), name.pos());
      }
      case "share", "top" -> {
        boolean share = name.text().equals("share");
        Token dimension = next();
        if (dimension.kind() != Kind.IDENT && dimension.kind() != Kind.STRING) {
          throw new ExpressionException(
              dimension.pos(),
              "expected a dimension name in "
                  + name.text()
                  + "(...), found "
                  + dimension.describe());
        }
        String value = null;
        double number = 0;
        boolean numeric = false;
        if (share) {
          expect(Kind.COMMA, "',' and a value (like \"red\" or 23500) in share(...)");
          Token v = next();
          switch (v.kind()) {
            case STRING -> value = v.text();
            case INT -> {
              numeric = true;
              number = v.number();
              value = v.text();
            }
            case FLOAT -> {
              numeric = true;
              number = v.real();
              value = v.text();
            }
            default ->
                throw new ExpressionException(
                    v.pos(),
                    "expected a value (a string or a number) in share(...), found " + v.describe());
          }
        }
        expect(Kind.COMMA, "',' and a window (like 30d) in " + name.text() + "(...)");
        Token window = expect(Kind.DURATION, "a window like 30d");
        long halfLife = 0;
        if (peek().kind() == Kind.COMMA) {
          next();
          Token h = expect(Kind.DURATION, "a half-life like 7d");
          if (h.number() <= 0) {
            throw new ExpressionException(h.pos(), "a half-life must be positive");
          }
          halfLife = h.number();
        }
        expect(Kind.RPAREN, "')' to close " + name.text() + "(");
        return share
            ? new Ast.Share(
                dimension.text(),
                value,
                numeric,
                number,
                window.number(),
                halfLife,
                dimension.pos(),
                window.pos(),
                name.pos())
            : new Ast.Top(
                dimension.text(),
                window.number(),
                halfLife,
                dimension.pos(),
                window.pos(),
                name.pos());
      }
      case "bucket" -> {
        Token n = next();
        if (n.kind() != Kind.INT) {
          throw new ExpressionException(
              n.pos(), "expected a number of buckets in bucket(...), found " + n.describe());
        }
        long buckets = integer(n, false);
        if (buckets < 1 || buckets > MAX_BUCKETS) {
          throw new ExpressionException(
              n.pos(), "the number of buckets is 1 to " + MAX_BUCKETS + ", found " + buckets);
        }
        String salt = "";
        if (peek().kind() == Kind.COMMA) {
          next();
          salt = expect(Kind.STRING, "a salt string (like \"holdout-2026\") in bucket(...)").text();
        }
        expect(Kind.RPAREN, "')' to close bucket(");
        return new Ast.Bucket(buckets, salt, name.pos());
      }
      case "distinct" -> {
        return distinct(name);
      }
      case "in_segment", "entered", "time_in" -> {
        Token segment = next();
        if (segment.kind() != Kind.STRING && segment.kind() != Kind.IDENT) {
          throw new ExpressionException(
              segment.pos(),
              "expected a segment name (like \"vip\") in "
                  + name.text()
                  + "(...), found "
                  + segment.describe());
        }
        expect(Kind.RPAREN, "')' to close " + name.text() + "(");
        return switch (name.text()) {
          case "in_segment" -> new Ast.InSegment(segment.text(), segment.pos());
          case "entered" -> new Ast.Entered(segment.text(), segment.pos());
          default -> new Ast.TimeIn(segment.text(), segment.pos(), name.pos());
        };
      }
      default ->
          throw new ExpressionException(
              name.pos(),
              "unknown function '"
                  + name.text()
                  + "' (known: now, exists, count, sum, avg, variance, min, max, decayed,"
                  + " first_time, last_time, bucket, in_segment, entered, time_in, share, top,"
                  + " distinct)");
    }
  }

  /** {@code distinct(view.product, 30d)} after its '('. */
  private Ast distinct(Token name) {
    Token dimension = next();
    if (dimension.kind() != Kind.IDENT && dimension.kind() != Kind.STRING) {
      throw new ExpressionException(
          dimension.pos(),
          "expected a distinct dimension (like view.product) in distinct(...), found "
              + dimension.describe());
    }
    expect(Kind.COMMA, "',' and a window (like 30d) in distinct(...)");
    Token d = expect(Kind.DURATION, "a duration like 30d");
    expect(Kind.RPAREN, "')' to close distinct(");
    return new Ast.Distinct(dimension.text(), dimension.pos(), d.number(), d.pos(), name.pos());
  }
}

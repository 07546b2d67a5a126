package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.ExpressionException;
import org.roaringbitmap.RoaringBitmap;

/**
 * Boolean algebra over segments, such as {@code dk_buyers and not churned} or {@code (a xor b) or
 * c}: parsed once, then evaluated partition by partition so that no lock is held for more than one
 * partition's work.
 *
 * <pre>
 * query := xor ("or" xor)*
 * xor   := and ("xor" and)*
 * and   := unary ("and" unary)*
 * unary := "not" unary | "(" query ")" | segment-name
 * </pre>
 *
 * {@code not X} alone means every profile on the node that is not in X. A syntax error is an {@link
 * ExpressionException} with its position; a name that is not defined is an {@link
 * UnknownSegmentException}.
 */
public final class SegmentQuery {
  private final Node root;

  private sealed interface Node {}

  private record Leaf(Segment segment) implements Node {}

  private record Binary(char op, Node left, Node right) implements Node {}

  private record Not(Node inner) implements Node {}

  private SegmentQuery(Node root) {
    this.root = root;
  }

  /**
   * Parses {@code text} against the segments of {@code catalog}.
   *
   * @throws ExpressionException with position and reason (syntax)
   * @throws UnknownSegmentException when a name is not a defined segment
   */
  public static SegmentQuery parse(String text, SegmentCatalog catalog) {
    if (text.length() > 10_000) {
      throw new ExpressionException(10_000, "segment query is longer than 10000 characters");
    }
    Parser p = new Parser(text, catalog);
    p.skip();
    if (p.pos >= text.length()) {
      throw new ExpressionException(0, "empty segment query");
    }
    Node n = p.query(0);
    p.skip();
    if (p.pos < text.length()) {
      throw new ExpressionException(p.pos, "expected 'and', 'or', 'xor' or the end");
    }
    return new SegmentQuery(n);
  }

  /** The single segment this query names, or null if it is a combination. */
  public Segment single() {
    return root instanceof Leaf l ? l.segment : null;
  }

  /** Number of profiles matching. {@code all} is the node's set of live profiles. */
  public long count(PartitionedBitmap all) {
    if (root instanceof Leaf l) {
      return l.segment.members().cardinality();
    }
    if (root instanceof Binary b
        && b.op == '&'
        && b.left instanceof Leaf x
        && b.right instanceof Leaf y) {
      return PartitionedBitmap.andCardinality(x.segment.members(), y.segment.members());
    }
    long n = 0;
    int parts = all.partitionCount();
    for (int i = 0; i < parts; i++) {
      n += eval(root, i, all).getLongCardinality();
    }
    return n;
  }

  /** The matching ordinals of partition {@code index}, as a private bitmap. */
  public RoaringBitmap partition(int index, PartitionedBitmap all) {
    return eval(root, index, all);
  }

  private static RoaringBitmap eval(Node n, int part, PartitionedBitmap all) {
    return switch (n) {
      case Leaf l -> l.segment.members().copy(part);
      case Not x -> RoaringBitmap.andNot(all.copy(part), eval(x.inner, part, all));
      case Binary b -> {
        if (b.op == '&' && b.right instanceof Not nr) {
          yield RoaringBitmap.andNot(eval(b.left, part, all), eval(nr.inner, part, all));
        }
        RoaringBitmap l = eval(b.left, part, all);
        RoaringBitmap r = eval(b.right, part, all);
        yield switch (b.op) {
          case '&' -> RoaringBitmap.and(l, r);
          case '|' -> RoaringBitmap.or(l, r);
          default -> RoaringBitmap.xor(l, r);
        };
      }
    };
  }

  private static final class Parser {
    private final String s;
    private final SegmentCatalog catalog;
    int pos;

    Parser(String s, SegmentCatalog catalog) {
      this.s = s;
      this.catalog = catalog;
    }

    void skip() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    /** Consumes keyword {@code kw} if it is next as a whole word. */
    boolean keyword(String kw) {
      skip();
      int end = pos + kw.length();
      if (s.startsWith(kw, pos) && (end == s.length() || !nameChar(s.charAt(end)))) {
        pos = end;
        return true;
      }
      return false;
    }

    Node query(int depth) {
      if (depth > 64) {
        throw new ExpressionException(pos, "segment query nests deeper than 64 levels");
      }
      Node n = xor(depth);
      while (keyword("or")) {
        n = new Binary('|', n, xor(depth));
      }
      return n;
    }

    Node xor(int depth) {
      Node n = and(depth);
      while (keyword("xor")) {
        n = new Binary('^', n, and(depth));
      }
      return n;
    }

    Node and(int depth) {
      Node n = unary(depth);
      while (keyword("and")) {
        n = new Binary('&', n, unary(depth));
      }
      return n;
    }

    Node unary(int depth) {
      if (keyword("not")) {
        if (depth > 64) {
          throw new ExpressionException(pos, "segment query nests deeper than 64 levels");
        }
        return new Not(unary(depth + 1));
      }
      skip();
      if (pos < s.length() && s.charAt(pos) == '(') {
        int open = pos++;
        Node n = query(depth + 1);
        skip();
        if (pos >= s.length() || s.charAt(pos) != ')') {
          throw new ExpressionException(pos, "expected ')' to close the '(' at position " + open);
        }
        pos++;
        return n;
      }
      int start = pos;
      while (pos < s.length() && nameChar(s.charAt(pos))) {
        pos++;
      }
      if (start == pos) {
        throw new ExpressionException(
            start,
            pos < s.length()
                ? "unexpected '" + s.charAt(pos) + "'; expected a segment name, 'not' or '('"
                : "expected a segment name, 'not' or '(' at the end");
      }
      String name = s.substring(start, pos);
      Segment seg = catalog.byName(name);
      if (seg == null) {
        throw new UnknownSegmentException(name);
      }
      return new Leaf(seg);
    }

    private static boolean nameChar(char c) {
      return SegmentRegistry.isNamePart(c);
    }
  }
}

package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.CompiledExpression;
import dev.whack.node.engine.expr.ExpressionException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Owns the current {@link SegmentCatalog}: validates names, hands out segment ids and publishes a
 * new snapshot on define and drop.
 *
 * <p>Concurrency: define and drop serialize on this object's monitor (they are rare); readers take
 * the volatile snapshot with {@link #catalog()} and never lock.
 */
public final class SegmentRegistry {
  private final int maxSegments;
  private final BitSet usedIds = new BitSet();
  private volatile SegmentCatalog catalog = SegmentCatalog.EMPTY;

  public SegmentRegistry(int maxSegments) {
    this.maxSegments = maxSegments;
  }

  public SegmentCatalog catalog() {
    return catalog;
  }

  /** Longest segment name. */
  private static final int MAX_NAME_CHARS = 200;

  /**
   * The one rule for segment names, on every path that names a segment (text, binary, watch,
   * virtual keys, segment queries): 1 to 200 ASCII characters, an ASCII letter or '_' first, then
   * ASCII letters, digits, '_', '-', '.' and ':'; not {@code and}, {@code or}, {@code not} or
   * {@code xor}. ASCII only, because a name travels as a token of text-protocol lines ({@code
   * segdef}, {@code IN}, {@code CHANGE}, {@code SEGMENT}) that carry bytes, not characters: a
   * letter outside ASCII would be read one way from a text line and another from a binary key.
   *
   * @throws SegmentException {@code bad segment name <name>: <why>}
   */
  public static void checkName(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_NAME_CHARS) {
      throw new SegmentException(
          "bad segment name " + name + ": it must be 1 to " + MAX_NAME_CHARS + " characters");
    }
    if (!isNameStart(name.charAt(0))) {
      throw new SegmentException(
          "bad segment name " + name + ": it must start with an ASCII letter or '_'");
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isNamePart(c)) {
        throw new SegmentException(
            "bad segment name "
                + name
                + ": it has "
                + (c < 0x80 ? "'" + c + "'" : "a character outside ASCII")
                + "; use ASCII letters, digits, '_', '-', '.' or ':'");
      }
    }
    switch (name) {
      case "and", "or", "not", "xor" ->
          throw new SegmentException("bad segment name " + name + ": it is a reserved word");
      default -> {}
    }
  }

  /** Whether a segment name may start with {@code c}. */
  public static boolean isNameStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  /** Whether a segment name may contain {@code c} after its first character. */
  public static boolean isNamePart(char c) {
    return isNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':';
  }

  /** What a definition published, and the segment of the same name it replaced (or null). */
  public record Definition(Segment segment, Segment replaced) {}

  /**
   * Publishes a new segment (not yet backfilled), replacing one of the same name. The segments its
   * {@code in_segment(...)} reads must exist, and reading them must make no cycle.
   *
   * @throws ExpressionException at the {@code in_segment} that reads an unknown segment or closes a
   *     cycle
   */
  public synchronized Definition define(String name, CompiledExpression expression) {
    checkName(name);
    checkReads(name, expression);
    checkRoom(name);
    Segment old = catalog.byName(name);
    int id = usedIds.nextClearBit(0);
    usedIds.set(id);
    // Segments that read the old one go on reading its members until the new one and they are
    // re-evaluated (ProfileEngine.define); one that reads nothing has no use for them.
    Segment s = new Segment(id, name, expression, old != null && catalog.isRead(old) ? old : null);
    if (old != null) {
      // Redefinition: one catalog swap replaces the old segment with the new one.
      catalog = catalog.without(old).with(s);
      old.markDropped();
      usedIds.clear(old.id());
    } else {
      catalog = catalog.with(s);
    }
    return new Definition(s, old);
  }

  /**
   * Checks that a definition of {@code name} would fit: a new name needs room under the limit.
   *
   * @throws SegmentException when the node holds the most segments it may and {@code name} is new
   */
  public void checkRoom(String name) {
    SegmentCatalog current = catalog;
    if (current.byName(name) == null && current.all().length >= maxSegments) {
      throw new SegmentException(
          "at most "
              + maxSegments
              + " segments may be defined here (the node's limit, or its tenant's quota)");
    }
  }

  /**
   * Checks what a definition of {@code name} as {@code expression} would read: each segment of its
   * {@code in_segment} defined, and no cycle.
   *
   * @throws ExpressionException at the {@code in_segment} that breaks either
   */
  public void checkReads(String name, CompiledExpression expression) {
    String[] reads = expression.segments();
    for (int i = 0; i < reads.length; i++) {
      if (!reads[i].equals(name) && catalog.byName(reads[i]) == null) {
        throw new ExpressionException(
            expression.segmentPosition(i), "no segment " + reads[i] + " is defined");
      }
    }
    List<String> cycle = catalog.cycleThrough(name, reads);
    if (cycle != null) {
      int pos = expression.segmentPosition(List.of(reads).indexOf(cycle.get(0)));
      if (cycle.size() == 1) {
        throw new ExpressionException(pos, "a segment cannot be defined by its own members");
      }
      throw new ExpressionException(
          pos,
          "segments would read each other in a cycle: "
              + name
              + " -> "
              + String.join(" -> ", cycle)
              + " (each reads the next)");
    }
  }

  /**
   * Unpublishes a segment; its members become garbage. A segment that others read (with {@code
   * in_segment}, directly or through others) is dropped only with {@code force}, and then they go
   * with it. Returns what was dropped, those that read others first (the order in which dropping
   * them one by one is allowed), or nothing when the name is unknown.
   *
   * @throws SegmentException when others read it and {@code force} is false
   */
  public synchronized List<Segment> drop(String name, boolean force) {
    Segment s = catalog.byName(name);
    if (s == null) {
      return List.of();
    }
    List<Segment> readers = catalog.readersOf(name);
    if (!readers.isEmpty() && !force) {
      throw new SegmentException(
          "segment "
              + name
              + " is read by "
              + String.join(", ", readers.stream().map(Segment::name).toList())
              + " (in_segment, entered or time_in); drop those first, or drop it with force to drop them too");
    }
    List<Segment> dropped = new ArrayList<>(readers.reversed());
    dropped.add(s);
    SegmentCatalog next = catalog;
    for (Segment d : dropped) {
      next = next.without(d);
    }
    catalog = next;
    for (Segment d : dropped) {
      d.markDropped();
      usedIds.clear(d.id());
    }
    return dropped;
  }

  /** Marks a segment's backfill as finished. */
  public void ready(Segment s) {
    s.markReady();
  }
}

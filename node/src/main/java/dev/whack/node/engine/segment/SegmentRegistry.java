package dev.whack.node.engine.segment;

import dev.whack.node.engine.expr.CompiledExpression;
import java.util.BitSet;

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

  /**
   * Segment names: a letter or '_', then letters, digits, '_', '-', '.', ':'; at most 200 chars.
   */
  public static void checkName(String name) {
    if (name == null || name.isEmpty() || name.length() > 200) {
      throw new SegmentException("bad segment name " + name + ": it must be 1 to 200 characters");
    }
    char c0 = name.charAt(0);
    if (!(Character.isLetter(c0) || c0 == '_')) {
      throw new SegmentException(
          "bad segment name " + name + ": it must start with a letter or '_'");
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.' || c == ':')) {
        throw new SegmentException(
            "bad segment name "
                + name
                + ": it has '"
                + c
                + "'; use letters, digits, '_', '-', '.' or ':'");
      }
    }
    switch (name) {
      case "and", "or", "not", "xor" ->
          throw new SegmentException("bad segment name " + name + ": it is a reserved word");
      default -> {}
    }
  }

  /** What a definition published, and the segment of the same name it replaced (or null). */
  public record Definition(Segment segment, Segment replaced) {}

  /** Publishes a new segment (not yet backfilled), replacing one of the same name. */
  public synchronized Definition define(String name, CompiledExpression expression) {
    checkName(name);
    Segment old = catalog.byName(name);
    if (old == null && catalog.all().length >= maxSegments) {
      throw new SegmentException("the node holds at most " + maxSegments + " segments");
    }
    int id = usedIds.nextClearBit(0);
    usedIds.set(id);
    Segment s = new Segment(id, name, expression);
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

  /** Unpublishes a segment; its members become garbage. Returns it, or null if unknown. */
  public synchronized Segment drop(String name) {
    Segment s = catalog.byName(name);
    if (s == null) {
      return null;
    }
    catalog = catalog.without(s);
    s.markDropped();
    usedIds.clear(s.id());
    return s;
  }

  /** Marks a segment's backfill as finished. */
  public void ready(Segment s) {
    s.markReady();
  }
}

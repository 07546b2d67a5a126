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

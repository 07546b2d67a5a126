package dev.whack.node.engine.dimension;

import dev.whack.node.engine.profile.ValueType;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A defined dimension on this node: its definition, its node-local id (what a profile's section
 * names it by; never reused, so data a profile still holds for a dropped dimension is never read as
 * another's), its categories and the population's counts.
 *
 * <p>Concurrency: safe to share; see {@link CategoryTable} and {@link Population}.
 */
public final class Dimension {
  private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);

  private final int id;
  private final DimensionSpec spec;
  private final byte[] property;
  private final byte[] event; // null: any event
  private final CategoryTable table;
  private final Population population;
  private final String[] bucketNames; // numeric: each bucket's label, made once
  private final byte[][] bucketLabels; // the same, UTF-8

  Dimension(int id, DimensionSpec spec, int retentionDays, DimensionRegistry registry) {
    this.id = id;
    this.spec = spec;
    this.property = spec.property().getBytes(StandardCharsets.UTF_8);
    this.event = spec.event() == null ? null : spec.event().getBytes(StandardCharsets.UTF_8);
    this.table =
        spec.kind() == DimensionKind.CATEGORICAL
            ? new CategoryTable(spec.maxCategories(), registry.learning(id))
            : null;
    this.population = new Population(spec.categories(), retentionDays);
    int buckets = spec.kind() == DimensionKind.NUMERIC ? spec.categories() : 0;
    this.bucketNames = new String[buckets];
    this.bucketLabels = new byte[buckets][];
    for (int i = 0; i < buckets; i++) {
      bucketNames[i] = spec.bucketLabel(i);
      bucketLabels[i] = bucketNames[i].getBytes(StandardCharsets.UTF_8);
    }
  }

  public int id() {
    return id;
  }

  public DimensionSpec spec() {
    return spec;
  }

  public String name() {
    return spec.name();
  }

  /** Whether the event named {@code utf8[off, off + len)} counts in this dimension. */
  public boolean countsEvent(byte[] utf8, int off, int len) {
    return event == null
        || (len == event.length && java.util.Arrays.equals(event, 0, len, utf8, off, off + len));
  }

  /** The property's name as UTF-8. Do not modify. */
  byte[] propertyBytes() {
    return property;
  }

  /** Whether {@code utf8[off, off + len)} is this dimension's property name. */
  public boolean isProperty(byte[] utf8, int off, int len) {
    return len == property.length
        && java.util.Arrays.equals(property, 0, len, utf8, off, off + len);
  }

  /**
   * The category a property value counts in, or -1 when this dimension does not count a value of
   * that type: a categorical one counts strings, integers and booleans (as their JSON text), a
   * numeric one integers and floats.
   *
   * @param type a {@link ValueType}
   * @param bits an integer, or a float's raw bits
   * @param scratch room for an integer's digits (at least 20 bytes)
   */
  public int categoryOf(int type, long bits, byte[] text, int off, int len, byte[] scratch) {
    if (table == null) {
      return switch (type) {
        case ValueType.INT -> spec.bucketOf(bits);
        case ValueType.FLOAT -> spec.bucketOf(Double.longBitsToDouble(bits));
        default -> -1;
      };
    }
    return switch (type) {
      case ValueType.STRING -> table.idOf(text, off, len);
      case ValueType.TRUE -> table.idOf(TRUE, 0, TRUE.length);
      case ValueType.FALSE -> table.idOf(FALSE, 0, FALSE.length);
      case ValueType.INT -> table.idOf(scratch, 0, digits(bits, scratch));
      default -> -1;
    };
  }

  /** Whether this is a distinct dimension (it keeps value hashes, not counts: {@link #hashOf}). */
  public boolean isDistinct() {
    return spec.kind() == DimensionKind.DISTINCT;
  }

  /** A distinct dimension's sketch precision. */
  public int precision() {
    return spec.precision();
  }

  /**
   * The hash ({@link DistinctCodec#hash}) a distinct dimension keeps for a property value, as an
   * unsigned 32-bit number, or -1 when it does not count a value of that type: it counts strings,
   * integers and booleans by their JSON text, as a categorical dimension does (so {@code 7} and
   * {@code "7"} are one value).
   *
   * @param type a {@link ValueType}
   * @param scratch room for an integer's digits (at least 20 bytes)
   */
  public long hashOf(int type, long bits, byte[] text, int off, int len, byte[] scratch) {
    return type == ValueType.STRING
        ? DistinctCodec.hash(text, off, len) & 0xffffffffL
        : hashOfValue(type, bits, scratch);
  }

  /** {@link #hashOf} of an integer or boolean; -1 for any other type. */
  public static long hashOfValue(int type, long bits, byte[] scratch) {
    return switch (type) {
      case ValueType.TRUE -> DistinctCodec.hash(TRUE, 0, TRUE.length) & 0xffffffffL;
      case ValueType.FALSE -> DistinctCodec.hash(FALSE, 0, FALSE.length) & 0xffffffffL;
      case ValueType.INT -> DistinctCodec.hash(scratch, 0, digits(bits, scratch)) & 0xffffffffL;
      default -> -1;
    };
  }

  /** Writes {@code v}'s decimal digits at the start of {@code out}; returns how many. */
  private static int digits(long v, byte[] out) {
    if (v == Long.MIN_VALUE) {
      byte[] min = Long.toString(v).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(min, 0, out, 0, min.length);
      return min.length;
    }
    int n = 0;
    boolean negative = v < 0;
    long x = negative ? -v : v;
    do {
      out[n++] = (byte) ('0' + x % 10);
      x /= 10;
    } while (x != 0);
    if (negative) {
      out[n++] = '-';
    }
    for (int i = 0, j = n - 1; i < j; i++, j--) {
      byte t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return n;
  }

  /** Number of category ids a profile can count in (ids are below it). */
  public int categories() {
    return spec.categories();
  }

  /** Number of category ids in use now (a categorical dimension learns its values). */
  public int categoriesInUse() {
    return table == null ? spec.categories() : table.size();
  }

  /** Category {@code id}'s name: a categorical value, or a numeric bucket's label. */
  public String label(int category) {
    return table == null ? bucketNames[category] : table.label(category);
  }

  /**
   * An upper bound of the bytes either rendering of a profile takes for a distinct dimension's
   * payload {@code length} bytes long ({@link DimensionSection}).
   */
  public static long distinctRenderedBound(int length) {
    // A distinct day renders as "YYYY-MM-DD":{"$distinct":N,"$sketch":"<base64>"}: its body in
    // base64 and some 70 bytes around it, for a day of at least two compact bytes.
    return length * 37L + 70;
  }

  /** Category {@code id}'s name as UTF-8 bytes. Do not modify. */
  public byte[] labelBytes(int category) {
    return table == null ? bucketLabels[category] : table.bytes(category);
  }

  /**
   * The id of a categorical value given as UTF-8, without learning it; -1 when it has none (or the
   * dimension is numeric). Allocates nothing.
   */
  public int findCategory(byte[] utf8) {
    return table == null ? -1 : table.find(utf8, 0, utf8.length);
  }

  /**
   * The category a value asked about counts in (a read's or an expression's), or -1 when no profile
   * can have counted in it: a categorical value not seen yet, a numeric value that is neither a
   * number nor a bucket's label.
   */
  public int categoryOfValue(String value) {
    if (table != null) {
      return table.find(value);
    }
    int bucket = bucketOfLabel(value);
    if (bucket >= 0) {
      return bucket;
    }
    try {
      return spec.bucketOf(Double.parseDouble(value));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * The category a whole profile's count names ({@link #label}'s inverse), learning a categorical
   * value that is new while there is room ({@link DimensionSpec#OTHER} past it); -1 when a numeric
   * dimension has no bucket of that label.
   */
  public int categoryOfLabel(String label) {
    if (table == null) {
      return bucketOfLabel(label);
    }
    byte[] b = label.getBytes(StandardCharsets.UTF_8);
    return table.idOf(b, 0, b.length);
  }

  /** The numeric bucket a label ({@link #label}) names, or -1 (always, for a categorical one). */
  public int bucketOfLabel(String label) {
    for (int i = 0; i < bucketNames.length; i++) {
      if (bucketNames[i].equals(label)) {
        return i;
      }
    }
    return -1;
  }

  /** The numeric bucket of {@code value}, or -1 for a categorical dimension. */
  public int categoryOfNumber(double value) {
    return table == null ? spec.bucketOf(value) : -1;
  }

  /** The learned categorical values in id order (1, 2, ...), for a snapshot; empty for numeric. */
  public List<String> learned() {
    return table == null ? List.of() : table.values();
  }

  /** Numbers a categorical value as a replayed log record says (see {@link #categoryOf}). */
  public void learnAt(int category, String value) {
    if (table == null) {
      throw new IllegalStateException("dimension " + name() + " learns no values");
    }
    table.learnAt(category, value);
  }

  /**
   * Restores learned values a snapshot kept (ids 1, 2, ... in order), before anything reads or
   * learns a value; a table that holds a first part of them already keeps it.
   *
   * @throws IllegalStateException when it holds another value under one of those ids
   */
  public void restoreLearned(List<String> values) {
    if (table != null) {
      table.restore(values);
    }
  }

  /** Counts {@code n} events of category {@code category} on {@code day} in the population. */
  public void countInPopulation(int day, int category, long n) {
    population.add(day, category, n);
  }

  Population population() {
    return population;
  }
}

package dev.whack.node.engine.dimension;

/** How a dimension turns an event property's value into the category it counts. */
public enum DimensionKind {
  /** Each distinct value (a string, an integer or a boolean, as text) is a category. */
  CATEGORICAL,
  /** A number falls into one of the buckets between the definition's bounds. */
  NUMERIC,
  /**
   * Counts the distinct values (strings, integers and booleans, as their JSON text) a profile had,
   * per day, exactly while few, then as a sketch ({@link DistinctCodec}).
   */
  DISTINCT;

  /** The kind's name in a definition. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}

package dev.whack.node.engine.dimension;

/** How a dimension turns an event property's value into the category it counts. */
public enum DimensionKind {
  /** Each distinct value (a string, an integer or a boolean, as text) is a category. */
  CATEGORICAL,
  /** A number falls into one of the buckets between the definition's bounds. */
  NUMERIC;

  /** The kind's name in a definition. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}

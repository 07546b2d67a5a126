package dev.whack.client.model;

/** The type of an attribute's value (docs/profiles.md, "Value types"). */
public enum AttributeType {
  /** A string: {@code "DK"}. */
  STRING,
  /** A 64-bit integer, a JSON number without fraction or exponent: {@code 31}. */
  LONG,
  /** A finite 64-bit float, a JSON number with a fraction or exponent: {@code 31.0}. */
  DOUBLE,
  /** {@code true} or {@code false}. */
  BOOLEAN,
  /** An instant to the millisecond, in years 0000 to 9999: {@code "2026-11-20T10:00:00Z"}. */
  TIMESTAMP,
  /** A set of strings in insertion order: {@code ["vip","newsletter"]}. */
  STRING_SET;

  static AttributeType of(Object value) {
    if (value instanceof String) {
      return STRING;
    } else if (value instanceof Long) {
      return LONG;
    } else if (value instanceof Double) {
      return DOUBLE;
    } else if (value instanceof Boolean) {
      return BOOLEAN;
    } else if (value instanceof java.time.Instant) {
      return TIMESTAMP;
    } else {
      return STRING_SET;
    }
  }
}

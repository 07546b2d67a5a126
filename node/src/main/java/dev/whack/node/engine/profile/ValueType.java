package dev.whack.node.engine.profile;

/**
 * Type tags of encoded attribute values (one byte before each payload). Booleans carry their value
 * in the tag and have no payload.
 */
public final class ValueType {
  /** varint length + UTF-8. */
  public static final int STRING = 0;

  /** zigzag varint. */
  public static final int INT = 1;

  /** 8 bytes little-endian IEEE 754. */
  public static final int FLOAT = 2;

  public static final int FALSE = 3;
  public static final int TRUE = 4;

  /** zigzag varint of epoch milliseconds. */
  public static final int TIMESTAMP = 5;

  /** varint count, then each element as varint length + UTF-8. */
  public static final int SET = 6;

  private ValueType() {}

  public static String describe(int type) {
    return switch (type) {
      case STRING -> "a string";
      case INT -> "an integer";
      case FLOAT -> "a float";
      case FALSE, TRUE -> "a boolean";
      case TIMESTAMP -> "a timestamp";
      case SET -> "a string set";
      default -> "an unknown type " + type;
    };
  }
}

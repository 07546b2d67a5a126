package dev.whack.node.engine.dimension;

import dev.whack.node.engine.codec.Bytes;

/**
 * The dimensions section of a compact profile: after the producer marks, and absent (the profile
 * ends with its marks) when the profile counts in no dimension, as every profile written before
 * dimensions existed does.
 *
 * <pre>
 * varint entryCount, then per entry: varint dimensionId, varint payloadLength, payload
 * </pre>
 *
 * The payload's layout belongs to the dimension's kind ({@link DimensionBuilder} for categorical
 * and numeric ones); its length lets every reader skip an entry it does not read, including one of
 * a dimension dropped since (its id is never reused, and the profile's next write leaves it out).
 */
public final class DimensionSection {
  private DimensionSection() {}

  /** Number of entries of the section at {@code pos} (0 when the profile has none). */
  public static int count(byte[] blob, int pos) {
    return pos >= blob.length ? 0 : Bytes.varintInt(blob, pos);
  }

  /** Position of the first entry of the section at {@code pos}. */
  public static int first(byte[] blob, int pos) {
    return pos >= blob.length ? pos : Bytes.next(blob, pos);
  }

  /** The dimension id of the entry at {@code pos}. */
  public static int id(byte[] blob, int pos) {
    return Bytes.varintInt(blob, pos);
  }

  /** Position of the payload of the entry at {@code pos}. */
  public static int payload(byte[] blob, int pos) {
    return Bytes.next(blob, Bytes.next(blob, pos));
  }

  /** Payload length of the entry at {@code pos}. */
  public static int payloadLength(byte[] blob, int pos) {
    return Bytes.varintInt(blob, Bytes.next(blob, pos));
  }

  /** Position after the entry at {@code pos}. */
  public static int next(byte[] blob, int pos) {
    return payload(blob, pos) + payloadLength(blob, pos);
  }

  /** Position of the entry of dimension {@code id} in the section at {@code pos}, or -1. */
  public static int find(byte[] blob, int pos, int id) {
    int n = count(blob, pos);
    int p = first(blob, pos);
    for (int i = 0; i < n; i++) {
      if (id(blob, p) == id) {
        return p;
      }
      p = next(blob, p);
    }
    return -1;
  }
}

package dev.whack.node.engine.dimension;

import dev.whack.node.engine.codec.Bytes;

/**
 * The dimensions section of a compact profile: after the producer marks, and absent (the profile
 * ends with its marks) when the profile counts in no dimension, as every profile written before
 * dimensions existed does.
 *
 * <pre>
 * varint distinctCount, then per distinct dimension: varint dimensionId, varint payloadLength,
 *        payload ({@link DistinctCodec})
 * the counts of the categorical and numeric dimensions, day-major, to the end of the profile
 *        ({@link DayCounts}; nothing when there are none)
 * </pre>
 *
 * Why two parts: a distinct dimension's day is a set or a sketch of up to a kilobyte that a reader
 * wants to skip whole, so it keeps its length; counts are a byte or two a day and dimension, and a
 * profile typically counts in many dimensions on the same few days (one viewed car names its
 * colour, make, price and a dozen more), so they are kept day by day: a day's date once, not once
 * per dimension. That halves what preferences cost a profile (docs/architecture.md, "Dimensions").
 * A payload of a dimension dropped since is skipped by every reader (its id is never reused) and
 * left out by the profile's next write.
 */
public final class DimensionSection {
  private DimensionSection() {}

  /** Number of distinct entries of the section at {@code pos} (0 when the profile has none). */
  public static int distinctCount(byte[] blob, int pos) {
    return pos >= blob.length ? 0 : Bytes.varintInt(blob, pos);
  }

  /** Position of the first distinct entry of the section at {@code pos}. */
  public static int firstDistinct(byte[] blob, int pos) {
    return pos >= blob.length ? pos : Bytes.next(blob, pos);
  }

  /** The dimension id of the distinct entry at {@code pos}. */
  public static int id(byte[] blob, int pos) {
    return Bytes.varintInt(blob, pos);
  }

  /** Position of the payload of the distinct entry at {@code pos}. */
  public static int payload(byte[] blob, int pos) {
    return Bytes.next(blob, Bytes.next(blob, pos));
  }

  /** Payload length of the distinct entry at {@code pos}. */
  public static int payloadLength(byte[] blob, int pos) {
    return Bytes.varintInt(blob, Bytes.next(blob, pos));
  }

  /** Position after the distinct entry at {@code pos}. */
  public static int next(byte[] blob, int pos) {
    return payload(blob, pos) + payloadLength(blob, pos);
  }

  /**
   * Position of the payload of distinct dimension {@code id} in the section at {@code pos}, or -1.
   */
  public static int findDistinct(byte[] blob, int pos, int id) {
    int n = distinctCount(blob, pos);
    int p = firstDistinct(blob, pos);
    for (int i = 0; i < n; i++) {
      if (id(blob, p) == id) {
        return payload(blob, p);
      }
      p = next(blob, p);
    }
    return -1;
  }

  /**
   * Position of the counts ({@link DayCounts}) of the section at {@code pos}: past its distinct
   * entries; the blob's length when the profile has no counts.
   */
  public static int countsStart(byte[] blob, int pos) {
    int n = distinctCount(blob, pos);
    int p = firstDistinct(blob, pos);
    for (int i = 0; i < n; i++) {
      p = next(blob, p);
    }
    return p;
  }
}

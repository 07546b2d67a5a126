package dev.whack.node.engine.profile;

import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.event.SeriesCodec;
import java.util.Arrays;

/**
 * An indexed, read-only view of one encoded profile: where each attribute's value and each event
 * series starts, found in one pass so that an evaluator reads any field in O(1). Rebinding costs
 * one scan and allocates nothing once the index arrays have grown to the number of names.
 *
 * <p>Concurrency: not thread-safe; each evaluating thread owns one view.
 */
public final class ProfileView {
  private byte[] blob;
  private int stamp;
  private int[] attrStamp = new int[64];
  private int[] attrPos = new int[64];
  private int[] seriesStamp = new int[16];
  private int[] seriesPos = new int[16];
  private int dimensionsStamp;
  private int dimensionsStart;
  private int countsStamp;
  private int countsStart;

  /** Indexes {@code profile} (an encoded profile); returns this view. */
  public ProfileView bind(byte[] profile) {
    this.blob = profile;
    if (++stamp == Integer.MAX_VALUE) {
      Arrays.fill(attrStamp, 0);
      Arrays.fill(seriesStamp, 0);
      dimensionsStamp = 0;
      countsStamp = 0;
      stamp = 1;
    }
    int pos = ProfileCodec.attributesStart(profile);
    int n = Bytes.varintInt(profile, pos);
    pos = Bytes.next(profile, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(profile, pos);
      pos = Bytes.next(profile, pos);
      if (id >= attrPos.length) {
        int cap = Math.max(id + 1, attrPos.length * 2);
        attrPos = Arrays.copyOf(attrPos, cap);
        attrStamp = Arrays.copyOf(attrStamp, cap);
      }
      attrStamp[id] = stamp;
      attrPos[id] = pos;
      pos = ProfileCodec.skipValue(profile, pos);
    }
    n = Bytes.varintInt(profile, pos);
    pos = Bytes.next(profile, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(profile, pos);
      pos = Bytes.next(profile, pos);
      if (id >= seriesPos.length) {
        int cap = Math.max(id + 1, seriesPos.length * 2);
        seriesPos = Arrays.copyOf(seriesPos, cap);
        seriesStamp = Arrays.copyOf(seriesStamp, cap);
      }
      seriesStamp[id] = stamp;
      seriesPos[id] = pos;
      pos = SeriesCodec.skip(profile, pos);
    }
    return this;
  }

  /**
   * Binds a profile whose layout is already known (the writer that just encoded it), skipping the
   * scan.
   */
  public ProfileView bindKnown(
      byte[] profile,
      int attrCount,
      int[] attrIds,
      int[] attrPositions,
      int seriesCount,
      int[] eventIds,
      int[] seriesPositions) {
    this.blob = profile;
    if (++stamp == Integer.MAX_VALUE) {
      Arrays.fill(attrStamp, 0);
      Arrays.fill(seriesStamp, 0);
      dimensionsStamp = 0;
      countsStamp = 0;
      stamp = 1;
    }
    for (int i = 0; i < attrCount; i++) {
      int id = attrIds[i];
      if (id >= attrPos.length) {
        int cap = Math.max(id + 1, attrPos.length * 2);
        attrPos = Arrays.copyOf(attrPos, cap);
        attrStamp = Arrays.copyOf(attrStamp, cap);
      }
      attrStamp[id] = stamp;
      attrPos[id] = attrPositions[i];
    }
    for (int i = 0; i < seriesCount; i++) {
      int id = eventIds[i];
      if (id >= seriesPos.length) {
        int cap = Math.max(id + 1, seriesPos.length * 2);
        seriesPos = Arrays.copyOf(seriesPos, cap);
        seriesStamp = Arrays.copyOf(seriesStamp, cap);
      }
      seriesStamp[id] = stamp;
      seriesPos[id] = seriesPositions[i];
    }
    return this;
  }

  public byte[] blob() {
    return blob;
  }

  /**
   * Changes on every bind (it may repeat only after about 2^31 binds): with {@link #blob()}, tells
   * a reader that caches what it derived from the bound profile whether that is still this one.
   */
  public int stamp() {
    return stamp;
  }

  /** Position of the attribute's type byte, or -1 when the profile does not have it. */
  public int attribute(int nameId) {
    return nameId >= 0 && nameId < attrStamp.length && attrStamp[nameId] == stamp
        ? attrPos[nameId]
        : -1;
  }

  /**
   * Position of distinct dimension {@code id}'s payload ({@link
   * dev.whack.node.engine.dimension.DimensionSection}), or -1 when the profile has none. The
   * section's start is found on the first call after a bind (a scan past attributes, series and
   * marks), then kept for the rest of that bind.
   */
  public int distinctDimension(int id) {
    return dev.whack.node.engine.dimension.DimensionSection.findDistinct(
        blob, dimensionsStart(), id);
  }

  /**
   * Position of the profile's categorical and numeric counts ({@link
   * dev.whack.node.engine.dimension.DayCounts}; the blob's end when it has none), found once per
   * bind.
   */
  public int dimensionCounts() {
    if (countsStamp != stamp) {
      countsStart =
          dev.whack.node.engine.dimension.DimensionSection.countsStart(blob, dimensionsStart());
      countsStamp = stamp;
    }
    return countsStart;
  }

  private int dimensionsStart() {
    if (dimensionsStamp != stamp) {
      dimensionsStart = ProfileCodec.dimensionsStart(blob);
      dimensionsStamp = stamp;
    }
    return dimensionsStart;
  }

  /** Position of the series' bucket count, or -1 when the profile has no such series. */
  public int series(int eventId) {
    return eventId >= 0 && eventId < seriesStamp.length && seriesStamp[eventId] == stamp
        ? seriesPos[eventId]
        : -1;
  }
}

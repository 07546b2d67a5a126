package dev.whack.node.engine.dimension;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import java.util.ArrayList;
import java.util.List;

/**
 * The dimensions section as nodes wrote it before counts were kept day-major ({@link DayCounts}):
 * read only to upgrade the profiles of a snapshot written then (docs/architecture.md, "Compact
 * profiles").
 *
 * <pre>
 * varint entryCount, then per entry: varint dimensionId, varint payloadLength, payload
 * a distinct payload: as now ({@link DistinctCodec})
 * a categorical or numeric payload: varint days, then per day oldest first the day (the first as
 *   a zigzag varint from 2020-01-01, the others as a delta), varint pairs, the pairs as now
 * </pre>
 *
 * Which payload an entry holds follows from its dimension's kind, so the entries of a dimension no
 * longer defined are left out, as the profile's next write would leave them.
 */
public final class LegacyDimensionSection {
  private LegacyDimensionSection() {}

  /**
   * {@code blob} with its legacy dimensions section at {@code pos} rewritten in the current layout
   * ({@link DimensionSection}); {@code blob} itself when it has none.
   */
  public static byte[] upgrade(byte[] blob, int pos, DimensionRegistry.Set dimensions) {
    if (pos >= blob.length) {
      return blob;
    }
    int n = Bytes.varintInt(blob, pos);
    int p = Bytes.next(blob, pos);
    ByteSink distinct = new ByteSink(blob.length);
    int distinctCount = 0;
    List<DimensionBuilder> counts = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(blob, p);
      int lengthAt = Bytes.next(blob, p);
      int length = Bytes.varintInt(blob, lengthAt);
      int payload = Bytes.next(blob, lengthAt);
      Dimension d = dimensions.byId(id);
      if (d != null && d.isDistinct()) {
        distinct.writeBytes(blob, p, payload + length - p);
        distinctCount++;
      } else if (d != null) {
        DimensionBuilder b = decodeCounts(blob, payload);
        int at = 0;
        while (at < ids.size() && ids.get(at) < id) {
          at++;
        }
        ids.add(at, id);
        counts.add(at, b);
      }
      p = payload + length;
    }
    int[] idArray = ids.stream().mapToInt(Integer::intValue).toArray();
    DimensionBuilder[] countArray = counts.toArray(DimensionBuilder[]::new);
    int[] scratch = new int[idArray.length];
    int countBytes = DayCounts.encode(countArray, idArray, idArray.length, scratch, null);
    ByteSink out = new ByteSink(pos + distinct.size() + countBytes + 5);
    out.writeBytes(blob, 0, pos);
    if (distinctCount > 0 || countBytes > 0) {
      out.writeVarint(distinctCount);
      out.writeBytes(distinct.array(), 0, distinct.size());
      DayCounts.encode(countArray, idArray, idArray.length, scratch, out);
    }
    return out.toArray();
  }

  private static DimensionBuilder decodeCounts(byte[] b, int pos) {
    DimensionBuilder out = new DimensionBuilder();
    int days = Bytes.varintInt(b, pos);
    pos = Bytes.next(b, pos);
    int d = 0;
    for (int i = 0; i < days; i++) {
      d = i == 0 ? DayCounts.EPOCH_DAY + (int) Bytes.zigzag(b, pos) : d + Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      int pairs = Bytes.varintInt(b, pos);
      pos = Bytes.next(b, pos);
      int c = -1;
      for (int k = 0; k < pairs; k++) {
        long v = Bytes.varint(b, pos);
        pos = Bytes.next(b, pos);
        c += 1 + (int) (v >>> 2);
        long count = (v & 3) + 1;
        if (count == 4) {
          count += Bytes.varint(b, pos);
          pos = Bytes.next(b, pos);
        }
        out.append(d, c, count);
      }
    }
    return out;
  }
}

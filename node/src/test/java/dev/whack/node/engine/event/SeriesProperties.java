package dev.whack.node.engine.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.codec.ByteSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * The series codec against a model that keeps every event: after random events (some without a
 * value, some of value 0, out of order, pruned), the encoded series decodes to the model's count,
 * sum, min and max over every window, and its first and last times; the older layout reads as
 * documented.
 */
class SeriesProperties {
  private record Ev(int day, long time, boolean valued, double value) {}

  @Property(tries = 300)
  void decodedWindowsEqualAModelOfEveryEvent(@ForAll long seed) {
    Random r = new Random(seed);
    int today = 20_000 + r.nextInt(10);
    int retention = 1 + r.nextInt(10);
    SeriesBuilder builder = new SeriesBuilder();
    List<Ev> events = new ArrayList<>();
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    byte[] bytes = null;
    for (int round = 0; round < 1 + r.nextInt(4); round++) {
      if (bytes != null) {
        builder.load(bytes, 0); // a later write starts from the stored bytes, as ProfileWriter does
      }
      for (int i = 0; i < 1 + r.nextInt(12); i++) {
        long time = Days.startOf(today - r.nextInt(retention + 3)) + r.nextInt(86_400_000);
        int kind = r.nextInt(4);
        double value = kind == 0 ? 0 : r.nextInt(200) - 100 + (kind == 1 ? 0.5 : 0);
        Ev e = new Ev(Days.dayOf(time), time, kind != 3, value);
        builder.addEvent(e.day, e.time, e.valued, e.value);
        events.add(e);
        first = Math.min(first, time);
        last = Math.max(last, time);
      }
      int oldest = today - retention;
      builder.prune(oldest);
      events.removeIf(e -> e.day < oldest);
      if (builder.size() == 0) {
        return; // the series would be dropped, times and all
      }
      ByteSink sink = new ByteSink(64);
      builder.encode(sink);
      bytes = sink.toArray();
      assertEquals(builder.encodedSize(), bytes.length);
      assertEquals(bytes.length, SeriesCodec.skip(bytes, 0));
    }
    DecodedSeries decoded = new DecodedSeries();
    decoded.decode(3, bytes, 0);
    assertEquals(first, decoded.firstMillis(3), "first survives pruning");
    assertEquals(last, decoded.lastMillis(3));
    WindowResult w = new WindowResult();
    for (int days = 1; days <= retention + 1; days++) {
      for (int day = today - 2; day <= today + 2; day++) {
        decoded.window(3, day, days, w);
        long count = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (Ev e : events) {
          if (e.day > day - days && e.day <= day) {
            count++;
            if (e.valued) {
              min = Math.min(min, e.value);
              max = Math.max(max, e.value);
            }
          }
        }
        String where = "seed " + seed + " day " + day + " window " + days;
        assertEquals(count, w.count, where);
        assertEquals(min != Double.POSITIVE_INFINITY, w.hasMinMax(), where);
        if (w.hasMinMax()) {
          assertEquals(min, w.min, where);
          assertEquals(max, w.max, where);
        }
      }
    }
  }

  @Test
  void shouldStoreNoMinOrMaxForADayOfOneValuedEvent() {
    SeriesBuilder b = new SeriesBuilder();
    b.addEvent(20_000, Days.startOf(20_000) + 5, true, 7.5);
    b.addEvent(20_000, Days.startOf(20_000) + 6, false, 0); // value-less: not a min or a max
    ByteSink one = new ByteSink(32);
    b.encode(one);
    // mark, n, day, count word, sum and sum of squares, first, last: no min and max
    assertEquals(1 + 1 + 3 + 1 + 16 + 1 + 1, one.size());
    b.addEvent(20_000, Days.startOf(20_000) + 7, true, -1);
    ByteSink two = new ByteSink(32);
    b.encode(two);
    assertEquals(one.size() + 16, two.size(), "a second valued event adds min and max");
    DecodedSeries d = new DecodedSeries();
    d.decode(0, two.toArray(), 0);
    WindowResult w = new WindowResult();
    d.window(0, 20_000, 1, w);
    assertEquals(3, w.count);
    assertEquals(-1, w.min);
    assertEquals(7.5, w.max);
  }

  @Test
  void shouldReadTheOlderLayoutWithUnknownMinMaxAndMidnightTimes() {
    // The layout main wrote before min, max and times: varint n, then per bucket day and
    // (count << 1 | hasValues), with sum and sum of squares when hasValues.
    ByteSink old = new ByteSink(64);
    old.writeVarint(3);
    old.writeZigzag(20_000);
    old.writeVarint(2 << 1); // two value-less events
    old.writeVarint(1);
    old.writeVarint(1 << 1 | 1); // one event of value 4
    old.writeDouble(4);
    old.writeDouble(16);
    old.writeVarint(1);
    old.writeVarint(3 << 1 | 1); // three valued events: min and max never kept
    old.writeDouble(6);
    old.writeDouble(14);
    byte[] bytes = old.toArray();
    assertTrue(SeriesCodec.legacy(bytes, 0));
    assertEquals(bytes.length, SeriesCodec.skip(bytes, 0));
    DecodedSeries d = new DecodedSeries();
    d.decode(1, bytes, 0);
    assertEquals(Days.startOf(20_000), d.firstMillis(1));
    assertEquals(Days.startOf(20_002), d.lastMillis(1));
    WindowResult w = new WindowResult();
    d.window(1, 20_001, 2, w);
    assertEquals(3, w.count);
    assertEquals(4, w.min);
    assertEquals(4, w.max);
    d.window(1, 20_002, 3, w);
    assertEquals(6, w.count);
    assertFalse(w.hasMinMax(), "a day of unknown min and max makes the window's unknown");
    SeriesBuilder b = new SeriesBuilder();
    assertEquals(bytes.length, b.load(bytes, 0));
    assertEquals(SeriesCodec.NONE, b.kind(0));
    assertEquals(SeriesCodec.ONE, b.kind(1));
    assertEquals(SeriesCodec.UNKNOWN, b.kind(2));
    b.addEvent(20_002, Days.startOf(20_002) + 1000, true, 100);
    assertEquals(SeriesCodec.UNKNOWN, b.kind(2), "unknown stays unknown");
    ByteSink now = new ByteSink(64);
    b.encode(now);
    byte[] rewritten = now.toArray();
    assertFalse(SeriesCodec.legacy(rewritten, 0));
    d.clear();
    d.decode(1, rewritten, 0);
    assertEquals(Days.startOf(20_000), d.firstMillis(1));
    assertEquals(Days.startOf(20_002) + 1000, d.lastMillis(1));
  }
}

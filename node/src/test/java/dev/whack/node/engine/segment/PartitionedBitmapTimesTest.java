package dev.whack.node.engine.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The entered times kept beside a timed bitmap's members, against a map from member to time. */
class PartitionedBitmapTimesTest {
  @Test
  void shouldKeepEachMembersTimeThroughRandomAddsAndRemovesAcrossPartitions() {
    for (long seed = 1; seed <= 20; seed++) {
      Random r = new Random(seed);
      PartitionedBitmap bits = PartitionedBitmap.timed();
      Map<Integer, Integer> model = new TreeMap<>();
      // Dense enough in one partition to turn its container into a bitmap one, and some in others.
      int span = seed % 2 == 0 ? 10_000 : 200_000;
      for (int step = 0; step < 20_000; step++) {
        int ord = r.nextInt(span);
        int time = r.nextInt() & 0x7FFF_FFFF | (r.nextBoolean() ? 0x8000_0000 : 0);
        if (r.nextInt(3) > 0) {
          assertEquals(model.putIfAbsent(ord, time) == null, bits.add(ord, time), "add " + ord);
        } else {
          assertEquals(model.remove(ord) != null, bits.remove(ord), "remove " + ord);
        }
        if (step % 997 == 0) {
          check(bits, model, span);
        }
      }
      check(bits, model, span);
    }
  }

  @Test
  void shouldAppendInOrdinalOrderAndAnswerNotMemberOutside() {
    PartitionedBitmap bits = PartitionedBitmap.timed();
    for (int ord = 0; ord < 200_000; ord += 3) {
      bits.add(ord, ord + 7);
    }
    assertEquals(7, bits.enteredSeconds(0));
    assertEquals(199_998 + 7, bits.enteredSeconds(199_998));
    assertEquals(PartitionedBitmap.NOT_MEMBER, bits.enteredSeconds(1));
    assertEquals(PartitionedBitmap.NOT_MEMBER, bits.enteredSeconds(5_000_000));
    assertEquals(false, bits.add(3, 99), "a member keeps its time");
    assertEquals(10, bits.enteredSeconds(3));
    assertEquals(true, bits.setEntered(3, -2));
    assertEquals(0xFFFF_FFFEL, bits.enteredSeconds(3), "unsigned: until 2106");
    PartitionedBitmap untimed = new PartitionedBitmap();
    untimed.add(5, 99);
    assertEquals(0, untimed.enteredSeconds(5), "the bitmap of every profile keeps no times");
  }

  @Test
  void shouldClampMillisToUnsignedSeconds() {
    assertEquals(1_795_000_000, PartitionedBitmap.seconds(1_795_000_000_999L));
    assertEquals(0, PartitionedBitmap.seconds(-5));
    assertEquals(0xFFFF_FFFEL, Integer.toUnsignedLong(PartitionedBitmap.seconds(Long.MAX_VALUE)));
  }

  private static void check(PartitionedBitmap bits, Map<Integer, Integer> model, int span) {
    assertEquals(model.size(), bits.cardinality());
    for (int ord = 0; ord < span; ord++) {
      Integer t = model.get(ord);
      long want = t == null ? PartitionedBitmap.NOT_MEMBER : Integer.toUnsignedLong(t);
      if (bits.enteredSeconds(ord) != want) {
        assertEquals(want, bits.enteredSeconds(ord), "time of " + ord);
      }
    }
  }
}

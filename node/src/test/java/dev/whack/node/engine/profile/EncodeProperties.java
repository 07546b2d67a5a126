package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.event.Days;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.Event;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Increment;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The writer measures each new profile before writing it into an array of exactly that size; across
 * varint widths (name ids past 127 and 16383, long keys, large counts and sequences) the measure
 * and the bytes agree, and the profile reads back unchanged, also renumbered to another node's name
 * ids (as a snapshot's profiles are at start-up).
 */
class EncodeProperties {
  private static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z
  private static final Dictionaries DICT = Dictionaries.create(100_000);

  static {
    for (int i = 0; i < 17_000; i++) { // ids of one, two and three varint bytes, held for good
      DICT.attributes().acquire("pad" + i);
    }
    for (int i = 0; i < 200; i++) {
      DICT.events().acquire("e" + i);
    }
  }

  /** The same names numbered the other way round: another node's tables. */
  private static final Dictionaries REVERSED = Dictionaries.create(100_000);

  private static final int[] ATTRIBUTES_TO_REVERSED = new int[17_000];
  private static final int[] EVENTS_TO_REVERSED = new int[200];

  static {
    for (int i = 16_999; i >= 0; i--) {
      int id = REVERSED.attributes().acquire("pad" + i);
      ATTRIBUTES_TO_REVERSED[DICT.attributes().idOf("pad" + i)] = id;
    }
    for (int i = 199; i >= 0; i--) {
      int id = REVERSED.events().acquire("e" + i);
      EVENTS_TO_REVERSED[DICT.events().idOf("e" + i)] = id;
    }
  }

  private final ProfileWriter writer = new ProfileWriter(DICT, 60, ProfileLimits.DEFAULTS);
  private final StripeNames stripe = new StripeNames();

  private static long wide(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(128);
      case 1 -> r.nextInt(1 << 20);
      case 2 -> r.nextLong() & Long.MAX_VALUE;
      default -> Long.MAX_VALUE;
    };
  }

  @Property(tries = 300)
  void everyProfileIsWrittenAtItsMeasuredSizeAndReadsBack(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] key = new byte[1 + r.nextInt(250)];
    r.nextBytes(key);
    Profile.Builder p = Profile.newBuilder();
    int n = r.nextInt(30);
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      names.add("pad" + r.nextInt(17_000));
    }
    for (String name : names) {
      Value v =
          switch (r.nextInt(4)) {
            case 0 -> Value.newBuilder().setIntValue(r.nextLong()).build();
            case 1 -> Value.newBuilder().setFloatValue(r.nextDouble()).build();
            case 2 -> Value.newBuilder().setStringValue("s".repeat(r.nextInt(300))).build();
            default -> Value.newBuilder().setBoolValue(r.nextBoolean()).build();
          };
      p.addAttributes(Attribute.newBuilder().setName(name).setValue(v));
    }
    int today = Days.dayOf(NOW);
    int series = r.nextInt(4);
    for (int s = 0; s < series; s++) {
      EventSeries.Builder e = EventSeries.newBuilder().setName("e" + (s * 50 + r.nextInt(50)));
      int day = today - 60 + r.nextInt(10);
      // The canonical form a node writes: times always (the first possibly before the oldest
      // day, as after pruning), min and max exactly where the sums do not say them.
      long first = Days.startOf(day) - (r.nextBoolean() ? 0 : wide(r) % (100L * 86_400_000));
      int lastDay = day;
      for (int b = 0; b < 1 + r.nextInt(8) && day <= today; b++) {
        int kind = r.nextInt(3); // no value, sums alone, sums with min and max
        long count = Math.max(1, wide(r) >>> 2); // up to SeriesCodec.MAX_COUNT
        DayBucket.Builder d =
            DayBucket.newBuilder()
                .setDay(day)
                .setCount(count)
                .setSum(kind > 0 ? 1 + r.nextDouble() : 0)
                .setSumSquares(kind > 0 ? r.nextDouble() : 0);
        if (kind == 2 && count > 1) {
          double min = r.nextDouble();
          d.setMin(min).setMax(min + r.nextDouble());
        }
        e.addBuckets(d);
        lastDay = day;
        day += 1 + r.nextInt(9);
      }
      e.setFirstMillis(first).setLastMillis(Days.startOf(lastDay) + r.nextInt(86_400_000));
      p.addEvents(e);
    }
    for (int m = 0; m < r.nextInt(3); m++) {
      p.addProducers(
          ProducerMark.newBuilder().setProducer("p" + (m * 60 + r.nextInt(60))).setSeq(wide(r)));
    }
    Profile profile = p.build();
    byte[] blob = writer.put(key, profile, NOW, null, stripe);
    writer.commit(null);
    Profile expected = profile.toBuilder().setKey(new String(key, StandardCharsets.UTF_8)).build();
    assertEquals(expected, ProfileCodec.toProto(blob, DICT));
    // A snapshot's compact form installed on another node: renumbered to its ids (whose varints
    // differ in width), it reads back the same there; unchanged ids give back the same array.
    byte[] renumbered = ProfileCodec.renumber(blob, ATTRIBUTES_TO_REVERSED, EVENTS_TO_REVERSED);
    assertEquals(expected, ProfileCodec.toProto(renumbered, REVERSED));
    int[] same = new int[17_000];
    java.util.Arrays.setAll(same, i -> i);
    int[] sameEvents = new int[17_000];
    java.util.Arrays.setAll(sameEvents, i -> i);
    org.junit.jupiter.api.Assertions.assertSame(
        blob, ProfileCodec.renumber(blob, same, sameEvents));

    Update.Builder u = Update.newBuilder();
    if (r.nextBoolean()) {
      u.addIncr(Increment.newBuilder().setName("pad" + r.nextInt(17_000)).setIntDelta(1));
    }
    for (int i = 0; i < r.nextInt(3); i++) {
      Event.Builder e = Event.newBuilder().setName("e" + r.nextInt(200));
      if (r.nextBoolean()) {
        e.setValue(r.nextDouble() * 1000);
      }
      u.addEvents(e);
    }
    u.setProducer("p" + r.nextInt(200)).setSeq(Long.MAX_VALUE - r.nextInt(3));
    byte[] next;
    try {
      next = writer.apply(key, blob, u.build(), NOW, stripe);
    } catch (InvalidProfileException e) {
      return; // an increment of a string, say: nothing written
    }
    if (next != null) {
      Profile after = ProfileCodec.toProto(next, DICT);
      assertEquals(expected.getKey(), after.getKey());
    }
  }
}

package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.event.Days;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.DimensionCounts;
import dev.whack.proto.DimensionDay;
import dev.whack.proto.EventSeries;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.StringSet;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * {@link RenderedSize} decides whether a profile may be stored without rendering it, so its two
 * shortcuts must never underestimate: on profiles made of the awkward parts (names and strings of
 * control characters, quotes, non-ASCII and surrogate pairs, timestamp-shaped strings, the widest
 * numbers, days and counts), both renderings are at most the one-pass bound, the bound is at most
 * the per-compact-byte bound, and the answer for a limit is exactly what rendering would say.
 */
class RenderedSizeProperties {
  private static final long NOW = 1_795_168_800_000L; // 2026-11-20T10:00:00Z

  private final Dictionaries dict = dictionaries();
  private final ProfileWriter writer = new ProfileWriter(dict, 60, ProfileLimits.DEFAULTS);

  /**
   * Name tables, and two dimensions: a categorical one whose labels (which live in the dimension,
   * not the profile) may be long and all escapes, and a numeric one.
   */
  private static Dictionaries dictionaries() {
    Dictionaries d = Dictionaries.create(100_000);
    d.dimensions()
        .define(
            dev.whack.node.engine.dimension.DimensionSpec.parse(
                "colour",
                "{\"property\":\"c\",\"max_categories\":1024}".getBytes(StandardCharsets.UTF_8)));
    d.dimensions()
        .define(
            dev.whack.node.engine.dimension.DimensionSpec.parse(
                "price",
                "{\"property\":\"p\",\"bounds\":[-1e300,0.5,1e300]}"
                    .getBytes(StandardCharsets.UTF_8)));
    return d;
  }

  // Never committed: a put's pins keep its names until the next put gives them back.
  private final StripeNames stripe = new StripeNames();

  private static final String[] PIECES = {
    "a", "Z", "\u0001", "\u001f", "\n", "\"", "\\", "/", "\u007f", "é", "€", "\ud83d\ude00", " "
  };

  private static String text(Random r, int maxChars) {
    if (r.nextInt(8) == 0) {
      return "2026-11-20T10:00:00Z"; // timestamp-shaped: rendered as {"$string": ...}
    }
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(maxChars + 1);
    while (b.length() < n) {
      String piece = PIECES[r.nextInt(PIECES.length)];
      if (b.length() + piece.length() > maxChars) {
        break;
      }
      b.append(piece);
    }
    return b.toString();
  }

  private static String name(Random r, String prefix) {
    String body = text(r, Names.MAX_NAME_CHARS - prefix.length());
    return prefix + body;
  }

  private static long wide(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> r.nextInt(128);
      case 1 -> -r.nextInt(1 << 20);
      case 2 -> r.nextLong();
      default -> r.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
    };
  }

  private static double awkwardDouble(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> -Double.MIN_NORMAL;
      case 1 -> -Double.MAX_VALUE;
      case 2 -> r.nextDouble() * 1e-300;
      default -> r.nextDouble();
    };
  }

  private Profile profile(Random r) {
    Profile.Builder p = Profile.newBuilder();
    Set<String> names = new LinkedHashSet<>();
    for (int i = r.nextInt(12); i > 0; i--) {
      names.add(name(r, "a"));
    }
    for (String name : names) {
      Value.Builder v = Value.newBuilder();
      switch (r.nextInt(6)) {
        case 0 -> v.setIntValue(wide(r));
        case 1 -> v.setFloatValue(awkwardDouble(r));
        case 2 -> v.setStringValue(text(r, 300));
        case 3 -> v.setBoolValue(r.nextBoolean());
        case 4 -> v.setTimestampMillis(r.nextBoolean() ? Timestamps.MIN_MILLIS : NOW + r.nextInt());
        default -> {
          StringSet.Builder s = StringSet.newBuilder();
          Set<String> elements = new LinkedHashSet<>();
          for (int i = r.nextInt(6); i > 0; i--) {
            elements.add(text(r, 40));
          }
          v.setStringSet(s.addAllValues(elements));
        }
      }
      p.addAttributes(Attribute.newBuilder().setName(name).setValue(v));
    }
    Set<String> events = new LinkedHashSet<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      events.add(name(r, "e"));
    }
    int today = Days.dayOf(NOW);
    for (String event : events) {
      EventSeries.Builder e = EventSeries.newBuilder().setName(event);
      if (r.nextBoolean()) { // the widest times: years apart from their days
        e.setFirstMillis(Timestamps.MIN_MILLIS).setLastMillis(Timestamps.MAX_MILLIS);
      }
      int day = today - 60 + r.nextInt(10);
      for (int b = r.nextInt(8); b >= 0 && day <= today; b--) {
        boolean valued = r.nextBoolean();
        DayBucket.Builder d =
            DayBucket.newBuilder()
                .setDay(day)
                .setCount(Math.max(1, (wide(r) & Long.MAX_VALUE) >>> 2)) // up to MAX_COUNT
                .setSum(valued ? awkwardDouble(r) : 0)
                .setSumSquares(valued ? awkwardDouble(r) : 0);
        if (valued && r.nextBoolean()) {
          double a = awkwardDouble(r);
          double b2 = awkwardDouble(r);
          d.setMin(Math.min(a, b2)).setMax(Math.max(a, b2));
        }
        e.addBuckets(d);
        day += 1 + r.nextInt(9);
      }
      p.addEvents(e);
    }
    Set<String> producers = new LinkedHashSet<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      producers.add(name(r, "p"));
    }
    for (String producer : producers) {
      long seq = wide(r) & Long.MAX_VALUE;
      p.addProducers(ProducerMark.newBuilder().setProducer(producer).setSeq(seq));
    }
    for (String dimension : new String[] {"colour", "price"}) {
      if (r.nextBoolean()) {
        continue;
      }
      DimensionCounts.Builder d = DimensionCounts.newBuilder().setDimension(dimension);
      int day = today - 60 + r.nextInt(10);
      for (int k = r.nextInt(5); k >= 0 && day <= today; k--) {
        DimensionDay.Builder counts = DimensionDay.newBuilder().setDay(day);
        for (int c = r.nextInt(6); c >= 0; c--) {
          String label =
              dimension.equals("price")
                  ? new String[] {"..-1.0E300", "-1.0E300..0.5", "0.5..1.0E300", "1.0E300.."}
                      [r.nextInt(4)]
                  : text(r, 256);
          counts.putCounts(label, 1 + (wide(r) & Long.MAX_VALUE) % 1_000_000_000L);
        }
        d.addDays(counts);
        day += 1 + r.nextInt(9);
      }
      p.addDimensions(d);
    }
    return p.build();
  }

  @Property(tries = 500)
  void shouldNeverUnderestimateEitherRendering(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] key = ("user:" + r.nextInt(1000)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] blob = writer.put(key, profile(r), NOW, null, stripe);
    long json = RenderedSize.exact(blob, dict, Rendering.JSON);
    long protobuf = RenderedSize.exact(blob, dict, Rendering.PROTOBUF);
    long bound = RenderedSize.bound(blob, dict);
    assertTrue(json <= bound, () -> "JSON " + json + " over the bound " + bound);
    assertTrue(protobuf <= bound, () -> "protobuf " + protobuf + " over the bound " + bound);
    long perByte =
        (long) blob.length * RenderedSize.MAX_RENDERED_BYTES_PER_COMPACT_BYTE
            + RenderedSize.WRAPPER_BYTES;
    assertTrue(bound <= perByte, () -> "bound " + bound + " over the per-byte bound " + perByte);

    for (Rendering rendering : Rendering.values()) {
      long exact = rendering == Rendering.JSON ? json : protobuf;
      for (long limit : new long[] {exact - 1, exact, exact + 1, r.nextInt((int) bound + 1)}) {
        assertEquals(
            exact > limit ? exact : -1,
            RenderedSize.lengthIfOver(blob, dict, rendering, limit),
            rendering + " against a limit of " + limit + " (exact " + exact + ")");
      }
    }
  }

  /** Producer marks whose names are all escapes: six rendered bytes for each stored one. */
  @Test
  void shouldBoundProducerMarksUnderTheLongestEscapedNames() {
    Profile.Builder p = Profile.newBuilder();
    int marks = ProfileLimits.DEFAULTS.producers();
    for (int i = 0; i < marks; i++) {
      String name = "\u0001".repeat(Names.MAX_NAME_CHARS - 3) + String.format("%03d", i);
      p.addProducers(ProducerMark.newBuilder().setProducer(name).setSeq(127));
    }
    byte[] blob = writer.put(new byte[] {'k'}, p.build(), NOW, null, stripe);
    long json = RenderedSize.exact(blob, dict, Rendering.JSON);
    assertTrue(json > marks * 6L * (Names.MAX_NAME_CHARS - 3), "names are escaped: " + json);
    assertTrue(json <= RenderedSize.bound(blob, dict));
    assertTrue(
        RenderedSize.bound(blob, dict)
            <= (long) blob.length * RenderedSize.MAX_RENDERED_BYTES_PER_COMPACT_BYTE
                + RenderedSize.WRAPPER_BYTES);
  }
}

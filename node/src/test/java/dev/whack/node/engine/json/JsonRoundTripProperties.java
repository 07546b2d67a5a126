package dev.whack.node.engine.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.Event;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Increment;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.SetDelta;
import dev.whack.proto.StringSet;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** Any valid proto profile or update survives proto -> JSON -> proto unchanged. */
class JsonRoundTripProperties {
  private static final String[] STRINGS = {
    "", "DK", "héllo", "a\"b\\c", "\u0000ctl", "2026-11-20T10:00:00Z", "2026-11-20", "$x", "😀"
  };

  @Property(tries = 300)
  void profileSurvivesJsonRoundTrip(@ForAll long seed) {
    Random r = new Random(seed);
    Profile.Builder p = Profile.newBuilder();
    LinkedHashSet<String> names = new LinkedHashSet<>();
    int n = r.nextInt(8);
    for (int i = 0; i < n; i++) {
      names.add("a" + r.nextInt(20));
    }
    for (String name : names) {
      p.addAttributes(Attribute.newBuilder().setName(name).setValue(value(r)));
    }
    if (r.nextBoolean()) {
      EventSeries.Builder s = EventSeries.newBuilder().setName("e" + r.nextInt(3));
      int day = 20_000 + r.nextInt(10);
      if (r.nextBoolean()) { // first and last times, both or neither
        long first = day * 86_400_000L - r.nextInt(1_000_000_000);
        s.setFirstMillis(first).setLastMillis(first + r.nextInt(1_000_000_000));
      }
      for (int i = 0; i < 1 + r.nextInt(4); i++) {
        int kind = r.nextInt(3); // no value, sums alone, sums with min and max
        DayBucket.Builder b =
            DayBucket.newBuilder()
                .setDay(day)
                .setCount(1 + r.nextInt(100))
                .setSum(kind > 0 ? r.nextDouble() * 1e6 - 5e5 : 0)
                .setSumSquares(kind > 0 ? r.nextDouble() * 1e9 : 0);
        if (kind == 2) {
          double min = r.nextDouble() * 100 - 50;
          b.setMin(min).setMax(r.nextBoolean() ? min : min + r.nextDouble() * 100);
        }
        s.addBuckets(b);
        day += 1 + r.nextInt(5);
      }
      p.addEvents(s);
      p.addProducers(
          ProducerMark.newBuilder()
              .setProducer("p" + r.nextInt(4))
              .setSeq(r.nextLong() & Long.MAX_VALUE));
    }
    Profile profile = p.build();
    assertEquals(profile, ProfileJson.parse(ProfileJson.write(profile)));
  }

  @Property(tries = 300)
  void updateSurvivesJsonRoundTrip(@ForAll long seed) {
    Random r = new Random(seed);
    Update.Builder u = Update.newBuilder();
    if (r.nextBoolean()) {
      u.addSet(Attribute.newBuilder().setName("s").setValue(value(r)));
    }
    if (r.nextBoolean()) {
      u.addUnset("gone");
    }
    if (r.nextBoolean()) {
      u.addIncr(
          r.nextBoolean()
              ? Increment.newBuilder().setName("i").setIntDelta(r.nextLong())
              : Increment.newBuilder().setName("f").setFloatDelta(r.nextGaussian()));
    }
    if (r.nextBoolean()) {
      u.addAdd(SetDelta.newBuilder().setName("tags").addAllValues(List.of("x", "y")));
      u.addRemove(SetDelta.newBuilder().setName("tags").addValues("z"));
    }
    if (r.nextBoolean()) {
      Event.Builder e = Event.newBuilder().setName("view");
      if (r.nextBoolean()) {
        e.setTimeMillis(1_700_000_000_000L + r.nextInt(1_000_000_000));
      }
      if (r.nextBoolean()) {
        e.setValue(r.nextDouble());
      }
      if (r.nextBoolean()) {
        e.addProperties(Attribute.newBuilder().setName("sku").setValue(value(r)));
      }
      u.addEvents(e);
    }
    if (r.nextBoolean()) {
      u.setProducer("shop").setSeq(r.nextLong() & Long.MAX_VALUE);
    }
    Update update = u.build();
    assertEquals(update, UpdateJson.parse(UpdateJson.write(update)));
  }

  private static Value value(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> Value.newBuilder().setStringValue(STRINGS[r.nextInt(STRINGS.length)]).build();
      case 1 -> Value.newBuilder().setIntValue(r.nextLong()).build();
      case 2 ->
          Value.newBuilder()
              .setFloatValue(
                  r.nextBoolean()
                      ? r.nextInt(1000)
                      : r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20))
              .build();
      case 3 -> Value.newBuilder().setBoolValue(r.nextBoolean()).build();
      case 4 ->
          Value.newBuilder()
              .setTimestampMillis(
                  r.nextLong(
                      dev.whack.node.engine.profile.Timestamps.MIN_MILLIS,
                      dev.whack.node.engine.profile.Timestamps.MAX_MILLIS))
              .build();
      default -> {
        LinkedHashSet<String> s = new LinkedHashSet<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          s.add(STRINGS[r.nextInt(STRINGS.length)]);
        }
        yield Value.newBuilder().setStringSet(StringSet.newBuilder().addAllValues(s)).build();
      }
    };
  }
}

package dev.whack.node.engine.bench;

import dev.whack.node.engine.event.Days;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.Event;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Increment;
import dev.whack.proto.Profile;
import dev.whack.proto.SetDelta;
import dev.whack.proto.StringSet;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The realistic shape shared by the engine benchmarks: profiles of 20 attributes with sparse event
 * series, 50 segments of mixed kinds, and an update mix of events and attribute changes.
 */
public final class BenchData {
  static final String[] COUNTRIES = {"DK", "SE", "NO", "DE", "FR", "NL", "PL", "ES", "IT", "FI"};
  static final String[] PLANS = {"free", "pro", "team"};
  static final String[] DEVICES = {"ios", "android", "web"};
  static final String[] COLOURS = {
    "red", "blue", "green", "black", "white", "grey", "silver", "yellow", "orange", "brown",
    "purple", "beige"
  };

  private BenchData() {}

  public static byte[] key(int i) {
    return ("user:" + i).getBytes(StandardCharsets.UTF_8);
  }

  private static Attribute attr(String name, Value v) {
    return Attribute.newBuilder().setName(name).setValue(v).build();
  }

  private static Value s(String v) {
    return Value.newBuilder().setStringValue(v).build();
  }

  private static Value i(long v) {
    return Value.newBuilder().setIntValue(v).build();
  }

  private static Value f(double v) {
    return Value.newBuilder().setFloatValue(v).build();
  }

  private static Value b(boolean v) {
    return Value.newBuilder().setBoolValue(v).build();
  }

  private static Value t(long v) {
    return Value.newBuilder().setTimestampMillis(v).build();
  }

  /** A profile with 20 attributes and a few daily buckets of two event series. */
  public static Profile profile(SplittableRandom r, long now) {
    int today = Days.dayOf(now);
    Profile.Builder p =
        Profile.newBuilder()
            .addAttributes(attr("country", s(COUNTRIES[r.nextInt(COUNTRIES.length)])))
            .addAttributes(attr("city", s("city-" + r.nextInt(200))))
            .addAttributes(attr("age", i(18 + r.nextInt(62))))
            .addAttributes(attr("score", f(r.nextInt(1000) / 10.0)))
            .addAttributes(attr("vip", b(r.nextInt(10) == 0)))
            .addAttributes(attr("newsletter", b(r.nextBoolean())))
            .addAttributes(attr("last_seen", t(now - r.nextLong(30 * Days.MILLIS_PER_DAY))))
            .addAttributes(attr("signup", t(now - r.nextLong(730 * Days.MILLIS_PER_DAY))))
            .addAttributes(
                attr(
                    "tags",
                    Value.newBuilder()
                        .setStringSet(
                            StringSet.newBuilder()
                                .addValues("tag" + r.nextInt(20))
                                .addValues("tag" + (20 + r.nextInt(20))))
                        .build()))
            .addAttributes(attr("plan", s(PLANS[r.nextInt(3)])))
            .addAttributes(attr("visits", i(r.nextInt(1000))))
            .addAttributes(attr("spend", f(r.nextInt(500_000) / 100.0)))
            .addAttributes(attr("device", s(DEVICES[r.nextInt(3)])))
            .addAttributes(attr("lang", s(COUNTRIES[r.nextInt(COUNTRIES.length)].toLowerCase())))
            .addAttributes(attr("email_domain", s("mail" + r.nextInt(20) + ".example")))
            .addAttributes(attr("price_min", i(r.nextInt(100) * 1000)))
            .addAttributes(attr("price_max", i(100_000 + r.nextInt(100) * 1000)))
            .addAttributes(attr("colour", s(COLOURS[r.nextInt(COLOURS.length)])))
            .addAttributes(attr("mileage", i(r.nextInt(300_000))))
            .addAttributes(attr("cohort", s("c" + r.nextInt(1000))));
    EventSeries.Builder views = EventSeries.newBuilder().setName("view");
    int day = today - 20 - r.nextInt(10);
    for (int k = 0; k < 3; k++) {
      day += 1 + r.nextInt(6);
      views.addBuckets(
          DayBucket.newBuilder().setDay(Math.min(day, today)).setCount(1 + r.nextInt(5)));
      if (day >= today) {
        break;
      }
    }
    p.addEvents(views);
    if (r.nextBoolean()) {
      double v = 10 + r.nextInt(200);
      p.addEvents(
          EventSeries.newBuilder()
              .setName("buy")
              .addBuckets(
                  DayBucket.newBuilder()
                      .setDay(today - r.nextInt(30))
                      .setCount(1)
                      .setSum(v)
                      .setSumSquares(v * v)));
    }
    return p.build();
  }

  /** Fifty segments: attribute comparisons, set membership, event windows and recency. */
  public static List<String> segments() {
    List<String> out = new ArrayList<>();
    for (int k = 0; k < 5; k++) {
      out.add("country == \"" + COUNTRIES[k] + "\"");
    }
    for (int k = 0; k < 5; k++) {
      out.add("age >= " + (20 + 10 * k) + " and age < " + (30 + 10 * k));
    }
    out.add("plan == \"pro\" and spend > 1000.0");
    out.add("vip and country in [\"DK\", \"SE\", \"NO\"]");
    out.add("colour in [\"red\", \"black\"] and mileage < 100000");
    out.add("price_max > 150000 or device == \"ios\"");
    out.add("not newsletter and visits > 500");
    for (int k = 0; k < 10; k++) {
      out.add("\"tag" + (k * 3) + "\" in tags");
    }
    for (int k = 1; k <= 5; k++) {
      out.add("count(view, " + (k * 5) + "d) >= " + k);
    }
    for (int k = 1; k <= 4; k++) {
      out.add("sum(buy, " + (k * 7) + "d) > " + (k * 40) + ".0");
    }
    out.add("avg(buy, 30d) > 100.0");
    out.add("decayed(view, 7d) > 2.0");
    out.add("variance(buy, 30d) > 0.0");
    out.add("count(buy, 30d) >= 1 and count(view, 7d) == 0");
    out.add("decayed(buy, 3d) > 0.5 and vip");
    for (int k = 1; k <= 5; k++) {
      out.add("last_seen > now() - " + (k * 3) + "d");
    }
    out.add("signup > now() - 90d and plan != \"free\"");
    out.add("last_seen < now() - 14d and count(view, 7d) >= 1");
    out.add(
        "country == \"DK\" and count(buy, 30d) >= 1 and last_seen > now() - 7d"
            + " and \"tag3\" in tags");
    out.add("exists(cohort) and cohort in [\"c1\", \"c2\", \"c3\"]");
    out.add("score > 90.0 or spend > 4900.0");
    out.add("lang == \"da\" and email_domain != \"mail1.example\"");
    if (out.size() != 50) {
      throw new IllegalStateException("expected 50 segments, have " + out.size());
    }
    return out;
  }

  /** An update mix: 50% view events, 20% buy events with a value, 30% attribute changes. */
  public static Update[] updates(long now) {
    List<Update> out = new ArrayList<>();
    for (int k = 0; k < 5; k++) {
      out.add(Update.newBuilder().addEvents(Event.newBuilder().setName("view")).build());
    }
    out.add(
        Update.newBuilder().addEvents(Event.newBuilder().setName("buy").setValue(49.5)).build());
    out.add(Update.newBuilder().addEvents(Event.newBuilder().setName("buy").setValue(120)).build());
    out.add(Update.newBuilder().addSet(attr("last_seen", t(now))).build());
    out.add(
        Update.newBuilder()
            .addIncr(Increment.newBuilder().setName("visits").setIntDelta(1))
            .build());
    out.add(
        Update.newBuilder()
            .addSet(attr("country", s("SE")))
            .addAdd(SetDelta.newBuilder().setName("tags").addValues("tag3"))
            .build());
    return out.toArray(new Update[0]);
  }

  /**
   * Update JSON of the shapes the wire benchmark sends (cli ProfileWorkload): half a view event
   * with a last_seen timestamp, a fifth a valued purchase with a visit increment, and attribute and
   * tag changes.
   */
  public static byte[][] jsonUpdates(SplittableRandom r, long now, int n) {
    byte[][] out = new byte[n][];
    String lastSeen = java.time.Instant.ofEpochMilli(now - now % 1000).toString();
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(10);
      String body;
      if (kind < 5) {
        body = "{\"events\":[{\"name\":\"view\"}],\"set\":{\"last_seen\":\"" + lastSeen + "\"}}";
      } else if (kind < 7) {
        body =
            "{\"events\":[{\"name\":\"buy\",\"value\":"
                + (1 + r.nextInt(200))
                + "}],\"incr\":{\"visits\":1}}";
      } else if (kind < 8) {
        body =
            "{\"set\":{\"country\":\""
                + COUNTRIES[r.nextInt(COUNTRIES.length)]
                + "\",\"age\":"
                + (16 + r.nextInt(60))
                + "}}";
      } else if (kind < 9) {
        body =
            "{\"add\":{\"tags\":[\"tag"
                + r.nextInt(40)
                + "\"]},\"remove\":{\"tags\":[\"tag"
                + r.nextInt(40)
                + "\"]}}";
      } else {
        body =
            "{\"set\":{\"newsletter\":"
                + r.nextBoolean()
                + ",\"cart_items\":"
                + r.nextInt(10)
                + "}}";
      }
      out[i] = body.getBytes(StandardCharsets.UTF_8);
    }
    return out;
  }

  /** Skewed key choice: a few keys are hot, most are cold (power law over the key space). */
  public static int skewedKey(SplittableRandom r, int n) {
    double u = r.nextDouble();
    return (int) (n * u * u * u);
  }
}

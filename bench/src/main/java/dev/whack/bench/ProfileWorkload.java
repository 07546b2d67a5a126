package dev.whack.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The realistic profile shape the profile benchmarks use: 20 attributes of mixed types, a few event
 * series, 50 segments of mixed shape (attribute comparisons, set membership, windows, time), and a
 * stream of partial updates (mostly events, some attribute changes). Deterministic for a seed.
 */
final class ProfileWorkload {
  static final String[] COUNTRIES = {
    "DK", "SE", "NO", "DE", "FR", "ES", "IT", "NL", "BE", "PL", "UK", "IE", "US", "CA", "BR", "MX",
    "JP", "KR", "AU", "NZ"
  };
  static final String[] TAGS = {
    "vip", "newsletter", "trial", "churn-risk", "mobile", "desktop", "b2b", "student", "family",
    "outdoor", "gamer", "traveller", "pet-owner", "vegan", "runner", "reader", "music", "diy",
    "fashion", "tech"
  };
  static final String[] COLOURS = {"red", "blue", "green", "black", "white", "grey", "yellow"};
  static final String[] PLANS = {"free", "basic", "plus", "pro"};
  static final String[] DEVICES = {"ios", "android", "web"};
  static final long DAY_MILLIS = 86_400_000L;

  private final long nowMillis;

  public ProfileWorkload(long nowMillis) {
    this.nowMillis = nowMillis;
  }

  public static byte[] key(int i) {
    return ("user:" + i).getBytes(StandardCharsets.US_ASCII);
  }

  /** A whole profile of 20 attributes and a few days of events, as Profile JSON. */
  public byte[] profile(SplittableRandom r) {
    StringBuilder b = new StringBuilder(640);
    b.append("{\"country\":\"").append(pick(r, COUNTRIES)).append('"');
    b.append(",\"city\":\"city-").append(r.nextInt(200)).append('"');
    b.append(",\"age\":").append(16 + r.nextInt(60));
    b.append(",\"gender\":\"").append(r.nextBoolean() ? "f" : "m").append('"');
    b.append(",\"tier\":").append(r.nextInt(5));
    b.append(",\"tags\":[");
    for (int t = 0, n = 1 + r.nextInt(4); t < n; t++) {
      b.append(t == 0 ? "" : ",").append('"').append(pick(r, TAGS)).append('"');
    }
    b.append("]");
    b.append(",\"last_seen\":\"").append(iso(nowMillis - r.nextLong(30 * DAY_MILLIS))).append('"');
    b.append(",\"signup\":\"").append(iso(nowMillis - r.nextLong(900 * DAY_MILLIS))).append('"');
    b.append(",\"visits\":").append(r.nextInt(500));
    b.append(",\"spend\":").append(r.nextInt(100_000) / 100.0);
    b.append(",\"newsletter\":").append(r.nextBoolean());
    b.append(",\"device\":\"").append(pick(r, DEVICES)).append('"');
    b.append(",\"lang\":\"").append(pick(r, COUNTRIES).toLowerCase()).append('"');
    b.append(",\"plan\":\"").append(pick(r, PLANS)).append('"');
    b.append(",\"score\":").append(r.nextInt(1000) / 10.0);
    b.append(",\"cart_items\":").append(r.nextInt(10));
    b.append(",\"pref_colour\":\"").append(pick(r, COLOURS)).append('"');
    b.append(",\"pref_price\":").append(10 * (1 + r.nextInt(50)));
    b.append(",\"pref_mileage\":").append(1000 * r.nextInt(200));
    b.append(",\"region\":\"region-").append(r.nextInt(12)).append('"');
    b.append("}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A whole profile as {@link #profile} makes it, plus an event history as a dump has it: daily
   * buckets of {@code view} (most profiles), {@code purchase} with values (some), {@code
   * email_click} (a few) over the last 30 days, and for one profile in four the sequence of the
   * last update its producer applied ({@code $producers}). About 20 attributes and 600 to 900 bytes
   * of JSON.
   */
  public byte[] profileWithHistory(SplittableRandom r) {
    byte[] attributes = profile(r);
    StringBuilder b = new StringBuilder(attributes.length + 400);
    b.append(new String(attributes, 0, attributes.length - 1, StandardCharsets.UTF_8));
    long today = Math.floorDiv(nowMillis, DAY_MILLIS);
    b.append(",\"$events\":{");
    boolean first = true;
    if (r.nextInt(10) < 8) {
      first = series(b, r, "view", today, 2 + r.nextInt(6), false, first);
    }
    if (r.nextInt(10) < 4) {
      first = series(b, r, "purchase", today, 1 + r.nextInt(3), true, first);
    }
    if (r.nextInt(10) < 2) {
      first = series(b, r, "email_click", today, 1 + r.nextInt(2), false, first);
    }
    b.append('}');
    if (r.nextInt(4) == 0) {
      b.append(",\"$producers\":{\"shop-1\":").append(1 + r.nextInt(10_000)).append('}');
    }
    b.append('}');
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** One series of {@code days} distinct days within the last 30, oldest first. */
  private static boolean series(
      StringBuilder b,
      SplittableRandom r,
      String name,
      long today,
      int days,
      boolean valued,
      boolean first) {
    if (!first) {
      b.append(',');
    }
    b.append('"').append(name).append("\":{");
    long[] picked = new long[days];
    int n = 0;
    while (n < days) {
      long d = today - r.nextInt(30);
      boolean seen = false;
      for (int i = 0; i < n; i++) {
        seen |= picked[i] == d;
      }
      if (!seen) {
        picked[n++] = d;
      }
    }
    java.util.Arrays.sort(picked);
    for (int i = 0; i < days; i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append('"').append(java.time.LocalDate.ofEpochDay(picked[i])).append("\":[");
      int count = 1 + r.nextInt(valued ? 2 : 6);
      b.append(count);
      if (valued) {
        double sum = 0;
        double squares = 0;
        for (int k = 0; k < count; k++) {
          double v = 5 + r.nextInt(19_500) / 100.0;
          sum += v;
          squares += v * v;
        }
        b.append(',')
            .append(Math.round(sum * 100) / 100.0)
            .append(',')
            .append(Math.round(squares * 100) / 100.0);
      }
      b.append(']');
    }
    b.append('}');
    return false;
  }

  /** A partial update: mostly an event, sometimes attribute changes. */
  public byte[] update(SplittableRandom r) {
    int kind = r.nextInt(10);
    String body;
    if (kind < 5) {
      body =
          "{\"events\":[{\"name\":\"view\"}],\"set\":{\"last_seen\":\"" + iso(nowMillis) + "\"}}";
    } else if (kind < 7) {
      body =
          "{\"events\":[{\"name\":\"purchase\",\"value\":"
              + (1 + r.nextInt(200))
              + "}],\"incr\":{\"visits\":1}}";
    } else if (kind < 8) {
      body =
          "{\"set\":{\"country\":\""
              + pick(r, COUNTRIES)
              + "\",\"age\":"
              + (16 + r.nextInt(60))
              + "}}";
    } else if (kind < 9) {
      body =
          "{\"add\":{\"tags\":[\""
              + pick(r, TAGS)
              + "\"]},\"remove\":{\"tags\":[\""
              + pick(r, TAGS)
              + "\"]}}";
    } else {
      body =
          "{\"set\":{\"newsletter\":" + r.nextBoolean() + ",\"cart_items\":" + r.nextInt(10) + "}}";
    }
    return body.getBytes(StandardCharsets.UTF_8);
  }

  /** 50 segments of mixed shape: name, expression. */
  public static List<String[]> segments() {
    List<String[]> s = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      s.add(new String[] {"country_" + COUNTRIES[i], "country == \"" + COUNTRIES[i] + "\""});
    }
    for (int i = 0; i < 5; i++) {
      s.add(new String[] {"age_" + i, "age >= " + (18 + 10 * i) + " and age < " + (28 + 10 * i)});
    }
    for (int i = 0; i < 10; i++) {
      s.add(new String[] {"tag_" + TAGS[i].replace('-', '_'), "\"" + TAGS[i] + "\" in tags"});
    }
    for (int i = 0; i < 5; i++) {
      s.add(new String[] {"buyers_" + i, "count(purchase, 30d) >= " + (1 + i)});
    }
    for (int i = 0; i < 3; i++) {
      s.add(new String[] {"spenders_" + i, "sum(purchase, 30d) > " + (100 * (i + 1))});
    }
    s.add(new String[] {"active_7d", "last_seen > now() - 7d"});
    s.add(new String[] {"active_1d", "last_seen > now() - 1d"});
    s.add(new String[] {"dormant", "last_seen < now() - 21d"});
    s.add(new String[] {"engaged_viewers", "decayed(view, 7d) > 3"});
    s.add(new String[] {"hot_viewers", "count(view, 7d) >= 5"});
    s.add(new String[] {"dk_vip", "country == \"DK\" and \"vip\" in tags"});
    s.add(new String[] {"nordic", "country in [\"DK\", \"SE\", \"NO\"]"});
    s.add(new String[] {"young_mobile", "age < 25 and device != \"web\""});
    s.add(new String[] {"pro_plans", "plan == \"pro\" or plan == \"plus\""});
    s.add(new String[] {"newsletter_buyers", "newsletter and count(purchase, 30d) >= 1"});
    s.add(new String[] {"cart_abandoners", "cart_items > 3 and count(purchase, 7d) == 0"});
    s.add(new String[] {"high_score", "score > 90.0"});
    s.add(new String[] {"has_region", "exists(region)"});
    s.add(new String[] {"veterans", "signup < now() - 365d"});
    s.add(new String[] {"not_trial", "not (\"trial\" in tags)"});
    s.add(new String[] {"big_spend_attr", "spend > 800.0"});
    s.add(new String[] {"visitors_100", "visits >= 100"});
    return s;
  }

  private static String pick(SplittableRandom r, String[] values) {
    return values[r.nextInt(values.length)];
  }

  static String iso(long millis) {
    return java.time.Instant.ofEpochMilli(millis - millis % 1000).toString();
  }
}

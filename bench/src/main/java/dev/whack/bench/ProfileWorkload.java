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

  /**
   * The 20 preference dimensions of a vehicle marketplace (the reference): 14 categorical
   * (name, property, number of values in the catalogue) and 6 numeric (name, property, bounds).
   */
  static final Object[][] DIMENSIONS = {
    {"colour", 12},
    {"make", 40},
    {"model", 200},
    {"body", 8},
    {"fuel", 5},
    {"gearbox", 3},
    {"drive", 4},
    {"seller", 3},
    {"region", 12},
    {"doors", 4},
    {"seats", 6},
    {"interior", 6},
    {"condition", 3},
    {"warranty", 2},
    {"price", new int[] {5000, 10000, 15000, 20000, 25000, 30000, 40000, 50000, 75000, 100000}},
    {"mileage", new int[] {10000, 25000, 50000, 75000, 100000, 150000, 200000}},
    {"year", new int[] {2005, 2010, 2014, 2016, 2018, 2020, 2022, 2024}},
    {"power", new int[] {75, 100, 150, 200, 300, 400}},
    {"engine", new int[] {1000, 1400, 1800, 2200, 3000}},
    {"co2", new int[] {0, 50, 100, 150, 200}},
  };

  /** Each dimension's definition (dimdef name, JSON), every one counting {@code view} events. */
  static List<String[]> dimensionDefinitions() {
    List<String[]> out = new ArrayList<>();
    for (Object[] d : DIMENSIONS) {
      String name = (String) d[0];
      String spec =
          d[1] instanceof Integer values
              ? "{\"property\":\""
                  + name
                  + "\",\"event\":\"view\",\"max_categories\":"
                  + Math.max(values, 16)
                  + "}"
              : "{\"property\":\""
                  + name
                  + "\",\"event\":\"view\",\"bounds\":"
                  + java.util.Arrays.toString((int[]) d[1]).replace(" ", "")
                  + "}";
      out.add(new String[] {name, spec});
    }
    return out;
  }

  /**
   * One viewed car's 20 properties, as JSON members, drawn around a profile's tastes: each
   * dimension has a favourite value ({@code taste}) that a view shows with probability 0.6, else
   * any value of the catalogue.
   */
  private static void car(StringBuilder b, SplittableRandom r, int[] taste) {
    for (int i = 0; i < DIMENSIONS.length; i++) {
      Object[] d = DIMENSIONS[i];
      b.append(i == 0 ? "\"" : ",\"").append(d[0]).append("\":");
      if (d[1] instanceof Integer values) {
        int v = r.nextInt(10) < 6 ? taste[i] : r.nextInt(values);
        b.append('"').append(d[0]).append('-').append(v).append('"');
      } else {
        int[] bounds = (int[]) d[1];
        int bucket = r.nextInt(10) < 6 ? taste[i] : r.nextInt(bounds.length + 1);
        int low = bucket == 0 ? bounds[0] - 1 : bounds[bucket - 1];
        b.append(low + (bucket == bounds.length ? 1 : 0));
      }
    }
  }

  private static int[] taste(SplittableRandom r) {
    int[] taste = new int[DIMENSIONS.length];
    for (int i = 0; i < taste.length; i++) {
      Object[] d = DIMENSIONS[i];
      taste[i] = r.nextInt(d[1] instanceof Integer v ? v : ((int[]) d[1]).length + 1);
    }
    return taste;
  }

  /**
   * A whole profile as {@link #profile} makes it plus 60 days of preference history, sparse as real
   * users are: 1 to 4 active days (uniform over the last 60), 1 to 5 views a day, each view counted
   * in the 20 {@link #DIMENSIONS}; the {@code view} series agrees with the counts.
   */
  public byte[] profileWithPreferences(SplittableRandom r) {
    byte[] attributes = profile(r);
    int[] taste = taste(r);
    long today = Math.floorDiv(nowMillis, DAY_MILLIS);
    int activeDays = 1 + r.nextInt(4);
    java.util.TreeMap<Long, Integer> views = new java.util.TreeMap<>();
    while (views.size() < activeDays) {
      views.put(today - r.nextInt(60), 1 + r.nextInt(5));
    }
    // dimension -> day -> category -> count
    List<java.util.TreeMap<Long, java.util.TreeMap<String, Integer>>> counts = new ArrayList<>();
    for (int i = 0; i < DIMENSIONS.length; i++) {
      counts.add(new java.util.TreeMap<>());
    }
    for (var day : views.entrySet()) {
      for (int v = 0; v < day.getValue(); v++) {
        for (int i = 0; i < DIMENSIONS.length; i++) {
          Object[] d = DIMENSIONS[i];
          String category;
          if (d[1] instanceof Integer values) {
            category = d[0] + "-" + (r.nextInt(10) < 6 ? taste[i] : r.nextInt(values));
          } else {
            int[] bounds = (int[]) d[1];
            int bucket = r.nextInt(10) < 6 ? taste[i] : r.nextInt(bounds.length + 1);
            category =
                (bucket == 0 ? "" : Integer.toString(bounds[bucket - 1]))
                    + ".."
                    + (bucket == bounds.length ? "" : Integer.toString(bounds[bucket]));
          }
          counts
              .get(i)
              .computeIfAbsent(day.getKey(), k -> new java.util.TreeMap<>())
              .merge(category, 1, Integer::sum);
        }
      }
    }
    StringBuilder b = new StringBuilder(attributes.length + 3000);
    b.append(new String(attributes, 0, attributes.length - 1, StandardCharsets.UTF_8));
    b.append(",\"$events\":{\"view\":{");
    boolean first = true;
    for (var day : views.entrySet()) {
      b.append(first ? "\"" : ",\"").append(java.time.LocalDate.ofEpochDay(day.getKey()));
      b.append("\":[").append(day.getValue()).append(']');
      first = false;
    }
    b.append("}},\"$dimensions\":{");
    for (int i = 0; i < DIMENSIONS.length; i++) {
      b.append(i == 0 ? "\"" : ",\"").append(DIMENSIONS[i][0]).append("\":{");
      boolean firstDay = true;
      for (var day : counts.get(i).entrySet()) {
        b.append(firstDay ? "\"" : ",\"").append(java.time.LocalDate.ofEpochDay(day.getKey()));
        b.append("\":{");
        boolean firstCategory = true;
        for (var c : day.getValue().entrySet()) {
          b.append(firstCategory ? "\"" : ",\"").append(c.getKey()).append("\":");
          b.append(c.getValue());
          firstCategory = false;
        }
        b.append('}');
        firstDay = false;
      }
      b.append('}');
    }
    b.append("}}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A preference update: one viewed car with its 20 properties, for a random taste. */
  public byte[] preferenceUpdate(SplittableRandom r) {
    StringBuilder b = new StringBuilder(640);
    b.append("{\"events\":[{\"name\":\"view\",\"properties\":{");
    car(b, r, taste(r));
    b.append("}}]}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
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

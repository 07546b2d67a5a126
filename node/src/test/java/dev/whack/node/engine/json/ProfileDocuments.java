package dev.whack.node.engine.json;

import static dev.whack.node.engine.json.UpdateDocuments.goodName;
import static dev.whack.node.engine.json.UpdateDocuments.member;
import static dev.whack.node.engine.json.UpdateDocuments.name;
import static dev.whack.node.engine.json.UpdateDocuments.number;
import static dev.whack.node.engine.json.UpdateDocuments.object;
import static dev.whack.node.engine.json.UpdateDocuments.pick;
import static dev.whack.node.engine.json.UpdateDocuments.quote;
import static dev.whack.node.engine.json.UpdateDocuments.value;
import static dev.whack.node.engine.json.UpdateDocuments.ws;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Random Profile JSON for the reader tests, in the spelling variety of {@link UpdateDocuments}
 * (whitespace, escapes, non-ASCII, every number form, member order): attributes of every value
 * kind, {@code $events}, {@code $producers} and {@code $dimensions} (counts and distinct days);
 * {@code wild} mixes in names, values, days, buckets and members the reference rejects (or accepts
 * only in a form the fast reader declines). Days are around 2026-11-20, the tests' clock.
 */
final class ProfileDocuments {
  private ProfileDocuments() {}

  private static final String[] EVENTS = {"view", "buy", "é", "a\"b", "😀"};

  private static final String[] WILD_DAYS = {
    "2026-11-25",
    "2026-02-30",
    "2026-1-1",
    "2026-11-20T10:00:00Z",
    "",
    "20261120",
    "2026-11-2x",
    "1900-01-01",
    "9999-12-31"
  };

  private static final String[] WILD_BUCKETS = {
    "[]", "[1,2]", "[-1]", "[1.5]", "[1, 1e400, 1]", "[1,2,3,4]", "[99999999999999999999]",
    "[1, 12345678901234567890, 1]", "[1, -0, 0]", "[null]", "[\"1\"]", "{}", "1", "[1,]"
  };

  /** A random Profile JSON document. */
  static String profile(Random r, boolean wild) {
    List<String> members = new ArrayList<>();
    List<String> used = new ArrayList<>();
    int attributes = r.nextInt(10) == 0 ? 20 + r.nextInt(30) : r.nextInt(8);
    for (int i = 0; i < attributes; i++) {
      String n = wild ? name(r) : i < 8 ? goodName(r) : "attr" + i;
      if (!wild && used.contains(n)) {
        continue;
      }
      used.add(n);
      members.add(member(r, n, r.nextInt(12) == 0 ? bigSet(r) : value(r, wild)));
    }
    if (r.nextInt(3) == 0) {
      members.add(member(r, "$events", events(r, wild)));
    }
    if (r.nextInt(4) == 0) {
      members.add(member(r, "$producers", producers(r, wild)));
    }
    if (r.nextInt(3) == 0) {
      members.add(member(r, "$dimensions", dimensions(r, wild)));
    }
    if (wild && r.nextInt(10) == 0) {
      members.add(
          pick(
              r,
              new String[] {
                "\"$events\":{}",
                "\"$producers\":{}",
                "\"$x\":1",
                "\"$events\":[]",
                "\"$producers\":null",
                "\"$string\":\"a\"",
                "\"a\":{\"$string\":\"x\",\"b\":1}",
                "\"a\":{}",
                "\"a\":[\"x\",1]",
                "\"a\":null",
                "\"a\":{\"b\":{}}",
                "\"$dimensions\":{}",
                "\"$dimensions\":[]",
                "\"$dimensions\":null",
                "\"$dimensions\":{\"colour\":{\"2026-11-20\":{\"red\":1}}}"
              }));
    }
    Collections.shuffle(members, r);
    return ws(r) + object(r, members) + ws(r);
  }

  /**
   * The dimensions the tests' writers define ({@link #DIMENSION_DEFINITIONS}): categorical {@code
   * colour} (at most 4 categories, so a full one counts in {@code other}), numeric {@code price}
   * and distinct {@code products} (precision 6); the others are not defined, so a writer drops
   * their days.
   */
  static final String[][] DIMENSION_DEFINITIONS = {
    {"colour", "{\"property\":\"colour\",\"max_categories\":4}"},
    {"price", "{\"property\":\"price\",\"bounds\":[5000,10000]}"},
    {"products", "{\"property\":\"product\",\"kind\":\"distinct\",\"precision\":6}"},
  };

  private static final String[] COUNTED = {"colour", "price", "size", "é", "a\"b", "😀"};

  private static final String[] CATEGORIES = {
    "red",
    "blue",
    "green",
    "black",
    "white",
    "é",
    "😀",
    "a\"b",
    "..5000",
    "5000..10000",
    "10000..",
    "",
    "other",
    "x y"
  };

  private static final String[] WILD_DIMENSIONS = {
    "[]",
    "1",
    "null",
    "{\"2026-11-20\":[]}",
    "{\"2026-11-20\":1}",
    "{\"2026-11-20\":null}",
    "{\"2026-11-20\":{\"a\":{}}}",
    "{\"x\":{}}"
  };

  /**
   * Days of a dimension in odd shapes: most the reference rejects or a writer refuses, a few it
   * accepts (a category starting with '$', a lone {@code "$distinct"}, base64 without padding).
   */
  private static final String[] WILD_DIMENSION_DAYS = {
    "[]",
    "1",
    "\"x\"",
    "null",
    "{\"a\":{}}",
    "{\"a\":[1]}",
    "{\"a\":\"1\"}",
    "{\"a\":1,\"a\":1}",
    "{\"a\":1,\"\\u0061\":2}",
    "{\"$distinct\":1,\"$distinct\":1}",
    "{\"$sketch\":\"BAAAAAE=\",\"$sketch\":\"BAAAAAE=\"}",
    "{\"$distinct\":1.5}",
    "{\"$distinct\":-1}",
    "{\"$distinct\":99999999999999999999}",
    "{\"$distinct\":\"1\"}",
    "{\"$distinct\":2}",
    "{\"$other\":1}",
    "{\"$Sketch\":\"BAAAAAE=\"}",
    "{\"$sketch\":1}",
    "{\"$sketch\":null}",
    "{\"$sketch\":[]}",
    "{\"$sketch\":\"\"}",
    "{\"$sketch\":\"@@@@\"}",
    "{\"$sketch\":\"Q\"}",
    "{\"$sketch\":\"QQ\"}",
    "{\"$sketch\":\"QQ=\"}",
    "{\"$sketch\":\"QQ==\"}",
    "{\"$sketch\":\"QQ==x\"}",
    "{\"$sketch\":\"QQ==QQ==\"}",
    "{\"$sketch\":\"=\"}",
    "{\"$sketch\":\"QUJD\\nRA==\"}",
    "{\"$sketch\":\"QUJD RA==\"}",
    "{\"$sketch\":\"BAAAAAE\"}",
    "{\"$sketch\":\"BAAAAAF=\"}",
    "{\"$sketch\":\"BAAAAAE=\",\"a\":1}",
    "{\"$sketch\":\"BAAAAAE=\",\"$distinct\":1}",
    "{\"$sketch\":\"-_-_\"}",
    "{\"$sketch\":\"é\"}",
    "{\"$sketch\":\"\\u0042AAAAAE=\"}"
  };

  /**
   * A profile whose {@code "$dimensions"} is the point: at most one plain attribute beside it, and
   * now and then (wild) a second {@code "$dimensions"}.
   */
  static String dimensionsProfile(Random r, boolean wild) {
    List<String> members = new ArrayList<>();
    if (r.nextBoolean()) {
      members.add(member(r, goodName(r), value(r, false)));
    }
    members.add(member(r, "$dimensions", dimensions(r, wild)));
    if (wild && r.nextInt(10) == 0) {
      members.add(member(r, "$dimensions", dimensions(r, false)));
    }
    Collections.shuffle(members, r);
    return ws(r) + object(r, members) + ws(r);
  }

  /** A random {@code "$dimensions"} object. */
  static String dimensions(Random r, boolean wild) {
    if (wild && r.nextInt(20) == 0) {
      return pick(r, new String[] {"[]", "null", "1", "\"x\"", "{\"a\":1}"});
    }
    List<String> members = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      boolean distinct = r.nextInt(3) == 0;
      String dimension =
          wild && r.nextInt(8) == 0
              ? pick(r, UpdateDocuments.NAMES)
              : distinct ? pick(r, new String[] {"products", "seen", "é"}) : pick(r, COUNTED);
      if (!wild && used.contains(dimension)) {
        continue;
      }
      used.add(dimension);
      String days =
          wild && r.nextInt(12) == 0
              ? pick(r, WILD_DIMENSIONS)
              : dimensionDays(r, wild, distinct || dimension.equals("products"));
      members.add(member(r, dimension, days));
    }
    return object(r, members);
  }

  private static String dimensionDays(Random r, boolean wild, boolean distinct) {
    List<String> days = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      int day = 1 + r.nextInt(21); // up to 2026-11-21, a day ahead of the clock
      String d =
          wild && r.nextInt(10) == 0 ? pick(r, WILD_DAYS) : String.format("2026-11-%02d", day);
      if (!wild && used.contains(day)) {
        continue;
      }
      used.add(day);
      String value;
      if (wild && r.nextInt(6) == 0) {
        value = pick(r, WILD_DIMENSION_DAYS);
      } else if (distinct != (wild && r.nextInt(12) == 0)) {
        value = distinctDay(r, wild);
      } else {
        value = counts(r, wild);
      }
      days.add(member(r, d, value));
    }
    return object(r, days);
  }

  private static String counts(Random r, boolean wild) {
    List<String> counts = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      String category = pick(r, CATEGORIES);
      if (!wild && used.contains(category)) {
        continue;
      }
      used.add(category);
      String count =
          wild && r.nextInt(6) == 0
              ? number(r, true)
              : Integer.toString(
                  r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 9 : 1000));
      counts.add(member(r, category, count));
    }
    return object(r, counts);
  }

  /**
   * A distinct day, {@code "$distinct"} and {@code "$sketch"} in either order (or one alone): an
   * exact set of 1 to 16 hashes or a sketch of precision 6 (wild: of another precision, or hashes
   * out of order), base64 with or without padding.
   */
  private static String distinctDay(Random r, boolean wild) {
    byte[] body;
    if (r.nextInt(4) == 0) {
      int p = wild && r.nextInt(3) == 0 ? 7 : 6;
      com.dynatrace.hash4j.distinctcount.UltraLogLog sketch =
          com.dynatrace.hash4j.distinctcount.UltraLogLog.create(p);
      for (int i = 20 + r.nextInt(100); i > 0; i--) {
        sketch.add(r.nextLong());
      }
      byte[] registers = sketch.getState();
      body = new byte[1 + registers.length];
      body[0] = (byte) (2 * p + 1);
      System.arraycopy(registers, 0, body, 1, registers.length);
    } else {
      int n = 1 + r.nextInt(16);
      java.util.TreeSet<Integer> hashes = new java.util.TreeSet<>(Integer::compareUnsigned);
      while (hashes.size() < n) {
        hashes.add(r.nextInt());
      }
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1 + 4 * n).put((byte) (2 * n));
      List<Integer> order = new ArrayList<>(hashes);
      if (wild && n > 1 && r.nextInt(3) == 0) {
        Collections.reverse(order);
      }
      order.forEach(b::putInt);
      body = b.array();
    }
    java.util.Base64.Encoder e = java.util.Base64.getEncoder();
    String base64 = (r.nextBoolean() ? e : e.withoutPadding()).encodeToString(body);
    List<String> members = new ArrayList<>();
    if (r.nextInt(4) != 0) {
      members.add(member(r, "$distinct", wild ? number(r, true) : Integer.toString(r.nextInt(99))));
    }
    if (r.nextInt(8) != 0) {
      members.add(member(r, "$sketch", quote(r, base64)));
    }
    Collections.shuffle(members, r);
    return object(r, members);
  }

  /**
   * A profile like the bench's preloaded ones (bench's {@code
   * ProfileWorkload.profileWithPreferences}): attributes, a {@code view} series and the counts of
   * its views in the 20 dimensions of {@link #PREFERENCE_DEFINITIONS} on 1 to 4 of the last 60
   * days, a few categories each.
   */
  static String preferenceProfile(Random r) {
    java.util.TreeSet<Integer> active = new java.util.TreeSet<>();
    for (int n = 1 + r.nextInt(4); active.size() < n; ) {
      active.add(20_777 - r.nextInt(60)); // 2026-11-20 and the 59 days before
    }
    StringBuilder b = new StringBuilder("{\"country\":\"DK\",\"age\":31,\"vip\":true,");
    b.append("\"last_seen\":\"2026-11-20T10:00:00Z\",\"tags\":[\"a\",\"b\"],");
    b.append("\"$events\":{\"view\":{");
    String sep = "";
    for (int day : active) {
      b.append(sep).append('"').append(java.time.LocalDate.ofEpochDay(day)).append("\":[");
      b.append(1 + r.nextInt(5)).append(']');
      sep = ",";
    }
    b.append("}},\"$dimensions\":{");
    for (int i = 0; i < PREFERENCES.length; i++) {
      b.append(i == 0 ? "\"" : ",\"").append(PREFERENCES[i][0]).append("\":{");
      sep = "";
      for (int day : active) {
        b.append(sep).append('"').append(java.time.LocalDate.ofEpochDay(day)).append("\":{");
        java.util.TreeMap<String, Integer> counts = new java.util.TreeMap<>();
        for (int v = 1 + r.nextInt(5); v > 0; v--) {
          counts.merge(preference(r, i), 1, Integer::sum);
        }
        String csep = "";
        for (var c : counts.entrySet()) {
          b.append(csep).append('"').append(c.getKey()).append("\":").append(c.getValue());
          csep = ",";
        }
        b.append('}');
        sep = ",";
      }
      b.append('}');
    }
    return b.append("}}").toString();
  }

  /** The bench's 20 dimensions: a number of values (categorical) or bucket bounds (numeric). */
  private static final Object[][] PREFERENCES = {
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

  /** The definitions of {@link #PREFERENCES} (name, JSON), as the bench defines them. */
  static final String[][] PREFERENCE_DEFINITIONS = preferenceDefinitions();

  private static String[][] preferenceDefinitions() {
    String[][] out = new String[PREFERENCES.length][];
    for (int i = 0; i < PREFERENCES.length; i++) {
      Object[] d = PREFERENCES[i];
      out[i] =
          new String[] {
            (String) d[0],
            d[1] instanceof Integer values
                ? "{\"property\":\"" + d[0] + "\",\"max_categories\":" + Math.max(values, 16) + "}"
                : "{\"property\":\""
                    + d[0]
                    + "\",\"bounds\":"
                    + java.util.Arrays.toString((int[]) d[1]).replace(" ", "")
                    + "}"
          };
    }
    return out;
  }

  /** A category of dimension {@code i}: a value, or a numeric bucket's label. */
  private static String preference(Random r, int i) {
    Object[] d = PREFERENCES[i];
    if (d[1] instanceof Integer values) {
      return d[0] + "-" + r.nextInt(values);
    }
    int[] bounds = (int[]) d[1];
    int bucket = r.nextInt(bounds.length + 1);
    return (bucket == 0 ? "" : Integer.toString(bounds[bucket - 1]))
        + ".."
        + (bucket == bounds.length ? "" : Integer.toString(bounds[bucket]));
  }

  /** A set of 10 to 30 elements with repeats (the writer's hashed de-duplication). */
  private static String bigSet(Random r) {
    List<String> items = new ArrayList<>();
    int n = 10 + r.nextInt(20);
    for (int i = 0; i < n; i++) {
      items.add(quote(r, "e" + r.nextInt(n)));
    }
    return "[" + String.join(",", items) + "]";
  }

  private static String events(Random r, boolean wild) {
    List<String> series = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      String event = wild && r.nextInt(8) == 0 ? pick(r, UpdateDocuments.NAMES) : pick(r, EVENTS);
      if (!wild && used.contains(event)) {
        continue;
      }
      used.add(event);
      series.add(member(r, event, series(r, wild)));
    }
    return object(r, series);
  }

  private static String series(Random r, boolean wild) {
    List<String> buckets = new ArrayList<>();
    List<Integer> used = new ArrayList<>();
    for (int i = r.nextInt(5); i > 0; i--) {
      int day = 1 + r.nextInt(21); // up to 2026-11-21, a day ahead of the clock
      String d =
          wild && r.nextInt(10) == 0 ? pick(r, WILD_DAYS) : String.format("2026-11-%02d", day);
      if (!wild && used.contains(day)) {
        continue;
      }
      used.add(day);
      buckets.add(member(r, d, bucket(r, wild)));
    }
    return object(r, buckets);
  }

  private static String bucket(Random r, boolean wild) {
    if (wild && r.nextInt(6) == 0) {
      return pick(r, WILD_BUCKETS);
    }
    String count = wild && r.nextInt(8) == 0 ? number(r, true) : Integer.toString(1 + r.nextInt(9));
    if (r.nextBoolean()) {
      return "[" + ws(r) + count + ws(r) + "]";
    }
    return "["
        + ws(r)
        + count
        + ws(r)
        + ","
        + ws(r)
        + number(r, wild)
        + ","
        + ws(r)
        + number(r, wild)
        + ws(r)
        + "]";
  }

  private static String producers(Random r, boolean wild) {
    List<String> marks = new ArrayList<>();
    List<String> used = new ArrayList<>();
    for (int i = r.nextInt(3); i > 0; i--) {
      String producer =
          wild && r.nextInt(8) == 0 ? pick(r, UpdateDocuments.NAMES) : "shop-" + r.nextInt(3);
      if (!wild && used.contains(producer)) {
        continue;
      }
      used.add(producer);
      String seq = wild && r.nextInt(4) == 0 ? number(r, true) : Integer.toString(r.nextInt(1000));
      marks.add(member(r, producer, seq));
    }
    return object(r, marks);
  }
}

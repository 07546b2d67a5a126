package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.profile.Timestamps;
import java.util.Random;

/** Random profiles, updates and segment expressions over a small key and value space. */
final class EngineWorkload {
  static final String[] SEGMENTS = {
    "country == \"DK\"",
    "country in [\"SE\", \"NO\"] and age >= 30",
    "\"vip\" in tags",
    "\"vip\" not in tags or not exists(tags)",
    "age > 40 or score < 1.5",
    "vip",
    "count(buy, 2d) >= 2",
    "sum(buy, 7d) > 50.0 and country != \"DK\"",
    "avg(view, 3d) >= 2.0",
    "decayed(buy, 1d) > 1.2",
    "last_seen > now() - 1d",
    "last_seen <= now() - 2d and exists(country)",
    "not (country == \"DK\") and (count(view, 1d) == 0 or vip == false)",
    "trial_ends >= now() + 12h",
    "variance(buy, 7d) > 10.0",
    "avg(buy, 2d) >= 40.0",
    "avg(view, 2d) < 30.0 and count(view, 3d) >= 2",
    "2 <= count(buy, 3d)",
    "sum(view, 2d) <= 60.0",
    // min and max of valued events, first and last event times (issue 18's computed traits)
    "max(buy, 3d) >= 80.0",
    "min(view, 2d) < 20.0 or max(view, 7d) > 95.0",
    "min(buy, 7d) >= 10.0 and count(buy, 7d) >= 2",
    "first_time(buy) < now() - 1d and exists(country)",
    "last_time(view) > now() - 6h",
    "not (last_time(buy) >= now() - 2d) and max(buy, 7d) < 50.0",
    "first_time(view) >= 2026-11-20T12:00:00Z or last_time(buy) <= now() - 30h",
  };

  /**
   * Expressions over the keys and over other segments: {@code s<i>} are {@link #SEGMENTS}, {@code
   * t<i>} these, each reading only lower ones in the order given (so defining them in order works;
   * redefining them at random may make a cycle, which is refused).
   */
  static final String[] SEGMENTS_OF_SEGMENTS = {
    "in_segment(\"s0\") and age >= 30",
    "in_segment(\"s6\") or in_segment(\"s10\")",
    "not in_segment(\"s2\") and bucket(4) < 2",
    "bucket(3, \"holdout\") == 1 or in_segment(\"t0\")",
    "in_segment(\"t1\") and not in_segment(\"t2\") and country != \"SE\"",
    "in_segment(`s13`) or in_segment(\"t3\") and vip",
    // time in segment: entered(...) and time_in(...), over segments that follow the clock too
    "time_in(s10) > 3h and exists(country)",
    "entered(\"s0\") < now() - 1d or time_in(t1) <= 2h",
    "time_in(t2) >= 5h and not (entered(s3) > now() - 30m)",
    "entered(s6) >= 2026-11-21 or time_in(t6) == 0s",
  };

  /** The dimensions {@link #DIMENSION_SEGMENTS} read ({@link #defineDimensions}). */
  static final String[][] DIMENSIONS = {
    {"color", "{\"property\":\"color\",\"event\":\"view\",\"max_categories\":3}"},
    {"price", "{\"property\":\"price\",\"bounds\":[100,200]}"},
    // at precision 6 a day past 16 products is a sketch, which a burst of views reaches
    {
      "products",
      "{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\",\"precision\":6}"
    },
  };

  /** Expressions over the dimensions ({@code u<i>}); they follow the clock as windows do. */
  static final String[] DIMENSION_SEGMENTS = {
    "share(color, \"red\", 2d) > 0.5",
    "top(color, 3d) == \"blue\"",
    "share(price, 150, 7d, 1d) >= 0.3 and exists(country)",
    "top(color, 2d, 1d) != \"other\" or share(`price`, \"..100\", 1d) == 1.0",
    "share(color, \"black\", 7d) > 0.0",
  };

  /**
   * Expressions over the distinct dimension {@link #defineDimensions} defines ({@code d<i>}): at
   * precision 6 a day past 16 products is a sketch, which a burst of views reaches.
   */
  static final String[] DISTINCT_SEGMENTS = {
    "distinct(view.product, 2d) >= 3",
    "distinct(products, 3d) < 5 and count(view, 3d) >= 1",
    "distinct(view.product, 1d) > 12 or distinct(products, 7d) == 1",
    "4 <= distinct(products, 2d) and country != \"SE\"",
  };

  private static final String[] COLORS = {"red", "blue", "green", "black", "white"};

  static void defineDimensions(KeyedEngine engine) {
    for (String[] d : DIMENSIONS) {
      engine.engine().defineDimension(d[0], d[1].getBytes(UTF_8));
    }
  }

  private static final String[] COUNTRIES = {"DK", "SE", "NO"};
  private static final String[] TAGS = {"vip", "trial", "news"};

  private EngineWorkload() {}

  static String key(Random r, int keys) {
    return "user:" + r.nextInt(keys);
  }

  static String time(long millis) {
    return Timestamps.format(millis);
  }

  static String profile(Random r, long now) {
    StringBuilder sb = new StringBuilder("{");
    String sep = "";
    if (r.nextBoolean()) {
      sb.append("\"country\":\"").append(COUNTRIES[r.nextInt(3)]).append('"');
      sep = ",";
    }
    if (r.nextBoolean()) {
      sb.append(sep).append("\"age\":").append(20 + r.nextInt(40));
      sep = ",";
    }
    if (r.nextBoolean()) {
      sb.append(sep).append("\"tags\":[\"").append(TAGS[r.nextInt(3)]).append("\"]");
      sep = ",";
    }
    if (r.nextBoolean()) {
      sb.append(sep)
          .append("\"last_seen\":\"")
          .append(time(now - r.nextInt(4 * (int) (Days.MILLIS_PER_DAY / 1000)) * 1000L))
          .append('"');
      sep = ",";
    }
    if (r.nextBoolean()) {
      sb.append(sep).append("\"vip\":").append(r.nextBoolean());
      sep = ",";
    }
    if (r.nextInt(4) == 0) {
      sb.append(sep)
          .append("\"$dimensions\":{\"color\":{\"")
          .append(java.time.LocalDate.ofEpochDay(Days.dayOf(now) - r.nextInt(3)))
          .append("\":{\"")
          .append(COLORS[r.nextInt(COLORS.length)])
          .append("\":")
          .append(1 + r.nextInt(3))
          .append("}}}");
      sep = ",";
    }
    if (r.nextInt(4) == 0) {
      sb.append(sep)
          .append("\"$events\":{\"buy\":{\"")
          .append(java.time.LocalDate.ofEpochDay(Days.dayOf(now) - r.nextInt(3)))
          .append("\":[")
          .append(1 + r.nextInt(3))
          .append(
              switch (r.nextInt(3)) {
                case 0 -> ",30.0,900.0]}}"; // as written before min and max: unknown above count 1
                case 1 -> ",30.0,900.0,5.0,25.0]}}";
                default ->
                    "]},\"view\":{\"$first\":\""
                        + time(now - r.nextInt(5 * 86_400) * 1000L)
                        + "\",\"$last\":\""
                        + time(now)
                        + "\",\""
                        + java.time.LocalDate.ofEpochDay(Days.dayOf(now))
                        + "\":[2,60.5,1830.25,0.5,60.0]}}";
              });
    }
    return sb.append('}').toString();
  }

  static String update(Random r, long now) {
    StringBuilder sb = new StringBuilder("{");
    switch (r.nextInt(8)) {
      case 0 -> sb.append("\"set\":{\"country\":\"").append(COUNTRIES[r.nextInt(3)]).append("\"}");
      case 1 -> sb.append("\"incr\":{\"age\":").append(r.nextInt(7) - 3).append('}');
      case 2 ->
          sb.append("\"set\":{\"score\":")
              .append(r.nextInt(30) / 10.0)
              .append(",\"vip\":")
              .append(r.nextBoolean())
              .append('}');
      case 3 ->
          sb.append(r.nextBoolean() ? "\"add\"" : "\"remove\"")
              .append(":{\"tags\":[\"")
              .append(TAGS[r.nextInt(3)])
              .append("\"]}");
      case 4 ->
          sb.append("\"unset\":[\"").append(r.nextBoolean() ? "country" : "tags").append("\"]");
      case 5 ->
          sb.append("\"set\":{\"last_seen\":\"")
              .append(time(now - r.nextInt(3 * 86_400) * 1000L))
              .append("\",\"trial_ends\":\"")
              .append(time(now + r.nextInt(2 * 86_400) * 1000L))
              .append("\"}");
      default -> {
        sb.append("\"events\":[");
        int n = r.nextInt(8) == 0 ? 20 : 1 + r.nextInt(3); // sometimes a burst of views
        for (int i = 0; i < n; i++) {
          sb.append(i == 0 ? "" : ",")
              .append("{\"name\":\"")
              .append(r.nextBoolean() ? "buy" : "view")
              .append('"');
          if (r.nextBoolean()) {
            // a value of 0 is a value (a min of 0), unlike an event without one
            sb.append(",\"value\":").append(r.nextInt(8) == 0 ? "0" : r.nextInt(100) + ".5");
          }
          if (r.nextBoolean()) {
            sb.append(",\"time\":\"").append(time(now - r.nextInt(3 * 86_400) * 1000L)).append('"');
          }
          if (r.nextInt(3) > 0) {
            sb.append(",\"properties\":{\"color\":\"")
                .append(COLORS[r.nextInt(COLORS.length)])
                .append("\",\"price\":")
                .append(r.nextInt(300))
                .append(",\"product\":\"p")
                .append(r.nextInt(30))
                .append("\"}");
          }
          sb.append('}');
        }
        sb.append(']');
      }
    }
    return sb.append('}').toString();
  }

  static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}

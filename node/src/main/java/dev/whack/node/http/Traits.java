package dev.whack.node.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.profile.Timestamps;
import dev.whack.proto.DayBucket;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Profile;

/**
 * {@code GET /profiles/{key}?window=Nd}: the profile's JSON with a {@code "$traits"} member, per
 * event series its count, sum, avg, min and max over the last N UTC days (today included, as {@code
 * count(e, Nd)} and the others read them in the segment language) and its first and last event time
 * (docs/http.md).
 *
 * <p>Computed from the Profile JSON the read produced, which is what a forwarded read brings back
 * from the key's owner as well, so one path serves a local and a remote key. It parses the profile
 * into a message: an opt-in read, not the plain {@code GET}'s allocation-free path.
 */
final class Traits {
  private Traits() {}

  /** {@code json} (a Profile JSON object) with {@code "$traits"} over {@code days} added last. */
  static byte[] with(byte[] json, int days, long nowMillis) {
    Profile profile = ProfileJson.parse(json);
    int today = Days.dayOf(nowMillis);
    int from = today - days + 1;
    StringBuilder out = new StringBuilder(json.length + 64 + 160 * profile.getEventsCount());
    out.append(new String(json, 0, json.length - 1, UTF_8)); // without its closing brace
    out.append(json.length > 2 ? "," : "").append("\"$traits\":{");
    String sep = "";
    for (EventSeries s : profile.getEventsList()) {
      long count = 0;
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (DayBucket d : s.getBucketsList()) {
        if (d.getDay() < from || d.getDay() > today) {
          continue;
        }
        count += d.getCount();
        sum += d.getSum();
        if (d.hasMin()) {
          min = Math.min(min, d.getMin());
          max = Math.max(max, d.getMax());
        } else {
          switch (SeriesCodec.kindWithout(d.getCount(), d.getSum(), d.getSumSquares())) {
            case SeriesCodec.NONE -> {}
            case SeriesCodec.ONE -> {
              min = Math.min(min, d.getSum());
              max = Math.max(max, d.getSum());
            }
            default -> { // not known: the window's are not either
              min = Double.NaN;
              max = Double.NaN;
            }
          }
        }
      }
      boolean minMax = min != Double.POSITIVE_INFINITY && !Double.isNaN(min);
      int n = s.getBucketsCount();
      long first = s.hasFirstMillis() ? s.getFirstMillis() : Days.startOf(s.getBuckets(0).getDay());
      long last =
          s.hasLastMillis() ? s.getLastMillis() : Days.startOf(s.getBuckets(n - 1).getDay());
      out.append(sep);
      Json.string(out, s.getName()).append(":{\"count\":").append(count);
      out.append(",\"sum\":").append(sum);
      out.append(",\"avg\":").append(count == 0 ? "null" : Double.toString(sum / count));
      out.append(",\"min\":").append(minMax ? Double.toString(min) : "null");
      out.append(",\"max\":").append(minMax ? Double.toString(max) : "null");
      out.append(",\"first\":\"").append(Timestamps.format(first));
      out.append("\",\"last\":\"").append(Timestamps.format(last)).append("\"}");
      sep = ",";
    }
    return out.append("}}").toString().getBytes(UTF_8);
  }
}

package dev.whack.node.engine.dimension;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.codec.ByteSink;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A profile's counts in a dimension, written through {@link DimensionBuilder} (adds in any order,
 * pruning) and read back by {@link Distribution} (the language's reader) and by {@link Preferences}
 * (the REST reader), against a brute-force model: a map of (day, category) to count, weighted by
 * age as documented.
 */
class DistributionProperties {
  @Property(tries = 300)
  void sharesTopAndChangeDayEqualTheModel(@ForAll long seed) {
    Random r = new Random(seed);
    int today = 20_000 + r.nextInt(100);
    int categories = 1 + r.nextInt(6);
    int oldest = today - r.nextInt(10);
    Map<Long, Long> model = new HashMap<>(); // day << 32 | category -> count
    DimensionBuilder b = new DimensionBuilder();
    for (int i = r.nextInt(30); i > 0; i--) {
      int day = today - r.nextInt(14) + (r.nextInt(8) == 0 ? 1 : 0);
      int category = r.nextInt(categories);
      long n = 1 + r.nextInt(3);
      b.add(day, category, n);
      model.merge((long) day << 32 | category, n, Long::sum);
    }
    b.prune(oldest);
    model.keySet().removeIf(k -> (int) (k >> 32) < oldest);
    ByteSink out = new ByteSink(16);
    assertEquals(b.encodedSize(), b.encode(out));
    byte[] payload = out.toArray();

    int window = 1 + r.nextInt(12);
    double halfLife = r.nextBoolean() ? 0 : 0.5 + r.nextInt(8);
    double[] weights = new double[categories];
    double total = 0;
    int change = Integer.MAX_VALUE;
    Map<Integer, Map<String, Long>> byDay = new TreeMap<>();
    for (Map.Entry<Long, Long> e : model.entrySet()) {
      int day = (int) (e.getKey() >> 32);
      int category = (int) (long) e.getKey();
      byDay.computeIfAbsent(day, d -> new TreeMap<>()).put("c" + category, e.getValue());
      if (day > today) {
        change = Math.min(change, day);
      } else if (day > today - window) {
        change = Math.min(change, day + window);
        double w = halfLife == 0 ? 1 : Math.pow(2, -(today - day) / halfLife);
        weights[category] += e.getValue() * w;
        total += e.getValue() * w;
      }
    }
    Distribution d = new Distribution().read(categories, payload, 0, today, window, halfLife);
    assertEquals(total, d.total(), 1e-9);
    assertEquals(change, d.nextChangeDay());
    int top = -1;
    for (int c = 0; c < categories; c++) {
      assertEquals(weights[c], d.weight(c), 1e-9);
      if (weights[c] > 0 && (top < 0 || weights[c] > weights[top])) {
        top = c;
      }
    }
    assertEquals(top, d.top());
    Preferences.Shares s =
        Preferences.shares(new Preferences.Counts(byDay), today, window, halfLife);
    assertEquals(total, s.total(), 1e-9);
    for (int c = 0; c < categories; c++) {
      assertEquals(
          total == 0 ? 0 : weights[c] / total, s.shares().getOrDefault("c" + c, 0.0), 1e-9);
    }
  }
}

package dev.whack.node.engine.dimension;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.codec.ByteSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Profiles' counts in several dimensions, written through {@link DimensionBuilder} (adds in any
 * order, pruning) and kept day-major ({@link DayCounts}), read back by {@link Distribution} (the
 * language's reader) and by {@link Preferences} (the REST reader), against a brute-force model: a
 * map of (day, category) to count, weighted by age as documented.
 */
class DistributionProperties {
  @Property(tries = 300)
  void sharesTopAndChangeDayEqualTheModel(@ForAll long seed) {
    Random r = new Random(seed);
    int today = 20_000 + r.nextInt(100);
    int oldest = today - r.nextInt(10);
    // several dimensions' counts kept together, day-major (DayCounts), each read back alone
    int dims = 1 + r.nextInt(5);
    int[] ids = new int[dims];
    int[] categories = new int[dims];
    List<Map<Long, Long>> models = new ArrayList<>(); // day << 32 | category -> count
    DimensionBuilder[] builders = new DimensionBuilder[dims];
    int kept = 0;
    DimensionBuilder[] keptBuilders = new DimensionBuilder[dims];
    int[] keptIds = new int[dims];
    for (int k = 0, id = r.nextInt(3); k < dims; k++, id += 1 + r.nextInt(40)) {
      ids[k] = id;
      categories[k] = 1 + r.nextInt(k == 0 ? 6 : 40);
      Map<Long, Long> model = new HashMap<>();
      DimensionBuilder b = new DimensionBuilder();
      for (int i = r.nextInt(30); i > 0; i--) {
        int day = today - r.nextInt(14) + (r.nextInt(8) == 0 ? 1 : 0);
        int category = r.nextInt(categories[k]);
        long n = 1 + r.nextInt(r.nextInt(10) == 0 ? 300 : 3);
        b.add(day, category, n);
        model.merge((long) day << 32 | category, n, Long::sum);
      }
      b.prune(oldest);
      model.keySet().removeIf(key -> (int) (key >> 32) < oldest);
      models.add(model);
      builders[k] = b;
      if (b.size() > 0) {
        keptBuilders[kept] = b;
        keptIds[kept++] = id;
      }
    }
    ByteSink out = new ByteSink(16);
    int[] scratch = new int[dims];
    assertEquals(
        DayCounts.encode(keptBuilders, keptIds, kept, scratch, null),
        DayCounts.encode(keptBuilders, keptIds, kept, scratch, out));
    byte[] counts = out.toArray();

    for (int k = 0; k < dims; k++) {
      DimensionBuilder loaded = new DimensionBuilder();
      loaded.load(counts, 0, ids[k]);
      assertEquals(builders[k].size(), loaded.size(), "pairs of dimension " + ids[k]);
      for (int i = 0; i < loaded.size(); i++) {
        assertEquals(builders[k].day(i), loaded.day(i));
        assertEquals(builders[k].category(i), loaded.category(i));
        assertEquals(builders[k].count(i), loaded.count(i));
      }
      checkDistribution(r, counts, ids[k], categories[k], models.get(k), today);
    }
    checkDistribution(r, counts, ids[dims - 1] + 1, 3, Map.of(), today); // a dimension not counted
  }

  private static void checkDistribution(
      Random r, byte[] counts, int id, int categories, Map<Long, Long> model, int today) {
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
    Distribution d = new Distribution().read(categories, counts, 0, id, today, window, halfLife);
    assertEquals(total, d.total(), 1e-9 * Math.max(1, total));
    assertEquals(change, d.nextChangeDay());
    int top = -1;
    for (int c = 0; c < categories; c++) {
      assertEquals(weights[c], d.weight(c), 1e-9 * Math.max(1, total));
      if (weights[c] > 0 && (top < 0 || weights[c] > weights[top])) {
        top = c;
      }
    }
    assertEquals(top, d.top());
    Preferences.Shares s =
        Preferences.shares(new Preferences.Counts(byDay), today, window, halfLife);
    assertEquals(total, s.total(), 1e-9 * Math.max(1, total));
    for (int c = 0; c < categories; c++) {
      assertEquals(
          total == 0 ? 0 : weights[c] / total, s.shares().getOrDefault("c" + c, 0.0), 1e-9);
    }
  }

  /**
   * An item's affinity: the product over its dimensions of (n_c + a * p_c) / (n + a), from the
   * profile's weighted counts and the population's, against a model of both.
   */
  @Property(tries = 200)
  void affinityEqualsTheDocumentedFormula(@ForAll long seed) {
    Random r = new Random(seed);
    int today = 20_000;
    int window = 1 + r.nextInt(10);
    double halfLife = r.nextBoolean() ? 0 : 1 + r.nextInt(5);
    double prior = 0.5 + r.nextInt(20);
    DimensionRegistry registry = new DimensionRegistry(60);
    Map<String, Preferences.Counts> profile = new TreeMap<>();
    Map<String, String> item = new TreeMap<>();
    double expected = 1;
    for (int dim = 0; dim < 1 + r.nextInt(3); dim++) {
      String name = "d" + dim;
      Dimension d =
          registry.define(
              DimensionSpec.parse(
                  name,
                  ("{\"property\":\"" + name + "\"}")
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      int values = 1 + r.nextInt(4);
      byte[] scratch = new byte[20];
      for (int v = 0; v < values; v++) { // learn the values in order: ids 1..values
        byte[] b = ("v" + v).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        d.categoryOf(dev.whack.node.engine.profile.ValueType.STRING, 0, b, 0, b.length, scratch);
      }
      double[] population = new double[values];
      double populationTotal = 0;
      for (int i = r.nextInt(20); i > 0; i--) {
        int day = today - r.nextInt(12);
        int v = r.nextInt(values);
        long n = 1 + r.nextInt(3);
        d.countInPopulation(day, v + 1, n);
        if (day > today - window) {
          double w = halfLife == 0 ? 1 : Math.pow(2, -(today - day) / halfLife);
          population[v] += n * w;
          populationTotal += n * w;
        }
      }
      Map<Integer, Map<String, Long>> days = new TreeMap<>();
      double own = 0;
      double ownTotal = 0;
      int asked = r.nextInt(values + 1); // values: a value never seen
      for (int i = r.nextInt(8); i > 0; i--) {
        int day = today - r.nextInt(12);
        int v = r.nextInt(values);
        long n = 1 + r.nextInt(3);
        days.computeIfAbsent(day, k -> new TreeMap<>()).merge("v" + v, n, Long::sum);
        if (day > today - window) {
          double w = halfLife == 0 ? 1 : Math.pow(2, -(today - day) / halfLife);
          ownTotal += n * w;
          own += v == asked ? n * w : 0;
        }
      }
      profile.put(name, new Preferences.Counts(days));
      item.put(name, "v" + asked);
      double p =
          populationTotal > 0
              ? (asked < values ? population[asked] / populationTotal : 0)
              : 1.0 / (values + 1);
      expected *= (own + prior * p) / (ownTotal + prior);
    }
    Preferences.Affinity a =
        Preferences.affinity(registry.current(), profile, item, today, window, halfLife, prior);
    assertEquals(expected, a.score(), 1e-9 * Math.max(1, expected));
  }
}

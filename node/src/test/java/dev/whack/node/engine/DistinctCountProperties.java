package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.dimension.DistinctCodec;
import dev.whack.node.testing.ManualClock;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code distinct(dimension, Nd)} against a brute-force model over random events and time: the
 * model keeps every profile's values per UTC day as sets; the engine's count of every profile over
 * every window must equal the model's union exactly while every day in the window kept its set (at
 * most {@link DistinctCodec#threshold} values that day), and otherwise lie within 3 standard errors
 * of the dimension's sketch ({@link DistinctCodec#relativeStandardError}: 9.8% at the precision 6
 * used here, so that days turn into sketches often), with the root mean square error over all such
 * reads within 1.25 standard errors. Expression reads ({@code distinct(...)} in a filter) must
 * agree with the engine's read.
 *
 * <p>Seeded: {@code -Dwhack.seed=<n>} replays one.
 */
class DistinctCountProperties {
  private static final long DAY = 86_400_000L;
  private static final int P = 6;
  private static final int PROFILES = 12;

  static LongStream seeds() {
    Long one = Long.getLong("whack.seed");
    return one != null ? LongStream.of(one) : LongStream.of(1L, 42L, 0x5eed_2026L);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void shouldCountExactlyBelowTheThresholdAndWithinTheErrorAbove(long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine engine = new KeyedEngine(new EngineConfig().clock(clock));
    engine
        .engine()
        .defineDimension(
            "products",
            ("{\"property\":\"product\",\"event\":\"view\",\"kind\":\"distinct\",\"precision\":"
                    + P
                    + "}")
                .getBytes(UTF_8));
    // model: profile -> day -> values (as their JSON text)
    java.util.List<TreeMap<Integer, Set<String>>> model = new java.util.ArrayList<>();
    for (int i = 0; i < PROFILES; i++) {
      model.add(new TreeMap<>());
    }
    double sigma = DistinctCodec.relativeStandardError(P);
    double squares = 0;
    int approximate = 0;
    int exact = 0;
    for (int step = 0; step < 40; step++) {
      int profile = r.nextInt(PROFILES);
      int pool = profile % 3 == 0 ? 400 : 12; // a few heavy profiles, most with a few values
      int events = 1 + r.nextInt(profile % 3 == 0 ? 120 : 6);
      int today = (int) Math.floorDiv(clock.millis(), DAY);
      StringBuilder b = new StringBuilder("{\"set\":{\"p\":" + profile + "},\"events\":[");
      for (int e = 0; e < events; e++) {
        int v = r.nextInt(pool);
        String json = r.nextBoolean() ? "\"p" + v + "\"" : Integer.toString(v);
        int back = r.nextInt(4) == 0 ? r.nextInt(5) : 0; // some events dated in the past
        long at = clock.millis() - back * DAY;
        b.append(e == 0 ? "" : ",")
            .append("{\"name\":\"view\",\"time\":\"")
            .append(java.time.Instant.ofEpochMilli(at))
            .append("\",\"properties\":{\"product\":")
            .append(json)
            .append("}}");
        model
            .get(profile)
            .computeIfAbsent(today - back, d -> new HashSet<>())
            .add(json.replace("\"", ""));
      }
      byte[] update = b.append("]}").toString().getBytes(UTF_8);
      engine.updateJson(key(profile), update, 0, update.length);
      if (r.nextInt(3) == 0) {
        clock.advanceMillis(DAY * (1 + r.nextInt(3)));
      }
      today = (int) Math.floorDiv(clock.millis(), DAY);
      for (int p = 0; p < PROFILES; p++) {
        if (model.get(p).isEmpty()) {
          continue;
        }
        for (int window : new int[] {1, 2, 7, 30}) {
          Set<String> union = new HashSet<>();
          boolean allExact = true;
          for (var day : model.get(p).subMap(today - window + 1, true, today, true).entrySet()) {
            union.addAll(day.getValue());
            allExact &= day.getValue().size() <= DistinctCodec.threshold(P);
          }
          DistinctCount got = engine.distinct(key(p), "products", window);
          String where = "seed " + seed + " step " + step + " profile " + p + " window " + window;
          assertEquals(allExact, got.exact(), where);
          if (allExact) {
            assertEquals(union.size(), got.value(), where);
            exact++;
          } else {
            double error = (got.value() - union.size()) / (double) union.size();
            assertTrue(Math.abs(error) <= 3 * sigma, where + ": " + got + " of " + union.size());
            squares += error * error;
            approximate++;
          }
          long filtered =
              engine.filterCount(
                  "distinct(products, " + window + "d) == " + got.value() + " and p == " + p);
          assertEquals(1, filtered, where + ": the expression reads what the engine reads");
        }
      }
    }
    assertTrue(exact > 100 && approximate > 20, exact + " exact, " + approximate + " approximate");
    double rms = Math.sqrt(squares / approximate);
    assertTrue(rms <= 1.25 * sigma, "rms " + rms + " over " + approximate + " reads");
  }

  private static byte[] key(int profile) {
    return ("k" + profile).getBytes(UTF_8);
  }
}

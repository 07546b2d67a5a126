package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A stripe's counts of name uses against a map: random uses and drops over a few or many ids (so
 * the table grows, shrinks and shifts entries back over holes) keep every count, and the stripe
 * holds exactly one table reference per name it counts.
 */
class NameCountsProperties {
  @Property(tries = 200)
  void countsMatchAMapAndHoldOneReferencePerName(@ForAll long seed) {
    Random r = new Random(seed);
    NameTable table = new NameTable("attribute", 1 << 16);
    NameCounts counts = new NameCounts();
    Map<String, Integer> model = new HashMap<>();
    int names = r.nextBoolean() ? 8 : 600;
    for (int step = 0; step < 3_000; step++) {
      String name = "n" + r.nextInt(names);
      if (r.nextInt(5) < 3 || !model.containsKey(name)) {
        int id = counts.use(table, table.idOf(name), name, null, 0, 0);
        assertEquals(name, table.name(id));
        model.merge(name, 1, Integer::sum);
      } else {
        counts.drop(table, table.idOf(name));
        model.computeIfPresent(name, (k, v) -> v == 1 ? null : v - 1);
      }
    }
    Map<String, Integer> actual = new TreeMap<>();
    int[] entries = counts.entries();
    for (int i = 0; i < entries.length; i += 2) {
      actual.put(table.name(entries[i]), entries[i + 1]);
      assertEquals(1, table.refs(entries[i]), "one reference per name the stripe uses");
      assertEquals(entries[i + 1], counts.count(entries[i]));
    }
    assertEquals(new TreeMap<>(model), actual);
    assertEquals(model.size(), table.size(), "the names no use is left on are freed");
  }
}

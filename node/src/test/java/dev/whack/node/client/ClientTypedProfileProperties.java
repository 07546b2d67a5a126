package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.client.BlockingWhackClient;
import dev.whack.client.WhackClient;
import dev.whack.client.model.AttributeType;
import dev.whack.client.model.DayTotals;
import dev.whack.client.model.EventHistory;
import dev.whack.client.model.ProfileData;
import dev.whack.client.model.ProfileUpdate;
import dev.whack.client.model.UpdateEvent;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random typed profiles and updates through a real node and back through the reader: a profile
 * stored from {@link ProfileData} reads back equal and as the node's own JSON, and a random {@link
 * ProfileUpdate} leaves the profile a model of the documented rules (docs/profiles.md, "Update
 * JSON") predicts.
 */
class ClientTypedProfileProperties {
  /** 2026-11-22T00:00:00Z; events fall in the 30 days before it, inside the 60-day retention. */
  private static final long NOW = EmbeddedNode.TEST_EPOCH_MILLIS;

  private static EmbeddedNode node;
  private static WhackClient client;
  private static BlockingWhackClient blocking;

  @BeforeContainer
  static void start() {
    node = EmbeddedNode.startWithClock(new ManualClock(NOW), config -> {});
    client =
        WhackClient.builder()
            .servers(node.address())
            .requestTimeout(Duration.ofSeconds(5))
            .ioThreads(1)
            .build();
    blocking = client.blocking();
  }

  @AfterContainer
  static void stop() {
    client.close();
    node.close();
  }

  private static final String[] STRINGS = {
    "", "DK", "héllo", "a\"b\\c", "\u0000ctl\n\t", "2026-11-20T10:00:00Z", "2026-11-20",
    "1999-01-01T00:00:00.5+01:00", "$x", "😀", "\u2028", "{\"$string\":1}", "null", "[]"
  };

  private static String string(Random r) {
    if (r.nextInt(4) > 0) {
      return STRINGS[r.nextInt(STRINGS.length)];
    }
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      b.appendCodePoint(
          switch (r.nextInt(4)) {
            case 0 -> r.nextInt(0x20); // control characters
            case 1 -> 0x20 + r.nextInt(0x5f);
            case 2 -> 0xa0 + r.nextInt(0xd000); // below the surrogates
            default -> 0x10000 + r.nextInt(0x1000); // beyond the BMP
          });
    }
    return b.toString();
  }

  private static final long[] LONGS = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 31, 1L << 53};
  private static final double[] DOUBLES = {
    0.0, -0.0, 0.5, -2.5e-300, 1e300, Double.MIN_VALUE, Double.MAX_VALUE, 1e21, 1e-7, 100.0
  };

  private static final long MIN_MILLIS = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
  private static final long MAX_MILLIS = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();

  private static Instant instant(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> Instant.ofEpochMilli(MIN_MILLIS);
      case 1 -> Instant.ofEpochMilli(MAX_MILLIS);
      default ->
          Instant.ofEpochMilli(
              MIN_MILLIS + Math.floorMod(r.nextLong(), MAX_MILLIS - MIN_MILLIS + 1));
    };
  }

  /** A random value of a random type; {@code type} fixes the type when not null. */
  private static Object value(Random r, AttributeType type) {
    AttributeType t = type != null ? type : AttributeType.values()[r.nextInt(6)];
    return switch (t) {
      case STRING -> string(r);
      case LONG -> r.nextBoolean() ? LONGS[r.nextInt(LONGS.length)] : r.nextLong();
      case DOUBLE -> {
        double d = r.nextBoolean() ? DOUBLES[r.nextInt(DOUBLES.length)] : r.nextGaussian() * 1e6;
        yield r.nextBoolean() ? d : -d;
      }
      case BOOLEAN -> r.nextBoolean();
      case TIMESTAMP -> instant(r);
      case STRING_SET -> {
        List<String> elements = new ArrayList<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          elements.add(string(r)); // duplicates and all
        }
        yield elements;
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static void set(ProfileData.Builder b, String name, Object v) {
    if (v instanceof String s) {
      b.set(name, s);
    } else if (v instanceof Long l) {
      b.set(name, l.longValue());
    } else if (v instanceof Double d) {
      b.set(name, d.doubleValue());
    } else if (v instanceof Boolean x) {
      b.set(name, x.booleanValue());
    } else if (v instanceof Instant i) {
      b.set(name, i);
    } else {
      b.set(name, (java.util.Collection<String>) v);
    }
  }

  @SuppressWarnings("unchecked")
  private static void set(ProfileUpdate u, String name, Object v) {
    if (v instanceof String s) {
      u.set(name, s);
    } else if (v instanceof Long l) {
      u.set(name, l.longValue());
    } else if (v instanceof Double d) {
      u.set(name, d.doubleValue());
    } else if (v instanceof Boolean x) {
      u.set(name, x.booleanValue());
    } else if (v instanceof Instant i) {
      u.set(name, i);
    } else {
      u.set(name, (java.util.Collection<String>) v);
    }
  }

  private static String name(Random r) {
    // Mostly a few names, so operations meet the attributes they act on; now and then any text.
    return r.nextInt(10) == 0 ? "n" + string(r) : "a" + r.nextInt(8);
  }

  private static LocalDate day(Random r) {
    return LocalDate.ofEpochDay(NOW / 86_400_000L - r.nextInt(30));
  }

  private static ProfileData randomProfile(Random r, boolean withEvents) {
    ProfileData.Builder b = ProfileData.builder();
    for (int i = r.nextInt(10); i > 0; i--) {
      set(b, name(r), value(r, null));
    }
    for (int s = withEvents ? r.nextInt(3) : 0; s > 0; s--) {
      EventHistory.Builder h = EventHistory.builder();
      TreeMap<LocalDate, DayTotals> days = new TreeMap<>();
      for (int d = 1 + r.nextInt(4); d > 0; d--) {
        double[] values = new double[r.nextInt(4)];
        for (int v = 0; v < values.length; v++) {
          values[v] = r.nextInt(3) == 0 ? r.nextInt(100) : r.nextGaussian() * 100;
        }
        long withoutValue = values.length == 0 ? 1 + r.nextInt(5) : r.nextInt(3);
        days.put(day(r), DayTotals.ofValues(withoutValue, values));
      }
      h.days(days);
      if (r.nextBoolean()) {
        Instant first = days.firstKey().atStartOfDay().toInstant(ZoneOffset.UTC);
        Instant last = days.lastKey().atStartOfDay().toInstant(ZoneOffset.UTC);
        h.times(
            first.plusMillis(r.nextInt(3_600_000)), last.plusMillis(3_600_000 + r.nextInt(1000)));
      }
      b.event("e" + r.nextInt(4), h.build());
    }
    for (int m = r.nextInt(3); m > 0; m--) {
      b.producer("producer-" + r.nextInt(5), r.nextLong() & Long.MAX_VALUE);
    }
    return b.build();
  }

  @Property(tries = 150)
  void aTypedProfileReadsBackEqualAndAsTheNodeWritesIt(@ForAll long seed) {
    Random r = new Random(seed);
    ProfileData profile = randomProfile(r, true);
    assertEquals(profile, ProfileData.parse(profile.toJson()), "the reader reads the writer");

    String key = "profile:" + seed;
    blocking.setProfile(key, profile);
    String stored = blocking.getProfile(key).orElseThrow();
    assertEquals(profile, ProfileData.parse(stored));
    assertEquals(profile.toJson(), stored, "the node's JSON is the builder's");
    assertEquals(
        List.copyOf(profile.attributes().keySet()),
        List.copyOf(blocking.getProfileData(key).orElseThrow().attributes().keySet()));
  }

  @Property(tries = 150)
  void aTypedUpdateLeavesWhatTheRulesSay(@ForAll long seed) {
    Random r = new Random(seed);
    ProfileData base = randomProfile(r, false);
    Map<String, Object> model = new LinkedHashMap<>(base.attributes());
    ProfileUpdate update = ProfileUpdate.of();

    // set, then unset, then incr, then add, then remove: the order the node applies them in.
    Map<String, Object> sets = new LinkedHashMap<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      String name = name(r);
      Object v = value(r, null);
      set(update, name, v);
      sets.put(name, v instanceof List<?> l ? new LinkedHashSet<>(l) : v);
    }
    sets.forEach(model::put);
    for (int i = r.nextInt(3); i > 0; i--) {
      String name = name(r);
      update.unset(name);
      model.remove(name);
    }
    // A name at most once among incr, add and remove: the node applies each section whole in
    // its own order, whatever order the calls were made in.
    Set<String> used = new java.util.HashSet<>();
    for (int i = r.nextInt(3); i > 0; i--) {
      String name = name(r);
      Object now = model.get(name);
      if (!used.add(name)) {
        continue;
      }
      if (now == null || (now instanceof Long l && l > -(1L << 60) && l < 1L << 60)) {
        long delta = r.nextInt(2001) - 1000;
        update.incr(name, delta);
        model.put(name, (now == null ? 0L : (Long) now) + delta);
      } else if (now instanceof Double d) {
        double delta = r.nextGaussian();
        update.incr(name, delta);
        model.put(name, d + delta);
      }
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      String name = name(r);
      Object now = model.get(name);
      if ((now == null || now instanceof Set) && used.add(name)) {
        List<String> elements = List.of(string(r), string(r));
        boolean add = now == null || r.nextBoolean();
        if (add) {
          update.add(name, elements);
          LinkedHashSet<String> s =
              now == null ? new LinkedHashSet<>() : new LinkedHashSet<>(castSet(now));
          s.addAll(elements);
          model.put(name, s);
        } else {
          update.remove(name, elements);
          LinkedHashSet<String> s = new LinkedHashSet<>(castSet(now));
          s.removeAll(elements);
          model.put(name, s);
        }
      }
    }
    Map<String, List<Instant>> times = new LinkedHashMap<>();
    Map<String, Map<LocalDate, List<Double>>> values = new LinkedHashMap<>();
    Map<String, Map<LocalDate, Long>> bare = new LinkedHashMap<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      String event = "e" + r.nextInt(3);
      Instant at =
          day(r).atStartOfDay().toInstant(ZoneOffset.UTC).plusMillis(r.nextInt(86_400_000));
      UpdateEvent e = UpdateEvent.named(event).time(at);
      LocalDate day = LocalDate.ofInstant(at, ZoneOffset.UTC);
      if (r.nextBoolean()) {
        double v = r.nextInt(200) - 100 + 0.25;
        e.value(v);
        values
            .computeIfAbsent(event, n -> new TreeMap<>())
            .computeIfAbsent(day, d -> new ArrayList<>())
            .add(v);
      } else {
        bare.computeIfAbsent(event, n -> new TreeMap<>()).merge(day, 1L, Long::sum);
      }
      if (r.nextBoolean()) {
        e.property("sku", string(r));
      }
      update.event(e);
      times.computeIfAbsent(event, n -> new ArrayList<>()).add(at);
    }
    long seq = r.nextBoolean() ? 1 + r.nextInt(100) : -1;
    if (seq >= 0) {
      update.producer("shop", seq);
    }

    String key = "update:" + seed;
    blocking.setProfile(key, base);
    blocking.update(key, update);

    ProfileData.Builder expected = ProfileData.builder();
    base.producers().forEach(expected::producer);
    model.forEach((name, v) -> set(expected, name, v instanceof Set<?> s ? List.copyOf(s) : v));
    for (Map.Entry<String, List<Instant>> e : times.entrySet()) {
      String event = e.getKey();
      EventHistory.Builder h = EventHistory.builder();
      Set<LocalDate> days = new java.util.TreeSet<>();
      days.addAll(values.getOrDefault(event, Map.of()).keySet());
      days.addAll(bare.getOrDefault(event, Map.of()).keySet());
      for (LocalDate day : days) {
        List<Double> vs = values.getOrDefault(event, Map.of()).getOrDefault(day, List.of());
        h.day(
            day,
            DayTotals.ofValues(
                bare.getOrDefault(event, Map.of()).getOrDefault(day, 0L),
                vs.stream().mapToDouble(Double::doubleValue).toArray()));
      }
      h.times(
          e.getValue().stream().min(Instant::compareTo).orElseThrow(),
          e.getValue().stream().max(Instant::compareTo).orElseThrow());
      expected.event(event, h.build());
    }
    if (seq >= 0) {
      expected.producer("shop", seq);
    }
    ProfileData actual = blocking.getProfileData(key).orElseThrow();
    assertEquals(expected.build(), actual, () -> "update " + update.toJson() + "\nof " + base);
  }

  @SuppressWarnings("unchecked")
  private static Set<String> castSet(Object o) {
    return (Set<String>) o;
  }
}

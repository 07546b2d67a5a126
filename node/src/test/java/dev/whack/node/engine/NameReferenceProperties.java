package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.event.Days;
import dev.whack.node.testing.ManualClock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Names are counted exactly and freed when nothing uses them: after every step of a random mix of
 * puts, updates (set, unset, incr, add, remove, events, producers), rejected writes, deletes,
 * flushes, segment defines, redefines and drops, ad-hoc filters and time passing (which prunes
 * series), every name's reference count equals a brute-force count over the live profiles and
 * segments, no other name is in the tables, and incremental membership still equals brute force.
 */
class NameReferenceProperties {
  private static final int NAMES = 60;

  private static String attribute(Random r) {
    return "a" + r.nextInt(NAMES);
  }

  private static String event(Random r) {
    return "e" + r.nextInt(NAMES / 3);
  }

  private static String value(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> Integer.toString(r.nextInt(100));
      case 1 -> r.nextInt(100) + ".5";
      case 2 -> "\"s" + r.nextInt(3) + "\"";
      case 3 -> "[\"t" + r.nextInt(3) + "\"]";
      default -> Boolean.toString(r.nextBoolean());
    };
  }

  private static String day(long now, int daysAgo) {
    return LocalDate.ofEpochDay(Days.dayOf(now) - daysAgo).toString();
  }

  static String profile(Random r, long now) {
    StringBuilder sb = new StringBuilder("{");
    int n = r.nextInt(10) == 0 ? 35 + r.nextInt(20) : r.nextInt(6); // now and then past the limit
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      String a = attribute(r);
      if (seen.add(a)) {
        sb.append(sb.length() > 1 ? "," : "").append('"').append(a).append("\":").append(value(r));
      }
    }
    if (r.nextInt(3) == 0) {
      sb.append(sb.length() > 1 ? "," : "").append("\"$events\":{");
      int m = 1 + r.nextInt(3);
      java.util.Set<String> series = new java.util.HashSet<>();
      String sep = "";
      for (int i = 0; i < m; i++) {
        String e = event(r);
        if (series.add(e)) {
          // now and then only days past the retention: the series is dropped on the way in
          int ago = r.nextInt(4) == 0 ? 10 + r.nextInt(5) : r.nextInt(9);
          sb.append(sep)
              .append('"')
              .append(e)
              .append("\":{\"")
              .append(day(now, ago))
              .append("\":[1]}");
          sep = ",";
        }
      }
      sb.append('}');
    }
    if (r.nextInt(4) == 0) {
      sb.append(sb.length() > 1 ? "," : "")
          .append("\"$producers\":{\"p")
          .append(r.nextInt(5))
          .append("\":")
          .append(r.nextInt(10))
          .append('}');
    }
    return sb.append('}').toString();
  }

  static String update(Random r, long now) {
    StringBuilder sb = new StringBuilder("{");
    String sep = "";
    if (r.nextBoolean()) {
      sb.append("\"set\":{\"").append(attribute(r)).append("\":").append(value(r)).append('}');
      sep = ",";
    }
    if (r.nextInt(3) == 0) {
      sb.append(sep).append("\"unset\":[\"").append(attribute(r)).append("\"]");
      sep = ",";
    }
    if (r.nextInt(3) == 0) {
      sb.append(sep).append("\"incr\":{\"").append(attribute(r)).append("\":1}");
      sep = ",";
    }
    if (r.nextInt(4) == 0) {
      sb.append(sep)
          .append(r.nextBoolean() ? "\"add\"" : "\"remove\"")
          .append(":{\"")
          .append(attribute(r))
          .append("\":[\"t")
          .append(r.nextInt(3))
          .append("\"]}");
      sep = ",";
    }
    if (r.nextInt(3) == 0) {
      sb.append(sep).append("\"events\":[{\"name\":\"").append(event(r)).append('"');
      if (r.nextInt(4) == 0) {
        sb.append(",\"time\":\"").append(day(now, 10)).append("T00:00:00Z\""); // past retention
      }
      sb.append("}]");
      sep = ",";
    }
    if (r.nextInt(3) == 0) {
      sb.append(sep)
          .append("\"producer\":\"p")
          .append(r.nextInt(5))
          .append("\",\"seq\":")
          .append(r.nextInt(6));
    }
    return sb.append('}').toString();
  }

  static String expression(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> "exists(" + attribute(r) + ")";
      case 1 -> attribute(r) + " == 3 or \"t1\" in " + attribute(r);
      case 2 -> "count(" + event(r) + ", 3d) >= 1";
      default -> "not exists(" + attribute(r) + ") and " + attribute(r) + " > 10";
    };
  }

  @Property(tries = 150)
  void everyNameIsReferencedExactlyByTheProfilesAndSegmentsThatUseIt(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine engine =
        new KeyedEngine(
            new EngineConfig()
                .clock(clock)
                .lockStripes(4)
                .retentionDays(7)
                .maxAttributesPerProfile(40)
                .maxEventSeriesPerProfile(3)
                .maxProducersPerProfile(2)
                .producerMarkAge(Duration.ofDays(2)));
    for (int step = 0; step < 60; step++) {
      byte[] key = EngineWorkload.bytes("k" + r.nextInt(6));
      long now = clock.millis();
      int op = r.nextInt(20);
      try {
        if (op < 5) {
          byte[] json = EngineWorkload.bytes(profile(r, now));
          engine.putJson(key, json, 0, json.length);
        } else if (op < 11) {
          byte[] json = EngineWorkload.bytes(update(r, now));
          engine.updateJson(key, json, 0, json.length);
        } else if (op == 11) {
          // rejected after some names were read: a put cut short, an update with a bad value
          byte[] json = EngineWorkload.bytes(profile(r, now).replaceAll("}$", ",\"x\":nul}"));
          engine.putJson(key, json, 0, json.length);
        } else if (op == 12) {
          byte[] json =
              EngineWorkload.bytes(
                  "{\"set\":{\""
                      + attribute(r)
                      + "\":1},\"incr\":{\""
                      + attribute(r)
                      + "\":1.0e400}}");
          engine.updateJson(key, json, 0, json.length);
        } else if (op == 13) {
          engine.remove(key);
        } else if (op == 14 && r.nextInt(4) == 0) {
          engine.removeAll();
        } else if (op == 15) {
          String name = "s" + r.nextInt(4);
          if (engine.segment(name) != null && r.nextBoolean()) {
            engine.drop(name);
          } else {
            engine.define(name, expression(r)); // a new one, or a redefinition
          }
        } else if (op == 16) {
          engine.filterCount(expression(r));
          engine.filterMembers(expression(r), null, 3);
        } else if (op == 17) {
          clock.advanceMillis(r.nextInt(3 * (int) (Days.MILLIS_PER_DAY / 60_000)) * 60_000L);
          engine.runDueReevaluations();
        } else {
          engine.getJson(key);
        }
      } catch (EngineException rejected) {
        // rejected writes change nothing, names included
      }
      String where = "seed " + seed + " step " + step;
      NameReferences.assertExact(engine, where);
      MembershipProperties.assertMembershipIsExact(engine, where);
    }
    engine.removeAll();
    for (SegmentInfo s : engine.segments()) {
      engine.drop(s.name());
    }
    assertEquals(0, engine.stats().attributeNames(), "every name freed once nothing uses it");
    assertEquals(0, engine.stats().eventNames());
  }
}

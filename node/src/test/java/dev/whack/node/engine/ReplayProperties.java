package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * R4: replaying any prefixes of an update stream any number of times, then the whole stream, leaves
 * profiles, counts and memberships identical to a single pass.
 */
class ReplayProperties {
  private record Entry(String key, byte[] update) {}

  @Property(tries = 60)
  void replayingPrefixesHasTheEffectOfOnePass(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    List<Entry> stream = new ArrayList<>();
    long[] seq = new long[3];
    for (int i = 0; i < 80; i++) {
      int producer = r.nextInt(3);
      seq[producer] += 1 + r.nextInt(3);
      String json = EngineWorkload.update(r, clock.millis());
      // Pin event times so that the effect does not depend on when the replay runs.
      json =
          json.replace("{\"name\":", "{\"time\":\"2026-11-20T09:00:00Z\",\"name\":")
              .replaceAll(
                  "\"time\":\"2026-11-20T09:00:00Z\",(\"name\":\"[a-z]+\"(,\"value\":[0-9.]+)?),"
                      + "\"time\":",
                  "$1,\"time\":");
      json =
          json.substring(0, json.length() - 1)
              + (json.length() > 2 ? "," : "")
              + "\"producer\":\"p"
              + producer
              + "\",\"seq\":"
              + seq[producer]
              + "}";
      stream.add(new Entry(EngineWorkload.key(r, 10), json.getBytes(StandardCharsets.UTF_8)));
    }
    KeyedEngine once = engine(clock);
    apply(once, stream, stream.size());
    KeyedEngine replayed = engine(clock);
    int replays = 1 + r.nextInt(4);
    for (int i = 0; i < replays; i++) {
      apply(replayed, stream, r.nextInt(stream.size() + 1));
    }
    apply(replayed, stream, stream.size());
    apply(replayed, stream, r.nextInt(stream.size() + 1));
    assertEquals(snapshot(once), snapshot(replayed));
  }

  private static KeyedEngine engine(ManualClock clock) {
    KeyedEngine e = new KeyedEngine(new EngineConfig().clock(clock));
    for (int i = 0; i < EngineWorkload.SEGMENTS.length; i++) {
      e.define("s" + i, EngineWorkload.SEGMENTS[i]);
    }
    return e;
  }

  private static void apply(KeyedEngine engine, List<Entry> stream, int prefix) {
    for (int i = 0; i < prefix; i++) {
      Entry e = stream.get(i);
      byte[] key = e.key.getBytes(StandardCharsets.UTF_8);
      try {
        engine.updateJson(key, e.update, 0, e.update.length);
      } catch (EngineException rejected) {
        // A rejected update (e.g. a type clash) is rejected identically on every pass.
      }
    }
  }

  private static Map<String, String> snapshot(KeyedEngine engine) {
    Map<String, String> state = new TreeMap<>();
    for (String key : MembershipProperties.all(engine, "", false)) {
      state.put(
          key,
          new String(engine.getJson(key.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8)
              + " in "
              + engine.segmentsOf(key.getBytes(StandardCharsets.UTF_8)));
    }
    for (SegmentInfo s : engine.segments()) {
      state.put("#" + s.name(), Long.toString(s.size()));
    }
    return state;
  }
}

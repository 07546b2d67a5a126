package dev.whack.node.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.testing.ManualClock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A subscriber that misses nothing can rebuild every segment from the enter/leave stream alone:
 * changes of one profile arrive in order, even with several writers, removals and time passing.
 */
class ChangeStreamProperties {
  @Property(tries = 40)
  void replayingTheChangeStreamRebuildsEveryMembership(@ForAll long seed) throws Exception {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    KeyedEngine engine =
        new KeyedEngine(new EngineConfig().clock(clock).lockStripes(4).retentionDays(7));
    List<String> names = new ArrayList<>();
    for (int i = 0; i < EngineWorkload.SEGMENTS.length; i++) {
      engine.define("s" + i, EngineWorkload.SEGMENTS[i]);
      names.add("s" + i);
    }
    Subscription sub = engine.subscribe(names, null);
    int keys = 5 + r.nextInt(30);
    for (int step = 0; step < 20; step++) {
      List<Thread> writers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        Random tr = new Random(r.nextLong());
        long now = clock.millis();
        Thread w =
            new Thread(
                () -> {
                  for (int i = 0; i < 30; i++) {
                    byte[] key = EngineWorkload.bytes(EngineWorkload.key(tr, keys));
                    if (tr.nextInt(8) == 0) {
                      engine.remove(key);
                    } else {
                      byte[] json = EngineWorkload.bytes(EngineWorkload.update(tr, now));
                      engine.updateJson(key, json, 0, json.length);
                    }
                  }
                });
        writers.add(w);
        w.start();
      }
      for (Thread w : writers) {
        w.join();
      }
      clock.advanceMillis(r.nextInt((int) (Days.MILLIS_PER_DAY / 1000)) * 1000L);
      engine.runDueReevaluations();
    }
    Map<String, Set<String>> rebuilt = new HashMap<>();
    List<SegmentChange> changes = new ArrayList<>();
    sub.drainTo(changes, Integer.MAX_VALUE);
    assertEquals(0, sub.takeMissed());
    for (SegmentChange c : changes) {
      Set<String> members = rebuilt.computeIfAbsent(c.segment(), s -> new HashSet<>());
      if (c.enter()) {
        members.add(c.key());
      } else {
        members.remove(c.key());
      }
    }
    for (String name : names) {
      assertEquals(
          MembershipProperties.all(engine, name, false),
          rebuilt.getOrDefault(name, Set.of()),
          "segment " + name);
    }
    sub.close();
  }
}

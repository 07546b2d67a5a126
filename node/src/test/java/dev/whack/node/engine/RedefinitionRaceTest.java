package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.profile.ProfileTable;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.testing.ManualClock;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Races around redefining a segment that others read (found by a review of in_segment). */
class RedefinitionRaceTest {

  /** A manual clock that runs a hook once, on the next read of the time. */
  static final class HookClock implements InstantSource {
    final ManualClock base = ManualClock.at("2026-11-20T10:00:00Z");
    volatile Runnable hook;

    @Override
    public long millis() {
      Runnable h = hook;
      if (h != null) {
        hook = null;
        h.run();
      }
      return base.millis();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }
  }

  private final HookClock clock = new HookClock();
  private final KeyedEngine engine =
      new KeyedEngine(new EngineConfig().clock(clock).lockStripes(64));

  private static byte[] k(String key) {
    return key.getBytes(UTF_8);
  }

  private void update(String key, String json) {
    byte[] b = json.getBytes(UTF_8);
    engine.updateJson(k(key), b, 0, b.length);
  }

  private static int stripe(String key) {
    return ProfileTable.stripeIndex(ProfileTable.hash(k(key)), 64);
  }

  private static String keyNotIn(String prefix, int stripe) {
    for (int i = 0; ; i++) {
      if (stripe(prefix + i) != stripe) {
        return prefix + i;
      }
    }
  }

  /**
   * A redefinition of a read segment keeps the replaced segment's bitmap for its readers while the
   * new one backfills, but removal no longer clears that bitmap (the replaced segment is out of the
   * catalog). A profile created meanwhile at the removed profile's recycled ordinal is read as a
   * member of the replaced segment: the reader admits it, and tells subscribers so, though it was
   * never a member of either definition. The re-backfill then removes it silently: the subscriber
   * is left believing it is a member.
   */
  @Test
  void recycledOrdinalDuringARedefinitionEntersTheReaderFromAStaleBit() throws Exception {
    update("z", "{\"set\":{\"spend\":1}}"); // ordinal 0: the first the backfill visits
    String p = keyNotIn("p", stripe("z"));
    String q = keyNotIn("q", stripe("z"));
    update(p, "{\"set\":{\"spend\":150}}");
    engine.define("vip", "spend > 100");
    engine.define("r", "in_segment(\"vip\")");
    assertEquals(List.of(p), engine.members("r", null, 10).keys());

    AtomicBoolean qInRDuringWindow = new AtomicBoolean();
    List<Throwable> failures = new ArrayList<>();
    try (Subscription sub = engine.subscribe(List.of("r"), null)) {
      clock.hook =
          () -> {
            // Another client, on other stripes, while vip's new definition backfills.
            Thread t =
                new Thread(
                    () -> {
                      try {
                        engine.remove(k(p));
                        update(q, "{\"set\":{\"spend\":5}}"); // not vip under either definition
                        qInRDuringWindow.set(engine.inSegment("r", k(q)));
                      } catch (Throwable e) {
                        failures.add(e);
                      }
                    });
            t.start();
            try {
              t.join(10_000);
            } catch (InterruptedException e) {
              throw new RuntimeException(e);
            }
            assertFalse(t.isAlive(), "deadlock");
          };
      engine.define("vip", "spend > 1000");
      assertEquals(List.of(), failures);

      Set<String> told = new HashSet<>(List.of(p));
      List<SegmentChange> changes = new ArrayList<>();
      for (SegmentChange c; (c = sub.poll()) != null; ) {
        changes.add(c);
        if (c.enter()) {
          told.add(c.key());
        } else {
          told.remove(c.key());
        }
      }
      Set<String> actual = new HashSet<>(engine.members("r", null, 10).keys());
      assertEquals(actual, told, "what subscribers were told vs r's members; changes: " + changes);
      assertFalse(qInRDuringWindow.get(), "q (spend 5) was put in r during the window");
    }
  }

  /** A reader follows the clock after the segment it reads is redefined to a time-dependent one. */
  @Test
  void readerFollowsTheClockAfterItsSegmentBecomesTimeDependent() {
    update("a", "{\"set\":{\"spend\":150,\"last_seen\":\"2026-11-20T09:00:00Z\"}}");
    engine.define("vip", "spend > 100");
    engine.define("r", "in_segment(\"vip\") and spend > 0");
    engine.define("vip", "last_seen > now() - 1d");
    assertTrue(engine.inSegment("r", k("a")));
    clock.base.advanceMillis(Days.MILLIS_PER_DAY);
    engine.runDueReevaluations();
    assertFalse(engine.inSegment("vip", k("a")));
    assertFalse(engine.inSegment("r", k("a")));
    assertNotEquals(0, engine.segments().size());
  }
}

package dev.whack.node.engine;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.testing.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Subscribers too slow for a small change buffer, while two writers update profiles: whatever the
 * rings' size and number, the keys' lengths and the readers' rhythm, every change is either read or
 * counted as missed, exactly once, and a reader only ever reads changes of its own segments.
 */
class LappedChangeStreamProperties {
  private static final String[] SEGMENTS = {"a == true", "b == true", "a == true and b == true"};

  @Property(tries = 25)
  void everyChangeIsReadOrCountedMissedExactlyOnce(@ForAll long seed) throws Exception {
    Random r = new Random(seed);
    int stripes = 1 << r.nextInt(3);
    int ringBytes = 4096 << r.nextInt(3);
    KeyedEngine engine =
        new KeyedEngine(
            new EngineConfig()
                .clock(ManualClock.at("2026-11-20T10:00:00Z"))
                .changeBufferBytes(ringBytes * stripes)
                .changeBufferStripes(stripes));
    List<String> all = new ArrayList<>();
    for (int i = 0; i < SEGMENTS.length; i++) {
      engine.define("s" + i, SEGMENTS[i]);
      all.add("s" + i);
    }
    List<Reader> readers =
        List.of(
            new Reader(engine.subscribe(all, null), r.nextLong(), Set.copyOf(all)),
            new Reader(engine.subscribe(all, null), r.nextLong(), Set.copyOf(all)),
            new Reader(engine.subscribe(List.of("s1"), null), r.nextLong(), Set.of("s1")));
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Thread> threads = new ArrayList<>();
    for (Reader reader : readers) {
      threads.add(Thread.ofPlatform().start(() -> reader.readWhile(writing)));
    }
    List<Thread> writers = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Random tr = new Random(r.nextLong());
      writers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 4000; i++) {
                      // Keys of many lengths, so records of many sizes meet the rings' ends.
                      byte[] key =
                          ("k" + tr.nextInt(300) + "x".repeat(tr.nextInt(40))).getBytes(UTF_8);
                      byte[] body =
                          ("{\"set\":{\"a\":"
                                  + tr.nextBoolean()
                                  + ",\"b\":"
                                  + tr.nextBoolean()
                                  + "}}")
                              .getBytes(UTF_8);
                      engine.updateJson(key, body, 0, body.length);
                    }
                  }));
    }
    for (Thread w : writers) {
      w.join();
    }
    writing.set(false);
    for (Thread t : threads) {
      t.join();
    }
    long published = engine.membershipChanges();
    for (int i = 0; i < 2; i++) {
      Reader reader = readers.get(i);
      assertEquals(published, reader.read + reader.missed, "reader " + i + " of every segment");
    }
    Reader some = readers.get(2);
    assertTrue(some.read + some.missed <= published);
    for (Reader reader : readers) {
      assertTrue(
          reader.foreign.isEmpty(), "changes of segments it did not watch: " + reader.foreign);
      reader.subscription.close();
    }
  }

  /** Reads in bursts with pauses, as a slow client would, then everything once writers stop. */
  private static final class Reader {
    final Subscription subscription;
    final Random random;
    final Set<String> watched;
    final List<SegmentChange> foreign = new ArrayList<>();
    long read;
    long missed;

    Reader(Subscription subscription, long seed, Set<String> watched) {
      this.subscription = subscription;
      this.random = new Random(seed);
      this.watched = watched;
    }

    void readWhile(AtomicBoolean writing) {
      while (writing.get()) {
        int burst = random.nextInt(200);
        for (int i = 0; i < burst && take(); i++) {
          // read a burst
        }
        if (random.nextInt(4) == 0) {
          try {
            Thread.sleep(random.nextInt(3));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      while (take()) {
        // the rest
      }
      missed += subscription.takeMissed();
    }

    private boolean take() {
      SegmentChange c = subscription.poll();
      if (c == null) {
        return false;
      }
      read++;
      if (!watched.contains(c.segment())) {
        foreign.add(c);
      }
      return true;
    }
  }
}

package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.Distribution;
import dev.whack.node.engine.event.Days;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Dimensions across a restart, the three ways back of {@link RestartTest}: their definitions in
 * their order, the counts profiles keep under each category (a profile counted "red" still shows
 * "red": the category ids in the restored compact profiles mean what they did), a value first seen
 * after the restart numbered past every restored one, the retired id of a dropped dimension never
 * handed out again, and the population's counts rebuilt.
 */
class DimensionRestartTest {
  @TempDir Path dir;
  @TempDir Path crashed;

  enum Way {
    CLEAN_STOP,
    CRASH_WITH_LOG_ONLY,
    CRASH_AFTER_A_SNAPSHOT
  }

  private final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");

  private EmbeddedNode start(Path on, String fsync) {
    return EmbeddedNode.startWithClock(clock, c -> c.dataDir(on).fsync(fsync));
  }

  private Path crashCopy(Way way) throws IOException {
    if (way == Way.CLEAN_STOP) {
      return dir;
    }
    copyFiles(dir, crashed);
    return crashed;
  }

  private static void copyFiles(Path from, Path to) throws IOException {
    try (var files = Files.list(from)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals("lock")) {
          Files.copy(f, to.resolve(f.getFileName()));
        }
      }
    }
  }

  private static void expect(RawConnection c, String request, String reply) {
    c.send(request);
    assertEquals(reply + "\r\n", c.readLine(), request);
  }

  private static void dimdef(RawConnection c, String name, String json) {
    expect(c, "dimdef " + name + " " + json.length() + "\r\n" + json + "\r\n", "DEFINED");
  }

  private static void view(RawConnection c, String key, String properties) {
    String update = "{\"events\":[{\"name\":\"view\",\"properties\":" + properties + "}]}";
    expect(c, "update " + key + " " + update.length() + "\r\n" + update + "\r\n", "UPDATED");
  }

  private static String line(RawConnection c) {
    return c.readLine().stripTrailing();
  }

  private static String get(RawConnection c, String key) {
    c.send("get " + key + "\r\n");
    String first = line(c);
    if (first.equals("END")) {
      return "(none)";
    }
    String value = line(c);
    assertEquals("END", line(c));
    return value;
  }

  /** dimlist, every profile's JSON and the population's counts of a few categories. */
  private static String state(RawConnection c, ProfileEngine engine, List<String> keys) {
    StringBuilder b = new StringBuilder();
    c.send("dimlist\r\n");
    for (String l = line(c); !l.equals("END"); l = line(c)) {
      b.append(l).append('\n');
    }
    for (String k : keys) {
      b.append(k).append(' ').append(get(c, k)).append('\n');
    }
    b.append(population(engine, "color", "red", "blue", "yellow", "purple", "other"));
    b.append(population(engine, "price", "..100", "100..200", "200.."));
    return b.toString();
  }

  /** The population's count of each category of a dimension over the last 30 days. */
  private static String population(ProfileEngine engine, String dimension, String... categories) {
    Dimension d = engine.dimensionsInForce().byName(dimension);
    int today = Days.dayOf(EmbeddedNode.TEST_EPOCH_MILLIS);
    Distribution dist = new Distribution().readPopulation(d, today + 30, 60, 0);
    StringBuilder b = new StringBuilder(dimension);
    for (String c : categories) {
      int id = d.categoryOfValue(c);
      b.append(' ').append(c).append('=').append(id < 0 ? "-" : (long) dist.weight(id));
    }
    return b.append('\n').toString();
  }

  @ParameterizedTest
  @EnumSource(Way.class)
  void shouldComeBackWithDimensionsTheirCountsAndTheirCategories(Way way) throws IOException {
    List<String> keys = List.of("user:1", "user:2", "user:3", "user:4");
    String before;
    Path restartOn;
    try (EmbeddedNode node = start(dir, "always");
        RawConnection c = node.connect()) {
      dimdef(c, "gone", "{\"property\":\"x\"}"); // id 0, retired by its drop below
      dimdef(c, "color", "{\"property\":\"color\",\"event\":\"view\",\"max_categories\":6}");
      dimdef(c, "price", "{\"property\":\"price\",\"bounds\":[100,200]}");
      view(c, "user:1", "{\"color\":\"red\",\"price\":150,\"x\":1}");
      view(c, "user:2", "{\"color\":\"blue\"}");
      view(c, "user:2", "{\"color\":\"red\",\"price\":250}");
      expect(c, "dimdrop gone\r\n", "DROPPED");
      if (way == Way.CRASH_AFTER_A_SNAPSHOT) {
        c.send("snapshot\r\n");
        assertTrue(c.readLine().startsWith("SNAPSHOT "));
      }
      // After the snapshot, in that way back: replayed from the log on top of it.
      dimdef(c, "brand", "{\"property\":\"brand\"}");
      view(c, "user:3", "{\"color\":\"yellow\",\"brand\":\"acme\"}");
      view(c, "user:1", "{\"color\":\"green\",\"price\":50}");
      view(c, "user:2", "{\"color\":\"purple\"}");
      view(c, "user:4", "{\"color\":\"red\"}");
      before = state(c, node.node().engine(), keys);
      restartOn = crashCopy(way);
    }
    assertTrue(
        before.contains(
            "color red=3 blue=1 yellow=1 purple=1 other=0\nprice ..100=1 100..200=1 200..=1\n"),
        before);
    assertTrue(before.contains("user:1 {\"$events\""), before);
    try (EmbeddedNode node = start(restartOn, "everysec");
        RawConnection c = node.connect()) {
      ProfileEngine engine = node.node().engine();
      assertEquals(before, state(c, engine, keys));
      // A value first seen now: numbered past the restored ones, clashing with none.
      view(c, "user:5", "{\"color\":\"black\"}");
      view(c, "user:5", "{\"color\":\"white\"}"); // past max_categories: other
      Dimension color = engine.dimensionsInForce().byName("color");
      assertEquals(6, color.categoryOfValue("black"));
      assertEquals(-1, color.categoryOfValue("white"), "never learned: the table was full");
      assertEquals(
          "{\"$events\":{\"view\":{\"$first\":\"2026-11-20T10:00:00Z\","
              + "\"$last\":\"2026-11-20T10:00:00Z\",\"2026-11-20\":[2]}},"
              + "\"$dimensions\":{\"color\":{\"2026-11-20\":{\"black\":1,\"other\":1}}}}",
          get(c, "user:5"));
      assertEquals(
          before.substring(0, before.indexOf("user:4")),
          state(c, engine, keys).substring(0, before.indexOf("user:4")));
      // A dimension defined now never takes the dropped one's id, whose counts user:1 still holds.
      dimdef(c, "again", "{\"property\":\"x\"}");
      assertTrue(engine.dimensionsInForce().byName("again").id() > 3);
      assertTrue(get(c, "user:1").indexOf("\"again\"") < 0, get(c, "user:1"));
    }
  }

  /**
   * Values learned while a snapshot is written: a profile imaged late may count in one learned
   * after the snapshot read the dimension's table, so the snapshot's later list must name it (a
   * profile read back with another value's name, or a load that refuses the lists, fails here).
   */
  @Test
  void shouldKeepEveryCategoryLearnedWhileASnapshotIsWritten() throws Exception {
    int writerKeys = 200;
    List<String> keys = new ArrayList<>();
    String before;
    try (EmbeddedNode node = start(dir, "no");
        RawConnection c = node.connect()) {
      dimdef(c, "color", "{\"property\":\"color\",\"max_categories\":1024}");
      StringBuilder preload = new StringBuilder();
      for (int i = 0; i < 20_000; i++) {
        String u = "{\"set\":{\"n\":" + i + "}}";
        preload.append("update p:" + i + " " + u.length() + " noreply\r\n" + u + "\r\n");
      }
      c.send(preload.toString());
      view(c, "p:0", "{\"color\":\"first\"}");
      AtomicBoolean stop = new AtomicBoolean();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      Thread writer =
          new Thread(
              () -> {
                try (RawConnection w = node.connect()) {
                  for (int n = 0; !stop.get() || n < 2 * writerKeys; n++) {
                    view(w, "w:" + (n % writerKeys), "{\"color\":\"v" + n + "\"}");
                  }
                } catch (Throwable e) {
                  failed.set(e);
                }
              });
      writer.start();
      for (int i = 0; i < 3; i++) {
        c.send("snapshot\r\n");
        assertTrue(c.readLine().startsWith("SNAPSHOT "));
      }
      stop.set(true);
      writer.join();
      if (failed.get() != null) {
        throw new AssertionError(failed.get());
      }
      for (int i = 0; i < writerKeys; i++) {
        keys.add("w:" + i);
      }
      keys.add("p:0");
      before = state(c, keys);
      copyFiles(dir, crashed);
    }
    try (EmbeddedNode node = start(crashed, "no");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c, keys));
    }
  }

  /**
   * A table that fills up in the log a crash replays: the stripes replay in parallel, in another
   * order than the writes were made, yet the values numbered (and those past the table, counted as
   * other) are the ones they were, because the log names each value numbered, in order, before the
   * write that met it.
   */
  @Test
  void shouldNumberTheSameValuesWhenATableFillsInTheReplayedLog() throws Exception {
    List<String> keys = new ArrayList<>();
    String before;
    try (EmbeddedNode node = start(dir, "always");
        RawConnection c = node.connect()) {
      dimdef(c, "color", "{\"property\":\"color\",\"max_categories\":50}");
      for (int i = 0; i < 150; i++) {
        keys.add("k:" + i);
        view(c, "k:" + i, "{\"color\":\"v" + i + "\"}");
      }
      before = state(c, keys);
      assertTrue(before.contains("{\"other\":1}") && before.contains("{\"v49\":1}"), before);
      copyFiles(dir, crashed);
    }
    try (EmbeddedNode node = start(crashed, "no");
        RawConnection c = node.connect()) {
      assertEquals(before, state(c, keys));
      assertEquals(51, node.node().engine().dimensionsInForce().byName("color").categoriesInUse());
    }
  }

  private static String state(RawConnection c, List<String> keys) {
    StringBuilder b = new StringBuilder();
    for (String k : keys) {
      b.append(k).append(' ').append(get(c, k)).append('\n');
    }
    return b.toString();
  }
}

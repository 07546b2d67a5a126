package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Profiles under a small {@code --memory}: they count against the cap with their compact size, are
 * evicted like any item, and an evicted profile leaves every segment at once, so that segment
 * sizes, members and filters only ever count profiles a {@code get} can still read.
 */
class ProfileMemoryTest {
  private static final long MEMORY_BYTES = 4L << 20;

  /** Enough profiles of a few hundred bytes to fill 4 MiB several times over. */
  private static final int KEYS = 30_000;

  private static final int BATCH = 1_000;
  private static final String PAD = "x".repeat(120);

  private EmbeddedNode node;
  private RawConnection conn;
  private ProfileWire wire;

  @BeforeEach
  void start() {
    node =
        EmbeddedNode.startWithClock(
            ManualClock.at("2026-11-20T10:00:00Z"), c -> c.memoryBytes(MEMORY_BYTES));
    conn = node.connect();
    wire = new ProfileWire(conn);
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** What a live profile under key {@code m:<i>} is, for the segments below, after each phase. */
  private static boolean even(int i, int phase) {
    return (i + phase) % 2 == 0;
  }

  private static boolean vip(int i, int phase) {
    return (i + phase) % 5 == 0;
  }

  private static String profile(int i) {
    return "{\"n\":"
        + i
        + ",\"parity\":"
        + (even(i, 0) ? 0 : 1)
        + ",\"tags\":["
        + (vip(i, 0) ? "\"vip\"," : "")
        + "\"t"
        + i % 17
        + "\"],\"note\":\""
        + PAD
        + "\",\"$events\":{\"purchase\":{\"2026-11-19\":[1,10.0,100.0]}}}";
  }

  /** The same attributes the segments read, set whole, and one more purchase: a profile grows. */
  private static String update(int i) {
    return "{\"set\":{\"n\":"
        + i
        + ",\"parity\":"
        + (even(i, 1) ? 0 : 1)
        + ",\"tags\":["
        + (vip(i, 1) ? "\"vip\"" : "\"t1\"")
        + "],\"more\":\""
        + PAD
        + "\"},\"events\":[{\"name\":\"purchase\",\"value\":5}]}";
  }

  @Test
  void shouldEvictProfilesUnderTheCapAndTakeEachOutOfEverySegment() throws Exception {
    assertEquals(0, wire.define("all", "exists(n)"));
    assertEquals(0, wire.define("even", "parity == 0"));
    assertEquals(0, wire.define("vip-buyers", "\"vip\" in tags and count(purchase, 30d) >= 1"));

    for (int start = 0; start < KEYS; start += BATCH) {
      StringBuilder requests = new StringBuilder();
      for (int i = start; i < start + BATCH; i++) {
        requests.append(ProfileWire.block("set m:" + i + " 0 0 <n>", profile(i)));
      }
      conn.send(requests.toString());
      for (int i = start; i < start + BATCH; i++) {
        assertEquals("STORED\r\n", conn.readLine(), "set m:" + i);
      }
      assertUnderTheCap("after writing m:0..m:" + (start + BATCH - 1));
    }
    assertTrue(
        Long.parseLong(wire.stat("evictions")) > 0, "4 MiB cannot hold " + KEYS + " profiles");
    assertSegmentsHoldExactlyTheReadableProfiles(0);

    // Two connections grow profiles (and re-create evicted ones) concurrently: evictions now
    // race with updates on other keys, and the segments must still follow the cache exactly.
    long evictionsBefore = Long.parseLong(wire.stat("evictions"));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      int writer = w;
      Thread t =
          new Thread(
              () -> {
                try (RawConnection own = node.connect()) {
                  for (int start = writer * BATCH; start < KEYS; start += 2 * BATCH) {
                    StringBuilder requests = new StringBuilder();
                    for (int i = start; i < start + BATCH; i++) {
                      requests.append(ProfileWire.block("update m:" + i + " <n>", update(i)));
                    }
                    own.send(requests.toString());
                    for (int i = start; i < start + BATCH; i++) {
                      assertEquals("UPDATED\r\n", own.readLine(), "update m:" + i);
                    }
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              });
      t.start();
      writers.add(t);
    }
    for (Thread t : writers) {
      t.join(60_000);
    }
    if (failure.get() != null) {
      throw new AssertionError("a writer failed", failure.get());
    }
    assertUnderTheCap("after concurrent updates");
    assertTrue(
        Long.parseLong(wire.stat("evictions")) > evictionsBefore,
        "growing profiles must evict more");
    assertSegmentsHoldExactlyTheReadableProfiles(1);
  }

  /**
   * The cap is only as good as the accounting behind it: after writes that are refused, replayed,
   * overwritten by opaque values and back, and then a delete of every key, the cache must hold
   * exactly nothing: zero bytes, zero items, zero profiles, empty segments.
   */
  @Test
  void shouldAccountEveryByteSoThatDeletingEverythingLeavesZero() {
    assertEquals(0, wire.define("all", "exists(n)"));
    int keys = 3_000;
    StringBuilder requests = new StringBuilder();
    int replies = 0;
    for (int i = 0; i < keys; i++) {
      String key = "a:" + i;
      requests.append(ProfileWire.block("set " + key + " 0 0 <n>", profile(i)));
      requests.append(
          ProfileWire.block(
              "update " + key + " <n>", "{\"incr\":{\"n\":1},\"producer\":\"p\",\"seq\":5}"));
      requests.append(
          ProfileWire.block(
              "update " + key + " <n>",
              "{\"set\":{\"pad\":\"" + PAD + "\"},\"producer\":\"p\",\"seq\":5}"));
      requests.append(
          ProfileWire.block(
              "update " + key + " <n>",
              "{\"add\":{\"n\":[\"x\"]},\"set\":{\"pad\":\"" + PAD + "\"}}"));
      // Truncated JSON: refused with the profile flags (even keys), an opaque value without.
      requests.append(
          ProfileWire.block(
              "set " + key + (i % 2 == 0 ? " 2003304450" : " 0") + " 0 <n>", "{\"n\": "));
      replies += 5;
      switch (i % 4) {
        case 0 -> requests.append(ProfileWire.block("set " + key + " 0 0 <n>", "opaque " + PAD));
        case 1 -> {
          requests.append(ProfileWire.block("set " + key + " 0 0 <n>", "opaque"));
          requests.append(ProfileWire.block("set " + key + " 0 0 <n>", profile(i)));
          replies++;
        }
        case 2 ->
            requests.append(
                ProfileWire.block(
                    "update " + key + " <n>", "{\"set\":{\"more\":\"" + PAD + PAD + "\"}}"));
        default -> requests.append("touch " + key + " 100\r\n");
      }
      replies++;
    }
    conn.send(requests.toString());
    for (int i = 0; i < replies; i++) {
      String line = conn.readLine();
      assertTrue(
          line.equals("STORED\r\n")
              || line.equals("UPDATED\r\n")
              || line.equals("IGNORED\r\n")
              || line.equals("TOUCHED\r\n")
              || line.startsWith("CLIENT_ERROR bad "),
          line);
    }
    assertUnderTheCap("after mixed writes");
    assertTrue(Long.parseLong(wire.stat("bytes")) > 0);
    StringBuilder deletes = new StringBuilder();
    for (int i = 0; i < keys; i++) {
      deletes.append("delete a:").append(i).append("\r\n");
    }
    conn.send(deletes.toString());
    for (int i = 0; i < keys; i++) {
      String line = conn.readLine();
      assertTrue(line.equals("DELETED\r\n") || line.equals("NOT_FOUND\r\n"), line);
    }
    assertEquals("0", wire.stat("curr_items"));
    assertEquals("0", wire.stat("bytes"), "bytes left over after every item was deleted");
    assertEquals(0, wire.count("segcount", "all"));
    assertEquals(0, node.node().engine().size());
  }

  private void assertUnderTheCap(String when) {
    long bytes = Long.parseLong(wire.stat("bytes"));
    long limit = Long.parseLong(wire.stat("limit_maxbytes"));
    assertEquals(MEMORY_BYTES, limit);
    assertTrue(bytes <= limit, when + ": " + bytes + " bytes used, cap " + limit);
  }

  /**
   * Reads every key with multi-gets, then checks each segment's size and members, a filter, a
   * virtual key, {@code curr_items} and the engine's profile count against the keys that read.
   */
  private void assertSegmentsHoldExactlyTheReadableProfiles(int phase) {
    Set<String> readable = new TreeSet<>();
    for (int start = 0; start < KEYS; start += 200) {
      StringBuilder get = new StringBuilder("get");
      for (int i = start; i < start + 200; i++) {
        get.append(" m:").append(i);
      }
      conn.send(get.append("\r\n").toString());
      for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
        String[] header = line.trim().split(" ");
        assertEquals("VALUE", header[0], line);
        conn.read(Integer.parseInt(header[3]) + 2);
        readable.add(header[1]);
      }
    }
    String when = "phase " + phase + ", " + readable.size() + " of " + KEYS + " profiles readable";
    assertTrue(readable.size() < KEYS, when + ": nothing was evicted");
    assertTrue(readable.size() > KEYS / 20, when + ": eviction emptied the cache");

    Set<String> even = new TreeSet<>();
    Set<String> vipBuyers = new TreeSet<>();
    for (String key : readable) {
      int i = Integer.parseInt(key.substring(2));
      if (even(i, phase)) {
        even.add(key);
      }
      if (vip(i, phase)) {
        vipBuyers.add(key);
      }
    }
    assertEquals(readable.size(), wire.count("segcount", "all"), when + ": size of all");
    assertEquals(
        new TreeSet<>(wire.members("segmembers", "all", 100_000)),
        readable,
        when + ": members of all");
    assertEquals(even.size(), wire.count("segcount", "even"), when + ": size of even");
    assertEquals(
        new TreeSet<>(wire.members("segmembers", "even", 5_000)), even, when + ": members of even");
    assertEquals(
        vipBuyers.size(), wire.count("segcount", "vip-buyers"), when + ": size of vip-buyers");
    assertEquals(
        readable.size() - even.size(),
        wire.count("segcount", "all and not even"),
        when + ": all and not even");
    assertEquals(
        readable.size(), wire.count("filtercount", "exists(n)"), when + ": filter exists(n)");
    assertEquals(
        Integer.toString(readable.size()), wire.get("_whack/size/all"), when + ": _whack/size/all");
    assertEquals(Integer.toString(readable.size()), wire.stat("curr_items"), when + ": curr_items");
    assertEquals(
        readable.size(), node.node().engine().size(), when + ": profiles the engine still holds");
  }
}

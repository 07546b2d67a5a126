package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code itemdump}: a node's opaque items with their values, paged, on a real node and socket. */
class ItemDumpTest {
  private ManualClock clock;
  private EmbeddedNode node;
  private RawConnection conn;

  @BeforeEach
  void start() {
    clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    node = EmbeddedNode.startWithClock(clock, c -> {});
    conn = node.connect();
  }

  @AfterEach
  void stop() {
    conn.close();
    node.close();
  }

  /** One listed item, its key as the line writes it. */
  private record Listed(String key, long flags, long ttl, byte[] value) {}

  private record Page(List<Listed> items, String next) {}

  private Page page(int limit, String cursor) {
    conn.send("itemdump " + limit + (cursor == null ? "" : " " + cursor) + "\r\n");
    List<Listed> items = new ArrayList<>();
    while (true) {
      String line = conn.readLine();
      if (line.equals("END\r\n")) {
        return new Page(items, null);
      }
      if (line.startsWith("NEXT ")) {
        return new Page(items, line.substring(5, line.length() - 2));
      }
      String[] parts = line.substring(0, line.length() - 2).split(" ");
      assertEquals(5, parts.length, line);
      assertEquals("ITEM", parts[0], line);
      byte[] data = conn.read(Integer.parseInt(parts[4]) + 2);
      assertEquals('\r', data[data.length - 2]);
      assertEquals('\n', data[data.length - 1]);
      items.add(
          new Listed(
              parts[1],
              Long.parseLong(parts[2]),
              Long.parseLong(parts[3]),
              java.util.Arrays.copyOf(data, data.length - 2)));
    }
  }

  /** Every item, page after page; the keys in the order listed (repeats kept). */
  private List<Listed> dumpAll(int limit) {
    List<Listed> all = new ArrayList<>();
    String cursor = null;
    do {
      Page p = page(limit, cursor);
      all.addAll(p.items());
      cursor = p.next();
    } while (cursor != null);
    return all;
  }

  private void set(String key, long flags, long exptime, byte[] value) {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(
        ("set " + key + " " + flags + " " + exptime + " " + value.length + "\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    request.writeBytes(value);
    request.writeBytes("\r\n".getBytes(StandardCharsets.ISO_8859_1));
    conn.send(request.toByteArray());
    assertEquals("STORED\r\n", conn.readLine());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldListOpaqueItemsWithFlagsRemainingTtlAndValuesButNoProfiles() {
    byte[] everyByte = new byte[256 * 2];
    for (int i = 0; i < everyByte.length; i++) {
      everyByte[i] = (byte) i; // CR, LF and "END\r\n" inside a value must not end the listing
    }
    set("binary", 4_294_967_295L, 100, everyByte);
    set("plain", 42, 0, bytes("hello"));
    set("100%", 0, 0, bytes("percent"));
    set("user:\u00c3\u00b6", 7, 0, bytes("utf-8 key")); // the UTF-8 bytes of "user:ö"
    set("empty", 0, 0, new byte[0]);
    set("not-a-profile", 0, 0, bytes("{\"a\":{\"b\":1}}")); // JSON kept opaque
    set("profile", 0, 0, bytes("{\"country\":\"DK\"}")); // segdump's, not itemdump's
    String spaced = Base64.getEncoder().encodeToString(bytes("a key\r\n"));
    conn.send("ms " + spaced + " 3 b F9\r\nabc\r\n");
    assertEquals("HD\r\n", conn.readLine());
    clock.advanceSeconds(40);

    Map<String, Listed> byKey = new HashMap<>();
    for (Listed item : dumpAll(100)) {
      assertEquals(null, byKey.put(item.key(), item), item.key() + " listed twice");
    }
    assertEquals(
        java.util.Set.of(
            "binary", "plain", "100%25", "user:%C3%B6", "empty", "not-a-profile", "a%20key%0D%0A"),
        byKey.keySet());
    assertArrayEquals(everyByte, byKey.get("binary").value());
    assertEquals(4_294_967_295L, byKey.get("binary").flags());
    assertEquals(60, byKey.get("binary").ttl(), "remaining seconds");
    assertEquals(42, byKey.get("plain").flags());
    assertEquals(0, byKey.get("plain").ttl(), "0: never expires");
    assertArrayEquals(bytes("{\"a\":{\"b\":1}}"), byKey.get("not-a-profile").value());
    assertArrayEquals(new byte[0], byKey.get("empty").value());
    assertEquals(9, byKey.get("a%20key%0D%0A").flags());
  }

  @Test
  void shouldLeaveOutExpiredAndFlushedItems() {
    set("short", 0, 10, bytes("x"));
    set("long", 0, 1000, bytes("y"));
    clock.advanceSeconds(10);
    List<Listed> listed = dumpAll(10);
    assertEquals(List.of("long"), listed.stream().map(Listed::key).toList());

    conn.send("flush_all\r\n");
    assertEquals("OK\r\n", conn.readLine());
    set("after", 0, 0, bytes("z"));
    assertEquals(List.of("after"), dumpAll(10).stream().map(Listed::key).toList());
  }

  /**
   * Items written between pages double the stripes' tables several times (64 stripes of 256 buckets
   * to start with); every item there from the first page to the last is listed, exactly once. A
   * cursor that counted items walked, or bucket indexes in plain order, would skip some or list
   * some twice as the tables grow.
   */
  @Test
  void shouldListEveryItemPresentThroughoutOnceWhileTablesGrow() {
    int kept = 3_000;
    for (int i = 0; i < kept; i++) {
      conn.send("set kept:" + i + " 0 0 1 noreply\r\nk\r\n");
    }
    conn.send("mn\r\n");
    assertEquals("MN\r\n", conn.readLine());

    Map<String, Integer> seen = new HashMap<>();
    String cursor = null;
    int added = 0;
    int pages = 0;
    do {
      Page p = page(20, cursor);
      pages++;
      for (Listed item : p.items()) {
        seen.merge(item.key(), 1, Integer::sum);
      }
      cursor = p.next();
      if (added < 60_000) {
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 400; i++, added++) {
          batch.append("set new:").append(added).append(" 0 0 1 noreply\r\nn\r\n");
        }
        conn.send(batch.append("mn\r\n").toString());
        assertEquals("MN\r\n", conn.readLine());
      }
    } while (cursor != null);

    assertTrue(added >= 60_000, "the dump should outlast the writes: " + pages + " pages");
    for (int i = 0; i < kept; i++) {
      assertEquals(1, seen.getOrDefault("kept:" + i, 0), "kept:" + i);
    }
  }

  @Test
  void shouldEndAPageOnceItsValuesReachEightMebibytesAndWriteItInPieces() {
    byte[] mebibyte = new byte[1 << 20];
    java.util.Arrays.fill(mebibyte, (byte) 'v');
    for (int i = 0; i < 12; i++) {
      set("big:" + i, 0, 0, mebibyte);
    }
    List<Listed> all = new ArrayList<>();
    Page first = page(100, null);
    assertTrue(first.items().size() < 12, "a page stops at 8 MiB of values");
    assertTrue(first.next() != null);
    all.addAll(first.items());
    for (String cursor = first.next(); cursor != null; ) {
      Page p = page(100, cursor);
      all.addAll(p.items());
      cursor = p.next();
    }
    assertEquals(12, all.size());
    for (Listed item : all) {
      assertArrayEquals(mebibyte, item.value(), item.key());
    }
  }

  @Test
  void shouldRejectBadItemdumpArgumentsAndKeepServing() {
    set("a", 0, 0, bytes("1"));
    String usage = "CLIENT_ERROR usage: itemdump <limit> [<cursor>]\r\n";
    conn.send("itemdump\r\n");
    assertEquals(usage, conn.readLine());
    conn.send("itemdump 10 0 extra\r\n");
    assertEquals(usage, conn.readLine());
    for (String limit : List.of("0", "-1", "100001", "ten", "99999999999999999999")) {
      conn.send("itemdump " + limit + "\r\n");
      assertEquals("CLIENT_ERROR bad limit\r\n", conn.readLine(), limit);
    }
    String beyondLastStripe = Long.toString(64L << 32);
    for (String cursor : List.of("x", "-1", "1.5", beyondLastStripe, "18446744073709551615")) {
      conn.send("itemdump 10 " + cursor + "\r\n");
      assertEquals("CLIENT_ERROR bad cursor\r\n", conn.readLine(), cursor);
    }
    conn.send("get a\r\n");
    assertEquals("VALUE a 0 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
    assertEquals(1, dumpAll(1).size());
  }

  @Test
  void shouldAnswerTheLocalFormAsThePlainOne() {
    set("a", 3, 0, bytes("1"));
    conn.send("local itemdump 5\r\n");
    assertEquals("ITEM a 3 0 1\r\n", conn.readLine());
    assertEquals("1\r\n", conn.readLine());
    assertEquals("END\r\n", conn.readLine());
  }
}

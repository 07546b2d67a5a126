package dev.whack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.DumpedItem;
import dev.whack.client.Item;
import dev.whack.client.WhackClient;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opaque memcached items through {@code whack dump} and {@code whack load}, on real nodes. */
class DumpItemsTest {
  @TempDir Path dir;

  /** An item as written, and the TTL it was given. */
  private record Written(byte[] value, int flags, int ttlSeconds) {}

  /**
   * Items of every kind a memcached client writes: binary values (one with all 256 byte values),
   * flags up to 2^32-1, no expiry, a short one, one past memcached's 30 days of relative expiry;
   * keys that a listing percent-encodes and a JSON string escapes.
   */
  private static Map<String, Written> items() {
    Map<String, Written> items = new HashMap<>();
    byte[] everyByte = new byte[256];
    for (int i = 0; i < 256; i++) {
      everyByte[i] = (byte) i;
    }
    items.put("bytes", new Written(everyByte, -1, 0));
    items.put("user:\u00f6", new Written(utf8("utf-8 key"), 7, 600));
    items.put("100%", new Written(utf8("percent"), 0, 0));
    items.put("say\"hi\"\\", new Written(utf8("quote and backslash"), 1, 0));
    items.put("long-lived", new Written(utf8("sixty days"), 2, 60 * 24 * 3600));
    items.put("empty", new Written(new byte[0], 0, 0));
    items.put("json-not-profile", new Written(utf8("{\"a\":{\"b\":1}}"), 0, 0));
    SplittableRandom random = new SplittableRandom(14);
    for (int i = 0; i < 300; i++) {
      byte[] value = new byte[random.nextInt(2000)];
      random.nextBytes(value);
      if (value.length > 0 && value[0] == '{') {
        value[0] = 0; // a value starting with '{' could be taken for a profile
      }
      items.put("item:" + i, new Written(value, random.nextInt(), i % 3 == 0 ? 3600 : 0));
    }
    return items;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static WhackClient client(EmbeddedNode a, EmbeddedNode b) {
    return WhackClient.builder().servers(a.address() + "," + b.address()).build();
  }

  /** What every item of the cluster looks like in a dump of it, by key. */
  private static Map<String, DumpedItem> dumped(WhackClient client) {
    try (var stream = client.dumpItems(7)) {
      return stream.collect(Collectors.toMap(DumpedItem::key, d -> d));
    }
  }

  @Test
  void shouldCarryItemsWithFlagsAndTtlThroughDumpAndLoadInNdjsonAndProtobuf() throws IOException {
    Map<String, Written> items = items();
    Path ndjson = dir.resolve("all.ndjson");
    Path proto = dir.resolve("all.pb.gz");
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start();
        WhackClient client = client(a, b)) {
      for (Map.Entry<String, Written> e : items.entrySet()) {
        Written w = e.getValue();
        int exptime =
            w.ttlSeconds() > 30 * 24 * 3600 // memcached's rule: past 30 days, a Unix time
                ? (int) (System.currentTimeMillis() / 1000 + w.ttlSeconds())
                : w.ttlSeconds();
        client.blocking().set(e.getKey(), w.value(), w.flags(), exptime);
      }
      client.blocking().setProfile("profile:1", "{\"country\":\"DK\"}");
      Cli cli = new Cli(a.address() + "," + b.address());
      assertEquals(0, cli.run("segment", "define", "dk", "country == \"DK\"").exitCode());
      Cli.Run dump = cli.run("dump", "-o", ndjson.toString());
      assertEquals(0, dump.exitCode(), dump.toString());
      assertTrue(
          dump.out().startsWith("dumped 1 profile and " + (items.size()) + " items to " + ndjson),
          dump.out());
      assertEquals(0, cli.run("dump", "-o", proto.toString()).exitCode());
    }
    List<String> lines = Files.readAllLines(ndjson);
    assertTrue(lines.get(0).startsWith("{\"segment\":"), lines.get(0));
    assertTrue(lines.get(1).startsWith("{\"key\":\"profile:1\",\"profile\":"), lines.get(1));
    assertTrue(
        lines.contains(
            "{\"key\":\"100%\",\"item\":{\"value\":\"cGVyY2VudA==\",\"flags\":0,\"ttl\":0}}"),
        "items come after the profiles, the value in base64");

    for (Path file : List.of(ndjson, proto)) {
      try (EmbeddedNode a = EmbeddedNode.start();
          EmbeddedNode b = EmbeddedNode.start();
          WhackClient client = client(a, b)) {
        Cli cli = new Cli(a.address() + "," + b.address());
        Cli.Run load = cli.run("load", file.toString());
        assertEquals(0, load.exitCode(), load.toString());
        assertTrue(
            load.out().contains("(1 profiles, 0 updates, " + items.size() + " items, 1 segment)"),
            load.out());
        assertEquals("1\n", cli.run("segment", "count", "dk").out());
        Map<String, DumpedItem> reloaded = dumped(client);
        assertEquals(items.keySet(), reloaded.keySet(), file.toString());
        for (Map.Entry<String, Written> e : items.entrySet()) {
          String key = e.getKey();
          Written w = e.getValue();
          Item got = client.blocking().get(key).orElseThrow();
          assertArrayEquals(w.value(), got.value(), key);
          assertEquals(w.flags(), got.flags(), key);
          long ttl = reloaded.get(key).ttlSeconds();
          if (w.ttlSeconds() == 0) {
            assertEquals(0, ttl, key + " never expires");
          } else {
            assertTrue(
                ttl <= w.ttlSeconds() && ttl >= w.ttlSeconds() - 5,
                key + ": " + ttl + " left of " + w.ttlSeconds());
          }
        }
      }
    }
  }

  @Test
  void shouldDumpItemsOnlyOrNoItemsOrOnlyASegmentsProfiles() throws IOException {
    try (EmbeddedNode a = EmbeddedNode.start();
        EmbeddedNode b = EmbeddedNode.start();
        WhackClient client = client(a, b)) {
      client.blocking().set("plain", utf8("v"), 3, 0);
      client.blocking().setProfile("p", "{\"country\":\"DK\"}");
      Cli cli = new Cli(a.address() + "," + b.address());
      assertEquals(0, cli.run("segment", "define", "dk", "country == \"DK\"").exitCode());

      Cli.Run itemsOnly = cli.run("dump", "--items-only");
      assertEquals(0, itemsOnly.exitCode(), itemsOnly.toString());
      assertEquals(
          "{\"key\":\"plain\",\"item\":{\"value\":\"dg==\",\"flags\":3,\"ttl\":0}}\n",
          itemsOnly.out());

      Cli.Run noItems = cli.run("dump", "--no-items");
      assertEquals(2, noItems.lines().size(), noItems.out());
      assertTrue(noItems.lines().get(0).startsWith("{\"segment\":"), noItems.out());
      assertTrue(noItems.lines().get(1).startsWith("{\"key\":\"p\",\"profile\":"), noItems.out());

      Cli.Run segment = cli.run("dump", "--segment", "dk");
      assertEquals(List.of("{\"key\":\"p\",\"profile\":{\"country\":\"DK\"}}"), segment.lines());

      Cli.Run json =
          cli.run("dump", "--items-only", "-o", dir.resolve("i.ndjson").toString(), "--json");
      assertTrue(
          json.out().startsWith("{\"profiles\":0,\"items\":1,\"items_skipped\":0,"), json.out());

      Cli.Run both = cli.run("dump", "--items-only", "--segment", "dk");
      assertEquals(2, both.exitCode(), both.toString());
    }
  }

  @Test
  void shouldReportBadItemRecordsWithTheirLine() throws IOException {
    Path file = dir.resolve("bad.ndjson");
    Files.writeString(
        file,
        String.join(
            "\n",
            "{\"key\":\"ok\",\"item\":{\"value\":\"aGk=\",\"flags\":5,\"ttl\":0}}",
            "{\"key\":\"b64\",\"item\":{\"value\":\"not base64!\"}}",
            "{\"key\":\"flags\",\"item\":{\"value\":\"aGk=\",\"flags\":4294967296}}",
            "{\"key\":\"ttl\",\"item\":{\"value\":\"aGk=\",\"ttl\":-3}}",
            "{\"key\":\"none\",\"item\":{\"flags\":1}}",
            "{\"key\":\"extra\",\"item\":{\"value\":\"aGk=\",\"cas\":12}}",
            "{\"key\":\"last\",\"item\":{\"value\":\"\"}}",
            ""));
    try (EmbeddedNode node = EmbeddedNode.start();
        WhackClient client = WhackClient.builder().servers(node.address()).build()) {
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("load", "--skip-bad", file.toString());
      assertEquals(0, run.exitCode(), run.toString());
      List<String> err = run.err().lines().toList();
      assertEquals(5, err.size(), run.err());
      assertTrue(err.get(0).startsWith("whack load: " + file + ": line 2: bad item: "), err.get(0));
      assertEquals(
          "whack load: "
              + file
              + ": line 3: bad item: \"flags\" is 0 to 4294967295, got 4294967296",
          err.get(1));
      assertEquals(
          "whack load: " + file + ": line 4: bad item: \"ttl\" is not negative, got -3",
          err.get(2));
      assertEquals(
          "whack load: " + file + ": line 5: bad item: an item has a \"value\"", err.get(3));
      assertEquals(
          "whack load: "
              + file
              + ": line 6: bad item: unknown item member \"cas\" (expected value, flags, ttl)",
          err.get(4));
      assertEquals(new Item(utf8("hi"), 5), client.blocking().get("ok").orElseThrow());
      assertEquals(new Item(new byte[0], 0), client.blocking().get("last").orElseThrow());
    }
  }

  @Test
  void shouldLeaveOutItemsWhoseKeysALoadCannotSendAndSaySo() {
    try (EmbeddedNode node = EmbeddedNode.start();
        RawConnection raw = node.connect()) {
      for (byte[] key : List.of(utf8("a key"), new byte[] {'k', (byte) 0xff}, utf8("fine"))) {
        raw.send("ms " + Base64.getEncoder().encodeToString(key) + " 1 b\r\nv\r\n");
        assertEquals("HD\r\n", raw.readLine());
      }
      Cli cli = new Cli(node.address());
      Cli.Run run = cli.run("dump", "--items-only", "-o", dir.resolve("i.ndjson").toString());
      assertEquals(0, run.exitCode(), run.toString());
      assertEquals(
          List.of(
              "whack dump: left out an item: a key cannot contain spaces or control characters: a key",
              "whack dump: left out an item: its key is not UTF-8 text: k\ufffd"),
          run.err().lines().sorted().toList());
      assertTrue(
          run.out().startsWith("dumped 1 item to ")
              && run.out().endsWith("; 2 items left out (keys a load cannot send)\n"),
          run.out());
    }
  }
}

package dev.whack.node.keyspace;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.testing.ManualClock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The keyspace against a model: random mixes of set, update, delete, touch, reads, time passing
 * (lazy and timed expiry), eviction under a small memory cap and flush_all, over opaque values and
 * profiles on the same keys, leave after every step
 *
 * <ul>
 *   <li>the index equal to the model: every key the model holds is there with the model's value (an
 *       opaque value byte for byte, a profile as its canonical JSON), or was evicted, which the
 *       eviction counter must account for; no key the model lacks is there;
 *   <li>the memory accounting equal to the sum of the items' sizes, and the engine holding exactly
 *       the profile items (each item is the one index entry of its profile: its value is rendered
 *       through the ordinal it carries, and the engine has as many profiles as there are profile
 *       items);
 *   <li>every segment's members equal to a brute-force evaluation of the model's profiles.
 * </ul>
 */
class KeyspaceProperties {
  private static final int KEYS = 48;
  private static final String[] COUNTRIES = {"DK", "SE", "NO"};

  /** What the model expects under a key. */
  private static final class Entry {
    byte[] opaque; // null for a profile
    final LinkedHashMap<String, Object> attributes = new LinkedHashMap<>();
    long expiresAtSeconds; // 0 for never

    String json() {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<String, Object> a : attributes.entrySet()) {
        b.append(b.length() > 1 ? "," : "").append('"').append(a.getKey()).append("\":");
        Object v = a.getValue();
        b.append(v instanceof String s ? "\"" + s + "\"" : v.toString());
      }
      return b.append('}').toString();
    }
  }

  @Property(tries = 60)
  void keyspaceEqualsModel(@ForAll long seed) {
    Random r = new Random(seed);
    ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    ProfileEngine engine = new ProfileEngine(new EngineConfig().clock(clock).lockStripes(4));
    engine.define("dk", "country == \"DK\"");
    engine.define("adults", "age >= 18");
    // Small enough that a few large opaque values evict, large enough for every key's profile.
    Keyspace keyspace = new Keyspace(clock, 12_000 + r.nextInt(8_000), 1 << 20, engine);
    KeyspaceSession keys = keyspace.session();
    Outcome out = new Outcome();
    Map<String, Entry> model = new HashMap<>();
    long evictionsSeen = 0;

    for (int step = 0; step < 300; step++) {
      String key = "k" + r.nextInt(KEYS);
      byte[] k = key.getBytes(UTF_8);
      long now = clock.millis() / 1000;
      int op = r.nextInt(20);
      if (op < 4) { // set an opaque value, some of them JSON that is not a profile (issue 12)
        byte[] value = new byte[r.nextInt(3) == 0 ? 500 + r.nextInt(3000) : r.nextInt(40)];
        for (int i = 0; i < value.length; i++) {
          value[i] = (byte) ('a' + r.nextInt(26));
        }
        if (r.nextInt(3) == 0) {
          value = ("{\"a\":{\"b\":\"" + new String(value, UTF_8) + "\"}}").getBytes(UTF_8);
        }
        long exptime = exptime(r);
        assertEquals(Status.STORED, set(keys, k, value, exptime, out));
        Entry e = new Entry();
        e.opaque = value;
        put(model, key, e, exptime, now);
      } else if (op < 8) { // set a whole profile
        Entry e = new Entry();
        e.attributes.put("country", COUNTRIES[r.nextInt(COUNTRIES.length)]);
        if (r.nextBoolean()) {
          e.attributes.put("age", r.nextInt(40));
        }
        long exptime = exptime(r);
        assertEquals(Status.STORED, set(keys, k, e.json().getBytes(UTF_8), exptime, out));
        put(model, key, e, exptime, now);
      } else if (op < 12) { // a partial update: creates a missing profile, refuses an opaque value
        int age = r.nextInt(40);
        byte[] body = ("{\"set\":{\"age\":" + age + "}}").getBytes(UTF_8);
        Entry e = model.get(key);
        if (e != null && e.opaque != null) {
          ProfileRejectedException refused =
              assertThrows(
                  ProfileRejectedException.class,
                  () -> keys.update(k, 0, k.length, body, 0, body.length, false, out));
          assertTrue(refused.getMessage().startsWith("not a profile: "), refused.getMessage());
        } else {
          Status status = keys.update(k, 0, k.length, body, 0, body.length, false, out);
          assertEquals(Status.STORED, status);
          if (e == null) {
            e = new Entry();
            model.put(key, e);
          }
          e.attributes.put("age", age);
        }
      } else if (op < 14) {
        Status status = keys.delete(k, 0, k.length, 0);
        assertEquals(model.remove(key) != null ? Status.DELETED : Status.NOT_FOUND, status);
      } else if (op < 16) {
        long exptime = exptime(r);
        boolean hit = keys.touch(k, 0, k.length, exptime, out);
        Entry e = model.get(key);
        assertEquals(e != null, hit, key);
        if (e != null) {
          put(model, key, e, exptime, now);
        }
      } else if (op < 18) { // a read bumps the item in its stripe's LRU
        boolean hit = keys.get(k, 0, k.length, out);
        assertEquals(model.containsKey(key), hit, key);
      } else if (op < 19) {
        clock.advanceMillis(r.nextInt(2500));
        if (r.nextBoolean()) {
          keyspace.runTimers(); // timed expiry; otherwise the checks below expire lazily
        }
        long later = clock.millis() / 1000;
        model.values().removeIf(e -> e.expiresAtSeconds != 0 && e.expiresAtSeconds <= later);
      } else {
        keys.flushAll(0);
        model.clear();
      }
      evictionsSeen = check(keyspace, engine, model, evictionsSeen, seed, step);
    }
  }

  private static long exptime(Random r) {
    return switch (r.nextInt(6)) {
      case 0 -> 1 + r.nextInt(4);
      case 1 -> -1; // stored already expired
      default -> 0;
    };
  }

  private static Status set(KeyspaceSession keys, byte[] k, byte[] value, long exptime, Outcome o) {
    return keys.store(StoreMode.SET, k, 0, k.length, 0, exptime, value, 0, false, false, o);
  }

  private static void put(Map<String, Entry> model, String key, Entry e, long exptime, long now) {
    if (exptime < 0) {
      model.remove(key);
      return;
    }
    e.expiresAtSeconds = exptime == 0 ? 0 : now + exptime;
    model.put(key, e);
  }

  /** Checks the three invariants; returns the evictions accounted for so far. */
  private static long check(
      Keyspace keyspace,
      ProfileEngine engine,
      Map<String, Entry> model,
      long evictionsSeen,
      long seed,
      int step) {
    String where = "seed " + seed + ", step " + step;
    KeyspaceSession keys = keyspace.session();
    Outcome out = new Outcome();
    long bytes = 0;
    int profileItems = 0;
    List<String> evicted = new ArrayList<>();
    for (int i = 0; i < KEYS; i++) {
      String key = "k" + i;
      byte[] k = key.getBytes(UTF_8);
      Entry e = model.get(key);
      // peek expires lazily what is due, as any access does, and leaves the LRU alone
      boolean present = keys.peek(k, 0, k.length, true, out);
      if (!present) {
        if (e != null) {
          evicted.add(key);
        }
        continue;
      }
      assertNotNull(e, key + " is there but the model lacks it, " + where);
      Item item = out.item;
      bytes += item.sizeBytes();
      if (e.opaque != null) {
        assertTrue(!item.isProfile(), key + " should be opaque, " + where);
        assertArrayEquals(e.opaque, out.value, key + ", " + where);
      } else {
        assertTrue(item.isProfile(), key + " should be a profile, " + where);
        profileItems++;
        assertEquals(e.json(), new String(out.value, UTF_8), key + ", " + where);
      }
    }
    long evictions = keyspace.evictions();
    assertTrue(
        evicted.size() <= evictions - evictionsSeen,
        evicted + " are gone but only " + (evictions - evictionsSeen) + " evictions, " + where);
    for (String key : evicted) {
      model.remove(key);
    }
    assertEquals(bytes, keyspace.bytesUsed(), "memory accounting, " + where);
    assertEquals(profileItems, engine.size(), "profiles in the engine, " + where);
    assertEquals(bruteForce(model, "dk"), members(engine, "dk"), "dk, " + where);
    assertEquals(bruteForce(model, "adults"), members(engine, "adults"), "adults, " + where);
    return evictions;
  }

  private static TreeSet<String> members(ProfileEngine engine, String segment) {
    return new TreeSet<>(engine.members(segment, null, 1000).keys());
  }

  private static TreeSet<String> bruteForce(Map<String, Entry> model, String segment) {
    TreeSet<String> in = new TreeSet<>();
    for (Map.Entry<String, Entry> m : model.entrySet()) {
      Entry e = m.getValue();
      if (e.opaque != null) {
        continue;
      }
      boolean member =
          segment.equals("dk")
              ? "DK".equals(e.attributes.get("country"))
              : e.attributes.get("age") instanceof Integer age && age >= 18;
      if (member) {
        in.add(m.getKey());
      }
    }
    return in;
  }
}

package dev.whack.client.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HashRingTest {
  private static final List<String> THREE =
      List.of("10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211");

  /**
   * Pinned key-to-member table: a client in another language that follows docs/cluster.md must
   * produce exactly these owners. If this test changes, every deployed client routes differently.
   */
  @Test
  void shouldRouteThePublishedTestVectors() {
    HashRing ring = HashRing.of(THREE);
    Map<String, String> expected = TestVectors.THREE_MEMBERS;
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertEquals(e.getValue(), ring.owner(e.getKey()), "owner of " + e.getKey());
    }
  }

  @Test
  void shouldHashKeysWithXxh3Seed0() {
    for (Map.Entry<String, Long> e : TestVectors.HASHES.entrySet()) {
      assertEquals(
          (long) e.getValue(),
          HashRing.hash(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8)),
          "hash of '" + e.getKey() + "'");
    }
  }

  @Test
  void shouldNotDependOnMemberOrderOrDuplicates() {
    HashRing a = HashRing.of(THREE);
    HashRing b = HashRing.of(List.of(THREE.get(2), THREE.get(0), THREE.get(1), THREE.get(0)));
    for (int i = 0; i < 10_000; i++) {
      String key = "user:" + i;
      assertEquals(a.owner(key), b.owner(key));
    }
  }

  @Test
  void shouldMoveAboutAQuarterOfKeysWhenAFourthMemberJoins() {
    HashRing three = HashRing.of(THREE);
    HashRing four = three.with("10.0.0.4:11211");
    int keys = 200_000;
    int moved = 0;
    for (int i = 0; i < keys; i++) {
      String key = "user:" + i;
      String before = three.owner(key);
      String after = four.owner(key);
      if (!before.equals(after)) {
        moved++;
        assertEquals("10.0.0.4:11211", after, "a key may only move to the new member");
      }
    }
    double share = (double) moved / keys;
    assertTrue(share > 0.20 && share < 0.30, "moved share " + share);
  }

  @Test
  void shouldSpreadKeysEvenlyEnough() {
    HashRing ring = HashRing.of(THREE);
    Map<String, Integer> counts = new HashMap<>();
    int keys = 300_000;
    for (int i = 0; i < keys; i++) {
      counts.merge(ring.owner("profile-" + i), 1, Integer::sum);
    }
    for (int count : counts.values()) {
      double share = (double) count / keys;
      assertTrue(share > 0.28 && share < 0.39, "share " + share + " in " + counts);
    }
  }

  @Test
  void shouldRefuseAnEmptyRing() {
    assertThrows(IllegalArgumentException.class, () -> HashRing.of(List.of()));
  }
}

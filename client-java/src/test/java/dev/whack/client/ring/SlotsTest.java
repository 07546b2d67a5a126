package dev.whack.client.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The slot function (Kafka's default partitioner) and the cluster map's text form. The vectors are
 * the ones docs/cluster.md publishes; the node's tests check the same function against Kafka's own
 * {@code Utils.murmur2}.
 */
class SlotsTest {
  /** key, murmur2 (hex), slot of 16, slot of 256. */
  private static final Object[][] VECTORS = {
    {"", 0x106e08d9, 9, 217},
    {"a", 0xa2d0b27c, 12, 124},
    {"user:1", 0x6ac54826, 6, 38},
    {"user:2", 0xef6898f1, 1, 241},
    {"user:42", 0xa6fa4aad, 13, 173},
    {"profile:1000", 0x4526b4ea, 10, 234},
    {"segment", 0x6d36ec66, 6, 102},
    {"ünïcödé", 0x0c017203, 3, 3},
    {"k".repeat(250), 0xac78ce20, 0, 32},
  };

  @Test
  void shouldHashAndSlotThePublishedTestVectors() {
    for (Object[] v : VECTORS) {
      byte[] key = ((String) v[0]).getBytes(StandardCharsets.UTF_8);
      assertEquals((int) v[1], Slots.murmur2(key, 0, key.length), "murmur2 of " + v[0]);
      assertEquals((int) v[2], Slots.slotOf(key, 16), "slot of 16 for " + v[0]);
      assertEquals((int) v[3], Slots.slotOf(key, 256), "slot of 256 for " + v[0]);
    }
  }

  @Test
  void shouldHashAKeyInsideALargerArrayAsTheKeyAlone() {
    byte[] framed = "get user:42\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] key = "user:42".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Slots.murmur2(key, 0, key.length), Slots.murmur2(framed, 4, key.length));
  }

  @Test
  void shouldRouteBySlotAndSayWhenASlotHasNoOwner() {
    ClusterMap map = twoMembers();
    assertEquals("10.0.0.1:11211", map.ownerOf("user:1")); // slot 6
    assertEquals("10.0.0.2:11211", map.ownerOf("user:2")); // slot 1
    assertNull(map.ownerOf("user:42")); // slot 13 has no owner
    assertEquals(List.of(0, 2, 4, 6, 8, 10, 12, 14), map.slotsOf("10.0.0.1:11211"));
    assertEquals(List.of("10.0.0.2:11211"), map.standbysOf(6));
  }

  @Test
  void shouldReadBackItsOwnTextForm() {
    ClusterMap map = twoMembers();
    List<String> lines = map.lines();
    assertEquals("MAP slots 7 2 16", lines.get(0));
    assertEquals("MEMBER 10.0.0.1:11211", lines.get(1));
    assertEquals("SLOT 6 0 1", lines.get(3 + 6));
    assertEquals("SLOT 13 -", lines.get(3 + 13));
    assertEquals("END", lines.get(lines.size() - 1));
    ClusterMap read = ClusterMap.parse(lines);
    assertEquals(lines, read.lines());
    assertEquals(7, read.epoch());
    assertEquals(3, read.withEpoch(3).epoch());
  }

  @Test
  void shouldCarryASlotInMotionInItsTextForm() {
    ClusterMap map =
        ClusterMap.parse(
            List.of("MAP slots 3 2 2", "MEMBER a:1", "MEMBER b:1", "SLOT 0 0 1 >1", "SLOT 1 1"));
    assertEquals("a:1", map.activeOf(0), "the owner serves it until the copy is warm");
    assertEquals("b:1", map.movingTo(0));
    assertEquals(List.of("b:1"), map.standbysOf(0));
    assertNull(map.movingTo(1));
    assertEquals("SLOT 0 0 1 >1", map.lines().get(3));
    assertThrows(
        IllegalArgumentException.class,
        () -> ClusterMap.parse(List.of("MAP slots 1 1 1", "MEMBER a:1", "SLOT 0 0 >5")));
  }

  @Test
  void shouldReadARingAsTheStaticClustersRing() {
    ClusterMap ring =
        ClusterMap.parse(
            List.of(
                "MAP ring 0 3 0",
                "MEMBER 10.0.0.1:11211",
                "MEMBER 10.0.0.2:11211",
                "MEMBER 10.0.0.3:11211",
                "END"));
    assertTrue(ring.isRing());
    TestVectors.THREE_MEMBERS.forEach((key, owner) -> assertEquals(owner, ring.ownerOf(key), key));
  }

  @Test
  void shouldRefuseAMapThatIsNotAsDocumented() {
    assertThrows(IllegalArgumentException.class, () -> ClusterMap.parse(List.of()));
    assertThrows(
        IllegalArgumentException.class, () -> ClusterMap.parse(List.of("MAP slots 1 1 2", "END")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ClusterMap.parse(List.of("MAP slots 1 1 1", "MEMBER a:1", "SLOT 0 1")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ClusterMap.parse(List.of("MAP slots 1 1 1", "MEMBER a:1", "SLOT 0 x")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ClusterMap.parse(List.of("MAP tree 1 1 1", "MEMBER a:1", "SLOT 0 0")));
  }

  /** Even slots on the first member, odd on the second, slot 13 on none, standbys the other. */
  private static ClusterMap twoMembers() {
    List<String> members = List.of("10.0.0.1:11211", "10.0.0.2:11211");
    int[] active = new int[16];
    int[][] standbys = new int[16][];
    for (int slot = 0; slot < 16; slot++) {
      active[slot] = slot % 2;
      standbys[slot] = new int[] {1 - slot % 2};
    }
    active[13] = ClusterMap.NONE;
    standbys[13] = new int[0];
    return ClusterMap.slots(7, members, active, standbys);
  }
}

package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.ClusterMap;
import dev.whack.client.ring.Slots;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A managed member serves a slot the map gives it only once it has taken it over (docs/cluster.md,
 * "Take-over"): until then reads of its keys and the member's part of cluster-wide answers fail
 * with the reason, never a miss or a short count.
 */
class TakeOverTest {
  private static final String SELF = "127.0.0.1:1";
  private static final String OTHER = "127.0.0.1:2";
  private static final List<String> MEMBERS = List.of(SELF, OTHER);

  @Test
  void shouldServeAGainedSlotOnlyOnceTakenOverAndForgetSlotsItLost() throws Exception {
    try (Cluster cluster = Cluster.managed(SELF, Duration.ofSeconds(1), Duration.ofSeconds(6))) {
      cluster.install(map(1, 0, 0, 1, 1)); // this member gains slots 0 and 1
      assertEquals(List.of(0, 1), cluster.takingOver());
      byte[] inSlot0 = keyIn(0);
      byte[] inSlot1 = keyIn(1);
      assertTrue(cluster.owns(inSlot0, 0, inSlot0.length));
      assertNotNull(cluster.notServingBecause(inSlot0, 0, inSlot0.length));
      assertNotNull(cluster.incompleteBecause(), "a cluster-wide answer would miss slot 0 and 1");

      cluster.tookOver(0);
      assertNull(cluster.notServingBecause(inSlot0, 0, inSlot0.length));
      String why = cluster.notServingBecause(inSlot1, 0, inSlot1.length);
      assertTrue(why.startsWith("slot 1 is being taken over by " + SELF), why);

      cluster.install(map(2, 1, 0, 0, 1)); // loses slot 0, keeps 1 (not taken over), gains 2
      assertEquals(List.of(1, 2), cluster.takingOver());
      cluster.tookOver(1);
      cluster.tookOver(2);
      assertEquals(List.of(), cluster.takingOver());
      assertNull(cluster.incompleteBecause());

      cluster.install(map(3, 1, 0, 0, 1)); // the same slots again: nothing to take over
      assertEquals(List.of(), cluster.takingOver());
    }
  }

  /** A map of four slots over {@link #MEMBERS}, each slot's owner by index. */
  private static ClusterMap map(long epoch, int... owners) {
    return ClusterMap.slots(epoch, MEMBERS, owners, new int[owners.length][0]);
  }

  private static byte[] keyIn(int slot) {
    for (int i = 0; ; i++) {
      byte[] key = ("k" + i).getBytes(StandardCharsets.UTF_8);
      if (Slots.slotOf(key, 4) == slot) {
        return key;
      }
    }
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.ClusterMap;
import dev.whack.client.ring.Slots;
import dev.whack.node.kafka.ClusterAssignor.Claim;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Ownership at scale, simulated with the product's own code (docs/cluster.md, "Ownership at
 * scale"): the assignor's maps ({@link ClusterAssignor#plan}) for 3 to 1,000 members, and the slot
 * function ({@link Slots}) over a sample of keys, scaled to 10^9 profiles. For each size it prints
 * the share of keys a join, a graceful leave and a failure move, the volume a join hands to the
 * joiner and its time at a stated bandwidth, and the balance of keys (and so of segment work, which
 * follows the keys) across members. Nothing here is timed: the figures are counts.
 */
class OwnershipSimulationTest {
  private static final long PROFILES = 1_000_000_000L;

  /** The compact profile's size in the P5 benchmark's data (about 0.4 KiB), rounded up. */
  private static final long PROFILE_BYTES = 512;

  /** What one new member can take in: 1 Gbit/s of fetch from Kafka, in bytes per second. */
  private static final long BANDWIDTH_BYTES_PER_SECOND = 125_000_000L;

  private static final int SAMPLE_KEYS = 4_000_000;

  @Test
  void shouldMoveAboutOneShareAndStayBalancedFromThreeToAThousandMembers() {
    System.out.println(
        "members slots | join: moved  ideal | leave: moved | fail: moved | joiner gets"
            + "        at 1 Gbit/s | keys max/mean");
    for (int[] size :
        new int[][] {
          {3, 256},
          {10, 256},
          {25, 256},
          {50, 1024},
          {100, 1024},
          {250, 4096},
          {500, 8192},
          {1000, 16384}
        }) {
      int members = size[0];
      int slots = size[1];
      double[] keyShare = keyShareOfSlots(slots);
      ClusterMap before = ClusterAssignor.plan(Claims.fresh(members), slots);

      List<Claim> joined = Claims.of(before);
      joined.add(new Claim("id-new", "10.9.9.9:11211", List.of()));
      ClusterMap afterJoin = Claims.afterWarmUp(joined, slots);
      double joinMoved = moved(before, afterJoin, keyShare);

      List<Claim> left = Claims.of(before);
      String leaver = before.members().get(members / 2);
      left.removeIf(c -> c.address().equals(leaver));
      ClusterMap afterLeave = ClusterAssignor.plan(left, slots);
      double leaveMoved = moved(before, afterLeave, keyShare);
      double leaverShare = shareOf(before, leaver, keyShare);

      // A failure is a leave the group notices after its session timeout: the same map.
      double failMoved = leaveMoved;

      double joinerBytes = joinMoved * PROFILES * PROFILE_BYTES;
      double seconds = joinerBytes / BANDWIDTH_BYTES_PER_SECOND;
      double imbalance = maxOverMean(before, keyShare);

      System.out.printf(
          Locale.ROOT,
          "%7d %5d | %10.4f %6.4f | %12.4f | %11.4f | %6.1f GiB (%5.1f M) %7.0f s | %.3f%n",
          members,
          slots,
          joinMoved,
          1.0 / (members + 1),
          leaveMoved,
          failMoved,
          joinerBytes / (1L << 30),
          joinMoved * PROFILES / 1e6,
          seconds,
          imbalance);

      // Only what must move moves: a join takes about one new share, all of it to the joiner
      // (slot grain and key sampling allow a little more); a leave moves the leaver's share.
      assertTrue(joinMoved <= 1.0 / (members + 1) * 1.25 + 1.0 / slots, "join at " + members);
      assertEquals(leaverShare, leaveMoved, 1e-9, "leave at " + members);
      for (int slot = 0; slot < slots; slot++) {
        if (!before.activeOf(slot).equals(afterJoin.activeOf(slot))) {
          assertEquals("10.9.9.9:11211", afterJoin.activeOf(slot));
        }
      }
      // With at least ten slots per member, no member holds more than 1.15 times the mean.
      assertTrue(imbalance < 1.15, "balance at " + members + ": " + imbalance);
    }
  }

  /** Each slot's share of the keys, measured over a sample of keys shaped as users' keys are. */
  private static double[] keyShareOfSlots(int slots) {
    long[] counts = new long[slots];
    for (int i = 0; i < SAMPLE_KEYS; i++) {
      counts[Slots.slotOf(("user:" + i).getBytes(StandardCharsets.UTF_8), slots)]++;
    }
    double[] share = new double[slots];
    for (int slot = 0; slot < slots; slot++) {
      share[slot] = (double) counts[slot] / SAMPLE_KEYS;
    }
    return share;
  }

  private static double moved(ClusterMap before, ClusterMap after, double[] keyShare) {
    double moved = 0;
    for (int slot = 0; slot < keyShare.length; slot++) {
      if (!before.activeOf(slot).equals(after.activeOf(slot))) {
        moved += keyShare[slot];
      }
    }
    return moved;
  }

  private static double shareOf(ClusterMap map, String member, double[] keyShare) {
    double share = 0;
    for (int slot : map.slotsOf(member)) {
      share += keyShare[slot];
    }
    return share;
  }

  private static double maxOverMean(ClusterMap map, double[] keyShare) {
    double max = 0;
    for (String member : map.members()) {
      max = Math.max(max, shareOf(map, member, keyShare));
    }
    return max * map.members().size();
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ring.ClusterMap;
import dev.whack.client.ring.Slots;
import dev.whack.node.kafka.ClusterAssignor.Claim;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * The managed cluster's ownership: slots are Kafka's partitions of the key (the client's {@link
 * Slots} is Kafka's own function), and the assignor's maps are balanced and move only what a join
 * or a leave must.
 */
class ClusterAssignorTest {
  @Test
  void shouldSlotEveryKeyAsKafkasDefaultPartitionerDoes() {
    Random random = new Random(42);
    for (int i = 0; i < 100_000; i++) {
      byte[] key = new byte[random.nextInt(300)];
      random.nextBytes(key);
      assertEquals(Utils.murmur2(key), Slots.murmur2(key, 0, key.length));
      int partitions = 1 + random.nextInt(1000);
      assertEquals(
          Utils.toPositive(Utils.murmur2(key)) % partitions, Slots.slotOf(key, partitions));
    }
  }

  @Test
  void shouldGiveEveryMemberItsShareWithinOneSlot() {
    for (int members = 1; members <= 20; members++) {
      for (int slots : new int[] {1, 7, 16, 64, 256}) {
        ClusterMap map = ClusterAssignor.plan(Claims.fresh(members), slots);
        int low = Integer.MAX_VALUE;
        int high = 0;
        int total = 0;
        for (String m : map.members()) {
          int owned = map.slotsOf(m).size();
          low = Math.min(low, owned);
          high = Math.max(high, owned);
          total += owned;
        }
        assertEquals(slots, total, members + " members, " + slots + " slots: every slot owned");
        assertTrue(
            high - low <= 1, members + " members, " + slots + " slots: " + low + ".." + high);
      }
    }
  }

  @Test
  void shouldMoveOnlyTheJoinersShareWhenAFourthMemberJoins() {
    ClusterMap three = ClusterAssignor.plan(Claims.fresh(3), 256);
    List<Claim> claims = Claims.of(three);
    claims.add(new Claim("id-d", "10.0.0.4:11211", List.of()));
    ClusterMap four = Claims.afterWarmUp(claims, 256); // the joiner's copies warmed first
    int moved = 0;
    for (int slot = 0; slot < 256; slot++) {
      if (!three.activeOf(slot).equals(four.activeOf(slot))) {
        moved++;
        assertEquals("10.0.0.4:11211", four.activeOf(slot), "a moved slot goes to the joiner");
      }
    }
    assertEquals(64, moved, "a quarter of the slots moved, all to the joiner");
  }

  @Test
  void shouldMoveOnlyTheLeaversSlotsWhenAMemberLeaves() {
    ClusterMap four = ClusterAssignor.plan(Claims.fresh(4), 256);
    List<Claim> claims = Claims.of(four);
    claims.removeIf(c -> c.address().equals("10.0.0.2:11211"));
    ClusterMap three = ClusterAssignor.plan(claims, 256);
    for (int slot = 0; slot < 256; slot++) {
      if (!four.activeOf(slot).equals("10.0.0.2:11211")) {
        assertEquals(four.activeOf(slot), three.activeOf(slot), "slot " + slot + " stays put");
      }
    }
  }

  @Test
  void shouldGiveASlotClaimedTwiceToOneMember() {
    List<Claim> claims = new ArrayList<>();
    claims.add(new Claim("id-a", "10.0.0.1:11211", List.of(0, 1)));
    claims.add(new Claim("id-b", "10.0.0.2:11211", List.of(1, 2, 3)));
    ClusterMap map = ClusterAssignor.plan(claims, 4);
    assertEquals(List.of(0, 1), map.slotsOf("10.0.0.1:11211"));
    assertEquals(List.of(2, 3), map.slotsOf("10.0.0.2:11211"));
  }

  @Test
  void shouldCarryTheAddressAndTheOwnedSlotsInTheSubscription() {
    ClusterAssignor assignor = new ClusterAssignor();
    boolean[] leaving = {false};
    assignor.configure(
        java.util.Map.of(
            ClusterAssignor.SELF_CONFIG,
            "10.0.0.9:11211",
            ClusterAssignor.TOPIC_CONFIG,
            "updates",
            ClusterAssignor.INSTALL_CONFIG,
            (java.util.function.Consumer<ClusterMap>) map -> {},
            ClusterAssignor.LEAVING_CONFIG,
            (java.util.function.BooleanSupplier) () -> leaving[0]));
    Claim claim = ClusterAssignor.claim("m", assignor.subscriptionUserData(java.util.Set.of()));
    assertEquals(new Claim("m", "10.0.0.9:11211", List.of()), claim);
    leaving[0] = true; // a member stopping gracefully says so
    assertEquals(
        claim.leavingNow(),
        ClusterAssignor.claim("m", assignor.subscriptionUserData(java.util.Set.of())));
  }

  @Test
  void shouldGiveEverySlotStandbysOnOtherMembersBalancedAndSticky() {
    for (int members = 2; members <= 7; members++) {
      for (int replicas = 1; replicas < members && replicas <= 2; replicas++) {
        List<Claim> claims = Claims.fresh(members, replicas);
        ClusterMap map = ClusterAssignor.plan(claims, 64);
        int[] backed = new int[members];
        for (int slot = 0; slot < 64; slot++) {
          List<String> standbys = map.standbysOf(slot);
          assertEquals(replicas, standbys.size(), "slot " + slot);
          assertEquals(replicas, new java.util.HashSet<>(standbys).size(), "distinct standbys");
          assertTrue(!standbys.contains(map.activeOf(slot)), "a slot's owner is not its standby");
          for (String s : standbys) {
            backed[map.members().indexOf(s)]++;
          }
        }
        int cap = (64 * replicas + members - 1) / members;
        for (int b : backed) {
          assertTrue(b <= cap + 1, members + " members, " + replicas + " replicas: " + b);
        }
        // Asked again by the same members, nothing moves.
        List<Claim> again = new ArrayList<>();
        for (String m : map.members()) {
          List<Integer> warm = new ArrayList<>();
          for (int slot = 0; slot < 64; slot++) {
            if (map.standbysOf(slot).contains(m)) {
              warm.add(slot);
            }
          }
          again.add(new Claim("id-" + m, m, map.slotsOf(m), warm, replicas));
        }
        assertEquals(map.lines(), ClusterAssignor.plan(again, 64).lines());
      }
    }
  }

  @Test
  void shouldMoveASlotToAJoinerOnlyOnceItsCopyIsWarm() {
    ClusterMap three = ClusterAssignor.plan(Claims.fresh(3), 16);
    List<Claim> claims = Claims.of(three);
    claims.add(new Claim("id-new", "10.0.0.9:11211", List.of()));
    ClusterMap warming = ClusterAssignor.plan(claims, 16);
    List<Integer> bound = new ArrayList<>();
    for (int slot = 0; slot < 16; slot++) {
      assertEquals(three.activeOf(slot), warming.activeOf(slot), "nothing moves yet: " + slot);
      if (warming.movingTo(slot) != null) {
        assertEquals("10.0.0.9:11211", warming.movingTo(slot));
        assertTrue(warming.standbysOf(slot).contains("10.0.0.9:11211"), "it warms a copy");
        bound.add(slot);
      }
    }
    assertEquals(4, bound.size(), "a quarter of the slots are bound for the joiner");
    assertEquals(
        warming.lines(), ClusterMap.parse(warming.lines()).lines(), "the text form keeps it");

    // The joiner's copies: all but one caught up.
    java.util.Map<Integer, Long> behind = new java.util.HashMap<>();
    for (int slot : bound) {
      behind.put(slot, 0L);
    }
    behind.put(bound.get(0), ClusterAssignor.WARM_LAG_RECORDS + 1);
    List<Claim> next = Claims.of(warming);
    next.removeIf(c -> c.address().equals("10.0.0.9:11211"));
    next.add(new Claim("id-new", "10.0.0.9:11211", List.of(), bound, behind, 0, false));
    ClusterMap moved = ClusterAssignor.plan(next, 16);
    for (int slot : bound) {
      boolean warm = slot != bound.get(0);
      assertEquals(
          warm ? "10.0.0.9:11211" : three.activeOf(slot), moved.activeOf(slot), "slot " + slot);
      assertEquals(warm ? null : "10.0.0.9:11211", moved.movingTo(slot), "slot " + slot);
    }
  }

  @Test
  void shouldGiveEveryOneOfADeadMembersSlotsToAWarmCopy() {
    List<Claim> claims = Claims.fresh(4, 1);
    ClusterMap four = Claims.afterWarmUp(claims, 12);
    List<Claim> survivors = Claims.of(four, 1);
    String dead = four.members().get(1);
    survivors.removeIf(c -> c.address().equals(dead));
    ClusterMap three = ClusterAssignor.plan(survivors, 12);
    assertWentToWarmCopies(four, dead, three);
    for (int slot = 0; slot < 12; slot++) {
      if (!four.activeOf(slot).equals(dead)) {
        assertEquals(four.activeOf(slot), three.activeOf(slot), "slot " + slot + " stays put");
      }
    }
  }

  /**
   * A third member joining two: its slots can only be copied by the other two, whose copies of each
   * other's slots already fill their share; copies still end balanced, the joiner keeping its part.
   */
  @Test
  void shouldBalanceCopiesWhenAMemberJoins() {
    List<Claim> claims = Claims.fresh(2, 1);
    ClusterMap two = Claims.afterWarmUp(claims, 12);
    List<Claim> joined = new ArrayList<>(Claims.of(two, 1));
    joined.add(new Claim("id-new", "10.0.0.9:11211", List.of(), List.of(), 1));
    ClusterMap three = Claims.afterWarmUp(joined, 12);
    for (String m : three.members()) {
      int copies = 0;
      for (int slot = 0; slot < 12; slot++) {
        copies += three.standbysOf(slot).contains(m) ? 1 : 0;
      }
      assertTrue(copies >= 3 && copies <= 5, m + " keeps " + copies + " copies: " + three);
    }
  }

  /**
   * A member that stops gracefully claims no share: each of its slots goes to another member once
   * that member's copy is warm, and stays with it (served) until then; it keeps no copies.
   */
  @Test
  void shouldHandALeavingMembersSlotsOffOnlyToWarmCopies() {
    List<Claim> claims = Claims.fresh(3, 1);
    ClusterMap three = Claims.afterWarmUp(claims, 12);
    String leaver = three.members().get(0);
    List<Claim> again = new ArrayList<>();
    for (Claim c : Claims.of(three, 1)) {
      again.add(c.address().equals(leaver) ? c.leavingNow() : c);
    }
    ClusterMap draining = ClusterAssignor.plan(again, 12);
    // replicas 1: the one other member with a copy is warm, so each slot moves to it at once
    assertWentToWarmCopies(three, leaver, draining);
    for (int slot = 0; slot < 12; slot++) {
      assertTrue(!draining.standbysOf(slot).contains(leaver), "no copy on the leaver: " + slot);
    }
    assertEquals(List.of(), draining.slotsOf(leaver));

    // With no copy anywhere (replicas 0), the leaver keeps serving each slot until the member it
    // moves to has warmed one.
    List<Claim> cold = new ArrayList<>();
    for (Claim c : Claims.of(three, 0)) {
      Claim bare = new Claim(c.memberId(), c.address(), c.owned());
      cold.add(c.address().equals(leaver) ? bare.leavingNow() : bare);
    }
    ClusterMap warming = ClusterAssignor.plan(cold, 12);
    for (int slot : three.slotsOf(leaver)) {
      assertEquals(leaver, warming.activeOf(slot), "slot " + slot + " still served by the leaver");
      assertTrue(warming.movingTo(slot) != null && !warming.movingTo(slot).equals(leaver));
    }
    // A member alone that leaves keeps its slots: there is no one to hand them to.
    ClusterMap alone =
        ClusterAssignor.plan(
            List.of(new Claim("a", "10.0.0.1:11211", List.of(0, 1)).leavingNow()), 2);
    assertEquals(List.of(0, 1), alone.slotsOf("10.0.0.1:11211"));
  }

  /** Every slot {@code gone} owned in {@code before} is owned in {@code after} by a warm copy. */
  private static void assertWentToWarmCopies(ClusterMap before, String gone, ClusterMap after) {
    for (int slot : before.slotsOf(gone)) {
      assertTrue(
          before.standbysOf(slot).contains(after.activeOf(slot)),
          "slot " + slot + " went to its warm copy: " + after);
    }
  }
}

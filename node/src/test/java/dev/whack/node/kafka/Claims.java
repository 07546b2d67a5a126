package dev.whack.node.kafka;

import dev.whack.client.ring.ClusterMap;
import dev.whack.node.kafka.ClusterAssignor.Claim;
import java.util.ArrayList;
import java.util.List;

/** Group members' subscriptions as the assignor's leader reads them, for the assignor's tests. */
final class Claims {
  private Claims() {}

  /** {@code n} new members owning nothing: 10.0.0.1:11211, 10.0.0.2:11211, ... */
  static List<Claim> fresh(int n) {
    List<Claim> claims = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      claims.add(
          new Claim("id-" + i, "10.0." + (i / 250) + "." + (i % 250 + 1) + ":11211", List.of()));
    }
    return claims;
  }

  /** {@code n} new members owning nothing, each configured with {@code replicas}. */
  static List<Claim> fresh(int n, int replicas) {
    List<Claim> claims = new ArrayList<>();
    for (Claim c : fresh(n)) {
      claims.add(new Claim(c.memberId(), c.address(), List.of(), List.of(), replicas));
    }
    return claims;
  }

  /**
   * What the members of {@code map} claim when they join again: the slots they own and the slots
   * they keep warm, every copy caught up.
   */
  static List<Claim> of(ClusterMap map) {
    return of(map, 0);
  }

  /** As {@link #of(ClusterMap)}, members configured with {@code replicas}. */
  static List<Claim> of(ClusterMap map, int replicas) {
    List<Claim> claims = new ArrayList<>();
    for (String m : map.members()) {
      List<Integer> warm = new ArrayList<>();
      for (int slot = 0; slot < map.slotCount(); slot++) {
        if (map.standbysOf(slot).contains(m)) {
          warm.add(slot);
        }
      }
      claims.add(new Claim("id-" + m, m, map.slotsOf(m), warm, replicas));
    }
    return claims;
  }

  /**
   * The map these members reach once every copy a first map asks for is warm: the first map keeps
   * moving slots with their owners (warm-up); the members then claim again, copies caught up, and
   * the slots move.
   */
  static ClusterMap afterWarmUp(List<Claim> claims, int slots) {
    ClusterMap warming = ClusterAssignor.plan(claims, slots);
    int replicas = claims.stream().mapToInt(Claim::replicas).max().orElse(0);
    List<Claim> again = of(warming, replicas);
    // A member with nothing yet in the first map (a joiner) claims what it warmed.
    return ClusterAssignor.plan(again, slots);
  }
}

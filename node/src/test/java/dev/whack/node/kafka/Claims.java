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

  /** What the members of {@code map} claim when they join again: the slots they own. */
  static List<Claim> of(ClusterMap map) {
    List<Claim> claims = new ArrayList<>();
    for (String m : map.members()) {
      claims.add(new Claim("id-" + m, m, map.slotsOf(m)));
    }
    return claims;
  }
}

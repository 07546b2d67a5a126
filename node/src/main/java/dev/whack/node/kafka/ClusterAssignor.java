package dev.whack.node.kafka;

import dev.whack.client.ring.ClusterMap;
import dev.whack.node.observability.NodeLog;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Configurable;
import org.apache.kafka.common.TopicPartition;

/**
 * The assignor of a Kafka-managed cluster (docs/cluster.md, "An elastic cluster on Kafka"): the
 * consumer group's members are the cluster's members, the updates topic's partitions are its slots,
 * and the group leader's assignment is the cluster map every member installs.
 *
 * <p>Each member's subscription carries its address ({@code --advertise}) and the slots it owned in
 * the last map (the group's eager protocol takes every partition back before it assigns again, so
 * the client itself reports none). The leader gives each slot to its last owner while that member
 * lives and is under its fair share (sticky: a join or a leave moves only the slots it must, about
 * 1/n of them), the rest to the members with the fewest, and sends every member the whole map in
 * its assignment's user data; the map's epoch is the group's generation, the same for every member
 * of one assignment.
 *
 * <p>Two members with one address (a node restarted before the group dropped its old self) are one
 * member of the map; the slots go to the first by member id, and move once the group drops the old
 * one.
 *
 * <p>Concurrency: Kafka calls it on the consumer's own thread; {@link #owned} is read there only.
 */
public final class ClusterAssignor implements ConsumerPartitionAssignor, Configurable {
  /** The protocol name every member of a cluster must agree on. */
  public static final String NAME = "whack-slots";

  /** Consumer config keys that hand the assignor its node (Kafka passes unknown keys through). */
  static final String SELF_CONFIG = "whack.cluster.self";

  static final String TOPIC_CONFIG = "whack.cluster.topic";
  static final String INSTALL_CONFIG = "whack.cluster.install";
  static final String REPLICAS_CONFIG = "whack.cluster.replicas";
  static final String LAGS_CONFIG = "whack.cluster.lags";
  static final String LEAVING_CONFIG = "whack.cluster.leaving";
  static final String LEFT_IN_CONFIG = "whack.cluster.left-in";

  /**
   * A copy this many records or fewer behind its slot's end is warm: the slot may move to it. A few
   * polls' worth, so the new owner serves its keys current within a moment of taking them.
   */
  static final long WARM_LAG_RECORDS = 2000;

  private static final byte VERSION = 1;

  private String self;
  private String topic;
  private Consumer<ClusterMap> install;
  private int replicas;
  private java.util.function.Supplier<Map<Integer, Long>> lags = Map::of;
  private java.util.function.BooleanSupplier leaving = () -> false;
  private java.util.function.LongConsumer leftIn = epoch -> {};

  /** Whether the last subscription sent said this member is leaving; Kafka's thread only. */
  private boolean joinedLeaving;

  /** The slots this member owned in the last map installed. */
  private List<Integer> owned = List.of();

  /** The slots this member kept warm as a standby in the last map installed. */
  private List<Integer> backed = List.of();

  @Override
  @SuppressWarnings("unchecked")
  public void configure(Map<String, ?> configs) {
    self = (String) configs.get(SELF_CONFIG);
    topic = (String) configs.get(TOPIC_CONFIG);
    install = (Consumer<ClusterMap>) configs.get(INSTALL_CONFIG);
    Object r = configs.get(REPLICAS_CONFIG);
    replicas = r == null ? 0 : (Integer) r;
    Object l = configs.get(LAGS_CONFIG);
    if (l != null) {
      lags = (java.util.function.Supplier<Map<Integer, Long>>) l;
    }
    Object going = configs.get(LEAVING_CONFIG);
    if (going != null) {
      leaving = (java.util.function.BooleanSupplier) going;
    }
    Object left = configs.get(LEFT_IN_CONFIG);
    if (left != null) {
      leftIn = (java.util.function.LongConsumer) left;
    }
    if (self == null || topic == null || install == null) {
      throw new IllegalArgumentException("the cluster assignor needs its node's configuration");
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public ByteBuffer subscriptionUserData(Set<String> topics) {
    byte[] address = self.getBytes(StandardCharsets.UTF_8);
    Map<Integer, Long> behind = lags.get();
    ByteBuffer out =
        ByteBuffer.allocate(
            1 + 2 + address.length + 4 + 4 * owned.size() + 4 + 12 * backed.size() + 4 + 1);
    out.put(VERSION).putShort((short) address.length).put(address).putInt(owned.size());
    for (int slot : owned) {
      out.putInt(slot);
    }
    out.putInt(backed.size());
    for (int slot : backed) {
      // A copy not polled yet is as far behind as can be.
      out.putInt(slot).putLong(behind.getOrDefault(slot, Long.MAX_VALUE));
    }
    out.putInt(replicas);
    joinedLeaving = leaving.getAsBoolean();
    out.put((byte) (joinedLeaving ? 1 : 0));
    return out.flip();
  }

  /**
   * One member's subscription as the leader reads it: its address, the slots it owned and kept warm
   * in the last map (with how many records each copy is behind), the replicas it was configured
   * with, and whether it is leaving (stopping gracefully: its slots are handed off first).
   */
  record Claim(
      String memberId,
      String address,
      List<Integer> owned,
      List<Integer> backed,
      Map<Integer, Long> behind,
      int replicas,
      boolean leaving) {
    Claim(String memberId, String address, List<Integer> owned) {
      this(memberId, address, owned, List.of(), Map.of(), 0, false);
    }

    /** A claim whose copies are all caught up. */
    Claim(
        String memberId, String address, List<Integer> owned, List<Integer> backed, int replicas) {
      this(memberId, address, owned, backed, caughtUp(backed), replicas, false);
    }

    /** The same claim from a member that is leaving. */
    Claim leavingNow() {
      return new Claim(memberId, address, owned, backed, behind, replicas, true);
    }

    private static Map<Integer, Long> caughtUp(List<Integer> backed) {
      Map<Integer, Long> lags = new HashMap<>();
      for (int slot : backed) {
        lags.put(slot, 0L);
      }
      return lags;
    }

    /** Whether this member's copy of {@code slot} is warm enough to take the slot over. */
    boolean warm(int slot) {
      return behind.getOrDefault(slot, Long.MAX_VALUE) <= WARM_LAG_RECORDS;
    }
  }

  static Claim claim(String memberId, ByteBuffer userData) {
    if (userData == null || userData.remaining() < 3) {
      throw new IllegalStateException(
          "group member " + memberId + " is not a whack node of this version (no address)");
    }
    ByteBuffer in = userData.duplicate();
    byte version = in.get();
    if (version != VERSION) {
      throw new IllegalStateException(
          "group member " + memberId + " speaks cluster protocol version " + version);
    }
    byte[] address = new byte[in.getShort() & 0xffff];
    in.get(address);
    List<Integer> owned = slots(in);
    int count = in.getInt();
    List<Integer> backed = new ArrayList<>(count);
    Map<Integer, Long> behind = new HashMap<>();
    for (int i = 0; i < count; i++) {
      int slot = in.getInt();
      backed.add(slot);
      behind.put(slot, in.getLong());
    }
    int replicas = in.getInt();
    boolean leaving = in.hasRemaining() && in.get() == 1;
    return new Claim(
        memberId,
        new String(address, StandardCharsets.UTF_8),
        owned,
        backed,
        behind,
        replicas,
        leaving);
  }

  private static List<Integer> slots(ByteBuffer in) {
    int count = in.getInt();
    List<Integer> slots = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      slots.add(in.getInt());
    }
    return slots;
  }

  @Override
  public GroupAssignment assign(Cluster metadata, GroupSubscription subscriptions) {
    List<Claim> claims = new ArrayList<>();
    subscriptions
        .groupSubscription()
        .forEach((memberId, s) -> claims.add(claim(memberId, s.userData())));
    Integer partitions = metadata.partitionCountForTopic(topic);
    ClusterMap map = plan(claims, partitions == null ? 0 : partitions);
    // Why a map came out as it did is read from what each member claimed: one line per rebalance.
    StringBuilder why = new StringBuilder();
    for (Claim c : claims) {
      why.append("; ").append(c.address()).append(" owned ").append(c.owned());
      why.append(" copies behind ").append(c.behind()).append(" -> ");
      why.append(map.slotsOf(c.address()));
    }
    NodeLog.info(String.format("whack node: %s, the group's leader, made a map%s", self, why));
    byte[] mapBytes = String.join("\n", map.lines()).getBytes(StandardCharsets.UTF_8);
    Map<String, Claim> carriers = byAddress(claims);
    Map<String, Assignment> out = new HashMap<>();
    for (Claim c : claims) {
      List<TopicPartition> mine = new ArrayList<>();
      if (carriers.get(c.address()) == c) {
        for (int slot : map.slotsOf(c.address())) {
          mine.add(new TopicPartition(topic, slot));
        }
      }
      ByteBuffer userData = ByteBuffer.allocate(1 + mapBytes.length);
      userData.put(VERSION).put(mapBytes).flip();
      out.put(c.memberId(), new Assignment(mine, userData));
    }
    return new GroupAssignment(out);
  }

  /**
   * The map for these members and this many slots: sticky, and balanced to within one slot. Epoch
   * 0: the member that installs it sets the group's generation.
   */
  static ClusterMap plan(List<Claim> claims, int slots) {
    TreeMap<String, Claim> claimOf = byAddress(claims);
    List<String> members = new ArrayList<>(claimOf.keySet());
    if (slots == 0 || members.isEmpty()) {
      return ClusterMap.unassigned(Math.max(slots, 1));
    }
    int m = members.size();
    // A member that is leaving gets no share (its slots go to the others, once their copies are
    // warm: warm-up below keeps them with it until then), unless no member stays.
    boolean[] leaving = new boolean[m];
    int staying = 0;
    for (int i = 0; i < m; i++) {
      leaving[i] = claimOf.get(members.get(i)).leaving();
      staying += leaving[i] ? 0 : 1;
    }
    if (staying == 0) {
      Arrays.fill(leaving, false);
      staying = m;
    }
    int base = slots / staying;
    int extra = slots % staying;
    int[] active = new int[slots];
    Arrays.fill(active, ClusterMap.NONE);
    int[] counts = new int[m];
    // Keep what each member owned, up to its share; the first members over it keep one more
    // while the shares of one more last.
    for (int i = 0; i < m; i++) {
      if (leaving[i]) {
        continue;
      }
      List<Integer> kept = new ArrayList<>();
      for (int slot : claimOf.get(members.get(i)).owned()) {
        if (slot >= 0 && slot < slots && active[slot] == ClusterMap.NONE) {
          kept.add(slot);
        }
      }
      kept.sort(null);
      int keep = Math.min(kept.size(), base);
      if (kept.size() > base && extra > 0) {
        keep++;
        extra--;
      }
      for (int k = 0; k < keep; k++) {
        active[kept.get(k)] = i;
      }
      counts[i] = keep;
    }
    // The rest (a leaver's or a dead member's slots, or new ones): to a member that kept the
    // slot warm if it can take one more (so a failure moves a slot to its warm copy), else to
    // whoever has fewest (the first such member by address).
    boolean[][] warm = backedBefore(claims, members, slots);
    for (int slot = 0; slot < slots; slot++) {
      if (active[slot] != ClusterMap.NONE) {
        continue;
      }
      int chosen = -1;
      for (int i = 0; i < m && chosen < 0; i++) {
        if (!leaving[i]
            && warm[i][slot]
            && (counts[i] < base || (counts[i] == base && extra > 0))) {
          chosen = i;
        }
      }
      if (chosen < 0) {
        for (int i = 0; i < m; i++) {
          boolean canTake = !leaving[i] && (counts[i] < base || (counts[i] == base && extra > 0));
          if (canTake && (chosen < 0 || counts[i] < counts[chosen])) {
            chosen = i;
          }
        }
      }
      if (counts[chosen] == base) {
        extra--;
      }
      active[slot] = chosen;
      counts[chosen]++;
    }
    // Warm-up (as Kafka Streams' KIP-441): a slot whose owner lives moves only to a member whose
    // copy of it is warm; until then the owner keeps it and the member it is bound for keeps a
    // copy warm (a standby), and asks for a new map once the copy has caught up.
    int[] moving = new int[slots];
    Arrays.fill(moving, ClusterMap.NONE);
    int[] lastOwner = new int[slots];
    Arrays.fill(lastOwner, ClusterMap.NONE);
    for (int i = 0; i < m; i++) {
      for (int slot : claimOf.get(members.get(i)).owned()) {
        if (slot >= 0 && slot < slots && lastOwner[slot] == ClusterMap.NONE) {
          lastOwner[slot] = i;
        }
      }
    }
    for (int slot = 0; slot < slots; slot++) {
      int from = lastOwner[slot];
      int to = active[slot];
      if (claimOf.get(members.get(to)).warm(slot) || from == to) {
        continue;
      }
      if (from != ClusterMap.NONE && !leaving[from]) {
        active[slot] = from;
        moving[slot] = to;
        continue;
      }
      // Its owner is gone (it left or died) or leaving: a member with a warm copy serves it now,
      // even over its share, and the balanced owner warms a copy and takes it over later; with
      // no warm copy anywhere, a leaving owner serves it until the balanced owner's is warm.
      boolean placed = false;
      for (int i = 0; i < m && !placed; i++) {
        if (!leaving[i] && claimOf.get(members.get(i)).warm(slot)) {
          active[slot] = i;
          moving[slot] = to;
          placed = true;
        }
      }
      if (!placed && from != ClusterMap.NONE) {
        active[slot] = from;
        moving[slot] = to;
      }
    }
    return ClusterMap.slots(
        0, members, active, standbys(claims, members, leaving, warm, active, moving), moving);
  }

  /**
   * Per slot, up to {@code replicas} members other than its owner keep it warm (the largest number
   * any member asks for, at most one fewer than the members). Sticky as the owners are: a member
   * that kept a slot warm keeps it while it is under its fair share of standbys; the rest go to the
   * members with the fewest (and never to the slot's owner, nor to a member that is leaving).
   */
  private static int[][] standbys(
      List<Claim> claims,
      List<String> members,
      boolean[] leaving,
      boolean[][] backedBefore,
      int[] active,
      int[] moving) {
    int m = members.size();
    int slots = active.length;
    int staying = 0;
    for (boolean going : leaving) {
      staying += going ? 0 : 1;
    }
    int replicas = 0;
    for (Claim c : claims) {
      replicas = Math.max(replicas, c.replicas());
    }
    int[][] out = new int[slots][];
    int cap = (slots * Math.max(Math.min(replicas, staying - 1), 1) + staying - 1) / staying;
    int[] counts = new int[m];
    for (int slot = 0; slot < slots; slot++) {
      // As many copies as there are members to keep them: staying ones other than the owner.
      int candidates = staying - (leaving[active[slot]] ? 0 : 1);
      // A slot in motion is kept warm by the member it moves to, whatever the replicas.
      int[] chosen =
          new int
              [Math.max(Math.min(replicas, candidates), moving[slot] == ClusterMap.NONE ? 0 : 1)];
      int n = 0;
      if (moving[slot] != ClusterMap.NONE) {
        chosen[n++] = moving[slot];
        counts[moving[slot]]++;
      }
      for (int i = 0; i < m && n < chosen.length; i++) {
        if (i != active[slot]
            && !leaving[i]
            && backedBefore[i][slot]
            && counts[i] < cap
            && !contains(chosen, n, i)) {
          chosen[n++] = i;
          counts[i]++;
        }
      }
      while (n < chosen.length) {
        int fewest = -1;
        for (int step = 0; step < m; step++) {
          // Start after the owner, so that one owner's slots spread over the others.
          int i = (active[slot] + 1 + step) % m;
          if (i == active[slot] || leaving[i] || contains(chosen, n, i)) {
            continue;
          }
          if (fewest < 0 || counts[i] < counts[fewest]) {
            fewest = i;
          }
        }
        chosen[n++] = fewest;
        counts[fewest]++;
      }
      out[slot] = chosen;
    }
    balanceCopies(out, counts, leaving, backedBefore, active, moving, staying);
    for (int[] chosen : out) {
      Arrays.sort(chosen); // one order for one set: a map asked for again is the same map
    }
    return out;
  }

  /**
   * Hands copies from members over their fair number to members under it that may keep them (not
   * the slot's owner, not leaving, not a copy already), cold copies first: stickiness slot by slot
   * can leave a member with none (a joiner's slots can only be copied by the others, which the
   * others' slots already filled).
   */
  private static void balanceCopies(
      int[][] out,
      int[] counts,
      boolean[] leaving,
      boolean[][] backedBefore,
      int[] active,
      int[] moving,
      int staying) {
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    int fair = (total + staying - 1) / staying;
    for (boolean warmToo : new boolean[] {false, true}) {
      for (int slot = 0; slot < out.length; slot++) {
        for (int k = 0; k < out[slot].length; k++) {
          int over = out[slot][k];
          if (counts[over] <= fair
              || over == moving[slot]
              || (backedBefore[over][slot] && !warmToo)) {
            continue;
          }
          for (int under = 0; under < counts.length; under++) {
            if (counts[under] < fair - 1
                && under != active[slot]
                && !leaving[under]
                && !contains(out[slot], out[slot].length, under)) {
              out[slot][k] = under;
              counts[over]--;
              counts[under]++;
              break;
            }
          }
        }
      }
    }
  }

  /**
   * The claim that speaks for each address, by address: the first by member id when two members
   * claim one (a node restarted before the group dropped its old self).
   */
  private static TreeMap<String, Claim> byAddress(List<Claim> claims) {
    TreeMap<String, Claim> out = new TreeMap<>();
    claims.stream()
        .sorted(Comparator.comparing(Claim::memberId))
        .forEach(c -> out.putIfAbsent(c.address(), c));
    return out;
  }

  /** Per member (by index) and slot, whether the member kept the slot warm in the last map. */
  private static boolean[][] backedBefore(List<Claim> claims, List<String> members, int slots) {
    boolean[][] backed = new boolean[members.size()][slots];
    for (Claim c : claims) {
      int i = members.indexOf(c.address());
      for (int slot : c.backed()) {
        if (slot >= 0 && slot < slots) {
          backed[i][slot] = true;
        }
      }
    }
    return backed;
  }

  private static boolean contains(int[] values, int length, int value) {
    for (int i = 0; i < length; i++) {
      if (values[i] == value) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void onAssignment(Assignment assignment, ConsumerGroupMetadata metadata) {
    ByteBuffer in = assignment.userData();
    if (in == null || in.remaining() < 1 || in.duplicate().get() != VERSION) {
      throw new IllegalStateException("the group's leader sent no cluster map this node can read");
    }
    ByteBuffer body = in.duplicate();
    body.get();
    byte[] text = new byte[body.remaining()];
    body.get(text);
    ClusterMap map =
        ClusterMap.parse(List.of(new String(text, StandardCharsets.UTF_8).split("\n")))
            .withEpoch(metadata.generationId());
    List<Integer> mine = new ArrayList<>();
    for (TopicPartition p : assignment.partitions()) {
      mine.add(p.partition());
    }
    owned = List.copyOf(mine);
    List<Integer> warm = new ArrayList<>();
    for (int slot = 0; slot < map.slotCount(); slot++) {
      if (map.standbysOf(slot).contains(self)) {
        warm.add(slot);
      }
    }
    backed = List.copyOf(warm);
    NodeLog.info(
        String.format(
            "whack node: %s installs map %d: owns %s, keeps copies of %s",
            self, map.epoch(), owned, backed));
    install.accept(map);
    if (joinedLeaving) {
      leftIn.accept(map.epoch()); // a map the leader made knowing this member is leaving
    }
  }
}

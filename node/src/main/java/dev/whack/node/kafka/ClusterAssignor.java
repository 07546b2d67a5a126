package dev.whack.node.kafka;

import dev.whack.client.ring.ClusterMap;
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

  private static final byte VERSION = 1;

  private String self;
  private String topic;
  private Consumer<ClusterMap> install;

  /** The slots this member owned in the last map installed. */
  private List<Integer> owned = List.of();

  @Override
  @SuppressWarnings("unchecked")
  public void configure(Map<String, ?> configs) {
    self = (String) configs.get(SELF_CONFIG);
    topic = (String) configs.get(TOPIC_CONFIG);
    install = (Consumer<ClusterMap>) configs.get(INSTALL_CONFIG);
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
    ByteBuffer out = ByteBuffer.allocate(1 + 2 + address.length + 4 + 4 * owned.size());
    out.put(VERSION).putShort((short) address.length).put(address).putInt(owned.size());
    for (int slot : owned) {
      out.putInt(slot);
    }
    return out.flip();
  }

  /** One member's subscription as the leader reads it. */
  record Claim(String memberId, String address, List<Integer> owned) {}

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
    int count = in.getInt();
    List<Integer> owned = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      owned.add(in.getInt());
    }
    return new Claim(memberId, new String(address, StandardCharsets.UTF_8), owned);
  }

  @Override
  public GroupAssignment assign(Cluster metadata, GroupSubscription subscriptions) {
    List<Claim> claims = new ArrayList<>();
    subscriptions
        .groupSubscription()
        .forEach((memberId, s) -> claims.add(claim(memberId, s.userData())));
    Integer partitions = metadata.partitionCountForTopic(topic);
    ClusterMap map = plan(claims, partitions == null ? 0 : partitions);
    byte[] mapBytes = String.join("\n", map.lines()).getBytes(StandardCharsets.UTF_8);
    // The member that carries each address (the first by id when two claim one).
    Map<String, String> carrier = new HashMap<>();
    claims.stream()
        .sorted(Comparator.comparing(Claim::memberId))
        .forEach(c -> carrier.putIfAbsent(c.address(), c.memberId()));
    Map<String, Assignment> out = new HashMap<>();
    for (Claim c : claims) {
      List<TopicPartition> mine = new ArrayList<>();
      if (c.memberId().equals(carrier.get(c.address()))) {
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
    TreeMap<String, List<Integer>> lastOwned = new TreeMap<>();
    claims.stream()
        .sorted(Comparator.comparing(Claim::memberId))
        .forEach(c -> lastOwned.putIfAbsent(c.address(), c.owned()));
    List<String> members = new ArrayList<>(lastOwned.keySet());
    if (slots == 0 || members.isEmpty()) {
      return ClusterMap.unassigned(Math.max(slots, 1));
    }
    int m = members.size();
    int base = slots / m;
    int extra = slots % m;
    int[] active = new int[slots];
    Arrays.fill(active, ClusterMap.NONE);
    int[] counts = new int[m];
    // Keep what each member owned, up to its share; the first members over it keep one more
    // while the shares of one more last.
    for (int i = 0; i < m; i++) {
      List<Integer> kept = new ArrayList<>();
      for (int slot : lastOwned.get(members.get(i))) {
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
    // The rest to whoever has fewest (the first such member by address).
    for (int slot = 0; slot < slots; slot++) {
      if (active[slot] != ClusterMap.NONE) {
        continue;
      }
      int fewest = 0;
      for (int i = 1; i < m; i++) {
        if (counts[i] < counts[fewest]) {
          fewest = i;
        }
      }
      active[slot] = fewest;
      counts[fewest]++;
    }
    int[][] standbys = new int[slots][0];
    return ClusterMap.slots(0, members, active, standbys);
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
    install.accept(map);
  }
}

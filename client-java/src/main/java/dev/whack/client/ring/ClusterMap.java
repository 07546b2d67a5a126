package dev.whack.client.ring;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Who owns which key, as every member of a cluster and every client computes it (docs/cluster.md):
 * either the consistent-hash {@link HashRing} of a static cluster ({@code --peers}), or, in a
 * Kafka-managed cluster, the slot map its group's assignment made: per slot (a partition of the
 * updates topic, {@link Slots}) the active member and its standbys. The epoch orders maps: a larger
 * one is newer (the group's generation; 0 for a static ring).
 *
 * <p>Text form, the reply to {@code cluster map} (docs/protocol.md):
 *
 * <pre>
 * MAP &lt;ring|slots&gt; &lt;epoch&gt; &lt;members&gt; &lt;slots&gt;
 * MEMBER &lt;host:port&gt;                                 one per member, index 0 first
 * SLOT &lt;slot&gt; &lt;active index|-&gt; [&lt;standby index&gt; ...] [&gt;&lt;index&gt;]   one per slot (slots maps)
 * END
 * </pre>
 *
 * <p>Concurrency: immutable; a new map is swapped in by reference.
 */
public final class ClusterMap {
  /** No member owns a slot (the group has not assigned it yet). */
  public static final int NONE = -1;

  private final boolean ring;
  private final long epoch;
  private final List<String> members;
  private final HashRing hashRing;
  private final int[] active;
  private final int[][] standbys;

  /** Per slot, the member it moves to once that member's copy is warm, or {@link #NONE}. */
  private final int[] moving;

  private ClusterMap(
      boolean ring,
      long epoch,
      List<String> members,
      int[] active,
      int[][] standbys,
      int[] moving) {
    this.ring = ring;
    this.epoch = epoch;
    this.members = members;
    this.hashRing = ring ? HashRing.of(members) : null;
    this.active = active;
    this.standbys = standbys;
    this.moving = moving;
  }

  /** The static cluster of these members, owned by the consistent-hash ring. */
  public static ClusterMap ring(Collection<String> members) {
    HashRing r = HashRing.of(members);
    return new ClusterMap(true, 0, r.members(), new int[0], new int[0][], new int[0]);
  }

  /**
   * A slot map.
   *
   * @param active per slot, the index into {@code members} of its owner, or {@link #NONE}
   * @param standbys per slot, the indexes of the members that keep it warm (may be empty)
   */
  public static ClusterMap slots(long epoch, List<String> members, int[] active, int[][] standbys) {
    int[] none = new int[active.length];
    Arrays.fill(none, NONE);
    return slots(epoch, members, active, standbys, none);
  }

  /**
   * A slot map with slots in motion.
   *
   * @param moving per slot, the index of the member it moves to once that member's copy (one of the
   *     slot's standbys) is warm, or {@link #NONE}
   */
  public static ClusterMap slots(
      long epoch, List<String> members, int[] active, int[][] standbys, int[] moving) {
    if (active.length != standbys.length || active.length != moving.length || active.length == 0) {
      throw new IllegalArgumentException("a slot map needs one active and standby list per slot");
    }
    for (int slot = 0; slot < active.length; slot++) {
      checkIndex(active[slot], members.size(), true);
      for (int s : standbys[slot]) {
        checkIndex(s, members.size(), false);
      }
      checkIndex(moving[slot], members.size(), true);
    }
    int[][] copied = new int[standbys.length][];
    for (int i = 0; i < standbys.length; i++) {
      copied[i] = standbys[i].clone();
    }
    return new ClusterMap(
        false, epoch, List.copyOf(members), active.clone(), copied, moving.clone());
  }

  /** A slot map in which no member owns anything yet (a member before its first assignment). */
  public static ClusterMap unassigned(int slots) {
    int[] none = new int[slots];
    Arrays.fill(none, NONE);
    int[][] empty = new int[slots][];
    Arrays.fill(empty, new int[0]);
    return new ClusterMap(false, 0, List.of(), none, empty, none.clone());
  }

  private static void checkIndex(int index, int members, boolean noneAllowed) {
    if ((index == NONE && !noneAllowed) || index < NONE || index >= members) {
      throw new IllegalArgumentException(
          "member index " + index + " out of range (" + members + " members)");
    }
  }

  /** True for a static cluster's hash ring, false for a slot map. */
  public boolean isRing() {
    return ring;
  }

  public long epoch() {
    return epoch;
  }

  /** The members, {@code host:port}; indexes in this list are what the slot map names. */
  public List<String> members() {
    return members;
  }

  /** The number of slots (0 for a ring). */
  public int slotCount() {
    return active.length;
  }

  /** The slot of this key (slot maps only). */
  public int slotOf(byte[] key, int offset, int length) {
    return Slots.slotOf(key, offset, length, active.length);
  }

  /** The index into {@link #members()} of the key's owner, or {@link #NONE}. */
  public int ownerIndex(byte[] key, int offset, int length) {
    if (ring) {
      return hashRing.ownerIndex(key, offset, length);
    }
    return active[slotOf(key, offset, length)];
  }

  /** The key's owner, {@code host:port}, or null when no member owns its slot yet. */
  public String ownerOf(byte[] key, int offset, int length) {
    int i = ownerIndex(key, offset, length);
    return i == NONE ? null : members.get(i);
  }

  public String ownerOf(byte[] key) {
    return ownerOf(key, 0, key.length);
  }

  public String ownerOf(String key) {
    return ownerOf(key.getBytes(StandardCharsets.UTF_8));
  }

  /** The owner of a slot, or null. */
  public String activeOf(int slot) {
    return active[slot] == NONE ? null : members.get(active[slot]);
  }

  /** The members keeping a slot warm, besides its owner. */
  public List<String> standbysOf(int slot) {
    List<String> out = new ArrayList<>(standbys[slot].length);
    for (int s : standbys[slot]) {
      out.add(members.get(s));
    }
    return out;
  }

  /** The member a slot moves to once its copy there is warm, or null when it is not moving. */
  public String movingTo(int slot) {
    return moving[slot] == NONE ? null : members.get(moving[slot]);
  }

  /** The slots {@code member} owns, in order. */
  public List<Integer> slotsOf(String member) {
    int index = members.indexOf(member);
    List<Integer> out = new ArrayList<>();
    for (int slot = 0; index >= 0 && slot < active.length; slot++) {
      if (active[slot] == index) {
        out.add(slot);
      }
    }
    return out;
  }

  /** The text form's lines, without line ends, END last. */
  public List<String> lines() {
    List<String> out = new ArrayList<>(members.size() + active.length + 2);
    out.add(
        "MAP "
            + (ring ? "ring" : "slots")
            + " "
            + epoch
            + " "
            + members.size()
            + " "
            + active.length);
    for (String m : members) {
      out.add("MEMBER " + m);
    }
    for (int slot = 0; slot < active.length; slot++) {
      StringBuilder line = new StringBuilder("SLOT ").append(slot).append(' ');
      line.append(active[slot] == NONE ? "-" : Integer.toString(active[slot]));
      for (int s : standbys[slot]) {
        line.append(' ').append(s);
      }
      if (moving[slot] != NONE) {
        line.append(" >").append(moving[slot]);
      }
      out.add(line.toString());
    }
    out.add("END");
    return out;
  }

  /**
   * Reads the text form (lines without their ends, END last or left out).
   *
   * @throws IllegalArgumentException naming the first line that is not as documented
   */
  public static ClusterMap parse(List<String> lines) {
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("an empty cluster map");
    }
    String[] head = lines.get(0).split(" ");
    if (head.length != 5 || !head[0].equals("MAP")) {
      throw bad(lines.get(0));
    }
    boolean isRing =
        switch (head[1]) {
          case "ring" -> true;
          case "slots" -> false;
          default -> throw bad(lines.get(0));
        };
    long epoch;
    int memberCount;
    int slotCount;
    try {
      epoch = Long.parseLong(head[2]);
      memberCount = Integer.parseInt(head[3]);
      slotCount = Integer.parseInt(head[4]);
    } catch (NumberFormatException e) {
      throw bad(lines.get(0));
    }
    if (memberCount < 0 || slotCount < 0 || lines.size() < 1 + memberCount + slotCount) {
      throw new IllegalArgumentException("a cluster map cut short: " + lines.get(0));
    }
    List<String> members = new ArrayList<>(memberCount);
    for (int i = 1; i <= memberCount; i++) {
      String line = lines.get(i);
      if (!line.startsWith("MEMBER ") || line.length() == "MEMBER ".length()) {
        throw bad(line);
      }
      members.add(line.substring("MEMBER ".length()));
    }
    if (isRing) {
      return ring(members);
    }
    int[] active = new int[slotCount];
    int[][] standbys = new int[slotCount][];
    int[] moving = new int[slotCount];
    Arrays.fill(moving, NONE);
    for (int slot = 0; slot < slotCount; slot++) {
      String line = lines.get(1 + memberCount + slot);
      String[] t = line.split(" ");
      if (t.length < 3 || !t[0].equals("SLOT") || !t[1].equals(Integer.toString(slot))) {
        throw bad(line);
      }
      try {
        active[slot] = t[2].equals("-") ? NONE : Integer.parseInt(t[2]);
        int end = t.length;
        if (end > 3 && t[end - 1].startsWith(">")) {
          moving[slot] = Integer.parseInt(t[end - 1].substring(1));
          end--;
        }
        standbys[slot] = new int[end - 3];
        for (int i = 3; i < end; i++) {
          standbys[slot][i - 3] = Integer.parseInt(t[i]);
        }
      } catch (NumberFormatException e) {
        throw bad(line);
      }
    }
    return slots(epoch, members, active, standbys, moving);
  }

  private static IllegalArgumentException bad(String line) {
    return new IllegalArgumentException("not a cluster map line: " + line);
  }

  /** This map with another epoch (the group's generation, known only once it is assigned). */
  public ClusterMap withEpoch(long newEpoch) {
    return new ClusterMap(ring, newEpoch, members, active, standbys, moving);
  }

  @Override
  public String toString() {
    return String.join("\n", lines());
  }
}

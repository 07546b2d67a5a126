package dev.whack.client.ring;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Consistent hashing of profile keys onto cluster members, shared by the Java client and the nodes
 * so that both route every key to the same member.
 *
 * <p>Algorithm (also in docs/cluster.md, with test vectors, for clients in other languages):
 * members are named {@code host:port}, sorted and de-duplicated. Each member gets {@link
 * #VIRTUAL_NODES} points on a ring of signed 64-bit integers: point {@code i} of member {@code m}
 * is XXH3-64 (seed 0) of the UTF-8 bytes of {@code m + "#" + i}. A key's position is XXH3-64 of its
 * bytes; its owner is the member of the first point at or after that position in signed order,
 * wrapping to the smallest point. Equal points are ordered by member name.
 *
 * <p>Concurrency: immutable. A membership change builds a new ring, which callers swap in by
 * reference.
 */
public final class HashRing {
  public static final int VIRTUAL_NODES = 160;
  private static final Hasher64 XXH3 = Hashing.xxh3_64();

  private final List<String> members;
  private final long[] points;
  private final int[] owners;

  private HashRing(List<String> members, long[] points, int[] owners) {
    this.members = members;
    this.points = points;
    this.owners = owners;
  }

  /** Builds the ring for these members ({@code host:port}); order and duplicates do not matter. */
  public static HashRing of(Collection<String> memberNames) {
    List<String> members = List.copyOf(new TreeSet<>(memberNames));
    if (members.isEmpty()) {
      throw new IllegalArgumentException("a ring needs at least one member");
    }
    int total = members.size() * VIRTUAL_NODES;
    long[] keyed = new long[total];
    int[] ownerOf = new int[total];
    Integer[] order = new Integer[total];
    for (int m = 0; m < members.size(); m++) {
      for (int v = 0; v < VIRTUAL_NODES; v++) {
        int slot = m * VIRTUAL_NODES + v;
        keyed[slot] = hash((members.get(m) + "#" + v).getBytes(StandardCharsets.UTF_8));
        ownerOf[slot] = m;
        order[slot] = slot;
      }
    }
    // Members are already sorted by name, so ties on the point fall back to the member index.
    Arrays.sort(
        order,
        (a, b) -> {
          int byPoint = Long.compare(keyed[a], keyed[b]);
          return byPoint != 0 ? byPoint : Integer.compare(ownerOf[a], ownerOf[b]);
        });
    long[] points = new long[total];
    int[] owners = new int[total];
    for (int i = 0; i < total; i++) {
      points[i] = keyed[order[i]];
      owners[i] = ownerOf[order[i]];
    }
    return new HashRing(members, points, owners);
  }

  /** XXH3-64 with seed 0, the hash of both keys and points. */
  public static long hash(byte[] bytes) {
    return XXH3.hashBytesToLong(bytes);
  }

  public static long hash(byte[] bytes, int offset, int length) {
    return XXH3.hashBytesToLong(bytes, offset, length);
  }

  /** The members in ring order (sorted by name). */
  public List<String> members() {
    return members;
  }

  /** Index into {@link #members()} of the owner of this key. */
  public int ownerIndex(byte[] key, int offset, int length) {
    long h = hash(key, offset, length);
    int i = Arrays.binarySearch(points, h);
    if (i < 0) {
      i = -i - 1;
    } else {
      // Several points may share this value: the first of them owns it.
      while (i > 0 && points[i - 1] == h) {
        i--;
      }
    }
    return owners[i == points.length ? 0 : i];
  }

  public int ownerIndex(byte[] key) {
    return ownerIndex(key, 0, key.length);
  }

  /** The owner of this key, as {@code host:port}. */
  public String owner(byte[] key) {
    return members.get(ownerIndex(key));
  }

  public String owner(String key) {
    return owner(key.getBytes(StandardCharsets.UTF_8));
  }

  /** A ring with one more member. */
  public HashRing with(String member) {
    List<String> grown = new ArrayList<>(members);
    grown.add(member);
    return of(grown);
  }
}

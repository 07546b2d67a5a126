package dev.whack.client.ring;

/**
 * The slot of a profile key in a Kafka-managed cluster (docs/cluster.md, "Slots"): Kafka's default
 * partitioner over the key's bytes, so that a record a producer keys by profile already sits in its
 * key's slot. A slot is a partition of the updates topic; the cluster map says which member owns
 * each.
 *
 * <p>The hash is MurmurHash2 (32-bit, seed {@code 0x9747b28c}, little-endian words), as Kafka's
 * {@code Utils.murmur2}; the slot is the hash with its sign bit cleared, modulo the partition
 * count. The node's tests check it against Kafka's own function; docs/cluster.md lists vectors.
 *
 * <p>Concurrency: stateless.
 */
public final class Slots {
  private static final int SEED = 0x9747b28c;
  private static final int M = 0x5bd1e995;
  private static final int R = 24;

  private Slots() {}

  /** The slot of {@code key[offset, offset + length)} among {@code slots} partitions. */
  public static int slotOf(byte[] key, int offset, int length, int slots) {
    return (murmur2(key, offset, length) & 0x7fffffff) % slots;
  }

  public static int slotOf(byte[] key, int slots) {
    return slotOf(key, 0, key.length, slots);
  }

  /** MurmurHash2, 32-bit, with Kafka's seed. */
  public static int murmur2(byte[] data, int offset, int length) {
    int h = SEED ^ length;
    int words = length >>> 2;
    for (int i = 0; i < words; i++) {
      int at = offset + (i << 2);
      int k =
          (data[at] & 0xff)
              | (data[at + 1] & 0xff) << 8
              | (data[at + 2] & 0xff) << 16
              | (data[at + 3] & 0xff) << 24;
      k *= M;
      k ^= k >>> R;
      k *= M;
      h *= M;
      h ^= k;
    }
    int tail = offset + (length & ~3);
    int rest = length & 3;
    if (rest == 3) {
      h ^= (data[tail + 2] & 0xff) << 16;
    }
    if (rest >= 2) {
      h ^= (data[tail + 1] & 0xff) << 8;
    }
    if (rest >= 1) {
      h ^= data[tail] & 0xff;
      h *= M;
    }
    h ^= h >>> 13;
    h *= M;
    h ^= h >>> 15;
    return h;
  }
}

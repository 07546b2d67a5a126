package dev.whack.node.protocol;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;

/**
 * Which writes of a Kafka-managed member go through its updates log (docs/cluster.md, "Writes
 * through the log"): the one place the rule lives, for the text and the binary front ends. What the
 * standby copies may hold (anything the log wrote) and what a slot still being taken over holds
 * (not known yet) decide it, besides the value itself; the callers check that the node has a log.
 */
public final class WritesThroughLog {
  private WritesThroughLog() {}

  /**
   * What a set of {@code value} with {@code flags} writes to the log, or null when it is stored
   * here (a new opaque value, the owner's alone as in memcached). An opaque value over an item the
   * log may have written goes there too, as a whole-profile record whose flags and bytes store it
   * as the opaque value it is (docs/kafka.md, "Records").
   */
  public static SourcedKind ofSet(
      Cluster cluster,
      KeyspaceSession keys,
      byte[] key,
      int offset,
      int length,
      int flags,
      byte[] value) {
    SourcedKind kind = Keyspace.profileRecordOf(flags, value);
    if (kind == null && ofDelete(cluster, keys, key, offset, length)) {
      kind = SourcedKind.PROFILE_JSON;
    }
    return kind;
  }

  /**
   * Whether removing the key goes through the log: it holds something (the log may have written it,
   * and the copies hold it), or its slot is still being taken over here (what it holds is not known
   * yet).
   */
  public static boolean ofDelete(
      Cluster cluster, KeyspaceSession keys, byte[] key, int offset, int length) {
    return keys.holds(key, offset, length)
        || cluster.notServingBecause(key, offset, length) != null;
  }

  /**
   * Whether an update goes through the log: unless the key holds an opaque value (which the update
   * is refused for here), or its slot is still being taken over (then the log's apply decides).
   */
  public static boolean ofUpdate(
      Cluster cluster, KeyspaceSession keys, byte[] key, int offset, int length) {
    return !keys.holdsOpaque(key, offset, length)
        || cluster.notServingBecause(key, offset, length) != null;
  }
}

package dev.whack.node.cluster;

import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Status;
import java.util.concurrent.CompletableFuture;

/**
 * Where a Kafka-managed cluster's profile writes from memcached clients go (docs/cluster.md,
 * "Writes through the log"): the updates topic, in the key's partition, so that the owner and every
 * standby copy apply them in the log's order, and a write survives the owner's death or a move of
 * its slot. The write completes once this member's own source has applied it, so a client reads
 * what it wrote; should the slot move away first, once it is in the log (the new owner applies it).
 */
public interface UpdatesLog {
  /**
   * What applying a logged write did.
   *
   * @param status what the apply returned (STORED, IGNORED, DELETED, NOT_FOUND, TOO_LARGE)
   * @param cas the item's cas after a store, else 0
   * @param rejected why the record was refused (the reason a local write gives), else null
   */
  record Applied(Status status, long cas, String rejected) {}

  /**
   * Appends a write to the log.
   *
   * @param kind a whole profile, an update or a delete ({@code value} null)
   * @param flags a whole profile's flags, as the client's set gave them
   * @param exptime a whole profile's expiry, as the client's set gave it (memcached's rule)
   * @return completes when applied (or moved); fails with a reason a person can act on when the log
   *     refused the write or this member did not apply it in time
   */
  CompletableFuture<Applied> append(
      byte[] key,
      int keyOffset,
      int keyLength,
      SourcedKind kind,
      byte[] value,
      int flags,
      long exptime);
}

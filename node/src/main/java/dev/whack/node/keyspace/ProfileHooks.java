package dev.whack.node.keyspace;

/**
 * How the cache keeps the profile engine in step with its items: every profile item that leaves the
 * cache (delete, expiry, eviction, flush, or an opaque value stored over it) is reported, under the
 * lock of the item's stripe, so that the profile leaves every segment at the same moment.
 */
@FunctionalInterface
interface ProfileHooks {
  ProfileHooks NONE = (key, hash, ordinal) -> {};

  /** The profile item under this key (its hash and engine ordinal) is gone from the cache. */
  void removed(byte[] key, int hash, int ordinal);

  /**
   * The profile item under this key left the cache because another member owns the key now: gone
   * here, but not gone (no segment change is told).
   */
  default void moved(byte[] key, int hash, int ordinal) {
    removed(key, hash, ordinal);
  }

  /**
   * Bytes the profiles hold in common, outside any item (their interned names), which count against
   * the memory cap beside the items: while items and these together are over the cap, the cache
   * evicts, and evicted profiles give back the names only they used.
   */
  default long sharedBytes() {
    return 0;
  }
}

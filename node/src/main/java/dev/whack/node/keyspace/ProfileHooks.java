package dev.whack.node.keyspace;

/**
 * How the cache keeps the profile engine in step with its items: every profile item that leaves
 * the cache (delete, expiry, eviction, flush, or an opaque value stored over it) is reported, under
 * the lock of the item's stripe, so that the profile leaves every segment at the same moment.
 */
@FunctionalInterface
interface ProfileHooks {
  ProfileHooks NONE = (key, hash, ordinal) -> {};

  /** The profile item under this key (its hash and engine ordinal) is gone from the cache. */
  void removed(byte[] key, int hash, int ordinal);
}

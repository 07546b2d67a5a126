package dev.whack.node.keyspace;

import dev.whack.node.engine.WriteResult;

/**
 * A write to the profile engine that the cache runs under the key's stripe lock, after the
 * command's conditions (add, replace, cas) have passed, so that condition and write are one step
 * and a concurrent delete or eviction cannot slip between them.
 *
 * <p>Implementations are reused per connection, so the update path allocates no lambda.
 */
interface ProfileWrite {
  /**
   * Applies the write to the engine.
   *
   * @param currentKind the kind of the item now under the key ({@link Item#PROFILE_JSON} or {@link
   *     Item#PROFILE_PROTOBUF}), or {@link Item#OPAQUE} when no profile is there (a write then
   *     creates one); an update keeps the encoding a read returns the profile in
   * @param currentOrdinal the profile's engine ordinal, or {@link Item#NO_ORDINAL}
   * @param key the key, the array the item owns (the engine copies it into the profile)
   * @param hash the key's hash, which the engine's stripes share with the cache
   * @return the engine's result: applied (false for a replayed update), footprint, ordinal
   * @throws RuntimeException when the engine refuses the write; the cache then changes nothing
   */
  WriteResult apply(byte currentKind, int currentOrdinal, byte[] key, int hash);

  /**
   * Tells the journal what the last {@link #apply} did, now that the item it made or changed is
   * linked (its cas, flags and expiry final). Called under the same stripe lock.
   */
  void journal(Journal journal, int stripe, Item item);
}

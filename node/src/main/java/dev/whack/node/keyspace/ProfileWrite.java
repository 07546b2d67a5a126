package dev.whack.node.keyspace;

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
   * @return the profile's footprint in bytes, for the memory cap
   * @throws RuntimeException when the engine refuses the write; the cache then changes nothing
   */
  int apply(byte currentKind);

  /** Whether the write took effect (false: a replayed update, acknowledged and ignored). */
  boolean applied();
}

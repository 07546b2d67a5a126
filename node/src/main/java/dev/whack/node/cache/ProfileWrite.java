package dev.whack.node.cache;

/**
 * A write to the profile engine that the cache runs under the key's segment lock, after the
 * command's conditions (add, replace, cas) have passed, so that condition and write are one step
 * and a concurrent delete or eviction cannot slip between them.
 *
 * <p>Implementations are reused per connection, so the update path allocates no lambda.
 */
public interface ProfileWrite {
  /**
   * Applies the write to the engine.
   *
   * @param create true when no profile item exists under the key (a put then creates one)
   * @return the profile's footprint in bytes, for the memory cap
   * @throws RuntimeException when the engine refuses the write; the cache then changes nothing
   */
  int apply(boolean create);

  /** Whether the write took effect (false: a replayed update, acknowledged and ignored). */
  boolean applied();
}

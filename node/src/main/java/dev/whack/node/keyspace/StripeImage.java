package dev.whack.node.keyspace;

/**
 * What a snapshot is told of each live item of one stripe ({@link Keyspace#image}), while the
 * stripe's lock is held: so it must only keep what it is given (every array handed over is
 * immutable), never block or call back into the keyspace, and do the work after the lock is
 * released.
 */
public interface StripeImage {
  /**
   * An opaque item.
   *
   * @param marks {@link Journal#STALE}, {@link Journal#BINARY_KEY}, {@link Journal#WIN_TOKEN_SENT}
   */
  void item(byte[] key, int flags, long expiresAtSeconds, long cas, int marks, byte[] value);

  /**
   * A profile item: its metadata and the engine's compact form of the profile (never modified once
   * published), which a snapshot writes after the lock is released, inside {@link
   * dev.whack.node.engine.ProfileEngine#holdNames} so that its name ids keep their names.
   *
   * @param kind the encoding the item is rendered in, which {@link Keyspace#restoreCompactProfile}
   *     takes back
   * @param ordinal the profile's ordinal in the engine, which holds this key while the lock is
   *     held: for reads of what the engine keeps beside the profile, such as its memberships'
   *     entered times ({@link dev.whack.node.engine.ProfileEngine.EnteredReader}), during this call
   *     only
   */
  void profile(
      byte[] key,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      byte[] compact,
      int ordinal);
}

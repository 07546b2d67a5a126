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
   * A profile item: its metadata and the whole profile as Profile JSON (attributes, event series in
   * {@code $events}, producer marks in {@code $producers}: nothing is lost, see docs/profiles.md).
   * JSON rather than protobuf because both ways it is the engine's own fast path (rendered from the
   * compact form as for a get, parsed into it with no object per field).
   *
   * @param kind the encoding the item is rendered in, which {@link Keyspace#restoreProfile} takes
   */
  void profile(
      byte[] key, byte kind, int flags, long expiresAtSeconds, long cas, int marks, byte[] compact);
}

package dev.whack.node.keyspace;

/**
 * Every change the keyspace makes to its items, told as it happens, under the key's stripe lock (so
 * per key in the order applied): what a log records and what recovery plays back. The record is an
 * effect, not a command: an item as it now is, a profile write with the document and the time it
 * was applied at, a new expiry, a removal. Playing the same calls into {@link Keyspace#restorer()}
 * rebuilds the same items and profiles without checking any condition again.
 *
 * <p>{@code stripe} is the index of the key's stripe (a log keeps one buffer per stripe); arrays
 * passed in must not be kept (copy what is needed).
 */
public interface Journal {
  /** Marks of an item that survive a restart. */
  int STALE = 1;

  int BINARY_KEY = 2;

  /** memcached's {@code Z}: a win token was handed out for the item. */
  int WIN_TOKEN_SENT = 4;

  Journal NONE = new Journal() {};

  /** Tells {@code first}, then {@code second}, every change. */
  static Journal tee(Journal first, Journal second) {
    return new Journal() {
      @Override
      public void item(
          int stripe,
          byte[] key,
          int flags,
          long expiresAtSeconds,
          long cas,
          int marks,
          byte[] value) {
        first.item(stripe, key, flags, expiresAtSeconds, cas, marks, value);
        second.item(stripe, key, flags, expiresAtSeconds, cas, marks, value);
      }

      @Override
      public void profilePut(
          int stripe,
          byte[] key,
          byte kind,
          int flags,
          long expiresAtSeconds,
          long cas,
          int marks,
          long atMillis,
          byte[] document,
          int offset,
          int length) {
        first.profilePut(
            stripe,
            key,
            kind,
            flags,
            expiresAtSeconds,
            cas,
            marks,
            atMillis,
            document,
            offset,
            length);
        second.profilePut(
            stripe,
            key,
            kind,
            flags,
            expiresAtSeconds,
            cas,
            marks,
            atMillis,
            document,
            offset,
            length);
      }

      @Override
      public void profileUpdate(
          int stripe,
          byte[] key,
          long cas,
          long atMillis,
          boolean protobuf,
          byte[] document,
          int offset,
          int length) {
        first.profileUpdate(stripe, key, cas, atMillis, protobuf, document, offset, length);
        second.profileUpdate(stripe, key, cas, atMillis, protobuf, document, offset, length);
      }

      @Override
      public void profileMarked(
          int stripe, byte[] key, long cas, long expiresAtSeconds, int marks) {
        first.profileMarked(stripe, key, cas, expiresAtSeconds, marks);
        second.profileMarked(stripe, key, cas, expiresAtSeconds, marks);
      }

      @Override
      public void expiry(int stripe, byte[] key, long expiresAtSeconds) {
        first.expiry(stripe, key, expiresAtSeconds);
        second.expiry(stripe, key, expiresAtSeconds);
      }

      @Override
      public void removed(int stripe, byte[] key) {
        first.removed(stripe, key);
        second.removed(stripe, key);
      }

      @Override
      public void flushed(int stripe, long oldestLiveSeconds, long oldestLiveCas) {
        first.flushed(stripe, oldestLiveSeconds, oldestLiveCas);
        second.flushed(stripe, oldestLiveSeconds, oldestLiveCas);
      }
    };
  }

  /**
   * An opaque item now under its key, as it is: after any storage command, arithmetic, meta vivify
   * or invalidation of an opaque value.
   *
   * @param marks {@link #STALE}, {@link #BINARY_KEY}, {@link #WIN_TOKEN_SENT}
   */
  default void item(
      int stripe,
      byte[] key,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      byte[] value) {}

  /**
   * A whole profile written ({@code set} and its kind): the document as sent (Profile JSON, or a
   * protobuf {@code Profile} when {@code kind} is {@link Item#PROFILE_PROTOBUF}), its {@code
   * length} bytes from {@code offset}, and the item's metadata.
   */
  default void profilePut(
      int stripe,
      byte[] key,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      long atMillis,
      byte[] document,
      int offset,
      int length) {}

  /**
   * A profile update applied at {@code atMillis} (Update JSON, or a protobuf {@code Update}); the
   * profile item's new cas. An update that creates the profile makes a JSON profile item with flags
   * 0 and no expiry.
   */
  default void profileUpdate(
      int stripe,
      byte[] key,
      long cas,
      long atMillis,
      boolean protobuf,
      byte[] document,
      int offset,
      int length) {}

  /** A profile item's metadata changed and its profile did not (meta invalidation). */
  default void profileMarked(int stripe, byte[] key, long cas, long expiresAtSeconds, int marks) {}

  /** A new expiry ({@code touch}, {@code gat}, meta {@code T}). */
  default void expiry(int stripe, byte[] key, long expiresAtSeconds) {}

  /** The item is gone for good (delete, eviction); expiry is not told, as it follows from time. */
  default void removed(int stripe, byte[] key) {}

  /**
   * {@code flush_all}, told once per stripe under that stripe's lock, so it falls between the
   * stripe's changes before and after it: items last accessed at or before {@code
   * oldestLiveSeconds}, or (without delay) with a cas below {@code oldestLiveCas}, are invalid.
   */
  default void flushed(int stripe, long oldestLiveSeconds, long oldestLiveCas) {}
}

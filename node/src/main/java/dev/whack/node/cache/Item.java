package dev.whack.node.cache;

/**
 * One cached entry: a key, an opaque value and memcached's metadata.
 *
 * <p>Concurrency: {@link #key}, {@link #value}, {@link #flags} and {@link #cas} never change after
 * construction, so a reader may keep using an item after the segment lock is released (a new
 * value always means a new item). The remaining fields are bookkeeping owned by the {@link
 * ItemCache} segment that holds the item and are read or written only under that segment's lock.
 */
public final class Item {
  /**
   * Java-side bytes per item beyond key and value: the object header and fields, two array
   * headers and a hash-table slot. Counted against the memory cap so that {@code --memory} bounds
   * the heap, not just the payload.
   */
  static final int OVERHEAD_BYTES = 112;

  final byte[] key;
  final int hash;
  final byte[] value;
  final int flags;
  final long cas;

  /** Absolute expiry in Unix seconds, 0 for never. */
  long expiresAtSeconds;
  /** When the item was stored, in Unix seconds, for {@code flush_all <delay>}. */
  long storedAtSeconds;
  /** Last access in Unix seconds, for meta {@code l} and {@code me}. */
  long lastAccessSeconds;

  boolean fetched;
  /** Marked stale by meta delete with {@code I}, or by meta set with {@code I} and an older cas. */
  boolean stale;
  /** A client already got the recache "win" token for this item. */
  boolean winTokenSent;
  /**
   * The key was sent base64-encoded (meta {@code b}) when the item was stored, so meta replies
   * echo it base64-encoded, as memcached's {@code ITEM_KEY_BINARY}. Immutable.
   */
  boolean binaryKey;

  Item chainNext;
  Item lruPrev;
  Item lruNext;

  Item(byte[] key, int hash, byte[] value, int flags, long cas) {
    this.key = key;
    this.hash = hash;
    this.value = value;
    this.flags = flags;
    this.cas = cas;
  }

  public byte[] key() {
    return key;
  }

  /** The stored bytes; callers must not modify the array. */
  public byte[] value() {
    return value;
  }

  public int flags() {
    return flags;
  }

  public long cas() {
    return cas;
  }

  public boolean binaryKey() {
    return binaryKey;
  }

  long sizeBytes() {
    return sizeOf(key.length, value.length);
  }

  static long sizeOf(int keyLength, int valueLength) {
    return OVERHEAD_BYTES + (long) keyLength + valueLength;
  }
}

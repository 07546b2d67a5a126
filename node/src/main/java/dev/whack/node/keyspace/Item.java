package dev.whack.node.keyspace;

import dev.whack.node.engine.ProfileEngine;

/**
 * One cached entry: a key, an opaque value and memcached's metadata.
 *
 * <p>Concurrency: {@link #key}, {@link #value} and {@link #flags} never change after construction,
 * so a reader may keep using an item after the stripe lock is released (a new value always means a
 * new item). {@link #cas} also stays fixed for opaque items; a profile item's cas and footprint
 * change in place when a partial update applies (its bytes live in the engine), written under the
 * stripe lock: a reader holding the item may see the cas from just before an update, exactly as if
 * it had read before it, and every cas comparison is made under the lock. The remaining fields are
 * bookkeeping owned by the {@link ItemCache} stripe that holds the item and are read or written
 * only under that stripe's lock.
 */
final class Item {
  /**
   * Java-side bytes per item beyond key and value: the object (80 bytes of header and fields), two
   * array headers, a hash-table slot and alignment. Counted against the memory cap so that {@code
   * --memory} bounds the heap, not just the payload.
   */
  static final int OVERHEAD_BYTES = 128;

  /** An opaque value, kept and returned byte for byte. */
  static final byte OPAQUE = 0;

  /** A profile written as JSON: the bytes live in the profile engine, rendered on get. */
  static final byte PROFILE_JSON = 1;

  /** A profile written as protobuf {@code whack.v1.Profile}. */
  static final byte PROFILE_PROTOBUF = 2;

  /** The ordinal of an item that is not in the engine. */
  static final int NO_ORDINAL = ProfileEngine.NO_PROFILE;

  final byte[] key;
  final int hash;
  final byte[] value;
  final int flags;
  long cas;

  /** {@link #OPAQUE}, {@link #PROFILE_JSON} or {@link #PROFILE_PROTOBUF}. */
  final byte kind;

  /** A profile's compact size in the engine, counted against the memory cap; 0 if opaque. */
  int footprint;

  /**
   * A profile's ordinal in the engine, handed to it with the key's hash so that it needs no lookup
   * of its own; {@link #NO_ORDINAL} for an opaque item. Fixed while the item is linked (the engine
   * frees an ordinal only on a removal, which the stripe lock serialises with every write); changed
   * only under the stripe lock.
   */
  int ordinal = NO_ORDINAL;

  /** Absolute expiry in Unix seconds, 0 for never. */
  long expiresAtSeconds;

  /** Last access in Unix seconds, for meta {@code l} and {@code me}. */
  long lastAccessSeconds;

  boolean fetched;

  /** Marked stale by meta delete with {@code I}, or by meta set with {@code I} and an older cas. */
  boolean stale;

  /** A client already got the recache "win" token for this item. */
  boolean winTokenSent;

  /**
   * The key was sent base64-encoded (meta {@code b}) when the item was stored, so meta replies echo
   * it base64-encoded, as memcached's {@code ITEM_KEY_BINARY}. Immutable.
   */
  boolean binaryKey;

  Item chainNext;
  Item lruPrev;
  Item lruNext;

  /** In the table: cleared when unlinked, so stale expiry entries can be recognised. */
  boolean linked;

  Item(byte[] key, int hash, byte[] value, int flags, long cas) {
    this(key, hash, value, flags, cas, OPAQUE, 0);
  }

  Item(byte[] key, int hash, byte[] value, int flags, long cas, byte kind, int footprint) {
    this.key = key;
    this.hash = hash;
    this.value = value;
    this.flags = flags;
    this.cas = cas;
    this.kind = kind;
    this.footprint = footprint;
  }

  public byte kind() {
    return kind;
  }

  public boolean isProfile() {
    return kind != OPAQUE;
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
    return sizeOf(key.length, value.length) + footprint;
  }

  static long sizeOf(int keyLength, int valueLength) {
    return OVERHEAD_BYTES + (long) keyLength + valueLength;
  }
}

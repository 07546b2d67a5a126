package dev.whack.node.keyspace;

/**
 * The details of one keyspace operation that a protocol may echo back, filled in under the stripe
 * lock so that they are a consistent snapshot of the item at that moment.
 *
 * <p>Concurrency: one instance per connection, reused for every request, never shared.
 */
public final class Outcome {
  /** The item found or stored, or null; the keyspace's own, never shown to a front end. */
  Item item;

  /** The item's key as it was stored (a base64 key decoded), or null when no item was found. */
  public byte[] key;

  /** A read: what the client gets (an opaque value, or a profile rendered), else null. */
  public byte[] value;

  /** The item's client flags. */
  public int flags;

  /** The item's key was stored base64-encoded (meta {@code b}); replies re-encode it. */
  public boolean binaryKey;

  /** The item's cas after the operation (0 when nothing was stored). */
  public long cas;

  /** incr/decr: the value after the operation. */
  public long number;

  /** Seconds until expiry, -1 for never. */
  public long ttlSeconds;

  /** Meta {@code h}: the item had been fetched before this request. */
  public boolean fetchedBefore;

  /** Meta {@code l}: seconds since the last access before this request. */
  public long secondsSinceAccess;

  /** Meta {@code W}: this client won the right to recache the item. */
  public boolean won;

  /** Meta {@code Z}: another client already won the right to recache. */
  public boolean winTokenAlreadySent;

  /** Meta {@code X}: the item is marked stale. */
  public boolean stale;

  /** The operation created the item on a miss (meta {@code N}, binary incr with initial). */
  public boolean created;

  void reset() {
    item = null;
    key = null;
    value = null;
    flags = 0;
    binaryKey = false;
    cas = 0;
    number = 0;
    ttlSeconds = -1;
    fetchedBefore = false;
    secondsSinceAccess = 0;
    won = false;
    winTokenAlreadySent = false;
    stale = false;
    created = false;
  }
}

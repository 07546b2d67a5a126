package dev.whack.node.keyspace;

import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.ProfileTooLargeException;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.proto.Update;
import java.util.Arrays;
import java.util.List;

/**
 * One connection's handle on the {@link Keyspace}: every keyed operation of memcached's text, meta
 * and binary protocols and of Whack's profile update, each decided here once. A method takes the
 * request's key as {@code (bytes, offset, length)} (no key object is made for a lookup) and answers
 * with a {@link Status} and, where a reply echoes details, an {@link Outcome} filled as one
 * consistent snapshot under the key's stripe lock. A read's {@link Outcome#value} is what the
 * client gets: an opaque value as stored, a profile rendered in the encoding it was written in.
 *
 * <p>Decided here for every protocol: a value is stored as a profile by {@link Keyspace#kindOf}; a
 * reserved key ({@link Keyspace#isReserved}) is never stored, never created by an arithmetic or a
 * vivifying read, and a read answers it from the segments; a profile is written whole or updated,
 * never appended to or counted; a {@code set} refused for size removes the old value (as memcached
 * unlinks it), profile or not; meta's stale marks ({@code I}) apply to profiles as to opaque
 * values.
 *
 * <p>Concurrency: one per connection, used by its event loop only (it reuses its write objects);
 * the keyspace it calls is thread-safe.
 */
public final class KeyspaceSession {
  private static final byte[] EMPTY = new byte[0];
  private static final byte[] EMPTY_OBJECT = {'{', '}'};
  private static final byte[] PRODUCER_FIELD = ascii("{\"producer\":\"");
  private static final byte[] SEQ_FIELD = ascii("\",\"seq\":");
  private static final byte[] COMMA = {','};

  private final Keyspace keyspace;
  private final ItemCache cache;
  private final ProfileEngine engine;
  private final PutWrite put = new PutWrite();
  private final UpdateWrite update = new UpdateWrite();

  /** A sourced update's body with its producer and seq added ({@link #applySourced}). */
  private byte[] sourced = new byte[256];

  KeyspaceSession(Keyspace keyspace, ItemCache cache, ProfileEngine engine) {
    this.keyspace = keyspace;
    this.cache = cache;
    this.engine = engine;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** The largest value a read may return and a write may store ({@code --max-item-size}). */
  public int maxItemSize() {
    return cache.maxItemSize();
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * {@code get}: the value under the key, the item bumped in the LRU and marked fetched; a reserved
   * key is answered from the segments (flags 0, cas 0).
   *
   * @return false on a miss (also when a profile went away between finding and rendering it)
   */
  public boolean get(byte[] key, int keyOffset, int keyLength, Outcome out) {
    out.reset();
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      return virtualRead(key, keyOffset, keyLength, out);
    }
    return read(cache.get(key, keyOffset, keyLength), out);
  }

  /** {@code gat}: {@link #get} that also sets a new expiry; a reserved key is only read. */
  public boolean getAndTouch(byte[] key, int keyOffset, int keyLength, long exptime, Outcome out) {
    out.reset();
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      return virtualRead(key, keyOffset, keyLength, out);
    }
    return read(cache.touch(key, keyOffset, keyLength, exptime), out);
  }

  /** {@code touch}: sets a new expiry on a live item; false on a miss. Nothing is rendered. */
  public boolean touch(byte[] key, int keyOffset, int keyLength, long exptime, Outcome out) {
    out.reset();
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      return false;
    }
    Item item = cache.touch(key, keyOffset, keyLength, exptime);
    if (item == null) {
      return false;
    }
    describe(item, out);
    return true;
  }

  /**
   * Meta get ({@code mg}) with its item-changing flags; {@code out} gets the value and the metadata
   * as it was before this request (hit-before, last access), as memcached reports them. A profile
   * removed since it was found reads as the empty item it now is. A reserved key is answered from
   * the segments and never vivified, touched or marked.
   *
   * @return false on a miss
   */
  public boolean metaGet(
      byte[] key, int keyOffset, int keyLength, MetaGetOptions options, Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return virtualRead(key, keyOffset, keyLength, out);
    }
    Item item = cache.metaGet(key, keyOffset, keyLength, options, out);
    if (item == null) {
      return false;
    }
    byte[] value = keyspace.valueOf(item);
    describe(item, out);
    out.value = value == null ? EMPTY : value;
    return true;
  }

  /**
   * Meta debug ({@code me}) and a TTL read before a touch: the live item's metadata without bumping
   * it; {@code withValue} also renders what a read would return (a profile removed since leaves it
   * null). A reserved key is a miss: nothing is stored there.
   */
  public boolean peek(byte[] key, int keyOffset, int keyLength, boolean withValue, Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return false;
    }
    Item item = cache.peek(key, keyOffset, keyLength, out);
    if (item == null) {
      return false;
    }
    describe(item, out);
    out.value = withValue ? keyspace.valueOf(item) : null;
    return true;
  }

  private boolean read(Item item, Outcome out) {
    if (item == null) {
      return false;
    }
    byte[] value = keyspace.valueOf(item);
    if (value == null) {
      return false;
    }
    describe(item, out);
    out.value = value;
    return true;
  }

  /**
   * The item under the key as a memcached set would store it again elsewhere (a standby copy
   * promoted into its owner's keyspace, docs/cluster.md): {@code out.value} its bytes as a get
   * renders them (a profile with its producer marks, in its own encoding), {@code out.flags} the
   * flags that make a set store it as the same kind, {@code out.number} its expiry (absolute Unix
   * seconds, 0 for none). The item is not touched.
   *
   * @return false when the key holds nothing
   */
  public boolean copyOut(byte[] key, int keyOffset, int keyLength, Outcome out) {
    Item item = cache.peek(key, keyOffset, keyLength, out);
    if (!read(item, out)) {
      return false;
    }
    if (item.kind == Item.PROFILE_JSON && out.flags == 0) {
      out.flags = Keyspace.JSON_PROFILE_FLAGS; // a profile it must be, not an opaque value
    }
    out.number = item.expiresAtSeconds;
    return true;
  }

  /**
   * Names of the segments the profile under the key is in, in the catalog's order; empty when the
   * key holds no profile.
   */
  public List<String> segmentsOf(byte[] key, int keyOffset, int keyLength) {
    return keyspace.segmentsOf(key, keyOffset, keyLength);
  }

  /**
   * The segments the profile under the key is in with when it entered each, in the catalog's order;
   * empty when the key holds no profile.
   */
  public List<dev.whack.node.engine.SegmentMembership> membershipsOf(
      byte[] key, int keyOffset, int keyLength) {
    return keyspace.membershipsOf(key, keyOffset, keyLength);
  }

  /** The profile under the key as Profile JSON, for dumps; null when the key holds no profile. */
  public byte[] profileJson(byte[] key, int keyOffset, int keyLength) {
    return keyspace.profileJson(key, keyOffset, keyLength);
  }

  /**
   * A page of the node's live opaque items from {@code cursor} ({@code 0} for the first), for
   * {@code itemdump}: see {@link Keyspace#listItems}.
   */
  public long listItems(long cursor, int limit, List<ListedItem> out) {
    return keyspace.listItems(cursor, limit, out);
  }

  private boolean virtualRead(byte[] key, int keyOffset, int keyLength, Outcome out) {
    out.value = VirtualKeys.resolve(keyspace, engine, key, keyOffset, keyLength);
    return out.value != null;
  }

  /**
   * The item's reply details. Read without the stripe lock: key, flags and binaryKey never change,
   * and a profile's cas read here is at worst the one from just before a concurrent update.
   */
  private static void describe(Item item, Outcome out) {
    out.item = item;
    out.cas = item.cas();
    out.key = item.key();
    out.flags = item.flags();
    out.binaryKey = item.binaryKey();
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * Runs writes of {@code key}, an item another member owned until now (a warm copy moving in, a
   * slot restored from the profiles topic), with its segment changes untold ({@link
   * ProfileEngine#withoutTellingChanges}): in the cluster, nothing changed.
   */
  public <T> T movingIn(byte[] key, java.util.function.Supplier<T> writes) {
    return engine.withoutTellingChanges(key, writes);
  }

  /**
   * The storage commands (memcached's {@code do_store_item}): the value is stored as a profile when
   * {@link Keyspace#kindOf} says so (never for append and prepend, which only opaque values take),
   * else as it is. A value taken for Profile JSON that the engine refuses is stored as it is too,
   * unless its flags require a profile ({@link Keyspace#requiresProfile}).
   *
   * @param compareCas the client's cas, 0 for none
   * @param allowStale meta {@code I}: a cas lower than the item's stores the value marked stale
   * @param binaryKey meta {@code b}: the client sent the key base64-encoded
   * @return RESERVED for a reserved key; TOO_LARGE for a value, a concatenation or a profile's
   *     rendering over the item size limit (a refused {@code set} removes the old value);
   *     IS_PROFILE for append or prepend to a profile; else memcached's outcome
   * @throws ProfileRejectedException when the flags require a profile and the value is not an
   *     acceptable one; nothing changes
   */
  public Status store(
      StoreMode mode,
      byte[] key,
      int keyOffset,
      int keyLength,
      int flags,
      long exptime,
      byte[] value,
      long compareCas,
      boolean allowStale,
      boolean binaryKey,
      Outcome out) {
    return store(
        mode,
        key,
        keyOffset,
        keyLength,
        flags,
        exptime,
        value,
        0,
        value.length,
        compareCas,
        allowStale,
        binaryKey,
        out);
  }

  /**
   * {@link #store(StoreMode, byte[], int, int, int, long, byte[], long, boolean, boolean, Outcome)}
   * of the value's {@code valueLength} bytes from {@code valueOffset}: a profile is read from there
   * (a Kafka record's value in its fetch buffer, never copied); an opaque value, which the item
   * keeps, is copied out when it is not the whole array.
   */
  public Status store(
      StoreMode mode,
      byte[] key,
      int keyOffset,
      int keyLength,
      int flags,
      long exptime,
      byte[] value,
      int valueOffset,
      int valueLength,
      long compareCas,
      boolean allowStale,
      boolean binaryKey,
      Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return Status.RESERVED;
    }
    byte kind =
        mode == StoreMode.APPEND || mode == StoreMode.PREPEND
            ? Item.OPAQUE
            : Keyspace.kindOf(flags, value, valueOffset, valueLength);
    Status status;
    if (kind == Item.OPAQUE) {
      status =
          cache.store(
              mode,
              key,
              keyOffset,
              keyLength,
              flags,
              exptime,
              whole(value, valueOffset, valueLength),
              compareCas,
              allowStale,
              binaryKey,
              out);
    } else {
      put.value = value;
      put.offset = valueOffset;
      put.length = valueLength;
      put.kind = kind;
      try {
        status =
            cache.storeProfile(
                mode,
                key,
                keyOffset,
                keyLength,
                Keyspace.storedFlags(flags),
                exptime,
                compareCas,
                allowStale,
                binaryKey,
                kind,
                put,
                out);
      } catch (ProfileTooLargeException e) {
        status = Status.TOO_LARGE;
        if (mode == StoreMode.SET) {
          // As for a value over the limit: a refused set must not leave the old value readable.
          cache.delete(key, keyOffset, keyLength, 0);
        }
      } catch (RuntimeException e) {
        ProfileRejectedException rejected = ProfileRejectedException.of("bad profile", e);
        if (Keyspace.requiresProfile(flags)) {
          throw rejected;
        }
        // A plain memcached write of JSON that is no profile: memcached keeps any bytes, and so do
        // we. The cache re-checks the command's conditions under the stripe lock, so this store is
        // as atomic as any other; only refused documents pay for the second step.
        keyspace.countOpaqueJson();
        status =
            cache.store(
                mode,
                key,
                keyOffset,
                keyLength,
                flags,
                exptime,
                whole(value, valueOffset, valueLength),
                compareCas,
                allowStale,
                binaryKey,
                out);
      } finally {
        put.value = null;
      }
    }
    if (out.item != null) {
      describe(out.item, out);
    }
    return status;
  }

  /** The slice as an array of its own, unless it is the whole array already. */
  private static byte[] whole(byte[] value, int offset, int length) {
    return offset == 0 && length == value.length
        ? value
        : Arrays.copyOfRange(value, offset, offset + length);
  }

  /**
   * A partial profile update ({@code body} is Update JSON, or a protobuf {@code whack.v1.Update}
   * when {@code protobuf}); creates the profile (JSON, flags 0, no expiry) if the key is absent,
   * and keeps an existing profile's flags, expiry and encoding.
   *
   * @return STORED, IGNORED (a replayed producer sequence; nothing changed), RESERVED, or TOO_LARGE
   *     when the updated profile would render to more than the item size limit; then nothing is
   *     applied
   * @throws ProfileRejectedException when the update is malformed or clashes, or when the key holds
   *     an opaque value ("not a profile: " and why the value was not taken as one); nothing changes
   */
  public Status update(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] body,
      int bodyOffset,
      int bodyLength,
      boolean protobuf,
      Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return Status.RESERVED;
    }
    update.protobuf = protobuf;
    update.body = body;
    update.offset = bodyOffset;
    update.length = bodyLength;
    Status status;
    try {
      status = cache.updateProfile(key, keyOffset, keyLength, update, out);
    } catch (ProfileTooLargeException e) {
      return Status.TOO_LARGE;
    } catch (RuntimeException e) {
      throw ProfileRejectedException.of("bad update", e);
    } finally {
      update.body = null;
    }
    if (status == Status.NOT_PROFILE) {
      // The reason is worked out again here, on the error path, so that no item keeps a string.
      String reason = Keyspace.notProfileReason(out.value);
      throw ProfileRejectedException.notAProfile(reason);
    }
    return status;
  }

  /**
   * Whether the key holds a profile now (a managed cluster's delete of one goes through the log);
   * the item is not touched (no LRU bump, no fetched mark).
   */
  public boolean holdsProfile(byte[] key, int keyOffset, int keyLength) {
    Item item = cache.peek(key, keyOffset, keyLength, peeked);
    return item != null && item.isProfile();
  }

  /** Whether the key holds anything now (a managed cluster's delete of it goes through the log). */
  public boolean holds(byte[] key, int keyOffset, int keyLength) {
    return cache.peek(key, keyOffset, keyLength, peeked) != null;
  }

  /** Whether the key holds an opaque value now (an update of it is refused); not touched. */
  public boolean holdsOpaque(byte[] key, int keyOffset, int keyLength) {
    Item item = cache.peek(key, keyOffset, keyLength, peeked);
    return item != null && !item.isProfile();
  }

  private final Outcome peeked = new Outcome();

  /** What a record of an ordered source ({@link #applySourced}) asks for. */
  public enum SourcedKind {
    /** Update JSON. */
    UPDATE_JSON,
    /** A protobuf {@code whack.v1.Update}. */
    UPDATE_PROTOBUF,
    /** A whole profile as Profile JSON. */
    PROFILE_JSON,
    /** A whole profile as a protobuf {@code whack.v1.Profile}. */
    PROFILE_PROTOBUF,
    /** Removes whatever the key holds. */
    DELETE
  }

  /**
   * Applies one record of an ordered source (a Kafka partition) exactly once. The record's position
   * is a producer mark: {@code producer} names the source and {@code seq} is the record's place in
   * it, so the key's profile remembers the highest position applied to it, in its state, its log
   * records and its snapshot, and a record at or below that mark (the source read again after a
   * crash, a restart or a rebalance) is acknowledged and ignored. An update carries the mark as its
   * own producer and sequence; a whole profile or a delete is decided on the mark under the key's
   * stripe lock, held from the check through the write.
   *
   * <p>A delete ends the profile and its mark with it, so a source read again from before a delete
   * rebuilds what the delete removed until it reaches the delete again: the state after the replay
   * equals a single pass, but not every state on the way (docs/kafka.md).
   *
   * @param producer the source's name as UTF-8: printable ASCII without quotes or backslashes
   * @return STORED (applied), IGNORED (at or below the mark: nothing changed), DELETED or NOT_FOUND
   *     for a delete, RESERVED for a reserved key, TOO_LARGE for a profile over the item limit
   * @throws ProfileRejectedException when the record is no acceptable update or profile, carries a
   *     producer of its own, or updates an opaque value; nothing changes
   */
  public Status applySourced(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] producer,
      long seq,
      SourcedKind kind,
      byte[] value,
      Outcome out) {
    return applySourced(
        key, keyOffset, keyLength, producer, seq, kind, value, SourcedWrite.PLAIN, out);
  }

  /**
   * How a record written by a node of a managed cluster for a memcached client (docs/cluster.md,
   * "Writes through the log") is stored, beyond what a plain record says: the client's flags and
   * expiry for a whole profile, and whether an update may carry the client's own producer and seq
   * (then those, not the record's place, make it exactly once).
   *
   * @param flags the flags a whole profile is stored with, as a memcached set gives them: a value
   *     that is no valid profile is then kept as an opaque value, as the set would keep it
   * @param exptime 0, or an absolute Unix time, or -1 for already expired
   */
  public record SourcedWrite(int flags, long exptime, boolean ownMarks) {
    /** A record as Kafka users write it: profile flags, no expiry, no marks of its own. */
    public static final SourcedWrite PLAIN = new SourcedWrite(0, 0, false);
  }

  /**
   * {@link #applySourced(byte[], int, int, byte[], long, SourcedKind, byte[], Outcome)} with how.
   */
  public Status applySourced(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] producer,
      long seq,
      SourcedKind kind,
      byte[] value,
      SourcedWrite how,
      Outcome out) {
    return applySourced(
        key,
        keyOffset,
        keyLength,
        producer,
        seq,
        kind,
        value,
        0,
        value == null ? 0 : value.length,
        how,
        out);
  }

  /**
   * {@link #applySourced(byte[], int, int, byte[], long, SourcedKind, byte[], SourcedWrite,
   * Outcome)} of the value's {@code valueLength} bytes from {@code valueOffset} (a Kafka record's
   * value in its fetch buffer, read where it is).
   */
  public Status applySourced(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] producer,
      long seq,
      SourcedKind kind,
      byte[] value,
      int valueOffset,
      int valueLength,
      SourcedWrite how,
      Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return Status.RESERVED;
    }
    switch (kind) {
      case UPDATE_JSON -> {
        int length = sourcedJsonUpdate(value, valueOffset, valueLength, producer, seq);
        try {
          return update(key, keyOffset, keyLength, sourced, 0, length, false, out);
        } catch (ProfileRejectedException e) {
          if (!hasOwnProducer(value, valueOffset, valueLength)) {
            throw e;
          }
          if (!how.ownMarks()) {
            throw ownProducer();
          }
          return ownMarkedUpdate(
              key,
              keyOffset,
              keyLength,
              producer,
              seq,
              value,
              valueOffset,
              valueLength,
              false,
              out);
        }
      }
      case UPDATE_PROTOBUF -> {
        Update parsed;
        try {
          parsed = Update.parseFrom(java.nio.ByteBuffer.wrap(value, valueOffset, valueLength));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new ProfileRejectedException("bad update: not a protobuf whack.v1.Update");
        }
        if (!parsed.getProducer().isEmpty()) {
          if (!how.ownMarks()) {
            throw ownProducer();
          }
          return ownMarkedUpdate(
              key, keyOffset, keyLength, producer, seq, value, valueOffset, valueLength, true, out);
        }
        byte[] body =
            parsed.toBuilder()
                .setProducer(new String(producer, java.nio.charset.StandardCharsets.US_ASCII))
                .setSeq(seq)
                .build()
                .toByteArray();
        return update(key, keyOffset, keyLength, body, 0, body.length, true, out);
      }
      default -> {
        return markedWrite(
            key,
            keyOffset,
            keyLength,
            producer,
            seq,
            kind,
            value,
            valueOffset,
            valueLength,
            how,
            out);
      }
    }
  }

  /**
   * An update that names its own producer and seq, from a source: once by its own mark and once by
   * the record's place (a whole profile later in the source replaces the own marks, so a replay
   * from before it must still find this record applied), both under the key's lock.
   */
  private Status ownMarkedUpdate(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] producer,
      long seq,
      byte[] value,
      int valueOffset,
      int valueLength,
      boolean protobuf,
      Outcome out) {
    java.util.concurrent.locks.ReentrantLock lock = cache.lockOf(key, keyOffset, keyLength);
    lock.lock();
    try {
      if (appliedAlready(key, keyOffset, keyLength, producer, seq, out)) {
        return Status.IGNORED;
      }
      Status status =
          update(key, keyOffset, keyLength, value, valueOffset, valueLength, protobuf, out);
      if (status == Status.STORED || status == Status.IGNORED) {
        mark(key, keyOffset, keyLength, producer, seq, out);
      }
      return status;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Under the key's lock: whether the profile's mark for {@code producer} is at or past {@code seq}
   * (then {@code out} is reset: the record changes nothing).
   */
  private boolean appliedAlready(
      byte[] key, int keyOffset, int keyLength, byte[] producer, long seq, Outcome out) {
    Item current = cache.peek(key, keyOffset, keyLength, out);
    if (current != null
        && current.isProfile()
        && engine.producerMark(current.key, current.hash, current.ordinal, producer) >= seq) {
      out.reset();
      return true;
    }
    return false;
  }

  /** Sets the record's mark on the profile, as an empty update from its source. */
  private Status mark(
      byte[] key, int keyOffset, int keyLength, byte[] producer, long seq, Outcome out) {
    int length = sourcedJsonUpdate(EMPTY_OBJECT, 0, EMPTY_OBJECT.length, producer, seq);
    return update(key, keyOffset, keyLength, sourced, 0, length, false, out);
  }

  /** A whole profile or a delete from a source: decided on the profile's mark, under its lock. */
  private Status markedWrite(
      byte[] key,
      int keyOffset,
      int keyLength,
      byte[] producer,
      long seq,
      SourcedKind kind,
      byte[] value,
      int valueOffset,
      int valueLength,
      SourcedWrite how,
      Outcome out) {
    java.util.concurrent.locks.ReentrantLock lock = cache.lockOf(key, keyOffset, keyLength);
    lock.lock();
    try {
      if (appliedAlready(key, keyOffset, keyLength, producer, seq, out)) {
        return Status.IGNORED;
      }
      if (kind == SourcedKind.DELETE) {
        out.reset();
        return cache.delete(key, keyOffset, keyLength, 0);
      }
      boolean protobuf = kind == SourcedKind.PROFILE_PROTOBUF;
      boolean plain = how == SourcedWrite.PLAIN;
      Status stored =
          store(
              StoreMode.SET,
              key,
              keyOffset,
              keyLength,
              !plain
                  ? how.flags()
                  : protobuf ? Keyspace.PROTOBUF_PROFILE_FLAGS : Keyspace.JSON_PROFILE_FLAGS,
              how.exptime(),
              value,
              valueOffset,
              valueLength,
              0,
              false,
              false,
              out);
      if (stored != Status.STORED) {
        return stored;
      }
      if (!plain) {
        Item now = cache.peek(key, keyOffset, keyLength, out);
        if (now == null || !now.isProfile()) {
          // Kept as an opaque value, as a memcached set of these bytes and flags keeps them (or
          // expired already): there is no profile to carry the mark; a replay stores it again.
          return Status.STORED;
        }
      }
      // The profile as sent replaced every mark; the record's own follows, in the same lock hold.
      // (Logged as a second record: should a crash fall between the two, the replay puts the same
      // profile again, which changes nothing.)
      return mark(key, keyOffset, keyLength, producer, seq, out);
    } finally {
      lock.unlock();
    }
  }

  private static ProfileRejectedException ownProducer() {
    return new ProfileRejectedException(
        "bad update: an update from a source carries no producer or seq of its own (its position"
            + " in the source is both)");
  }

  /**
   * Writes into {@link #sourced} the Update JSON {@code update} with {@code "producer"} and {@code
   * "seq"} added at its start, and returns its length. A body that is no JSON object is copied as
   * it is, for the update to refuse with its own reason.
   */
  private int sourcedJsonUpdate(byte[] update, int offset, int length, byte[] producer, long seq) {
    int end = offset + length;
    int open = offset;
    while (open < end && isJsonSpace(update[open])) {
      open++;
    }
    if (open == end || update[open] != '{') {
      return copyToSourced(update, offset, length, 0);
    }
    int first = open + 1;
    while (first < end && isJsonSpace(update[first])) {
      first++;
    }
    boolean empty = first < end && update[first] == '}';
    int n = copyToSourced(PRODUCER_FIELD, 0, PRODUCER_FIELD.length, 0);
    n = copyToSourced(producer, 0, producer.length, n);
    n = copyToSourced(SEQ_FIELD, 0, SEQ_FIELD.length, n);
    byte[] digits = Long.toString(seq).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    n = copyToSourced(digits, 0, digits.length, n);
    if (!empty) {
      n = copyToSourced(COMMA, 0, 1, n);
    }
    return copyToSourced(update, first, end - first, n);
  }

  /** On the error path: whether a refused update was refused for naming a producer itself. */
  private static boolean hasOwnProducer(byte[] update, int offset, int length) {
    try {
      Update parsed = dev.whack.node.engine.json.UpdateJson.parse(update, offset, length);
      return !parsed.getProducer().isEmpty() || parsed.getSeq() != 0;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private int copyToSourced(byte[] from, int offset, int length, int at) {
    if (at + length > sourced.length) {
      sourced = java.util.Arrays.copyOf(sourced, Math.max(at + length, sourced.length * 2));
    }
    System.arraycopy(from, offset, sourced, at, length);
    return at + length;
  }

  private static boolean isJsonSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  /** {@code delete}: DELETED, NOT_FOUND, or EXISTS when {@code compareCas} is set and differs. */
  public Status delete(byte[] key, int keyOffset, int keyLength, long compareCas) {
    return cache.delete(key, keyOffset, keyLength, compareCas);
  }

  /**
   * Meta delete with {@code I}: instead of removing the item (opaque or profile), marks it stale
   * with a new cas and optionally a new expiry, so that readers are told to recache while still
   * served the value.
   */
  public Status invalidate(
      byte[] key, int keyOffset, int keyLength, long compareCas, boolean touch, long exptime) {
    return cache.invalidate(key, keyOffset, keyLength, compareCas, touch, exptime);
  }

  /**
   * {@code incr}/{@code decr} (memcached's {@code do_add_delta}, see {@link ItemCache#arithmetic});
   * a profile is IS_PROFILE, and a reserved key is NOT_FOUND and never created.
   *
   * @param createOnMiss binary and meta {@code N}: store {@code initial} when the key is missing
   * @param updateExpiry meta {@code T}: also set a new expiry when the operation succeeds
   */
  public Status arithmetic(
      byte[] key,
      int keyOffset,
      int keyLength,
      boolean increment,
      long delta,
      long compareCas,
      boolean createOnMiss,
      long initial,
      long createExptime,
      boolean updateExpiry,
      long updateExptime,
      boolean binaryKey,
      Outcome out) {
    if (Keyspace.isReserved(key, keyOffset, keyLength)) {
      out.reset();
      return Status.NOT_FOUND;
    }
    return cache.arithmetic(
        key,
        keyOffset,
        keyLength,
        increment,
        delta,
        compareCas,
        createOnMiss,
        initial,
        createExptime,
        updateExpiry,
        updateExptime,
        binaryKey,
        out);
  }

  /** {@code flush_all [delay]}, node-wide ({@link Keyspace#flushAll}). */
  public void flushAll(long delaySeconds) {
    keyspace.flushAll(delaySeconds);
  }

  // ---------------------------------------------------------------------------------------------
  // Engine writes, run by the cache under the key's stripe lock once the command's conditions pass

  /** Puts a whole profile. */
  private final class PutWrite implements ProfileWrite {
    byte[] value;
    int offset;
    int length;
    byte kind;

    long atMillis;

    @Override
    public WriteResult apply(byte currentKind, int currentOrdinal, byte[] key, int hash) {
      WriteResult result =
          kind == Item.PROFILE_PROTOBUF
              ? engine.put(
                  key, hash, currentOrdinal, Keyspace.parseProtobufProfile(value, offset, length))
              : engine.putJson(key, hash, currentOrdinal, value, offset, length);
      atMillis = result.atMillis();
      return result;
    }

    @Override
    public void journal(Journal journal, int stripe, Item item) {
      journal.profilePut(
          stripe,
          item.key,
          item.kind,
          item.flags,
          item.expiresAtSeconds,
          item.cas,
          ItemCache.marks(item),
          atMillis,
          value,
          offset,
          length);
    }
  }

  /** Applies a partial update. */
  private final class UpdateWrite implements ProfileWrite {
    byte[] body;
    int offset;
    int length;
    boolean protobuf;
    long atMillis;

    @Override
    public WriteResult apply(byte currentKind, int currentOrdinal, byte[] key, int hash) {
      // The profile keeps the encoding it was written in, and that rendering is what must fit.
      Rendering rendering =
          currentKind == Item.PROFILE_PROTOBUF ? Rendering.PROTOBUF : Rendering.JSON;
      WriteResult result =
          protobuf
              ? engine.updateProtobuf(key, hash, currentOrdinal, body, offset, length, rendering)
              : engine.updateJson(key, hash, currentOrdinal, body, offset, length, rendering);
      atMillis = result.atMillis();
      return result;
    }

    @Override
    public void journal(Journal journal, int stripe, Item item) {
      journal.profileUpdate(stripe, item.key, item.cas, atMillis, protobuf, body, offset, length);
    }
  }
}

package dev.whack.node.keyspace;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.node.engine.segment.UnknownSegmentException;
import dev.whack.proto.Profile;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's keys: where every keyed operation of every protocol is decided once. A key holds an
 * opaque value, kept byte for byte as memcached keeps it, or a profile, whose bytes live in the
 * {@link ProfileEngine} and whose item in the {@link ItemCache} carries memcached's metadata
 * (flags, expiry, cas, LRU position, its footprint under the memory cap). Keys under {@link
 * #RESERVED_PREFIX} are never stored: a read answers them from the segments ({@link VirtualKeys}).
 *
 * <p>The text, meta and binary front ends parse a request, call their connection's {@link
 * KeyspaceSession}, and encode the {@link Status} and {@link Outcome} it gives back in their own
 * words; they never see an item or the engine's profile calls. This class holds what is shared by
 * the node: the cache (wired so that every profile item leaving it leaves the engine too, under the
 * item's stripe lock), node-wide operations ({@code flush_all}, timed expiry) and the figures of
 * {@code stats}.
 *
 * <p>Concurrency: thread-safe; the cache and the engine are, and the only state this class adds is
 * a {@link LongAdder}.
 */
public final class Keyspace {
  /** The flags value that marks a stored value as a protobuf {@code whack.v1.Profile}. */
  public static final int PROTOBUF_PROFILE_FLAGS = 0x77680001;

  /**
   * The flags a write sends to say its value is Profile JSON that must be taken as a profile: a
   * value that is not one is refused with the reason, never kept as an opaque value. The profile is
   * stored with flags 0, as a plain client's JSON profile is, since stock clients read flags as
   * their own encoding bits (spymemcached would take bit 1 for compression).
   */
  public static final int JSON_PROFILE_FLAGS = 0x77680002;

  /** Keys under this prefix are answered from the segments, never stored. */
  public static final String RESERVED_PREFIX = "_whack/";

  private final ItemCache cache;
  private final ProfileEngine engine;
  private final LongAdder opaqueJsonStores = new LongAdder();

  /**
   * @param clock memcached's clock for expiry and access times (whole seconds are used)
   * @param maxBytes the memory cap ({@code --memory}) over every item, profiles included
   * @param maxItemSize the largest value a read may return ({@code --max-item-size})
   */
  public Keyspace(InstantSource clock, long maxBytes, int maxItemSize, ProfileEngine engine) {
    this.engine = engine;
    this.cache =
        new ItemCache(
            clock,
            maxBytes,
            maxItemSize,
            new ProfileHooks() {
              @Override
              public void removed(byte[] key, int hash, int ordinal) {
                engine.remove(key, hash, ordinal);
              }

              @Override
              public void moved(byte[] key, int hash, int ordinal) {
                engine.removeMoved(key, hash, ordinal);
              }

              @Override
              public long sharedBytes() {
                return engine.nameBytes();
              }
            },
            engine.stripeLocks());
  }

  /**
   * From now on, every change is told to {@code journal} under its key's stripe lock (see {@link
   * Journal}): a node with a data directory attaches its log after recovery.
   */
  public void journal(Journal journal) {
    cache.journal(journal);
  }

  /** The journal every change is told to now ({@link Journal#NONE} if none). */
  public Journal journal() {
    return cache.journal();
  }

  /**
   * Why {@code key} cannot be a profile key, or null when it can: memcached's rule (1 to 250 bytes,
   * no space or control byte), for keys that arrive without a memcached command line (Kafka
   * records, gRPC items).
   */
  public static String badKey(byte[] key) {
    if (key == null || key.length == 0) {
      return "bad key: empty (a profile key is 1 to 250 bytes)";
    }
    if (key.length > 250) {
      return "bad key: " + key.length + " bytes, over the limit of 250";
    }
    for (byte b : key) {
      if ((b & 0xFF) <= ' ' || b == 0x7F) {
        return "bad key: a key has no spaces or control characters (memcached's rule)";
      }
    }
    return null;
  }

  /**
   * Plays logged changes back into this keyspace: recovery, at start-up, before any connection and
   * with no journal attached. Profile writes go through the engine, whose clock the caller sets to
   * each record's time first.
   */
  public Journal restorer() {
    return new Restorer();
  }

  /** {@link #restorer()}: each change made so, without the command's conditions. */
  private final class Restorer implements Journal {
    @Override
    public void item(
        int stripe,
        byte[] key,
        int flags,
        long expiresAtSeconds,
        long cas,
        int marks,
        byte[] value) {
      cache.restoreItem(stripe, key, flags, expiresAtSeconds, cas, marks, value);
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
      ProfileWrite put =
          new ReplayedWrite() {
            @Override
            public WriteResult apply(byte currentKind, int currentOrdinal, byte[] k, int hash) {
              return kind == Item.PROFILE_PROTOBUF
                  ? engine.put(
                      k, hash, currentOrdinal, parseProtobufProfile(document, offset, length))
                  : engine.putJson(k, hash, currentOrdinal, document, offset, length);
            }
          };
      cache.restoreProfile(stripe, key, put, false, kind, flags, expiresAtSeconds, cas, marks);
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
      ProfileWrite update =
          new ReplayedWrite() {
            @Override
            public WriteResult apply(byte currentKind, int currentOrdinal, byte[] k, int hash) {
              Rendering rendering =
                  currentKind == Item.PROFILE_PROTOBUF ? Rendering.PROTOBUF : Rendering.JSON;
              return protobuf
                  ? engine.updateProtobuf(
                      k, hash, currentOrdinal, document, offset, length, rendering)
                  : engine.updateJson(k, hash, currentOrdinal, document, offset, length, rendering);
            }
          };
      cache.restoreProfile(stripe, key, update, true, Item.PROFILE_JSON, 0, 0, cas, 0);
    }

    @Override
    public void profileMarked(int stripe, byte[] key, long cas, long expiresAtSeconds, int marks) {
      cache.restoreMarked(stripe, key, cas, expiresAtSeconds, marks);
    }

    @Override
    public void expiry(int stripe, byte[] key, long expiresAtSeconds) {
      cache.restoreExpiry(stripe, key, expiresAtSeconds);
    }

    @Override
    public void removed(int stripe, byte[] key) {
      cache.restoreRemoved(stripe, key);
    }

    @Override
    public void flushed(int stripe, long oldestLiveSeconds, long oldestLiveCas) {
      cache.restoreFlushed(stripe, oldestLiveSeconds, oldestLiveCas);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots: an image of each stripe, and restoring one

  /** The index of the key's stripe, as a {@link Journal} is told it. */
  public int stripeOf(byte[] key, int offset, int length) {
    return cache.stripeOf(key, offset, length);
  }

  /** The number of lock stripes; a log or snapshot is tied to it. */
  public int stripeCount() {
    return cache.stripeCount();
  }

  /** The cas the next change gets (a snapshot keeps it, so cas values never repeat). */
  public long nextCas() {
    return cache.nextCas();
  }

  /** memcached's {@code oldest_live}, which a delayed {@code flush_all} sets. */
  public long oldestLiveSeconds() {
    return cache.oldestLiveSeconds();
  }

  /**
   * Tells {@code out} every live item of stripe {@code stripe} under the stripe's lock, then
   * returns {@code cut}'s answer, read under the same lock: the items are the stripe as of that cut
   * (for a node's log, the sequence its next record in this stripe gets).
   */
  public long image(int stripe, StripeImage out, java.util.function.LongSupplier cut) {
    return cache.image(
        stripe,
        item -> {
          int marks = ItemCache.marks(item);
          if (item.isProfile()) {
            out.profile(
                item.key,
                item.kind,
                item.flags,
                item.expiresAtSeconds,
                item.cas,
                marks,
                engine.compactOf(item.key, item.hash, item.ordinal),
                item.ordinal);
          } else {
            out.item(item.key, item.flags, item.expiresAtSeconds, item.cas, marks, item.value);
          }
        },
        cut);
  }

  /** Restores what a snapshot kept of the keyspace as a whole; before its items. */
  public void restoreCounters(long nextCas, long oldestLiveSeconds) {
    cache.restoreCounters(nextCas, oldestLiveSeconds);
  }

  /**
   * Restores a profile item a snapshot kept ({@link StripeImage#profile}) from its compact form,
   * renumbered to this node's names ({@link ProfileEngine#restoreCompact}), its memberships that
   * still hold entered at the times {@code entered} kept (null or empty: now); with no journal
   * attached, before any connection, for a key not restored yet.
   */
  public void restoreCompactProfile(
      int stripe,
      byte[] key,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      byte[] compact,
      dev.whack.node.engine.EnteredTimes entered) {
    ProfileWrite put =
        new ReplayedWrite() {
          @Override
          public WriteResult apply(byte currentKind, int currentOrdinal, byte[] k, int hash) {
            return engine.restoreCompact(k, hash, currentOrdinal, compact, entered);
          }
        };
    cache.restoreProfile(stripe, key, put, false, kind, flags, expiresAtSeconds, cas, marks);
  }

  /** A write replayed from a log, which is not told to any journal again. */
  private abstract static class ReplayedWrite implements ProfileWrite {
    @Override
    public void journal(Journal journal, int stripe, Item item) {}
  }

  /** A connection's handle on the keyspace; not to be shared between connections. */
  public KeyspaceSession session() {
    return new KeyspaceSession(this, cache, engine);
  }

  /**
   * Whether a stored value is a profile, and which: a protobuf profile when its flags are {@link
   * #PROTOBUF_PROFILE_FLAGS}; a JSON profile when its flags are {@link #JSON_PROFILE_FLAGS}, or
   * when its first byte after whitespace is '{'; else an opaque value. This is the one place the
   * rule lives. Only the profile flags make it binding ({@link #requiresProfile}): a plain write of
   * a value starting with '{' that is not a valid profile is kept as an opaque value, byte for
   * byte, as memcached keeps any bytes (issue 12).
   *
   * @return {@link Item#OPAQUE}, {@link Item#PROFILE_JSON} or {@link Item#PROFILE_PROTOBUF}
   */
  static byte kindOf(int flags, byte[] value) {
    return kindOf(flags, value, 0, value.length);
  }

  /** {@link #kindOf(int, byte[])} of the value's {@code length} bytes from {@code offset}. */
  static byte kindOf(int flags, byte[] value, int offset, int length) {
    if (flags == PROTOBUF_PROFILE_FLAGS) {
      return Item.PROFILE_PROTOBUF;
    }
    if (flags == JSON_PROFILE_FLAGS) {
      return Item.PROFILE_JSON;
    }
    for (int i = offset; i < offset + length; i++) {
      byte b = value[i];
      if (b == '{') {
        return Item.PROFILE_JSON;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return Item.OPAQUE;
      }
    }
    return Item.OPAQUE;
  }

  /**
   * What a memcached set of {@code value} with {@code flags} writes, as a record of the updates log
   * (a managed cluster's writes, docs/cluster.md): a whole profile, JSON or protobuf, or null for
   * an opaque value (which stays with its owner, as in memcached).
   */
  public static KeyspaceSession.SourcedKind profileRecordOf(int flags, byte[] value) {
    return switch (kindOf(flags, value)) {
      case Item.PROFILE_JSON -> KeyspaceSession.SourcedKind.PROFILE_JSON;
      case Item.PROFILE_PROTOBUF -> KeyspaceSession.SourcedKind.PROFILE_PROTOBUF;
      default -> null;
    };
  }

  /**
   * True when the flags say the value must be a profile (a profile-aware writer: the Java client's
   * profile calls, {@code whack set}), so that a bad one is refused with the reason; with any other
   * flags a value {@link #kindOf} takes for JSON but the engine refuses is stored as opaque.
   */
  static boolean requiresProfile(int flags) {
    return flags == PROTOBUF_PROFILE_FLAGS || flags == JSON_PROFILE_FLAGS;
  }

  /** The flags a profile written with {@code flags} keeps: 0 for {@link #JSON_PROFILE_FLAGS}. */
  static int storedFlags(int flags) {
    return flags == JSON_PROFILE_FLAGS ? 0 : flags;
  }

  /** Counts a value stored as opaque because it looked like Profile JSON but was not one. */
  void countOpaqueJson() {
    opaqueJsonStores.increment();
  }

  /**
   * Why an opaque value was not taken as a profile when it was stored, for the error of an update
   * to it. Worked out again here, on the update's error path, rather than kept per item: the
   * reference parser gives the position and reason of a malformed document; a document it reads was
   * refused by the engine for a limit (names, key length) at the time it was stored.
   */
  static String notProfileReason(byte[] value) {
    if (kindOf(0, value) == Item.OPAQUE) {
      return "the value is not a JSON object";
    }
    try {
      ProfileJson.parse(value);
    } catch (EngineException e) {
      return e.getMessage();
    }
    return "the engine refused it as a profile when it was stored";
  }

  /** True for keys under {@link #RESERVED_PREFIX}; a cluster never routes them by owner. */
  public static boolean isReserved(byte[] key, int offset, int length) {
    if (length < RESERVED_PREFIX.length()) {
      return false;
    }
    for (int i = 0; i < RESERVED_PREFIX.length(); i++) {
      if (key[offset + i] != RESERVED_PREFIX.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The bytes a read returns for an item: an opaque value as stored; a profile rendered from the
   * engine in the encoding it was written in (canonical Profile JSON, or the protobuf {@code
   * Profile} without its key). Null if the profile went away since the item was found.
   */
  byte[] valueOf(Item item) {
    if (!item.isProfile()) {
      return item.value();
    }
    if (item.kind() == Item.PROFILE_PROTOBUF) {
      Profile profile = engine.get(item.key, item.hash, item.ordinal);
      return profile == null ? null : profile.toBuilder().clearKey().build().toByteArray();
    }
    return engine.getJson(item.key, item.hash, item.ordinal);
  }

  /** The live profile item under the key, not bumped in the LRU; null for none or an opaque one. */
  private Item profileItem(byte[] key, int offset, int length) {
    Item item = cache.peek(key, offset, length, new Outcome());
    return item != null && item.isProfile() ? item : null;
  }

  /**
   * The profile under the key as canonical Profile JSON, whichever encoding it was written in (a
   * dump's form); null when the key holds no profile. The item is not bumped in the LRU.
   */
  public byte[] profileJson(byte[] key, int offset, int length) {
    Item item = profileItem(key, offset, length);
    return item == null ? null : engine.getJson(item.key, item.hash, item.ordinal);
  }

  /**
   * The profile under the key as protobuf (key, event series and producer marks included),
   * whichever encoding it was written in; null when the key holds no profile. Not bumped in the
   * LRU.
   */
  public dev.whack.proto.Profile profile(byte[] key, int offset, int length) {
    Item item = profileItem(key, offset, length);
    return item == null ? null : engine.get(item.key, item.hash, item.ordinal);
  }

  /**
   * A keyed read that is not a memcached command (the HTTP API's): what the key holds, found
   * through its one index entry in one look, so that "no profile" says whether the key is absent or
   * holds an opaque value.
   *
   * @param json the profile as canonical Profile JSON (a read of its JSON asked for it), else null
   * @param segments the profile's segments in the node's segment order, each with the time the
   *     profile entered it (a read of its segments asked for them), else null
   */
  public record ProfileRead(
      Holds holds, byte[] json, List<dev.whack.node.engine.SegmentMembership> segments) {
    static final ProfileRead NOTHING = new ProfileRead(Holds.NOTHING, null, null);
    static final ProfileRead OPAQUE = new ProfileRead(Holds.OPAQUE_VALUE, null, null);
  }

  /** What a key holds, for a read that must say why it found no profile. */
  public enum Holds {
    NOTHING,
    /** A value stored as memcached stores it (not a profile). */
    OPAQUE_VALUE,
    PROFILE
  }

  /**
   * The profile under the key as canonical Profile JSON (whichever encoding it was written in, as
   * {@link #profileJson}), or its segments; or what the key holds instead. The item is not bumped
   * in the LRU.
   */
  public ProfileRead readProfile(byte[] key, int offset, int length, boolean segments) {
    Item item = cache.peek(key, offset, length, new Outcome());
    if (item == null) {
      return ProfileRead.NOTHING;
    }
    if (!item.isProfile()) {
      return ProfileRead.OPAQUE;
    }
    if (segments) {
      // A profile removed since its item was found is in no segment: the read saw it just before.
      return new ProfileRead(
          Holds.PROFILE, null, engine.membershipsOf(item.key, item.hash, item.ordinal));
    }
    byte[] json = engine.getJson(item.key, item.hash, item.ordinal);
    return json == null ? ProfileRead.NOTHING : new ProfileRead(Holds.PROFILE, json, null);
  }

  /**
   * Names of the segments the profile under the key is in, in the catalog's order; empty when the
   * key holds no profile. Found through the key's one index entry, as every keyed read is; the item
   * is not bumped in the LRU.
   */
  public List<String> segmentsOf(byte[] key, int offset, int length) {
    Item item = profileItem(key, offset, length);
    return item == null ? new ArrayList<>() : engine.segmentsOf(item.key, item.hash, item.ordinal);
  }

  /** {@link #segmentsOf} with the time each membership began ({@code segof <key> since}). */
  public List<dev.whack.node.engine.SegmentMembership> membershipsOf(
      byte[] key, int offset, int length) {
    Item item = profileItem(key, offset, length);
    return item == null
        ? new ArrayList<>()
        : engine.membershipsOf(item.key, item.hash, item.ordinal);
  }

  /**
   * Whether the profile under the key is in the segment (false when the key holds no profile).
   *
   * @throws UnknownSegmentException when the segment is not defined
   */
  public boolean inSegment(String segment, byte[] key, int offset, int length) {
    Item item = profileItem(key, offset, length);
    if (item != null) {
      return engine.inSegment(segment, item.key, item.hash, item.ordinal);
    }
    if (engine.segment(segment) == null) {
      throw new UnknownSegmentException(segment);
    }
    return false;
  }

  /** Parses a protobuf profile value, as the engine's put takes it. */
  static Profile parseProtobufProfile(byte[] value, int offset, int length) {
    try {
      return Profile.parseFrom(java.nio.ByteBuffer.wrap(value, offset, length));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("not a protobuf whack.v1.Profile: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Listing opaque items (itemdump)

  /** The cursor {@link #listItems} returns when nothing is left to list. */
  public static final long LISTING_DONE = ItemCache.LISTING_DONE;

  /**
   * Appends this node's live opaque items (profiles are not listed: {@code segdump} has them) from
   * {@code cursor} on, 0 being the start, and returns the cursor of the rest or {@link
   * #LISTING_DONE}. A page walks a bounded part of the cache, so it may hold fewer than {@code
   * limit} items, even none, while more are to come; an item present for the whole walk is listed,
   * however the cache grows meanwhile (see {@link ItemCache#listOpaque}).
   *
   * @throws IllegalArgumentException for a cursor this node never gave
   */
  public long listItems(long cursor, int limit, List<ListedItem> out) {
    return cache.listOpaque(cursor, limit, out);
  }

  // ---------------------------------------------------------------------------------------------
  // Node-wide operations

  public int maxItemSize() {
    return cache.maxItemSize();
  }

  /**
   * {@code flush_all [delay]}: with no delay every item (and so every profile) is dropped now; with
   * a delay, items not accessed since then become invalid once the delay has passed (memcached's
   * {@code oldest_live}), and the timer removes the profiles among them.
   */
  public void flushAll(long delaySeconds) {
    cache.flushAll(delaySeconds);
  }

  /**
   * Drops every item (opaque or profile) whose key another member owns now, as a Kafka-managed
   * cluster's new assignment says ({@link ItemCache#dropMoved}): no segment change is told for the
   * profiles, which live on at their new owners.
   *
   * @return how many items were dropped
   */
  public int dropMoved(ItemCache.KeyTest ownedElsewhere) {
    return cache.dropMoved(ownedElsewhere);
  }

  /** The keys of every item {@code which} accepts (a standby's promotion lists a slot's keys). */
  public List<byte[]> keysWhere(ItemCache.KeyTest which) {
    return cache.keysWhere(which);
  }

  /**
   * One turn of the node's timer: profiles whose expiry has come, and every item a delayed {@code
   * flush_all} invalidated, leave now (opaque items keep memcached's lazy expiry), then the engine
   * re-evaluates the memberships that time has changed.
   *
   * @return how many items were removed
   */
  public int runTimers() {
    int removed = cache.expireDue();
    engine.runDueReevaluations();
    return removed;
  }

  // ---------------------------------------------------------------------------------------------
  // Figures for stats and metrics (memcached's names in the comments of ItemCache)

  public long itemCount() {
    return cache.itemCount();
  }

  public long bytesUsed() {
    return cache.bytesUsed();
  }

  public long maxBytes() {
    return cache.maxBytes();
  }

  /** Sizes the index for {@code items} more items ({@link ItemCache#reserve}). */
  public void reserve(long items) {
    cache.reserve(items);
  }

  /** Changes the memory cap, evicting at once down to a smaller one ({@link ItemCache#resize}). */
  public void resize(long maxBytes) {
    cache.resize(maxBytes);
  }

  public long evictions() {
    return cache.evictions();
  }

  public long evictedUnfetched() {
    return cache.evictedUnfetched();
  }

  public long reclaimed() {
    return cache.reclaimed();
  }

  public long expiredUnfetched() {
    return cache.expiredUnfetched();
  }

  public long totalItems() {
    return cache.totalItems();
  }

  public long lookupsExpired() {
    return cache.lookupsExpired();
  }

  public long lookupsFlushed() {
    return cache.lookupsFlushed();
  }

  /** Values stored as opaque that started with '{' but were not valid profiles (issue 12). */
  public long opaqueJsonStores() {
    return opaqueJsonStores.sum();
  }
}

package dev.whack.node.keyspace;

import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.ProfileTable;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * memcached's item store: keys to opaque values with flags, expiry and cas, under a memory cap with
 * LRU eviction.
 *
 * <p>Design: the key space is split by hash into stripes (the engine's stripe count, or {@value
 * #STRIPE_COUNT} without an engine). Each stripe is a chained hash table plus a doubly linked LRU
 * list (head = most recent) behind its own lock, so writers to different stripes never contend and
 * a request holds one lock for a few hundred nanoseconds. Expired and flushed items are removed
 * lazily when touched or when they reach the LRU tail, as memcached does. The memory cap is global:
 * every insert adds the item's estimated heap footprint to one counter and, while the total is
 * above the cap, evicts from the tail of its own stripe first (keeping the hot path on one lock)
 * and then from the others, one lock at a time, so two stripe locks are never held together.
 *
 * <p>Profiles: an item may stand for a profile whose bytes live in the profile engine; the item is
 * the profile's one index entry and carries its engine ordinal. A stripe's lock is the engine's
 * lock for the same keys, so the item and its profile change under one lock. Every engine write
 * ({@link ProfileWrite}) runs under the key's stripe lock after the command's conditions pass, and
 * every profile item that leaves the cache is reported to {@link ProfileHooks} under that same
 * lock, so the engine and the cache never disagree about which profiles exist. Profile items with
 * an expiry sit in a per-stripe expiry heap and are removed when their time comes ({@link
 * #expireDue()}), not only when next read, so that an expired profile leaves its segments on time.
 *
 * <p>Concurrency: safe for any number of threads. The stripe lock guards the table, the LRU links,
 * the expiry heap and every mutable field of the items in that stripe. {@link Item} payload fields
 * are immutable, so a returned item can be read without a lock.
 */
final class ItemCache {
  /** Stripes of a cache that holds no profiles, so shares no engine's locks. */
  static final int STRIPE_COUNT = 64;

  private final Stripe[] stripes;
  private final InstantSource clock;

  /** The cap; changed only by {@link #resize} (the default tenant's, as tenants come and go). */
  private volatile long maxBytes;

  private final int maxItemSize;
  private final AtomicLong bytesUsed = new AtomicLong();
  private final AtomicLong nextCas = new AtomicLong(1);

  /** Next stripe to evict from when the writer's own stripe has nothing left to give. */
  private final AtomicLong evictionCursor = new AtomicLong();

  /** {@code flush_all}: items last accessed at or before this second are invalid; 0 = none. */
  private volatile long oldestLiveSeconds;

  /** {@code flush_all} without delay: items with a cas below this are invalid; 0 = none. */
  private volatile long oldestLiveCas;

  private final LongAdder evictions = new LongAdder();
  private final LongAdder evictedUnfetched = new LongAdder();
  private final LongAdder reclaimed = new LongAdder();
  private final LongAdder expiredUnfetched = new LongAdder();
  private final LongAdder totalItems = new LongAdder();
  private final LongAdder lookupsExpired = new LongAdder();
  private final LongAdder lookupsFlushed = new LongAdder();

  private final ProfileHooks hooks;

  /** Told every change under its stripe's lock; {@link Journal#NONE} until a log is attached. */
  private volatile Journal journal = Journal.NONE;

  /** The delayed {@code flush_all} whose time has been swept for profiles; see expireDue. */
  private long sweptOldestLiveSeconds;

  /** A cache of opaque values only, with locks of its own. */
  public ItemCache(InstantSource clock, long maxBytes, int maxItemSize) {
    this(clock, maxBytes, maxItemSize, ProfileHooks.NONE, ownLocks());
  }

  /**
   * A cache whose profile items live in an engine.
   *
   * @param stripeLocks the engine's stripe locks ({@link
   *     dev.whack.node.engine.ProfileEngine#stripeLocks}), one per stripe of this cache, so that a
   *     key's item and its profile change under one lock; their number is a power of two
   */
  public ItemCache(
      InstantSource clock,
      long maxBytes,
      int maxItemSize,
      ProfileHooks hooks,
      ReentrantLock[] stripeLocks) {
    if (maxBytes <= 0 || maxItemSize <= 0) {
      throw new IllegalArgumentException("memory and item size limits must be positive");
    }
    if (Integer.bitCount(stripeLocks.length) != 1) {
      throw new IllegalArgumentException("stripe count must be a power of two");
    }
    this.clock = clock;
    this.hooks = hooks;
    this.maxBytes = maxBytes;
    this.maxItemSize = maxItemSize;
    this.stripes = new Stripe[stripeLocks.length];
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Stripe(i, stripeLocks[i]);
    }
  }

  private static ReentrantLock[] ownLocks() {
    ReentrantLock[] locks = new ReentrantLock[STRIPE_COUNT];
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new ReentrantLock();
    }
    return locks;
  }

  public int maxItemSize() {
    return maxItemSize;
  }

  /** From now on, tell {@code journal} every change (see {@link Journal}). */
  void journal(Journal journal) {
    this.journal = journal;
  }

  Journal journal() {
    return journal;
  }

  /** The marks of an item that a journal records. */
  static int marks(Item item) {
    return (item.stale ? Journal.STALE : 0)
        | (item.binaryKey ? Journal.BINARY_KEY : 0)
        | (item.winTokenSent ? Journal.WIN_TOKEN_SENT : 0);
  }

  /** Sets an item's marks from a journal's record of them. */
  private static void restoreMarks(Item item, int marks) {
    item.stale = (marks & Journal.STALE) != 0;
    item.binaryKey = (marks & Journal.BINARY_KEY) != 0;
    item.winTokenSent = (marks & Journal.WIN_TOKEN_SENT) != 0;
  }

  /** Tells the journal an opaque item as it now is. */
  private void journalItem(Stripe stripe, Item item) {
    journal.item(
        stripe.index,
        item.key,
        item.flags,
        item.expiresAtSeconds,
        item.cas,
        marks(item),
        item.value);
  }

  /**
   * Sizes the index for {@code items} more items at once, when a bulk load knows how many it brings
   * (a refill from Kafka), so that it is not rebuilt over and over while it fills (each doubling
   * re-links every item already in it). No more is reserved than the memory cap holds of items of
   * {@link #RESERVED_ITEM_BYTES}, so an estimate far too high (a profiles topic not compacted yet)
   * sets aside at most about 2% of the cap in buckets (4% without compressed references); more
   * items than that grow the index as ever.
   */
  public void reserve(long items) {
    long perStripe = Math.min(items, maxBytes / RESERVED_ITEM_BYTES) / stripes.length + 1;
    for (Stripe stripe : stripes) {
      stripe.lock.lock();
      try {
        stripe.reserve(stripe.count + perStripe);
      } finally {
        stripe.lock.unlock();
      }
    }
  }

  /**
   * The item size {@link #reserve} plans for at most: a bucket is a 4-byte reference at a load of
   * 3/4, rounded up to a power of two, so about 11 bytes of buckets per item reserved.
   */
  static final long RESERVED_ITEM_BYTES = 512;

  public long maxBytes() {
    return maxBytes;
  }

  /**
   * Changes the cap: a smaller one evicts from the LRU tails at once until the items fit (the
   * node's memory carved between tenants: docs/security.md, "Tenants").
   */
  public void resize(long newMaxBytes) {
    if (newMaxBytes <= 0) {
      throw new IllegalArgumentException("the memory cap must be positive");
    }
    maxBytes = newMaxBytes;
    long now = nowSeconds();
    for (int attempt = 0; attempt < stripes.length && overCap(); attempt++) {
      evictFrom(
          stripes[(int) (evictionCursor.getAndIncrement() & (stripes.length - 1))], now, false);
    }
  }

  public InstantSource clock() {
    return clock;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /** {@code get}: the live item under the key, bumped in the LRU, or null. */
  public Item get(byte[] key, int keyOffset, int keyLength) {
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    stripe.lock.lock();
    try {
      Item item = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (item != null) {
        stripe.access(item, now);
      }
      return item;
    } finally {
      stripe.lock.unlock();
    }
  }

  /** {@code touch} and {@code gat}: sets a new expiry on a live item and returns it, or null. */
  public Item touch(byte[] key, int keyOffset, int keyLength, long exptime) {
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    stripe.lock.lock();
    try {
      Item item = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (item != null) {
        stripe.setExpiry(item, Expiry.toAbsoluteSeconds(exptime, now));
        journal.expiry(stripe.index, item.key, item.expiresAtSeconds);
        stripe.access(item, now);
        expireProfileNow(stripe, item, now);
      }
      return item;
    } finally {
      stripe.lock.unlock();
    }
  }

  /**
   * Meta get ({@code mg}) with its item-changing flags. Fills {@code out} with the item and the
   * metadata as it was before this request (hit-before, last access), as memcached reports them.
   *
   * @return the item, possibly just created by {@code N}, or null on a miss
   */
  public Item metaGet(
      byte[] key, int keyOffset, int keyLength, MetaGetOptions options, Outcome out) {
    out.reset();
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long inserted = 0;
    stripe.lock.lock();
    try {
      Item item = findLive(stripe, key, keyOffset, keyLength, hash, now);
      boolean created = false;
      if (item == null) {
        if (!options.vivify) {
          return null;
        }
        item = newItem(key, keyOffset, keyLength, hash, EMPTY, 0, now);
        // Even for a base64 key the item is not marked binary: memcached 1.6.18's mg N leaves the
        // flag off, so later replies show the key as it is ("mg YWJj b k v N0" answers "kabc").
        item.expiresAtSeconds = Expiry.toAbsoluteSeconds(options.vivifyExptime, now);
        stripe.link(item);
        inserted = item.sizeBytes();
        created = true;
        out.won = true;
      }
      out.fetchedBefore = item.fetched;
      out.secondsSinceAccess = now - item.lastAccessSeconds;
      if (options.touch) {
        stripe.setExpiry(item, Expiry.toAbsoluteSeconds(options.touchExptime, now));
        journal.expiry(stripe.index, item.key, item.expiresAtSeconds);
      }
      if (options.recache
          && options.mayWin
          && !created
          && !item.winTokenSent
          && item.expiresAtSeconds != 0
          && item.expiresAtSeconds - now < options.recacheThresholdSeconds) {
        out.won = true;
      }
      out.winTokenAlreadySent = item.winTokenSent;
      out.stale = item.stale;
      if (item.stale && !item.winTokenSent && options.mayWin) {
        out.won = true; // memcached hands it to the first reader; here, the first that may write
      }
      boolean tokenNow = out.won && !item.winTokenSent;
      if (out.won) {
        item.winTokenSent = true;
      }
      if (created || tokenNow) {
        // A created item, or a win token handed out, is state a restart keeps (memcached's Z).
        if (item.isProfile()) {
          journal.profileMarked(
              stripe.index, item.key, item.cas, item.expiresAtSeconds, marks(item));
        } else {
          journalItem(stripe, item);
        }
      }
      if (options.bump) {
        stripe.access(item, now);
      }
      if (options.touch) {
        expireProfileNow(stripe, item, now); // last: the item must not be touched once unlinked
      }
      out.item = item;
      out.cas = item.cas;
      out.ttlSeconds = Expiry.remainingSeconds(item.expiresAtSeconds, now);
      return item;
    } finally {
      stripe.lock.unlock();
      if (inserted > 0) {
        charge(stripe, inserted);
      }
    }
  }

  /**
   * The lock of the key's stripe, which every write of the key takes: a caller that must decide and
   * write as one step (a sourced record, see {@link KeyspaceSession#applySourced}) holds it around
   * both, and the cache re-enters it.
   */
  int stripeOf(byte[] key, int keyOffset, int keyLength) {
    return ProfileTable.stripeIndex(hash(key, keyOffset, keyLength), stripes.length);
  }

  ReentrantLock lockOf(byte[] key, int keyOffset, int keyLength) {
    return stripeFor(hash(key, keyOffset, keyLength)).lock;
  }

  /** Meta debug ({@code me}): the live item and its metadata without bumping it, or null. */
  public Item peek(byte[] key, int keyOffset, int keyLength, Outcome out) {
    out.reset();
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    stripe.lock.lock();
    try {
      Item item = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (item != null) {
        out.item = item;
        out.cas = item.cas;
        out.ttlSeconds = Expiry.remainingSeconds(item.expiresAtSeconds, now);
        out.fetchedBefore = item.fetched;
        out.secondsSinceAccess = now - item.lastAccessSeconds;
      }
      return item;
    } finally {
      stripe.lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /**
   * The storage commands, following memcached's {@code do_store_item}: the cas test is made up
   * front for every mode, add bumps an existing item, append/prepend keep the old flags and expiry,
   * and a cas store on a missing key is NOT_FOUND.
   *
   * @param compareCas the client's cas, 0 for none
   * @param allowStale meta {@code I}: a cas lower than the item's stores the value marked stale
   * @param binaryKey meta {@code b}: the client sent the key base64-encoded
   * @param out receives the stored item and its new cas
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
    return doStore(
        mode,
        key,
        keyOffset,
        keyLength,
        flags,
        exptime,
        value,
        compareCas,
        allowStale,
        binaryKey,
        Item.OPAQUE,
        null,
        out);
  }

  /**
   * A storage command whose value is a profile: the same conditions as {@link #store}, then {@code
   * write} puts the profile into the engine under the stripe lock, and the item records its kind
   * and footprint. If the engine refuses the profile its exception propagates and nothing changes.
   *
   * @param allowStale meta {@code I}: a cas lower than the item's stores the profile marked stale
   * @param kind {@link Item#PROFILE_JSON} or {@link Item#PROFILE_PROTOBUF}
   */
  public Status storeProfile(
      StoreMode mode,
      byte[] key,
      int keyOffset,
      int keyLength,
      int flags,
      long exptime,
      long compareCas,
      boolean allowStale,
      boolean binaryKey,
      byte kind,
      ProfileWrite write,
      Outcome out) {
    if (mode == StoreMode.APPEND || mode == StoreMode.PREPEND) {
      throw new IllegalArgumentException("a profile is stored whole, not appended");
    }
    return doStore(
        mode,
        key,
        keyOffset,
        keyLength,
        flags,
        exptime,
        EMPTY,
        compareCas,
        allowStale,
        binaryKey,
        kind,
        write,
        out);
  }

  private Status doStore(
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
      byte kind,
      ProfileWrite profile,
      Outcome out) {
    out.reset();
    if (value.length > maxItemSize) {
      if (mode == StoreMode.SET) {
        // memcached unlinks the old value when a set fails for size, so a reader never sees
        // data older than a write that was attempted.
        delete(key, keyOffset, keyLength, 0);
      }
      return Status.TOO_LARGE;
    }
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long charged = 0;
    Status status;
    // A profile stored already expired (negative or past expiry) is never readable, so it must
    // never reach the engine either: it would be counted in segments and announced to watchers.
    if (profile != null && isExpiredAt(Expiry.toAbsoluteSeconds(exptime, now), now)) {
      profile = DEAD_ON_ARRIVAL;
    }
    stripe.lock.lock();
    try {
      Item old = findLive(stripe, key, keyOffset, keyLength, hash, now);
      Item stored = null;
      if (old == null) {
        if (mode == StoreMode.SET || mode == StoreMode.ADD) {
          stored =
              newStoredItem(
                  key, keyOffset, keyLength, hash, value, flags, now, kind, profile, null);
          stored.expiresAtSeconds = Expiry.toAbsoluteSeconds(exptime, now);
          status = Status.STORED;
        } else {
          status = mode == StoreMode.CAS ? Status.NOT_FOUND : Status.NOT_STORED;
        }
      } else {
        boolean casMatch = compareCas == 0 || compareCas == old.cas;
        boolean casStale = compareCas != 0 && allowStale && compareCas < old.cas;
        switch (mode) {
          case ADD -> {
            // memcached's do_item_update: an LRU bump, but the item does not count as fetched.
            stripe.bump(old, now);
            status = Status.NOT_STORED;
          }
          case CAS -> {
            if (compareCas != 0 && compareCas == old.cas) {
              stored =
                  newStoredItem(
                      old.key, 0, old.key.length, hash, value, flags, now, kind, profile, old);
              stored.expiresAtSeconds = Expiry.toAbsoluteSeconds(exptime, now);
              status = Status.STORED;
            } else if (casStale) {
              // A late writer's value is kept but marked stale, with the old expiry.
              stored =
                  newStoredItem(
                      old.key, 0, old.key.length, hash, value, flags, now, kind, profile, old);
              stored.expiresAtSeconds = old.expiresAtSeconds;
              stored.stale = true;
              stored.winTokenSent = old.winTokenSent;
              status = Status.STORED;
            } else {
              status = Status.EXISTS;
            }
          }
          case APPEND, PREPEND -> {
            if (old.isProfile()) {
              status = Status.IS_PROFILE;
            } else if (!casMatch) {
              status = Status.EXISTS;
            } else if ((long) old.value.length + value.length > maxItemSize) {
              status = Status.TOO_LARGE;
            } else {
              byte[] joined = new byte[old.value.length + value.length];
              byte[] first = mode == StoreMode.APPEND ? old.value : value;
              byte[] second = mode == StoreMode.APPEND ? value : old.value;
              System.arraycopy(first, 0, joined, 0, first.length);
              System.arraycopy(second, 0, joined, first.length, second.length);
              stored = newItem(old.key, 0, old.key.length, hash, joined, old.flags, now);
              stored.expiresAtSeconds = old.expiresAtSeconds;
              status = Status.STORED;
            }
          }
          default -> { // SET, REPLACE
            stored =
                newStoredItem(
                    old.key, 0, old.key.length, hash, value, flags, now, kind, profile, old);
            stored.expiresAtSeconds = Expiry.toAbsoluteSeconds(exptime, now);
            status = Status.STORED;
          }
        }
        if (stored != null) {
          charged -= old.sizeBytes();
          if (stored.isProfile() && profile != DEAD_ON_ARRIVAL) {
            stripe.unlink(old); // the engine's put replaced the profile itself
          } else {
            unlinkReporting(stripe, old); // the old profile, if any, ends here
          }
        }
      }
      if (stored != null) {
        stored.binaryKey = binaryKey;
        out.item = stored;
        out.cas = stored.cas;
        if (profile != DEAD_ON_ARRIVAL) {
          stripe.link(stored);
          charged += stored.sizeBytes();
          if (stored.isProfile()) {
            profile.journal(journal, stripe.index, stored);
          } else {
            journalItem(stripe, stored);
          }
        } else if (old != null) {
          journal.removed(stripe.index, old.key); // stored already expired: the old one is gone
        }
      }
    } finally {
      stripe.lock.unlock();
    }
    if (charged != 0) {
      charge(stripe, charged);
    }
    return status;
  }

  /**
   * A partial profile update: {@code write} applies it to the engine under the stripe lock. A
   * missing key gets a new profile item (JSON, flags 0, no expiry); a profile item gets a new cas
   * and footprint and keeps its flags, expiry and encoding.
   *
   * @return STORED, IGNORED (a replayed producer sequence; nothing changed) or NOT_PROFILE (the key
   *     holds an opaque value, whose bytes {@code out.value} then holds)
   */
  public Status updateProfile(
      byte[] key, int keyOffset, int keyLength, ProfileWrite write, Outcome out) {
    out.reset();
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long charged;
    stripe.lock.lock();
    try {
      Item old = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (old != null && !old.isProfile()) {
        out.value = old.value(); // for the reason the caller gives; an opaque value never changes
        return Status.NOT_PROFILE;
      }
      byte[] ownKey = old == null ? ownKey(key, keyOffset, keyLength) : old.key;
      WriteResult result =
          old == null
              ? write.apply(Item.OPAQUE, Item.NO_ORDINAL, ownKey, hash)
              : write.apply(old.kind, old.ordinal, ownKey, hash);
      if (!result.applied()) {
        return Status.IGNORED;
      }
      int footprint = result.footprintBytes();
      Item stored;
      if (old == null) {
        stored =
            newItem(ownKey, 0, ownKey.length, hash, EMPTY, 0, now, Item.PROFILE_JSON, footprint);
        stored.ordinal = result.ordinal();
        charged = stored.sizeBytes();
        stripe.link(stored);
        write.journal(journal, stripe.index, stored);
      } else {
        // Updated in place: the bytes live in the engine, so only the cas, the footprint and the
        // LRU position change; no new item, no relinking (measured: an item per update was 3%
        // of all bytes allocated under an update load).
        stored = old;
        charged = (long) footprint - old.footprint;
        old.footprint = footprint;
        old.cas = nextCas.getAndIncrement();
        stripe.bump(old, now);
        write.journal(journal, stripe.index, old);
      }
      out.item = stored;
      out.cas = stored.cas;
    } finally {
      stripe.lock.unlock();
    }
    if (charged != 0) {
      charge(stripe, charged);
    }
    return Status.STORED;
  }

  /**
   * Removes profile items whose expiry has come, and after a delayed {@code flush_all} every item
   * it invalidated, reporting each to the hooks. The node calls this periodically (tests, after
   * moving a manual clock); opaque items keep memcached's lazy expiry.
   *
   * @return how many items were removed
   */
  public int expireDue() {
    long now = nowSeconds();
    int removed = 0;
    long oldestLive = oldestLiveSeconds;
    boolean sweepFlushed;
    synchronized (this) {
      sweepFlushed = oldestLive != 0 && oldestLive <= now && sweptOldestLiveSeconds != oldestLive;
      if (sweepFlushed) {
        sweptOldestLiveSeconds = oldestLive;
      }
    }
    for (Stripe stripe : stripes) {
      long freed = 0;
      stripe.lock.lock();
      try {
        ExpiryEntry due;
        while ((due = stripe.expiries.peek()) != null && due.atSeconds <= now) {
          stripe.expiries.poll();
          Item item = due.item;
          if (item.linked && item.expiresAtSeconds == due.atSeconds && isExpired(item, now)) {
            freed += item.sizeBytes();
            unlinkReporting(stripe, item);
            reclaimed.increment();
            removed++;
          }
        }
        if (sweepFlushed) {
          Item item = stripe.lruHead;
          while (item != null) {
            Item next = item.lruNext;
            if (isFlushed(item, now)) {
              freed += item.sizeBytes();
              unlinkReporting(stripe, item);
              reclaimed.increment();
              removed++;
            }
            item = next;
          }
        }
      } finally {
        stripe.lock.unlock();
      }
      if (freed != 0) {
        bytesUsed.addAndGet(-freed);
      }
    }
    return removed;
  }

  /** Which keys {@link #dropMoved} drops. */
  @FunctionalInterface
  public interface KeyTest {
    boolean test(byte[] key);
  }

  /**
   * Drops every item whose key {@code moved} says another member owns now (a Kafka-managed
   * cluster's new assignment): profiles leave their segments without a change told ({@link
   * ProfileHooks#moved}). Not journaled: a node that restarts drops them again at its first
   * assignment, and a key that comes back is read again from its slot's log, where its producer
   * marks make the records it kept count once.
   *
   * @return how many items were dropped
   */
  public int dropMoved(KeyTest moved) {
    int dropped = 0;
    for (Stripe stripe : stripes) {
      long freed = 0;
      stripe.lock.lock();
      try {
        Item item = stripe.lruHead;
        while (item != null) {
          Item next = item.lruNext;
          if (moved.test(item.key)) {
            freed += item.sizeBytes();
            stripe.unlink(item);
            if (item.isProfile()) {
              hooks.moved(item.key, item.hash, item.ordinal);
            }
            dropped++;
          }
          item = next;
        }
      } finally {
        stripe.lock.unlock();
      }
      if (freed != 0) {
        bytesUsed.addAndGet(-freed);
      }
    }
    return dropped;
  }

  /** The keys of every item {@code which} accepts, each stripe read under its lock. */
  public List<byte[]> keysWhere(KeyTest which) {
    List<byte[]> keys = new ArrayList<>();
    for (Stripe stripe : stripes) {
      stripe.lock.lock();
      try {
        for (Item item = stripe.lruHead; item != null; item = item.lruNext) {
          if (which.test(item.key)) {
            keys.add(item.key);
          }
        }
      } finally {
        stripe.lock.unlock();
      }
    }
    return keys;
  }

  /** {@code delete}: DELETED, NOT_FOUND, or EXISTS when {@code compareCas} is set and differs. */
  public Status delete(byte[] key, int keyOffset, int keyLength, long compareCas) {
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long freed;
    stripe.lock.lock();
    try {
      Item item = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (item == null) {
        return Status.NOT_FOUND;
      }
      if (compareCas != 0 && compareCas != item.cas) {
        return Status.EXISTS;
      }
      unlinkReporting(stripe, item);
      journal.removed(stripe.index, item.key);
      freed = item.sizeBytes();
    } finally {
      stripe.lock.unlock();
    }
    bytesUsed.addAndGet(-freed);
    return Status.DELETED;
  }

  /**
   * Meta delete with {@code I}: instead of removing the item, marks it stale with a new cas (and
   * optionally a new expiry) so that readers are told to recache while still served the value.
   */
  public Status invalidate(
      byte[] key, int keyOffset, int keyLength, long compareCas, boolean touch, long exptime) {
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long charged = 0;
    stripe.lock.lock();
    try {
      Item old = findLive(stripe, key, keyOffset, keyLength, hash, now);
      if (old == null) {
        return Status.NOT_FOUND;
      }
      if (compareCas != 0 && compareCas != old.cas) {
        return Status.EXISTS;
      }
      // The cas is immutable per item, so "bumping" it means a new item with the same payload.
      Item marked =
          newItem(
              old.key, 0, old.key.length, hash, old.value, old.flags, now, old.kind, old.footprint);
      marked.expiresAtSeconds =
          touch ? Expiry.toAbsoluteSeconds(exptime, now) : old.expiresAtSeconds;
      marked.ordinal = old.ordinal;
      marked.stale = true;
      marked.fetched = old.fetched;
      marked.binaryKey = old.binaryKey;
      stripe.unlink(old);
      stripe.link(marked);
      if (marked.isProfile()) {
        journal.profileMarked(
            stripe.index, marked.key, marked.cas, marked.expiresAtSeconds, marks(marked));
      } else {
        journalItem(stripe, marked);
      }
      charged = marked.sizeBytes() - old.sizeBytes();
    } finally {
      stripe.lock.unlock();
    }
    if (charged != 0) {
      charge(stripe, charged);
    }
    return Status.DELETED;
  }

  /**
   * {@code incr}/{@code decr}, as memcached's {@code do_add_delta}: the value must be an unsigned
   * 64-bit decimal; incr wraps at 2^64, decr stops at 0; a result no longer than the old value is
   * written over it in place and padded with spaces (the item keeps its stale, win and fetched
   * marks), a longer one makes a new item.
   *
   * @param compareCas 0 for none, else the item's cas must match (EXISTS otherwise)
   * @param createOnMiss binary and meta {@code N}: store {@code initial} when the key is missing
   * @param updateExpiry meta {@code T}: also set a new expiry when the operation succeeds
   * @param binaryKey meta {@code b}: an item created on a miss remembers its key was base64
   * @param out receives the new number and cas, and whether the item was created
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
    out.reset();
    int hash = hash(key, keyOffset, keyLength);
    Stripe stripe = stripeFor(hash);
    long now = nowSeconds();
    long charged = 0;
    Status status;
    stripe.lock.lock();
    try {
      Item old = findLive(stripe, key, keyOffset, keyLength, hash, now);
      Item stored;
      if (old == null) {
        if (!createOnMiss) {
          return Status.NOT_FOUND;
        }
        stored = newItem(key, keyOffset, keyLength, hash, decimal(initial, 0), 0, now);
        stored.expiresAtSeconds = Expiry.toAbsoluteSeconds(createExptime, now);
        stored.binaryKey = binaryKey;
        out.number = initial;
        out.created = true;
      } else {
        if (old.isProfile()) {
          return Status.IS_PROFILE;
        }
        if (compareCas != 0 && compareCas != old.cas) {
          return Status.EXISTS;
        }
        if (old.value.length == 0 || !parseUnsigned(old.value, out)) {
          return Status.NON_NUMERIC;
        }
        long current = out.number;
        long next;
        if (increment) {
          next = current + delta;
        } else {
          next = Long.compareUnsigned(delta, current) > 0 ? 0 : current - delta;
        }
        byte[] digits = decimal(next, old.value.length);
        stored = newItem(old.key, 0, old.key.length, hash, digits, old.flags, now);
        stored.expiresAtSeconds =
            updateExpiry ? Expiry.toAbsoluteSeconds(updateExptime, now) : old.expiresAtSeconds;
        stored.binaryKey = old.binaryKey;
        if (digits.length == old.value.length) {
          // Written in place in memcached: the item's marks survive.
          stored.fetched = old.fetched;
          stored.stale = old.stale;
          stored.winTokenSent = old.winTokenSent;
        }
        charged -= old.sizeBytes();
        stripe.unlink(old);
        out.number = next;
      }
      stripe.link(stored);
      journalItem(stripe, stored);
      charged += stored.sizeBytes();
      out.item = stored;
      out.cas = stored.cas;
      out.ttlSeconds = Expiry.remainingSeconds(stored.expiresAtSeconds, now);
      status = Status.STORED;
    } finally {
      stripe.lock.unlock();
    }
    if (charged != 0) {
      charge(stripe, charged);
    }
    return status;
  }

  /**
   * {@code flush_all [delay]}: with no delay every item is dropped now; with a delay, items not
   * accessed since then become invalid once the delay has passed (memcached's {@code oldest_live}).
   */
  public void flushAll(long delaySeconds) {
    long now = nowSeconds();
    if (delaySeconds > 0) {
      oldestLiveSeconds = Expiry.toAbsoluteSeconds(delaySeconds, now) - 1;
      for (Stripe stripe : stripes) {
        stripe.lock.lock();
        try {
          journal.flushed(stripe.index, oldestLiveSeconds, 0);
        } finally {
          stripe.lock.unlock();
        }
      }
      return;
    }
    oldestLiveSeconds = now - 1;
    oldestLiveCas = nextCas.get();
    for (Stripe stripe : stripes) {
      long freed;
      stripe.lock.lock();
      try {
        freed = stripe.clear(hooks);
        journal.flushed(stripe.index, oldestLiveSeconds, oldestLiveCas);
      } finally {
        stripe.lock.unlock();
      }
      bytesUsed.addAndGet(-freed);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Restoring from a log (see Journal): each call makes the item so, without any condition

  /** The stripe a restored key belongs to, which must be the stripe it was logged under. */
  private Stripe restoreStripe(int stripeIndex, byte[] key, int hash) {
    Stripe stripe = stripeFor(hash);
    if (stripe.index != stripeIndex) {
      throw new IllegalStateException(
          "a log record of stripe "
              + stripeIndex
              + " names a key of stripe "
              + stripe.index
              + ": the log was written with another stripe count");
    }
    return stripe;
  }

  private void seenCas(long cas) {
    nextCas.accumulateAndGet(cas + 1, Math::max);
  }

  /** {@link Journal#item}: the opaque item, replacing whatever is under the key. */
  void restoreItem(
      int stripeIndex,
      byte[] key,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      byte[] value) {
    int hash = hash(key, 0, key.length);
    Stripe stripe = restoreStripe(stripeIndex, key, hash);
    long now = nowSeconds();
    long charged;
    stripe.lock.lock();
    try {
      Item old = stripe.find(key, 0, key.length, hash);
      charged = 0;
      if (old != null) {
        unlinkReporting(stripe, old);
        charged -= old.sizeBytes();
      }
      Item item = new Item(key, hash, value, flags, cas, Item.OPAQUE, 0);
      item.lastAccessSeconds = now;
      item.expiresAtSeconds = expiresAtSeconds;
      restoreMarks(item, marks);
      stripe.link(item);
      charged += item.sizeBytes();
      seenCas(cas);
    } finally {
      stripe.lock.unlock();
    }
    charge(stripe, charged);
  }

  /**
   * {@link Journal#profilePut} and {@link Journal#profileUpdate}: {@code write} applies the
   * document to the engine (the caller has set the engine's clock to the logged time); then the
   * item carries the logged metadata. For an update of a missing key the item is made as an update
   * makes it (JSON, flags 0, no expiry).
   */
  void restoreProfile(
      int stripeIndex,
      byte[] key,
      ProfileWrite write,
      boolean update,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks) {
    int hash = hash(key, 0, key.length);
    Stripe stripe = restoreStripe(stripeIndex, key, hash);
    long now = nowSeconds();
    long charged = 0;
    stripe.lock.lock();
    try {
      Item old = stripe.find(key, 0, key.length, hash);
      if (old != null && !old.isProfile()) {
        unlinkReporting(stripe, old);
        charged -= old.sizeBytes();
        old = null;
      }
      byte[] itemKey = old == null ? key : old.key;
      WriteResult result =
          old == null
              ? write.apply(Item.OPAQUE, Item.NO_ORDINAL, itemKey, hash)
              : write.apply(old.kind, old.ordinal, itemKey, hash);
      if (update && old != null) {
        charged += (long) result.footprintBytes() - old.footprint;
        old.footprint = result.footprintBytes();
        old.cas = cas;
      } else {
        Item item =
            new Item(
                itemKey,
                hash,
                EMPTY,
                update ? 0 : flags,
                cas,
                update ? Item.PROFILE_JSON : kind,
                result.footprintBytes());
        item.ordinal = result.ordinal();
        item.lastAccessSeconds = now;
        restoreMarks(item, marks);
        if (old != null) {
          stripe.unlink(old); // the engine's write replaced the profile itself
          charged -= old.sizeBytes();
        }
        stripe.link(item);
        stripe.setExpiry(item, update ? 0 : expiresAtSeconds);
        charged += item.sizeBytes();
      }
      seenCas(cas);
    } finally {
      stripe.lock.unlock();
    }
    charge(stripe, charged);
  }

  /** {@link Journal#profileMarked}. */
  void restoreMarked(int stripeIndex, byte[] key, long cas, long expiresAtSeconds, int marks) {
    int hash = hash(key, 0, key.length);
    Stripe stripe = restoreStripe(stripeIndex, key, hash);
    stripe.lock.lock();
    try {
      Item old = stripe.find(key, 0, key.length, hash);
      if (old == null) {
        return;
      }
      Item marked = new Item(old.key, hash, old.value, old.flags, cas, old.kind, old.footprint);
      marked.ordinal = old.ordinal;
      marked.lastAccessSeconds = old.lastAccessSeconds;
      restoreMarks(marked, marks);
      stripe.unlink(old);
      stripe.link(marked);
      stripe.setExpiry(marked, expiresAtSeconds);
      seenCas(cas);
    } finally {
      stripe.lock.unlock();
    }
  }

  /** {@link Journal#expiry}. */
  void restoreExpiry(int stripeIndex, byte[] key, long expiresAtSeconds) {
    int hash = hash(key, 0, key.length);
    Stripe stripe = restoreStripe(stripeIndex, key, hash);
    stripe.lock.lock();
    try {
      Item item = stripe.find(key, 0, key.length, hash);
      if (item != null) {
        stripe.setExpiry(item, expiresAtSeconds);
      }
    } finally {
      stripe.lock.unlock();
    }
  }

  /** {@link Journal#removed}. */
  void restoreRemoved(int stripeIndex, byte[] key) {
    int hash = hash(key, 0, key.length);
    Stripe stripe = restoreStripe(stripeIndex, key, hash);
    long freed = 0;
    stripe.lock.lock();
    try {
      Item item = stripe.find(key, 0, key.length, hash);
      if (item != null) {
        unlinkReporting(stripe, item);
        freed = item.sizeBytes();
      }
    } finally {
      stripe.lock.unlock();
    }
    bytesUsed.addAndGet(-freed);
  }

  /**
   * {@link Journal#flushed}: the stripe's items before this point are dropped (without delay) and
   * the invalidation marks are restored for the timer to sweep (with a delay).
   */
  void restoreFlushed(int stripeIndex, long oldestLive, long oldestCas) {
    Stripe stripe = stripes[stripeIndex];
    long freed = 0;
    stripe.lock.lock();
    try {
      if (oldestCas != 0) {
        freed = stripe.clear(hooks);
      }
    } finally {
      stripe.lock.unlock();
    }
    bytesUsed.addAndGet(-freed);
    if (oldestLive > oldestLiveSeconds) {
      oldestLiveSeconds = oldestLive;
    }
    if (oldestCas > oldestLiveCas) {
      oldestLiveCas = oldestCas;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots (see docs/architecture.md, "Durability")

  /** What {@link #image} hands over of each live item, under the stripe's lock. */
  interface ItemVisitor {
    void visit(Item item);
  }

  public int stripeCount() {
    return stripes.length;
  }

  /** The cas the next change gets, which a snapshot records so that cas values never repeat. */
  long nextCas() {
    return nextCas.get();
  }

  /**
   * memcached's {@code oldest_live}: set by a delayed {@code flush_all}, which a snapshot keeps.
   */
  long oldestLiveSeconds() {
    return oldestLiveSeconds;
  }

  /**
   * Visits every live item of stripe {@code index} (not expired, not flushed) while holding the
   * stripe's lock, then, still holding it, returns {@code cut}'s answer: nothing in the stripe can
   * change between the visit and the cut, so the items are the stripe as of that cut.
   */
  long image(int index, ItemVisitor visitor, java.util.function.LongSupplier cut) {
    Stripe stripe = stripes[index];
    long now = nowSeconds();
    stripe.lock.lock();
    try {
      List<Item> gone = null;
      for (Item head : stripe.table) {
        for (Item item = head; item != null; item = item.chainNext) {
          if (!isExpired(item, now) && !isFlushed(item, now)) {
            visitor.visit(item);
          } else if (item.isProfile()) {
            (gone == null ? gone = new ArrayList<>() : gone).add(item);
          }
        }
      }
      if (gone != null) {
        // A profile the image leaves out is removed now, its segments told it left: else it
        // would leave them in the restored node without a change anyone saw (a publisher's
        // consumer would keep it a member).
        for (Item item : gone) {
          unlinkReporting(stripe, item);
          reclaimed.increment();
          bytesUsed.addAndGet(-item.sizeBytes());
        }
      }
      return cut.getAsLong();
    } finally {
      stripe.lock.unlock();
    }
  }

  /** Restores what a snapshot recorded of the cache as a whole, before its items. */
  void restoreCounters(long nextCasValue, long oldestLive) {
    nextCas.accumulateAndGet(nextCasValue, Math::max);
    if (oldestLive > oldestLiveSeconds) {
      oldestLiveSeconds = oldestLive;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Listing opaque items (itemdump): a cursor over every stripe's table, a bounded walk per page

  /** Buckets one listing walks under a stripe's lock before letting writers in again. */
  static final int LISTING_BUCKETS_PER_LOCK = 256;

  /** Buckets one page walks at most, so a page over a cache of profiles stays short. */
  static final int LISTING_BUCKETS_PER_PAGE = 16_384;

  /** A page ends once its values reach this many bytes, so a page of large values stays small. */
  static final long LISTING_VALUE_BYTES_PER_PAGE = 8L << 20;

  /** The cursor a listing returns once every stripe has been walked. */
  static final long LISTING_DONE = -1;

  /**
   * Appends to {@code out} the live opaque items (not expired, not flushed; profiles are not
   * listed) from {@code cursor} on, and returns the cursor of the rest, or {@link #LISTING_DONE}.
   *
   * <p>The cursor is a stripe (high 32 bits) and a position in that stripe's table (low 32 bits).
   * Within a stripe the buckets are walked in the order of their indexes' bits reversed, as Redis's
   * SCAN walks its dictionary: the position is incremented in its high bits, so that when the table
   * doubles between pages each bucket still to come maps to two buckets still to come, and each one
   * already walked to two already walked (they hold the same items). So an item present from the
   * first page to the last is listed, however the table grows; one may be listed twice only if the
   * table shrank in between ({@code flush_all}, which drops every item anyway).
   *
   * <p>A page holds whole buckets: it ends before a bucket that would take it past {@code limit}
   * items (unless the page is still empty), once its values reach {@link
   * #LISTING_VALUE_BYTES_PER_PAGE}, or after {@link #LISTING_BUCKETS_PER_PAGE} buckets, so it may
   * hold fewer items than {@code limit} (even none) while more are to come. A stripe's lock is held
   * for at most {@link #LISTING_BUCKETS_PER_LOCK} buckets at a time.
   *
   * @throws IllegalArgumentException for a cursor that names no stripe
   */
  long listOpaque(long cursor, int limit, List<ListedItem> out) {
    int stripeIndex = (int) (cursor >>> 32);
    if (cursor < 0 || stripeIndex >= stripes.length) {
      throw new IllegalArgumentException("bad cursor");
    }
    int position = (int) cursor;
    int walked = 0;
    long valueBytes = 0;
    long now = nowSeconds();
    while (stripeIndex < stripes.length) {
      Stripe stripe = stripes[stripeIndex];
      stripe.lock.lock();
      try {
        for (int held = 0; held < LISTING_BUCKETS_PER_LOCK; held++) {
          Item[] table = stripe.table;
          int mask = table.length - 1;
          int live = 0;
          for (Item item = table[position & mask]; item != null; item = item.chainNext) {
            if (isListed(item, now)) {
              live++;
            }
          }
          if (live > 0 && !out.isEmpty() && out.size() + live > limit) {
            return listingCursor(stripeIndex, position);
          }
          for (Item item = table[position & mask]; item != null; item = item.chainNext) {
            if (isListed(item, now)) {
              out.add(
                  new ListedItem(
                      item.key,
                      item.flags,
                      item.expiresAtSeconds == 0 ? 0 : item.expiresAtSeconds - now,
                      item.value));
              valueBytes += item.value.length;
            }
          }
          walked++;
          position = nextListingPosition(position, mask);
          if (position == 0) {
            break; // the stripe is done
          }
          if (out.size() >= limit
              || valueBytes >= LISTING_VALUE_BYTES_PER_PAGE
              || walked >= LISTING_BUCKETS_PER_PAGE) {
            return listingCursor(stripeIndex, position);
          }
        }
      } finally {
        stripe.lock.unlock();
      }
      if (position == 0) {
        stripeIndex++;
        if (stripeIndex < stripes.length
            && (out.size() >= limit
                || valueBytes >= LISTING_VALUE_BYTES_PER_PAGE
                || walked >= LISTING_BUCKETS_PER_PAGE)) {
          return listingCursor(stripeIndex, 0);
        }
      }
    }
    return LISTING_DONE;
  }

  private boolean isListed(Item item, long now) {
    return !item.isProfile() && !isExpired(item, now) && !isFlushed(item, now);
  }

  private static long listingCursor(int stripeIndex, int position) {
    return (long) stripeIndex << 32 | Integer.toUnsignedLong(position);
  }

  /**
   * The bucket position after {@code position} in a table of {@code mask + 1} buckets: the bits of
   * the index reversed, incremented, reversed back; 0 when every bucket has been walked.
   */
  static int nextListingPosition(int position, int mask) {
    int v = position | ~mask; // the bits above the table's fill with ones, so the carry leaves them
    v = Integer.reverse(v);
    v++;
    return Integer.reverse(v);
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics

  public long itemCount() {
    long count = 0;
    for (Stripe stripe : stripes) {
      count += stripe.count;
    }
    return count;
  }

  public long bytesUsed() {
    return bytesUsed.get();
  }

  public long evictions() {
    return evictions.sum();
  }

  public long evictedUnfetched() {
    return evictedUnfetched.sum();
  }

  public long reclaimed() {
    return reclaimed.sum();
  }

  public long expiredUnfetched() {
    return expiredUnfetched.sum();
  }

  public long totalItems() {
    return totalItems.sum();
  }

  /** Lookups that found an item past its expiry (memcached {@code get_expired}). */
  public long lookupsExpired() {
    return lookupsExpired.sum();
  }

  /** Lookups that found an item invalidated by {@code flush_all} ({@code get_flushed}). */
  public long lookupsFlushed() {
    return lookupsFlushed.sum();
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  /** memcached's clock has whole seconds. */
  private long nowSeconds() {
    return Math.floorDiv(clock.millis(), 1000L);
  }

  private static final byte[] EMPTY = new byte[0];

  /** The engine's key hash, which a profile's write is handed so that its key is hashed once. */
  private static int hash(byte[] key, int offset, int length) {
    return ProfileTable.hash(key, offset, length);
  }

  private static byte[] ownKey(byte[] key, int keyOffset, int keyLength) {
    return keyOffset == 0 && keyLength == key.length
        ? key
        : Arrays.copyOfRange(key, keyOffset, keyOffset + keyLength);
  }

  /**
   * The item a store makes. For a profile, {@code profile} first writes the engine (under the
   * caller's stripe lock) on the very key array the item will own, handing it the profile's ordinal
   * when {@code old} is one, and the item keeps the footprint and ordinal it reports.
   */
  private Item newStoredItem(
      byte[] key,
      int keyOffset,
      int keyLength,
      int hash,
      byte[] value,
      int flags,
      long now,
      byte kind,
      ProfileWrite profile,
      Item old) {
    if (profile == null) {
      return newItem(key, keyOffset, keyLength, hash, value, flags, now);
    }
    byte[] itemKey = ownKey(key, keyOffset, keyLength);
    WriteResult result =
        old == null
            ? profile.apply(Item.OPAQUE, Item.NO_ORDINAL, itemKey, hash)
            : profile.apply(old.kind, old.ordinal, itemKey, hash);
    Item item =
        newItem(itemKey, 0, itemKey.length, hash, value, flags, now, kind, result.footprintBytes());
    item.ordinal = result.ordinal();
    return item;
  }

  private Stripe stripeFor(int hash) {
    return stripes[ProfileTable.stripeIndex(hash, stripes.length)];
  }

  private Item newItem(
      byte[] key, int keyOffset, int keyLength, int hash, byte[] value, int flags, long now) {
    return newItem(key, keyOffset, keyLength, hash, value, flags, now, Item.OPAQUE, 0);
  }

  private Item newItem(
      byte[] key,
      int keyOffset,
      int keyLength,
      int hash,
      byte[] value,
      int flags,
      long now,
      byte kind,
      int footprint) {
    Item item =
        new Item(
            ownKey(key, keyOffset, keyLength),
            hash,
            value,
            flags,
            nextCas.getAndIncrement(),
            kind,
            footprint);
    item.lastAccessSeconds = now;
    totalItems.increment();
    return item;
  }

  /**
   * Finds the item and, if it expired or was flushed, unlinks it and returns null. Caller holds the
   * stripe lock.
   */
  private Item findLive(
      Stripe stripe, byte[] key, int keyOffset, int keyLength, int hash, long now) {
    Item item = stripe.find(key, keyOffset, keyLength, hash);
    if (item == null) {
      return null;
    }
    if (isFlushed(item, now)) {
      lookupsFlushed.increment();
    } else if (isExpired(item, now)) {
      lookupsExpired.increment();
      if (!item.fetched) {
        expiredUnfetched.increment();
      }
    } else {
      return item;
    }
    unlinkReporting(stripe, item);
    reclaimed.increment();
    bytesUsed.addAndGet(-item.sizeBytes());
    return null;
  }

  /**
   * A profile whose expiry was just set into the past leaves now, not at the next timer turn, so
   * that it is out of its segments the moment it stops being readable. The caller still answers the
   * command that did it, as memcached answers a touch with -1.
   */
  private void expireProfileNow(Stripe stripe, Item item, long now) {
    if (item.isProfile() && isExpired(item, now)) {
      unlinkReporting(stripe, item);
      reclaimed.increment();
      bytesUsed.addAndGet(-item.sizeBytes());
    }
  }

  /** Unlinks an item that leaves the cache for good; a profile is removed from the engine too. */
  private void unlinkReporting(Stripe stripe, Item item) {
    stripe.unlink(item);
    if (item.isProfile()) {
      hooks.removed(item.key, item.hash, item.ordinal);
    }
  }

  private static boolean isExpired(Item item, long now) {
    return isExpiredAt(item.expiresAtSeconds, now);
  }

  private static boolean isExpiredAt(long expiresAtSeconds, long now) {
    return expiresAtSeconds != 0 && expiresAtSeconds <= now;
  }

  private static final WriteResult NOTHING_WRITTEN =
      new WriteResult(true, false, 0, Item.NO_ORDINAL, 0);

  /** Stands in for the engine write of a profile stored already expired: writes nothing. */
  private static final ProfileWrite DEAD_ON_ARRIVAL =
      new ProfileWrite() {
        @Override
        public WriteResult apply(byte currentKind, int currentOrdinal, byte[] key, int hash) {
          return NOTHING_WRITTEN;
        }

        @Override
        public void journal(Journal journal, int stripe, Item item) {}
      };

  private boolean isFlushed(Item item, long now) {
    long oldestLive = oldestLiveSeconds;
    if (oldestLive == 0 || oldestLive > now) {
      return false;
    }
    long oldestCas = oldestLiveCas;
    return item.lastAccessSeconds <= oldestLive || (oldestCas != 0 && item.cas < oldestCas);
  }

  /**
   * Adds {@code delta} bytes to the total and, if that puts the cache over its cap (the bytes
   * profiles share counted too), evicts from the LRU tails: the writer's own stripe first, then the
   * others in turn.
   */
  private void charge(Stripe home, long delta) {
    if (bytesUsed.addAndGet(delta) + hooks.sharedBytes() <= maxBytes) {
      return;
    }
    long now = nowSeconds();
    if (evictFrom(home, now, true)) {
      return;
    }
    for (int attempt = 0; attempt < stripes.length && overCap(); attempt++) {
      Stripe victim = stripes[(int) (evictionCursor.getAndIncrement() & (stripes.length - 1))];
      if (victim != home) {
        evictFrom(victim, now, false);
      }
    }
  }

  /**
   * Whether the items and the bytes profiles share ({@link ProfileHooks#sharedBytes}) are over the
   * cap.
   */
  private boolean overCap() {
    return bytesUsed.get() + hooks.sharedBytes() > maxBytes;
  }

  /**
   * Evicts from one stripe's LRU tail until under the cap; false if the stripe ran dry. In the
   * writer's own stripe ({@code keepHead}) the head is the item just written and is kept; another
   * stripe may be emptied, which matters when a few items hold most of the memory (profiles whose
   * names are theirs alone).
   */
  private boolean evictFrom(Stripe stripe, long now, boolean keepHead) {
    stripe.lock.lock();
    try {
      while (overCap()) {
        Item victim = stripe.lruTail;
        if (victim == null || (keepHead && victim == stripe.lruHead)) {
          return false;
        }
        unlinkReporting(stripe, victim);
        journal.removed(stripe.index, victim.key);
        bytesUsed.addAndGet(-victim.sizeBytes());
        if (isExpired(victim, now) || isFlushed(victim, now)) {
          reclaimed.increment();
          if (!victim.fetched) {
            expiredUnfetched.increment();
          }
        } else {
          evictions.increment();
          if (!victim.fetched) {
            evictedUnfetched.increment();
          }
        }
      }
      return true;
    } finally {
      stripe.lock.unlock();
    }
  }

  /**
   * memcached's {@code safe_strtoull} over a stored value: optional leading whitespace, an optional
   * sign, decimal digits, then the end of the value or whitespace, no overflow past 2^64-1. On
   * success the number is left in {@code out.number}.
   */
  static boolean parseUnsigned(byte[] value, Outcome out) {
    int length = value.length;
    int i = 0;
    while (i < length && isSpace(value[i])) {
      i++;
    }
    boolean negative = false;
    if (i < length && (value[i] == '+' || value[i] == '-')) {
      negative = value[i] == '-';
      i++;
    }
    int digitsStart = i;
    long result = 0;
    while (i < length && value[i] >= '0' && value[i] <= '9') {
      int digit = value[i] - '0';
      if (Long.compareUnsigned(result, Long.divideUnsigned(-1L - digit, 10)) > 0) {
        return false; // strtoull's ERANGE
      }
      result = result * 10 + digit;
      i++;
    }
    if (i == digitsStart || (i < length && !isSpace(value[i]))) {
      return false;
    }
    if (negative) {
      // strtoull negates "-5" to 2^64-5; memcached rejects a signed-negative result only.
      result = -result;
      if (result < 0) {
        return false;
      }
    }
    out.number = result;
    return true;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == 0x0c;
  }

  /**
   * The decimal form of an unsigned value, padded with spaces to {@code padTo} when shorter, as
   * memcached writes an incr/decr result over the old value in place.
   */
  private static byte[] decimal(long value, int padTo) {
    String digits = Long.toUnsignedString(value);
    int length = Math.max(digits.length(), padTo);
    if (digits.length() < padTo) {
      byte[] padded = new byte[length];
      Arrays.fill(padded, (byte) ' ');
      for (int i = 0; i < digits.length(); i++) {
        padded[i] = (byte) digits.charAt(i);
      }
      return padded;
    }
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = (byte) digits.charAt(i);
    }
    return out;
  }

  /** A profile item's expiry time, ordered soonest first. */
  private record ExpiryEntry(long atSeconds, Item item) implements Comparable<ExpiryEntry> {
    @Override
    public int compareTo(ExpiryEntry other) {
      return Long.compare(atSeconds, other.atSeconds);
    }
  }

  /** One lock's worth of the cache: a chained hash table and an LRU list. */
  private static final class Stripe {
    private static final int INITIAL_BUCKETS = 256;
    private static final int MAX_BUCKETS = 1 << 30;

    /** Shared with the profile engine's stripe of the same keys, when there is an engine. */
    final ReentrantLock lock;

    /** Profile items with an expiry, soonest first; entries go stale when the item changes. */
    final PriorityQueue<ExpiryEntry> expiries = new PriorityQueue<>();

    Item[] table = new Item[INITIAL_BUCKETS];

    /** Read without the lock only for statistics. */
    volatile int count;

    Item lruHead;
    Item lruTail;

    /** This stripe's place in the cache, which a journal keeps one buffer for. */
    final int index;

    Stripe(int index, ReentrantLock lock) {
      this.index = index;
      this.lock = lock;
    }

    Item find(byte[] key, int keyOffset, int keyLength, int hash) {
      for (Item item = table[hash & (table.length - 1)]; item != null; item = item.chainNext) {
        if (item.hash == hash
            && Arrays.equals(item.key, 0, item.key.length, key, keyOffset, keyOffset + keyLength)) {
          return item;
        }
      }
      return null;
    }

    void link(Item item) {
      item.linked = true;
      if (item.isProfile() && item.expiresAtSeconds != 0) {
        expiries.add(new ExpiryEntry(item.expiresAtSeconds, item));
      }
      int bucket = item.hash & (table.length - 1);
      item.chainNext = table[bucket];
      table[bucket] = item;
      pushHead(item);
      count++;
      if (count > table.length - (table.length >>> 2)) {
        grow();
      }
    }

    void unlink(Item item) {
      int bucket = item.hash & (table.length - 1);
      Item prev = null;
      for (Item cur = table[bucket]; cur != null; prev = cur, cur = cur.chainNext) {
        if (cur == item) {
          if (prev == null) {
            table[bucket] = cur.chainNext;
          } else {
            prev.chainNext = cur.chainNext;
          }
          break;
        }
      }
      item.chainNext = null;
      item.linked = false;
      removeFromLru(item);
      count--;
    }

    /** Sets a linked item's expiry, queueing a profile item for active expiry. */
    void setExpiry(Item item, long expiresAtSeconds) {
      item.expiresAtSeconds = expiresAtSeconds;
      if (item.isProfile() && expiresAtSeconds != 0) {
        expiries.add(new ExpiryEntry(expiresAtSeconds, item));
      }
    }

    /** Marks a read: the item counts as fetched and moves to the LRU head. */
    void access(Item item, long now) {
      item.fetched = true;
      bump(item, now);
    }

    /** Moves the item to the LRU head and records the access time. */
    void bump(Item item, long now) {
      item.lastAccessSeconds = now;
      if (lruHead != item) {
        removeFromLru(item);
        pushHead(item);
      }
    }

    long clear(ProfileHooks hooks) {
      long freed = 0;
      for (Item item = lruHead; item != null; item = item.lruNext) {
        freed += item.sizeBytes();
        item.linked = false;
        if (item.isProfile()) {
          hooks.removed(item.key, item.hash, item.ordinal);
        }
      }
      expiries.clear();
      table = new Item[INITIAL_BUCKETS];
      lruHead = null;
      lruTail = null;
      count = 0;
      return freed;
    }

    private void pushHead(Item item) {
      item.lruPrev = null;
      item.lruNext = lruHead;
      if (lruHead != null) {
        lruHead.lruPrev = item;
      }
      lruHead = item;
      if (lruTail == null) {
        lruTail = item;
      }
    }

    private void removeFromLru(Item item) {
      if (item.lruPrev != null) {
        item.lruPrev.lruNext = item.lruNext;
      } else {
        lruHead = item.lruNext;
      }
      if (item.lruNext != null) {
        item.lruNext.lruPrev = item.lruPrev;
      } else {
        lruTail = item.lruPrev;
      }
      item.lruPrev = null;
      item.lruNext = null;
    }

    private void grow() {
      resize(table.length << 1);
    }

    /** Sizes the index for {@code items} without growing while they come. */
    void reserve(long items) {
      int buckets = table.length;
      while (items > buckets - (buckets >>> 2) && buckets < MAX_BUCKETS) {
        buckets <<= 1;
      }
      if (buckets > table.length) {
        resize(buckets);
      }
    }

    private void resize(int buckets) {
      Item[] old = table;
      Item[] grown = new Item[buckets];
      int mask = grown.length - 1;
      for (Item head : old) {
        Item item = head;
        while (item != null) {
          Item next = item.chainNext;
          int bucket = item.hash & mask;
          item.chainNext = grown[bucket];
          grown[bucket] = item;
          item = next;
        }
      }
      table = grown;
    }
  }
}

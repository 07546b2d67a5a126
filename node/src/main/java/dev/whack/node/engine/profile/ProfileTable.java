package dev.whack.node.engine.profile;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Every profile on the node, by dense ordinal, and the lock stripes that guard them.
 *
 * <p>The table has no key index: a profile's key is found through the node's one index, the
 * keyspace's items, each of which carries its profile's ordinal. The keyspace's stripes and these
 * are the same locks ({@link #stripeLocks()}), chosen by the same key hash, so a keyed write takes
 * one lock for the item and the profile.
 *
 * <p>Ordinals are dense and recycled (a freed ordinal is handed out again, last freed first), so
 * segment bitmaps stay small and the ordinal space stays near the number of live profiles plus at
 * most one partly filled 65,536-ordinal block per writing thread (see {@link #allocate}). Profiles
 * live in pages of 16384 slots so that growth never copies the profiles themselves.
 *
 * <p>Concurrency: a key belongs to one {@link Stripe}; every change to its profile's compact form,
 * and the allocation and freeing of its ordinal, happens while holding that stripe's lock, so
 * updates to keys in different stripes run in parallel with no global lock. Readers of a compact
 * form take no lock: slots are written with release and read with acquire semantics, and a
 * published array is never modified. Ordinal allocation takes a short lock of its own.
 */
public final class ProfileTable {
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(byte[][].class);
  private static final Hasher64 KEY_HASH = Hashing.xxh3_64();
  private static final int PAGE_SHIFT = 14;
  private static final int PAGE_SIZE = 1 << PAGE_SHIFT;
  private static final int PAGE_MASK = PAGE_SIZE - 1;

  private volatile byte[][][] pages = new byte[0][][];
  private final Object ordinalLock = new Object();
  private int[] free = new int[64];
  private int freeCount;
  private int highWater;
  private volatile int live;

  private final Stripe[] stripes;

  /** One lock stripe: its lock, and the names its profiles use. */
  public static final class Stripe {
    private final ReentrantLock lock = new ReentrantLock();
    private final StripeNames names = new StripeNames();

    private Stripe() {}

    /** The lock that guards this stripe's profiles (and the keyspace's items of these keys). */
    public ReentrantLock lock() {
      return lock;
    }

    /** The names this stripe's profiles use; guarded by this stripe's lock. */
    public StripeNames names() {
      return names;
    }
  }

  public ProfileTable(int stripeCount) {
    if (Integer.bitCount(stripeCount) != 1) {
      throw new IllegalArgumentException("stripe count must be a power of two: " + stripeCount);
    }
    stripes = new Stripe[stripeCount];
    for (int i = 0; i < stripeCount; i++) {
      stripes[i] = new Stripe();
    }
  }

  /**
   * A 32-bit hash of the key bytes (xxHash3, folded). The node's item index hashes keys with this
   * same function and hands the hash down with the profile's ordinal, so a keyed write hashes its
   * key once.
   */
  public static int hash(byte[] key) {
    return hash(key, 0, key.length);
  }

  /** {@link #hash(byte[])} of the key bytes {@code b[off, off + len)}, read in place. */
  public static int hash(byte[] b, int off, int len) {
    long h = KEY_HASH.hashBytesToLong(b, off, len);
    return (int) (h ^ (h >>> 32));
  }

  /**
   * Which of {@code stripeCount} stripes owns keys of this hash: the hash's top bits, so that the
   * low bits stay free for the bucket index of a table inside the stripe.
   */
  public static int stripeIndex(int hash, int stripeCount) {
    return (int) (((hash & 0xFFFFFFFFL) * stripeCount) >>> 32);
  }

  /**
   * Takes and releases every stripe's lock once. Afterwards every write that held a stripe when the
   * call began has finished, so whatever it read before (a segment catalog since replaced) is no
   * longer in use by any write.
   */
  public void passEveryStripe() {
    for (Stripe s : stripes) {
      s.lock.lock(); // waits for the holder to leave
      s.lock.unlock();
    }
  }

  /** Number of stripes. */
  public int stripeCount() {
    return stripes.length;
  }

  /** Stripe {@code i} of {@link #stripeCount()}, for walks over every stripe. */
  public Stripe stripeAt(int i) {
    return stripes[i];
  }

  /**
   * The stripe that owns keys of this hash; lock it before {@link #add}, {@link #set}, {@link
   * #free}.
   */
  public Stripe stripe(int hash) {
    return stripes[stripeIndex(hash, stripes.length)];
  }

  /** Every stripe's lock, in stripe order, for the keyspace to guard its items with. */
  public ReentrantLock[] stripeLocks() {
    ReentrantLock[] locks = new ReentrantLock[stripes.length];
    for (int i = 0; i < locks.length; i++) {
      locks[i] = stripes[i].lock;
    }
    return locks;
  }

  /** Number of live profiles. */
  public int size() {
    return live;
  }

  /** One past the highest ordinal ever handed out. */
  public int ordinalLimit() {
    synchronized (ordinalLock) {
      return highWater;
    }
  }

  /** The compact form at {@code ordinal}, or null when the slot is free. No lock needed. */
  public byte[] blob(int ordinal) {
    byte[][][] p = pages;
    int page = ordinal >>> PAGE_SHIFT;
    if (ordinal < 0 || page >= p.length) {
      return null;
    }
    return (byte[]) SLOT.getAcquire(p[page], ordinal & PAGE_MASK);
  }

  /** Replaces the compact form at a live ordinal. Caller holds the key's stripe. */
  public void set(int ordinal, byte[] blob) {
    SLOT.setRelease(pages[ordinal >>> PAGE_SHIFT], ordinal & PAGE_MASK, blob);
  }

  /** Publishes a new profile's compact form; returns its ordinal. Caller holds its stripe. */
  public int add(byte[] blob) {
    int ordinal = allocate();
    set(ordinal, blob);
    return ordinal;
  }

  /** Unpublishes the profile at {@code ordinal} and frees the ordinal. Caller holds its stripe. */
  public void free(int ordinal) {
    set(ordinal, null);
    release(ordinal);
  }

  /**
   * A recycled ordinal if any, else the next one of this thread's block. Each writing thread fills
   * its own block of 65,536 ordinals (one roaring container), so threads that create profiles at
   * the same time write different bitmap containers and their monitors instead of taking turns on
   * one: bulk loads scale across cores. The cost is at most one partly used block per writing
   * thread.
   */
  private int allocate() {
    int[] block = blocks.get();
    synchronized (ordinalLock) {
      live++;
      if (freeCount > 0) {
        return free[--freeCount];
      }
      if (block[0] >= block[1]) {
        int start = highWater;
        highWater += BLOCK;
        int lastPage = (highWater - 1) >>> PAGE_SHIFT;
        if (lastPage >= pages.length) {
          byte[][][] grown = Arrays.copyOf(pages, lastPage + 1);
          for (int p = pages.length; p <= lastPage; p++) {
            grown[p] = new byte[PAGE_SIZE][];
          }
          pages = grown;
        }
        block[0] = start;
        block[1] = start + BLOCK;
      }
      return block[0]++;
    }
  }

  private static final int BLOCK = 1 << 16;
  private final ThreadLocal<int[]> blocks = ThreadLocal.withInitial(() -> new int[2]);

  private void release(int ordinal) {
    synchronized (ordinalLock) {
      if (freeCount == free.length) {
        free = Arrays.copyOf(free, freeCount * 2);
      }
      free[freeCount++] = ordinal;
      live--;
    }
  }
}

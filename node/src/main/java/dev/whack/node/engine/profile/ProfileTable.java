package dev.whack.node.engine.profile;

import com.dynatrace.hash4j.hashing.Hasher64;
import com.dynatrace.hash4j.hashing.Hashing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Every profile on the node: the compact form by dense ordinal, and a key index from key to ordinal
 * split into lock stripes.
 *
 * <p>Ordinals are dense and recycled (a freed ordinal is handed out again, last freed first), so
 * segment bitmaps stay small and the ordinal space stays near the number of live profiles plus at
 * most one partly filled 65,536-ordinal block per writing thread (see {@link #allocate}). Profiles
 * live in pages of 16384 slots so that growth never copies the profiles themselves.
 *
 * <p>Concurrency: a key belongs to one {@link Stripe}; every change to that key's entry, its
 * ordinal and its compact form happens while holding that stripe's monitor, so updates to keys in
 * different stripes run in parallel with no global lock. Readers of a compact form take no lock:
 * slots are written with release and read with acquire semantics, and a published array is never
 * modified. Ordinal allocation takes a short lock of its own.
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

  /**
   * One lock stripe: an open-addressing table from key to ordinal, guarded by its own monitor. Each
   * slot packs the key's hash (high 32 bits) and ordinal + 1 (low 32 bits; 0 = empty) into one
   * long, so a probe touches one cache line before it touches the profile to compare keys.
   */
  public static final class Stripe {
    private long[] slots = new long[16];
    private int size;
    private final StripeNames names = new StripeNames();

    private Stripe() {}

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
   * Takes and releases every stripe's lock once. Afterwards every write that held a stripe when the
   * call began has finished, so whatever it read before (a segment catalog since replaced) is no
   * longer in use by any write.
   */
  public void passEveryStripe() {
    for (Stripe s : stripes) {
      synchronized (s) {
        // nothing: entering waits for the holder to leave
      }
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

  /** The stripe that owns keys of this hash; lock it before find/insert/remove. */
  public Stripe stripe(int hash) {
    return stripes[(hash >>> 16) & (stripes.length - 1)];
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

  /** The ordinal of {@code key}, or -1. Caller holds {@code stripe}. */
  public int find(Stripe stripe, byte[] key, int hash) {
    long[] slots = stripe.slots;
    int mask = slots.length - 1;
    for (int i = hash & mask; ; i = (i + 1) & mask) {
      long e = slots[i];
      if (e == 0) {
        return -1;
      }
      if ((int) (e >>> 32) == hash && ProfileCodec.keyEquals(blob((int) e - 1), key)) {
        return (int) e - 1;
      }
    }
  }

  /** Adds a new key with its compact form; returns its ordinal. Caller holds {@code stripe}. */
  public int insert(Stripe stripe, int hash, byte[] blob) {
    int ordinal = allocate();
    set(ordinal, blob);
    if ((stripe.size + 1) * 2 > stripe.slots.length) {
      grow(stripe);
    }
    place(stripe.slots, ((long) hash << 32) | (ordinal + 1L));
    stripe.size++;
    return ordinal;
  }

  /**
   * Removes {@code key}; returns its former ordinal, now free, or -1. Caller holds {@code stripe}.
   */
  public int remove(Stripe stripe, byte[] key, int hash) {
    long[] slots = stripe.slots;
    int mask = slots.length - 1;
    int i = hash & mask;
    while (true) {
      long e = slots[i];
      if (e == 0) {
        return -1;
      }
      if ((int) (e >>> 32) == hash && ProfileCodec.keyEquals(blob((int) e - 1), key)) {
        break;
      }
      i = (i + 1) & mask;
    }
    int ordinal = (int) slots[i] - 1;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      if (slots[j] == 0) {
        break;
      }
      int home = (int) (slots[j] >>> 32) & mask;
      boolean movable = j > i ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        slots[i] = slots[j];
        i = j;
      }
    }
    slots[i] = 0;
    stripe.size--;
    set(ordinal, null);
    release(ordinal);
    return ordinal;
  }

  private static void place(long[] slots, long entry) {
    int mask = slots.length - 1;
    int i = (int) (entry >>> 32) & mask;
    while (slots[i] != 0) {
      i = (i + 1) & mask;
    }
    slots[i] = entry;
  }

  private static void grow(Stripe stripe) {
    long[] old = stripe.slots;
    long[] grown = new long[old.length * 2];
    for (long e : old) {
      if (e != 0) {
        place(grown, e);
      }
    }
    stripe.slots = grown;
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

package dev.whack.node.engine.profile;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Interns names (attributes, or events) to small dense ids, so that a profile stores a one-byte
 * varint instead of a name and an evaluator indexes arrays instead of hashing, and frees a name as
 * soon as nothing uses it any more.
 *
 * <p>Every use of a name holds a <em>reference</em>: each lock stripe whose profiles have the
 * attribute (or the event series; the stripe counts them itself, in {@link NameCounts}, and holds
 * one reference here however many they are), each defined segment whose expression reads it, and
 * for the length of one call each ad-hoc filter that reads it. A name whose count drops to zero is
 * removed and its id is handed out again, lowest free id first, so ids stay as small as the number
 * of names in use and the arrays indexed by id stay bounded. {@code capacity} bounds the names in
 * use at once (their memory, and those arrays), not the names ever seen.
 *
 * <p>Concurrency: lookups ({@link #idOf}) are lock-free reads of an open-addressing index of {@link
 * Name} objects; interning a new name, freeing one and rebuilding the index happen under the
 * table's monitor and cost O(1) amortised (the index doubles, or halves, when it is rebuilt; it is
 * rebuilt only after a number of changes proportional to its size). A published index slot only
 * ever goes from empty to a name, from a name to a tombstone, or from a tombstone to a name, and a
 * rebuilt index replaces the old one whole, so a probe chain a reader follows is never cut.
 *
 * <p>The protocol between a writer that resolves a name and a releaser that frees it:
 *
 * <ul>
 *   <li>A count is changed only atomically. {@link #acquire} increments it only from a value above
 *       zero (compare-and-set); a name at zero is dying and only the slow path, under the monitor,
 *       may revive it. {@link #release} decrements, and the thread that brings a count to zero then
 *       takes the monitor and frees the name only if its count is still zero and it is still the
 *       name of its id. So a name is freed exactly when no reference is held, and an id that a
 *       caller holds a reference to keeps its name until that caller releases it.
 *   <li>A {@code Name} object is never reused: a freed one stays at zero for good, and its id gets
 *       a new object. So a successful increment found through any (even stale) index proves that
 *       the name is live and that {@code Name.id} is its id.
 *   <li>A plain lookup ({@link #idOf}) holds nothing. Its answer can be trusted only while
 *       something already held a reference to that name before the lookup and still does: the
 *       stripe whose lock the writer holds (its profiles use the name), or a segment. Otherwise the
 *       caller must {@link #acquire}. ProfileWriter and NameCounts follow exactly this rule. A
 *       lookup may meet a freed {@code Name} (in a slot read just before it was cleared, or in an
 *       index since rebuilt), so it answers only for names whose count is above zero: a held name
 *       is found (it is in every index published since it was interned), and a freed one, whose id
 *       may belong to another name by now, never is.
 * </ul>
 *
 * <p>Names are looked up by string or by their UTF-8 bytes ({@link #idOf(byte[], int, int)}), so
 * that a parser reading bytes resolves a name without building a {@code String}. One index serves
 * both: it hashes a name's bytes in WTF-8, which is UTF-8 for every well-formed string and also
 * gives a string with unpaired surrogates (which only a Java caller can make) a form of its own
 * that no UTF-8 input can match.
 */
public final class NameTable {
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Name[].class);
  private static final VarHandle REFS;

  static {
    try {
      REFS = MethodHandles.lookup().findVarHandle(Name.class, "refs", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final int MIN_SLOTS = 16;

  /** One interned name. Immutable but for its reference count; never reused once freed. */
  private static final class Name {
    final int id;
    final String string;
    final byte[] utf8; // WTF-8
    final int hash;
    volatile int refs;

    Name(int id, String string, byte[] utf8, int hash, int refs) {
      this.id = id;
      this.string = string;
      this.utf8 = utf8;
      this.hash = hash;
      this.refs = refs;
    }
  }

  /** An index slot whose name was freed: probes go on past it. */
  private static final Name TOMBSTONE = new Name(-1, "", new byte[0], 0, 0);

  private final String what;
  private final int capacity;

  private volatile Name[] slots = new Name[MIN_SLOTS];
  private volatile Name[] byId = new Name[MIN_SLOTS];
  private volatile int live;

  /** Estimated heap bytes of the names in use (written under the monitor). */
  private volatile long bytesInUse;

  // guarded by this
  private int usedSlots; // names and tombstones
  private int idLimit; // one past the highest id handed out
  private final FreeIds freeIds = new FreeIds();

  /**
   * @param what "attribute" or "event", for error messages
   * @param capacity most names in use at once
   */
  public NameTable(String what, int capacity) {
    this.what = what;
    this.capacity = capacity;
  }

  // ------------------------------------------------------------------ lookups (no reference)

  /**
   * The id of {@code name}, or -1 when it is not interned. Holds nothing: see the class comment for
   * when the answer may be used.
   */
  public int idOf(String name) {
    Name n = find(name);
    return n == null || n.refs == 0 ? -1 : n.id;
  }

  /**
   * The id of the name whose UTF-8 form is {@code utf8[off, off + len)}, or -1 when it is not
   * interned. Allocates nothing; holds nothing.
   */
  public int idOf(byte[] utf8, int off, int len) {
    Name n = find(utf8, off, len);
    return n == null || n.refs == 0 ? -1 : n.id;
  }

  /** The name of an id the caller holds a reference to (through a profile, segment or acquire). */
  public String name(int id) {
    return ((Name) SLOT.getAcquire(byId, id)).string;
  }

  /** Number of names in use. */
  public int size() {
    return live;
  }

  /**
   * Estimated heap bytes of the names in use, which the node charges against its memory cap like
   * items, so that names kept alive by profiles are bounded by {@code --memory} and eviction frees
   * them with their profiles.
   */
  public long bytesInUse() {
    return bytesInUse;
  }

  /**
   * A name's estimated heap footprint: its {@code Name} (object, hash, count), the {@code String}
   * and its array (at most two bytes a character), the UTF-8 array, and its share of the index (at
   * most half full) and of the id array.
   */
  static long footprint(String string, byte[] utf8) {
    return 112 + 2L * string.length() + utf8.length;
  }

  /** References held on {@code id} now, 0 when it is free (for tests and checks). */
  public int refs(int id) {
    Name[] ids = byId;
    Name n = id >= 0 && id < ids.length ? (Name) SLOT.getAcquire(ids, id) : null;
    return n == null ? 0 : n.refs;
  }

  /** The name of {@code id} if it is in use, else null (for tests and checks). */
  public String nameOrNull(int id) {
    Name[] ids = byId;
    Name n = id >= 0 && id < ids.length ? (Name) SLOT.getAcquire(ids, id) : null;
    return n == null ? null : n.string;
  }

  /** Tells {@code each} every name in use now with its id, lowest id first. */
  public synchronized void forEach(java.util.function.ObjIntConsumer<String> each) {
    for (int id = 0; id < idLimit; id++) {
      Name n = byId[id];
      if (n != null) {
        each.accept(n.string, id);
      }
    }
  }

  /** One past the highest id handed out so far; every id in use is below it. */
  public synchronized int idLimit() {
    return idLimit;
  }

  // ------------------------------------------------------------------ references

  /**
   * Takes a reference to {@code name}, interning it when it is new; returns its id, which keeps
   * that name until {@link #release}.
   *
   * @throws InvalidProfileException when the name is new and {@code capacity} names are in use
   */
  public int acquire(String name) {
    Name n = find(name);
    return n != null && tryRetain(n) ? n.id : acquireSlow(name, null, 0, 0, true);
  }

  /**
   * {@link #acquire(String)} for a name given as well-formed UTF-8. Allocates only for a new name.
   */
  public int acquire(byte[] utf8, int off, int len) {
    Name n = find(utf8, off, len);
    return n != null && tryRetain(n) ? n.id : acquireSlow(null, utf8, off, len, true);
  }

  /**
   * Takes a reference to {@code name} if it is interned; -1 (and nothing held) when it is not.
   * Interns nothing: for readers that only need names already in use (ad-hoc filters).
   */
  public int acquireExisting(String name) {
    Name n = find(name);
    return n != null && tryRetain(n) ? n.id : acquireSlow(name, null, 0, 0, false);
  }

  /** One more reference on {@code id}, whose name the caller holds a reference on already. */
  public void retainHeld(int id) {
    Name n = (Name) SLOT.getAcquire(byId, id);
    if (n == null || (int) REFS.getAndAdd(n, 1) <= 0) {
      throw new IllegalStateException(what + " name " + id + " is not held");
    }
  }

  /** Gives back one reference; the name is freed when it was the last. */
  public void release(int id) {
    Name n = (Name) SLOT.getAcquire(byId, id);
    int refs = (int) REFS.getAndAdd(n, -1) - 1;
    if (refs == 0) {
      freeIfUnused(n);
    } else if (refs < 0) {
      throw new IllegalStateException(what + " name \"" + n.string + "\" released once too often");
    }
  }

  /** Increments a count that is above zero; false when the name is dying or freed. */
  private static boolean tryRetain(Name n) {
    int refs;
    do {
      refs = n.refs;
      if (refs == 0) {
        return false;
      }
    } while (!REFS.weakCompareAndSet(n, refs, refs + 1));
    return true;
  }

  private synchronized int acquireSlow(
      String string, byte[] utf8, int off, int len, boolean intern) {
    Name n = string != null ? find(string) : find(utf8, off, len); // exact: changes hold this lock
    if (n != null) {
      // its count may be zero: a releaser is waiting for this lock to free it, and will not now
      REFS.getAndAdd(n, 1);
      return n.id;
    }
    if (!intern) {
      return -1;
    }
    if (live >= capacity) {
      throw new InvalidProfileException(
          "too many distinct " + what + " names in use on this node (at most " + capacity + ")");
    }
    if (string == null) {
      string = new String(utf8, off, len, StandardCharsets.UTF_8);
    }
    byte[] bytes = utf8 != null ? Arrays.copyOfRange(utf8, off, off + len) : wtf8(string);
    return intern(string, bytes, freeIds.isEmpty() ? idLimit++ : freeIds.takeLowest());
  }

  /**
   * Takes a reference to {@code name} as {@link #acquire} does, giving it the id {@code wanted}
   * when it is new and that id is free: a node restoring a snapshot gives names the ids they had,
   * so the snapshot's compact profiles need no renumbering. Returns the id it has, which may differ
   * (the name was there already under another id, or the id is taken).
   *
   * @throws InvalidProfileException when the name is new and the table is full
   */
  public synchronized int acquireAt(String name, int wanted) {
    Name n = find(name);
    if (n != null) {
      REFS.getAndAdd(n, 1);
      return n.id;
    }
    if (live >= capacity) {
      return acquireSlow(name, null, 0, 0, true); // which refuses it with the usual message
    }
    if (wanted >= idLimit) {
      for (int id = idLimit; id < wanted; id++) {
        freeIds.add(id);
      }
      idLimit = wanted + 1;
    } else if (!freeIds.take(wanted)) {
      return acquireSlow(name, null, 0, 0, true);
    }
    return intern(name, wtf8(name), wanted);
  }

  /** Makes {@code string} the name of the free {@code id}, with one reference. Under this. */
  private int intern(String string, byte[] bytes, int id) {
    Name n;
    Name[] ids = byId;
    if (id >= ids.length) {
      ids = Arrays.copyOf(ids, Math.max(id + 1, ids.length * 2));
      byId = ids;
    }
    n = new Name(id, string, bytes, hash(bytes, 0, bytes.length), 1);
    SLOT.setRelease(ids, id, n);
    if ((usedSlots + 1) * 2 > slots.length) {
      rebuild(live + 1);
    }
    insert(slots, n);
    live++;
    bytesInUse += footprint(string, bytes);
    return id;
  }

  /**
   * Holds: while above zero, a name whose last reference goes is not freed but set aside ({@link
   * #held}), so every id keeps its name. A snapshot renders compact profiles it copied under a
   * stripe lock after releasing it; the profiles may change meanwhile and their names lose their
   * last use, but the ids in the copies must still read as the names they were. Guarded by this.
   */
  private int holds;

  private final java.util.ArrayList<Name> held = new java.util.ArrayList<>();

  /** Keeps every name that is in use now (and every id's name) until {@link #unhold}. */
  public synchronized void hold() {
    holds++;
  }

  /** Ends a {@link #hold}; the last one frees the names that lost their last use meanwhile. */
  public synchronized void unhold() {
    if (holds <= 0) {
      throw new IllegalStateException(what + " names are not held");
    }
    if (--holds == 0) {
      for (Name n : held) {
        freeIfUnused(n);
      }
      held.clear();
      held.trimToSize();
    }
  }

  private synchronized void freeIfUnused(Name n) {
    Name[] ids = byId;
    if (n.refs != 0 || ids[n.id] != n) {
      return; // revived, or already freed by an earlier releaser of the same count
    }
    if (holds > 0) {
      held.add(n);
      return;
    }
    Name[] s = slots;
    int mask = s.length - 1;
    int i = mix(n.hash) & mask;
    while (s[i] != n) {
      i = (i + 1) & mask;
    }
    SLOT.setRelease(s, i, TOMBSTONE);
    SLOT.setRelease(ids, n.id, null);
    freeIds.add(n.id);
    live--;
    bytesInUse -= footprint(n.string, n.utf8);
    if (s.length > MIN_SLOTS && live * 16 < s.length) {
      rebuild(live);
    }
  }

  // ------------------------------------------------------------------ the index

  private Name find(byte[] b, int off, int len) {
    int h = hash(b, off, len);
    Name[] s = slots;
    int mask = s.length - 1;
    for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
      Name n = (Name) SLOT.getAcquire(s, i);
      if (n == null) {
        return null;
      }
      if (n.hash == h
          && n.utf8.length == len
          && n != TOMBSTONE
          && Arrays.equals(n.utf8, 0, len, b, off, off + len)) {
        return n;
      }
    }
  }

  private Name find(String name) {
    int h = hash(name);
    Name[] s = slots;
    int mask = s.length - 1;
    for (int i = mix(h) & mask; ; i = (i + 1) & mask) {
      Name n = (Name) SLOT.getAcquire(s, i);
      if (n == null) {
        return null;
      }
      if (n.hash == h && n != TOMBSTONE && n.string.equals(name)) {
        return n;
      }
    }
  }

  /** Adds {@code n} at the first empty or tombstone slot of its probe chain. Caller holds this. */
  private void insert(Name[] s, Name n) {
    int mask = s.length - 1;
    int i = mix(n.hash) & mask;
    while (s[i] != null && s[i] != TOMBSTONE) {
      i = (i + 1) & mask;
    }
    if (s[i] == null) {
      usedSlots++;
    }
    SLOT.setRelease(s, i, n);
  }

  /**
   * Publishes a new index with room for {@code names} names at a quarter full, holding the names of
   * the current one and no tombstone; O(size of the current index), which took at least a quarter
   * of that many changes to fill. The old index is never written again, so readers still probing it
   * stay consistent.
   */
  private void rebuild(int names) {
    int size = MIN_SLOTS;
    while (size < names * 4) {
      size *= 2;
    }
    Name[] next = new Name[size];
    usedSlots = 0;
    for (Name n : slots) {
      if (n != null && n != TOMBSTONE) {
        insert(next, n);
      }
    }
    slots = next;
  }

  // ------------------------------------------------------------------ hashing

  /** A polynomial hash of the bytes (signed, as Java's {@code Arrays.hashCode} takes them). */
  private static int hash(byte[] b, int off, int len) {
    int h = 0;
    for (int i = off; i < off + len; i++) {
      h = 31 * h + b[i];
    }
    return h;
  }

  /** {@link #hash(byte[], int, int)} of the string's WTF-8 bytes, without making them. */
  private static int hash(String s) {
    int h = 0;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      int c = s.charAt(i);
      if (c < 0x80) {
        h = 31 * h + c;
        continue;
      }
      if (c < 0x800) {
        h = 31 * h + (byte) (0xC0 | c >>> 6);
      } else {
        if (Character.isHighSurrogate((char) c)
            && i + 1 < n
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          int cp = Character.toCodePoint((char) c, s.charAt(++i));
          h = 31 * h + (byte) (0xF0 | cp >>> 18);
          h = 31 * h + (byte) (0x80 | (cp >>> 12) & 0x3F);
          c = cp;
        } else {
          h = 31 * h + (byte) (0xE0 | c >>> 12);
        }
        h = 31 * h + (byte) (0x80 | (c >>> 6) & 0x3F);
      }
      h = 31 * h + (byte) (0x80 | c & 0x3F);
    }
    return h;
  }

  /** WTF-8: UTF-8, with an unpaired surrogate encoded like any other char of its range. */
  private static byte[] wtf8(String s) {
    byte[] out = new byte[s.length() * 3];
    int p = 0;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      int c = s.charAt(i);
      if (c < 0x80) {
        out[p++] = (byte) c;
      } else if (c < 0x800) {
        out[p++] = (byte) (0xC0 | c >>> 6);
        out[p++] = (byte) (0x80 | c & 0x3F);
      } else if (Character.isHighSurrogate((char) c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint((char) c, s.charAt(++i));
        out[p++] = (byte) (0xF0 | cp >>> 18);
        out[p++] = (byte) (0x80 | (cp >>> 12) & 0x3F);
        out[p++] = (byte) (0x80 | (cp >>> 6) & 0x3F);
        out[p++] = (byte) (0x80 | cp & 0x3F);
      } else {
        out[p++] = (byte) (0xE0 | c >>> 12);
        out[p++] = (byte) (0x80 | (c >>> 6) & 0x3F);
        out[p++] = (byte) (0x80 | c & 0x3F);
      }
    }
    return Arrays.copyOf(out, p);
  }

  private static int mix(int h) {
    h *= 0x9E3779B9;
    return h ^ (h >>> 16);
  }

  /**
   * Free ids, lowest first in O(1) for any table this size: a bit per id and a summary bit per word
   * of ids that has one free.
   */
  private static final class FreeIds {
    private long[] words = new long[1];
    private long[] summary = new long[1];
    private int count;

    boolean isEmpty() {
      return count == 0;
    }

    void add(int id) {
      int w = id >>> 6;
      if (w >= words.length) {
        words = Arrays.copyOf(words, Math.max(w + 1, words.length * 2));
      }
      if ((w >>> 6) >= summary.length) {
        summary = Arrays.copyOf(summary, Math.max((w >>> 6) + 1, summary.length * 2));
      }
      words[w] |= 1L << id;
      summary[w >>> 6] |= 1L << w;
      count++;
    }

    /** Takes {@code id} out of the free ones; false when it was not free. */
    boolean take(int id) {
      int w = id >>> 6;
      if (w >= words.length || (words[w] & (1L << id)) == 0) {
        return false;
      }
      words[w] &= ~(1L << id);
      if (words[w] == 0) {
        summary[w >>> 6] &= ~(1L << w);
      }
      count--;
      return true;
    }

    int takeLowest() {
      for (int s = 0; ; s++) {
        if (summary[s] != 0) {
          int w = (s << 6) + Long.numberOfTrailingZeros(summary[s]);
          int bit = Long.numberOfTrailingZeros(words[w]);
          words[w] &= ~(1L << bit);
          if (words[w] == 0) {
            summary[s] &= ~(1L << w);
          }
          count--;
          return (w << 6) + bit;
        }
      }
    }
  }
}

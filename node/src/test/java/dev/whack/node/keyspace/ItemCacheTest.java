package dev.whack.node.keyspace;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.ManualClock;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ItemCacheTest {
  private static final long NOW_MILLIS = 1_795_305_600_000L;
  private final ManualClock clock = new ManualClock(NOW_MILLIS);
  private final Outcome out = new Outcome();

  private ItemCache cache(long maxBytes) {
    return new ItemCache(clock, maxBytes, 1024 * 1024);
  }

  private static byte[] b(String s) {
    return s.getBytes(US_ASCII);
  }

  private Status set(ItemCache cache, String key, String value, long exptime) {
    byte[] k = b(key);
    return cache.store(StoreMode.SET, k, 0, k.length, 0, exptime, b(value), 0, false, false, out);
  }

  private String get(ItemCache cache, String key) {
    byte[] k = b(key);
    Item item = cache.get(k, 0, k.length);
    return item == null ? null : new String(item.value(), US_ASCII);
  }

  @Test
  void shouldFindEveryItemAfterReservingRoomForThem() {
    ItemCache cache = cache(64 << 20);
    set(cache, "before", "v", 0);
    cache.reserve(20_000);
    for (int i = 0; i < 20_000; i++) {
      assertEquals(Status.STORED, set(cache, "k" + i, "v" + i, 0));
    }
    for (int i = 0; i < 20_000; i++) {
      assertEquals("v" + i, get(cache, "k" + i));
    }
    assertEquals("v", get(cache, "before"));
  }

  @Test
  void shouldReserveNoMoreThanTheCapCouldHold() {
    ItemCache cache = cache(1 << 20);
    // An estimate far too high (a compacted topic's offsets) sizes the index for the cap, not for
    // the estimate: without that bound this asks for billions of buckets and runs out of memory.
    cache.reserve(Long.MAX_VALUE / 2);
    assertEquals(Status.STORED, set(cache, "k", "v", 0));
    assertEquals("v", get(cache, "k"));
  }

  @Test
  void shouldExpireRelativeTimeAfterThatManySeconds() {
    ItemCache cache = cache(1 << 20);
    set(cache, "k", "v", 10);
    clock.advanceSeconds(9);
    assertEquals("v", get(cache, "k"));
    clock.advanceSeconds(1);
    assertNull(get(cache, "k"));
    assertEquals(1, cache.lookupsExpired());
  }

  @Test
  void shouldTreatExpiryAbove30DaysAsAbsoluteUnixTime() {
    ItemCache cache = cache(1 << 20);
    long nowSeconds = NOW_MILLIS / 1000;
    set(cache, "future", "v", nowSeconds + 100);
    set(cache, "past", "v", nowSeconds - 100);
    set(cache, "thirtyDays", "v", Expiry.MAX_RELATIVE_SECONDS);
    assertNull(get(cache, "past"));
    clock.advanceSeconds(99);
    assertEquals("v", get(cache, "future"));
    clock.advanceSeconds(1);
    assertNull(get(cache, "future"));
    assertEquals("v", get(cache, "thirtyDays"), "30 days exactly is still relative");
  }

  @Test
  void shouldNeverShowAnItemStoredWithNegativeExpiry() {
    ItemCache cache = cache(1 << 20);
    assertEquals(Status.STORED, set(cache, "k", "v", -1));
    assertNull(get(cache, "k"));
  }

  @Test
  void shouldKeepItemWithZeroExpiryForever() {
    ItemCache cache = cache(1 << 20);
    set(cache, "k", "v", 0);
    clock.advanceSeconds(10L * 365 * 24 * 3600);
    assertEquals("v", get(cache, "k"));
  }

  @Test
  void shouldMoveExpiryOnTouch() {
    ItemCache cache = cache(1 << 20);
    set(cache, "k", "v", 5);
    assertNotNull(cache.touch(b("k"), 0, 1, 100));
    clock.advanceSeconds(50);
    assertEquals("v", get(cache, "k"));
    assertNull(cache.touch(b("missing"), 0, 7, 100));
  }

  @Test
  void shouldInvalidateOnlyItemsUntouchedSinceDelayedFlushTime() {
    ItemCache cache = cache(1 << 20);
    set(cache, "old", "v", 0);
    cache.flushAll(10);
    assertEquals("v", get(cache, "old"), "a delayed flush changes nothing yet");
    clock.advanceSeconds(10);
    set(cache, "new", "v", 0);
    assertNull(get(cache, "old"));
    assertEquals("v", get(cache, "new"));
    assertEquals(1, cache.lookupsFlushed());
  }

  @Test
  void shouldDropEverythingOnImmediateFlushButKeepLaterWritesOfTheSameSecond() {
    ItemCache cache = cache(1 << 20);
    set(cache, "a", "1", 0);
    set(cache, "b", "2", 0);
    cache.flushAll(0);
    assertEquals(0, cache.itemCount());
    assertEquals(0, cache.bytesUsed());
    set(cache, "c", "3", 0);
    assertEquals("3", get(cache, "c"));
    assertNull(get(cache, "a"));
  }

  @Test
  void shouldGiveEveryStoreAFreshCas() {
    ItemCache cache = cache(1 << 20);
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      set(cache, "k" + (i % 7), "v", 0);
      assertTrue(seen.add(out.cas), "cas repeated: " + out.cas);
    }
  }

  @Test
  void shouldStoreWithMatchingCasAndRefuseStaleOrMissing() {
    ItemCache cache = cache(1 << 20);
    byte[] k = b("k");
    set(cache, "k", "v1", 0);
    long cas = out.cas;
    assertEquals(
        Status.STORED, cache.store(StoreMode.CAS, k, 0, 1, 0, 0, b("v2"), cas, false, false, out));
    assertEquals(
        Status.EXISTS, cache.store(StoreMode.CAS, k, 0, 1, 0, 0, b("v3"), cas, false, false, out));
    byte[] missing = b("nope");
    assertEquals(
        Status.NOT_FOUND,
        cache.store(StoreMode.CAS, missing, 0, 4, 0, 0, b("x"), 1, false, false, out));
    assertEquals("v2", get(cache, "k"));
  }

  @Test
  void shouldKeepFlagsAndExpiryOfTheOldItemOnAppend() {
    ItemCache cache = cache(1 << 20);
    byte[] k = b("k");
    cache.store(StoreMode.SET, k, 0, 1, 42, 10, b("ab"), 0, false, false, out);
    cache.store(StoreMode.APPEND, k, 0, 1, 7, 0, b("cd"), 0, false, false, out);
    cache.store(StoreMode.PREPEND, k, 0, 1, 9, 0, b("__"), 0, false, false, out);
    Item item = cache.get(k, 0, 1);
    assertArrayEquals(b("__abcd"), item.value());
    assertEquals(42, item.flags());
    clock.advanceSeconds(10);
    assertNull(cache.get(k, 0, 1), "append must not extend the expiry");
  }

  @Test
  void shouldRefuseAppendThatWouldExceedTheItemSizeLimit() {
    ItemCache cache = new ItemCache(clock, 1 << 24, 2048);
    byte[] k = b("k");
    cache.store(StoreMode.SET, k, 0, 1, 0, 0, new byte[2000], 0, false, false, out);
    assertEquals(
        Status.TOO_LARGE,
        cache.store(StoreMode.APPEND, k, 0, 1, 0, 0, new byte[100], 0, false, false, out));
    assertEquals(2000, cache.get(k, 0, 1).value().length);
  }

  @Test
  void shouldUnlinkOldValueWhenASetIsTooLarge() {
    ItemCache cache = new ItemCache(clock, 1 << 24, 2048);
    byte[] k = b("k");
    set(cache, "k", "old", 0);
    assertEquals(
        Status.TOO_LARGE,
        cache.store(StoreMode.SET, k, 0, 1, 0, 0, new byte[4096], 0, false, false, out));
    assertNull(get(cache, "k"));
  }

  private Status arith(ItemCache cache, String key, boolean incr, long delta) {
    byte[] k = b(key);
    return cache.arithmetic(k, 0, k.length, incr, delta, 0, false, 0, 0, false, 0, false, out);
  }

  @Test
  void shouldWrapIncrementAt2To64AndFloorDecrementAtZero() {
    ItemCache cache = cache(1 << 20);
    set(cache, "n", "18446744073709551615", 0);
    assertEquals(Status.STORED, arith(cache, "n", true, 2));
    assertEquals(1, out.number);
    set(cache, "m", "5", 0);
    arith(cache, "m", false, 10);
    assertEquals(0, out.number);
  }

  @Test
  void shouldPadAShorterResultWithSpacesLikeMemcached() {
    ItemCache cache = cache(1 << 20);
    set(cache, "n", "100", 0);
    arith(cache, "n", false, 1);
    assertEquals("99 ", get(cache, "n"));
    arith(cache, "n", true, 1);
    assertEquals("100", get(cache, "n"));
    arith(cache, "n", true, 900);
    assertEquals("1000", get(cache, "n"));
  }

  @Test
  void shouldRefuseArithmeticOnNonNumericValues() {
    ItemCache cache = cache(1 << 20);
    for (String value : new String[] {"", "abc", "12a", "-5", "18446744073709551616", " "}) {
      set(cache, "n", value, 0);
      assertEquals(Status.NON_NUMERIC, arith(cache, "n", true, 1), "value '" + value + "'");
    }
    for (String value : new String[] {" 12", "12 ", "+3", "-0", "007"}) {
      set(cache, "n", value, 0);
      assertEquals(Status.STORED, arith(cache, "n", true, 1), "value '" + value + "'");
    }
    assertEquals(Status.NOT_FOUND, arith(cache, "absent", true, 1));
  }

  @Test
  void shouldStayUnderTheMemoryCapByEvictingLeastRecentlyUsed() {
    long cap = 256 * 1024;
    ItemCache cache = cache(cap);
    byte[] value = new byte[1000];
    for (int i = 0; i < 5000; i++) {
      byte[] k = b("key:" + i);
      cache.store(StoreMode.SET, k, 0, k.length, 0, 0, value, 0, false, false, out);
      assertTrue(cache.bytesUsed() <= cap, "over the cap after " + i + " sets");
    }
    assertTrue(cache.evictions() > 4000, "evictions: " + cache.evictions());
    assertNotNull(get(cache, "key:4999"), "the newest item survives");
    assertNull(get(cache, "key:0"), "the oldest item went first");
  }

  @Test
  void shouldKeepARecentlyReadItemWhileEvictingItsColderNeighbours() {
    long cap = 64 * 1024;
    ItemCache cache = cache(cap);
    byte[] value = new byte[500];
    byte[] hot = b("hot");
    cache.store(StoreMode.SET, hot, 0, hot.length, 0, 0, value, 0, false, false, out);
    for (int i = 0; i < 2000; i++) {
      byte[] k = b("cold:" + i);
      cache.store(StoreMode.SET, k, 0, k.length, 0, 0, value, 0, false, false, out);
      assertNotNull(cache.get(hot, 0, hot.length), "hot item evicted after " + i + " writes");
    }
  }

  @Test
  void shouldChargeReplacedValuesOnlyOnce() {
    ItemCache cache = cache(1 << 20);
    set(cache, "k", "12345", 0);
    long once = cache.bytesUsed();
    for (int i = 0; i < 100; i++) {
      set(cache, "k", "12345", 0);
    }
    assertEquals(once, cache.bytesUsed());
    cache.delete(b("k"), 0, 1, 0);
    assertEquals(0, cache.bytesUsed());
  }

  @Test
  void shouldReportWinOnceForVivifiedMiss() {
    ItemCache cache = cache(1 << 20);
    MetaGetOptions options = new MetaGetOptions().reset();
    options.vivify = true;
    options.vivifyExptime = 30;
    byte[] k = b("k");
    assertNotNull(cache.metaGet(k, 0, 1, options, out));
    assertTrue(out.won);
    cache.metaGet(k, 0, 1, options, out);
    assertTrue(out.winTokenAlreadySent);
    assertNotEquals(true, out.won);
  }

  @Test
  void shouldStepAListingThroughEveryBucketOnceForEveryTableSize() {
    for (int size = 1; size <= 1 << 12; size <<= 1) {
      Set<Integer> seen = new HashSet<>();
      int position = 0;
      do {
        assertTrue(seen.add(position & (size - 1)), "bucket " + position + " twice at " + size);
        position = ItemCache.nextListingPosition(position, size - 1);
      } while (position != 0);
      assertEquals(size, seen.size());
    }
  }

  /**
   * A table that doubles part-way through a listing: the buckets walked before (each standing for
   * two buckets of the larger table, which hold the same items) and after cover every bucket of the
   * larger table exactly once, wherever the doubling falls.
   */
  @Test
  void shouldStepAListingThroughEveryBucketOnceWhenTheTableDoublesMidway() {
    int small = 64;
    for (int stepsBefore = 0; stepsBefore <= small; stepsBefore++) {
      int[] visits = new int[2 * small];
      int position = 0;
      boolean done = false;
      for (int i = 0; i < stepsBefore && !done; i++) {
        visits[position & (small - 1)]++;
        visits[(position & (small - 1)) + small]++;
        position = ItemCache.nextListingPosition(position, small - 1);
        done = position == 0;
      }
      while (!done) {
        visits[position & (2 * small - 1)]++;
        position = ItemCache.nextListingPosition(position, 2 * small - 1);
        done = position == 0;
      }
      for (int bucket = 0; bucket < visits.length; bucket++) {
        assertEquals(1, visits[bucket], "bucket " + bucket + " after " + stepsBefore + " steps");
      }
    }
  }
}

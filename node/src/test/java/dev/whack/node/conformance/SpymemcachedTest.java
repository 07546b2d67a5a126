package dev.whack.node.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.NodeConfig;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.AddrUtil;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionFactoryBuilder.Protocol;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.internal.OperationFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The node as spymemcached sees it, over its text and its binary protocol: every storage,
 * retrieval, arithmetic and expiry path a production client takes. Time is a {@link ManualClock},
 * so expiry is tested by moving the clock, never by sleeping; spymemcached caches nothing, so a get
 * after the clock moves goes to the node.
 */
class SpymemcachedTest {
  /** memcached's boundary between relative seconds and absolute Unix times. */
  static final long THIRTY_DAYS_SECONDS = 60L * 60 * 24 * 30;

  @Nested
  class TextProtocol extends Contract {
    TextProtocol() {
      super(Protocol.TEXT);
    }

    @Test
    void shouldNeverShowAnItemStoredWithNegativeExpiry() throws Exception {
      // Text "set k 0 -1 n": memcached stores it already expired, so nobody ever reads it.
      assertTrue(client.set("neg", 0, "old").get());
      assertTrue(client.set("neg", -1, "new").get(), "the set itself succeeds, as in memcached");
      assertNull(client.get("neg"), "an item set with a negative exptime must be invisible");
    }

    // Text only: spymemcached's binary flush(int) sends a zero delay (its BinaryOperationFactory
    // drops the argument), so only the text protocol can carry a delayed flush from this client.
    @Test
    void shouldFlushWithDelayOnlyWhenTheDelayPasses() throws Exception {
      assertTrue(client.set("fd", 0, "a").get());
      assertTrue(client.flush(30).get());
      assertEquals("a", client.get("fd"), "a delayed flush leaves items until it fires");
      clock.advanceSeconds(31);
      assertNull(client.get("fd"), "the delayed flush fired after 30 s");
      assertTrue(client.set("fd", 0, "b").get());
      assertEquals("b", client.get("fd"), "items stored after the flush fired are visible");
    }
  }

  @Nested
  class BinaryProtocol extends Contract {
    BinaryProtocol() {
      super(Protocol.BINARY);
    }

    @Test
    void shouldTreatNegativeBinaryExpiryAsUnsignedAbsoluteTimeLikeMemcached() throws Exception {
      // The binary header carries exptime as an unsigned 32-bit field, so spymemcached's -1 is
      // 4294967295: an absolute Unix time in 2106, and memcached 1.6 keeps the item until then
      // (verified against memcached 1.6.18). Only the text protocol can express "negative".
      assertTrue(client.set("neg", -1, "v").get());
      clock.advanceSeconds(THIRTY_DAYS_SECONDS + 1);
      assertEquals("v", client.get("neg"));
    }

    @Test
    void shouldGetAndTouchInOneRoundTrip() throws Exception {
      assertTrue(client.set("gat", 10, "v").get());
      CASValue<Object> touched = client.getAndTouch("gat", 100);
      assertNotNull(touched, "gat on a live key must hit");
      assertEquals("v", touched.getValue());
      assertEquals(client.gets("gat").getCas(), touched.getCas(), "gat reports the item's cas");
      clock.advanceSeconds(50);
      assertEquals("v", client.get("gat"), "gat must have moved expiry from 10 s to 100 s");
      clock.advanceSeconds(51);
      assertNull(client.get("gat"));
      assertNull(client.getAndTouch("gat", 100), "gat on a missing key must miss");
    }
  }

  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  abstract static class Contract {
    private static final int MAX_ITEM_SIZE = NodeConfig.DEFAULT_MAX_ITEM_SIZE;

    /** Every operation has completed by the time a client is shut down; don't wait on retries. */
    private static final long SHUTDOWN_WAIT_MILLIS = 100;

    private final Protocol protocol;
    final ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    EmbeddedNode node;
    MemcachedClient client;

    Contract(Protocol protocol) {
      this.protocol = protocol;
    }

    @BeforeAll
    void startNode() {
      node =
          EmbeddedNode.startWithClock(
              clock, c -> c.memoryBytes(64L << 20).maxItemSize(MAX_ITEM_SIZE));
    }

    @AfterAll
    void stopNode() {
      if (node != null) {
        node.close();
      }
    }

    // A client per test: spymemcached's text protocol answers an error reply (CLIENT_ERROR,
    // SERVER_ERROR) by dropping and reopening its connection, cancelling whatever was queued, so
    // one test's refused write must not leave the next test with a reconnecting client.
    @BeforeEach
    void openClient() throws IOException {
      client = newClient();
    }

    @AfterEach
    void closeClient() {
      client.shutdown(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    MemcachedClient newClient() throws IOException {
      return new MemcachedClient(
          new ConnectionFactoryBuilder()
              .setProtocol(protocol)
              .setOpTimeout(10_000)
              .setFailureMode(FailureMode.Retry)
              .setDaemon(true)
              .build(),
          AddrUtil.getAddresses(node.address()));
    }

    /** Reads through a new client: the one that saw an error reply may be reconnecting. */
    Object readAfterError(String key) throws IOException {
      MemcachedClient reader = newClient();
      try {
        return reader.get(key);
      } finally {
        reader.shutdown(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      }
    }

    byte[] readBytesAfterError(String key) throws IOException {
      MemcachedClient reader = newClient();
      try {
        return reader.get(key, RawBytes.INSTANCE);
      } finally {
        reader.shutdown(SHUTDOWN_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      }
    }

    @Test
    void shouldSetThenGetTheSameValue() throws Exception {
      assertNull(client.get("plain"), "a key never set must miss");
      assertTrue(client.set("plain", 0, "v1").get());
      assertEquals("v1", client.get("plain"));
      assertTrue(client.set("plain", 0, "v2").get(), "set overwrites");
      assertEquals("v2", client.get("plain"));
    }

    @Test
    void shouldRoundTripFlagsThroughTheDefaultTranscoder() throws Exception {
      // spymemcached encodes the Java type in the flags: a node that dropped or truncated flags
      // would hand back a String instead of an Integer or a byte array.
      assertTrue(client.set("int", 0, 42).get());
      assertTrue(client.set("long", 0, Long.MIN_VALUE).get());
      assertTrue(client.set("bytes", 0, new byte[] {0, (byte) 0xff, '\r', '\n'}).get());
      assertEquals(42, client.get("int"));
      assertEquals(Long.MIN_VALUE, client.get("long"));
      assertArrayEquals(new byte[] {0, (byte) 0xff, '\r', '\n'}, (byte[]) client.get("bytes"));
    }

    @Test
    void shouldAddOnlyWhenMissing() throws Exception {
      assertTrue(client.add("add", 0, "first").get());
      assertFalse(client.add("add", 0, "second").get(), "add on an existing key must fail");
      assertEquals("first", client.get("add"));
    }

    @Test
    void shouldReplaceOnlyWhenPresent() throws Exception {
      assertFalse(client.replace("repl", 0, "x").get(), "replace on a missing key must fail");
      assertNull(client.get("repl"), "a failed replace must not create the key");
      assertTrue(client.set("repl", 0, "a").get());
      assertTrue(client.replace("repl", 0, "b").get());
      assertEquals("b", client.get("repl"));
    }

    @Test
    void shouldCasWithFreshTokenAndRefuseStaleOne() throws Exception {
      assertTrue(client.set("cas", 0, "v1").get());
      CASValue<Object> first = client.gets("cas");
      assertEquals("v1", first.getValue());
      assertEquals(CASResponse.OK, client.cas("cas", first.getCas(), "v2"));
      assertEquals("v2", client.get("cas"));
      CASValue<Object> second = client.gets("cas");
      assertNotEquals(first.getCas(), second.getCas(), "a successful cas must change the token");
      assertEquals(
          CASResponse.EXISTS,
          client.cas("cas", first.getCas(), "stale"),
          "a cas with a token from before the last write must fail");
      assertEquals("v2", client.get("cas"));
      assertEquals(CASResponse.NOT_FOUND, client.cas("cas-missing", second.getCas(), "x"));
      assertNull(client.gets("cas-missing"));
    }

    @Test
    void shouldChangeCasOnEveryWrite() throws Exception {
      assertTrue(client.set("cas-w", 0, "a").get());
      long before = client.gets("cas-w").getCas();
      assertTrue(client.append("cas-w", "b").get());
      long afterAppend = client.gets("cas-w").getCas();
      assertNotEquals(before, afterAppend, "append must change the cas");
      assertTrue(client.set("cas-w", 0, "1").get());
      long afterSet = client.gets("cas-w").getCas();
      assertEquals(2, client.incr("cas-w", 1));
      assertNotEquals(afterSet, client.gets("cas-w").getCas(), "incr must change the cas");
    }

    @Test
    void shouldIncrementAndDecrement() throws Exception {
      assertTrue(client.set("n", 0, "10").get());
      assertEquals(15, client.incr("n", 5));
      assertEquals(12, client.decr("n", 3));
      assertEquals("12", client.get("n").toString().strip());
      assertEquals(-1, client.incr("n-missing", 1), "incr on a missing key must miss");
      assertNull(client.get("n-missing"), "incr without a default must not create the key");
      assertEquals(7, client.incr("n-created", 1, 7), "incr with a default creates the key");
      assertEquals(8, client.incr("n-created", 1, 7));
    }

    @Test
    void shouldFloorDecrementAtZero() throws Exception {
      assertTrue(client.set("floor", 0, "5").get());
      assertEquals(0, client.decr("floor", 10));
      assertEquals(0, client.decr("floor", 1), "decr below zero stays at zero");
      assertEquals("0", client.get("floor").toString().strip());
    }

    @Test
    void shouldWrapIncrementAt2To64() throws Exception {
      assertTrue(client.set("wrap", 0, "18446744073709551615").get());
      assertEquals(0, client.incr("wrap", 1), "2^64-1 + 1 wraps to 0");
      assertEquals(3, client.incr("wrap", 3));
      assertEquals("3", client.get("wrap").toString().strip());
    }

    @Test
    void shouldRefuseToIncrementANonNumericValue() throws Exception {
      assertTrue(client.set("text", 0, "abc").get());
      // memcached answers CLIENT_ERROR (text) or status 6 (binary); either way no number.
      long result;
      try {
        result = client.incr("text", 1);
      } catch (RuntimeException e) {
        result = -2;
      }
      assertTrue(result < 0, "incr on 'abc' must not produce a number, got " + result);
      assertEquals("abc", readAfterError("text"));
    }

    @Test
    void shouldTouchToMoveExpiry() throws Exception {
      assertTrue(client.set("touch", 10, "v").get());
      assertTrue(client.touch("touch", 100).get());
      clock.advanceSeconds(50);
      assertEquals("v", client.get("touch"), "touch must have moved expiry from 10 s to 100 s");
      assertTrue(client.touch("touch", 5).get(), "touch may also shorten");
      clock.advanceSeconds(6);
      assertNull(client.get("touch"));
      assertFalse(client.touch("touch", 100).get(), "touch on a missing key must fail");
    }

    @Test
    void shouldDeleteOnce() throws Exception {
      assertTrue(client.set("del", 0, "v").get());
      assertTrue(client.delete("del").get());
      assertNull(client.get("del"));
      assertFalse(client.delete("del").get(), "a second delete must miss");
    }

    @Test
    void shouldReturnOnlyPresentKeysFromBulkGet() throws Exception {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String key = "bulk:" + i;
        keys.add(key);
        if (i % 7 != 3) {
          assertTrue(client.set(key, 0, "value-" + i).get());
        }
      }
      Map<String, Object> found = client.getBulk(keys);
      for (int i = 0; i < 200; i++) {
        String key = "bulk:" + i;
        if (i % 7 == 3) {
          assertFalse(found.containsKey(key), "missing key came back: " + key);
        } else {
          assertEquals("value-" + i, found.get(key), key);
        }
      }
      assertEquals(200 - 29, found.size());
    }

    @Test
    void shouldRoundTripAValueJustUnderTheMaxItemSizeExactly() throws Exception {
      byte[] value = randomBytes(MAX_ITEM_SIZE - 512, 1);
      assertTrue(client.set("big", 0, value, RawBytes.INSTANCE).get());
      assertArrayEquals(value, client.get("big", RawBytes.INSTANCE));
      // A second, different large value must replace the first entirely.
      byte[] other = randomBytes(MAX_ITEM_SIZE - 512, 2);
      assertTrue(client.set("big", 0, other, RawBytes.INSTANCE).get());
      assertArrayEquals(other, client.get("big", RawBytes.INSTANCE));
    }

    @Test
    void shouldRefuseAValueOverTheMaxItemSizeAndDropTheOldValue() throws Exception {
      assertTrue(client.set("huge", 0, "old").get());
      OperationFuture<Boolean> set =
          client.set("huge", 0, randomBytes(MAX_ITEM_SIZE + 1, 3), RawBytes.INSTANCE);
      assertFalse(succeeded(set), "a value over the max item size must be refused");
      assertNull(readAfterError("huge"), "memcached unlinks the old value when a set is too large");
    }

    @Test
    void shouldKeepTheOldValueWhenAnAddOrReplaceIsTooLarge() throws Exception {
      assertTrue(client.set("huge-r", 0, "old").get());
      byte[] tooBig = randomBytes(MAX_ITEM_SIZE + 1, 4);
      assertFalse(succeeded(client.replace("huge-r", 0, tooBig, RawBytes.INSTANCE)));
      assertEquals("old", readAfterError("huge-r"), "only a too-large set drops the old value");
    }

    @Test
    void shouldAppendAndPrepend() throws Exception {
      assertFalse(client.append("ap-missing", "x").get(), "append on a missing key must fail");
      assertFalse(client.prepend("ap-missing", "x").get(), "prepend on a missing key must fail");
      assertNull(client.get("ap-missing"));
      assertTrue(client.set("ap", 0, "mid").get());
      assertTrue(client.append("ap", "-end").get());
      assertTrue(client.prepend("ap", "start-").get());
      assertEquals("start-mid-end", client.get("ap"));
    }

    @Test
    void shouldRefuseAnAppendThatWouldExceedTheMaxItemSize() throws Exception {
      byte[] half = randomBytes(MAX_ITEM_SIZE / 2 + 1, 5);
      assertTrue(client.set("ap-big", 0, half, RawBytes.INSTANCE).get());
      assertFalse(succeeded(client.append(0, "ap-big", half, RawBytes.INSTANCE)));
      assertArrayEquals(half, readBytesAfterError("ap-big"), "old value must survive");
    }

    @Test
    void shouldExpireRelativeExpiryAfterItsSeconds() throws Exception {
      assertTrue(client.set("exp", 10, "v").get());
      clock.advanceSeconds(9);
      assertEquals("v", client.get("exp"), "still live one second before expiry");
      clock.advanceSeconds(2);
      assertNull(client.get("exp"), "must miss after 11 s with exptime 10");
      assertTrue(client.add("exp", 0, "again").get(), "an expired key is free for add");
    }

    @Test
    void shouldExpireAbsoluteUnixTime() throws Exception {
      int at = (int) (clock.seconds() + 20);
      assertTrue(client.set("abs", at, "v").get());
      clock.advanceSeconds(19);
      assertEquals("v", client.get("abs"), "an absolute expiry 20 s ahead is live at 19 s");
      clock.advanceSeconds(2);
      assertNull(client.get("abs"));
    }

    @Test
    void shouldTreatAbsoluteTimeInThePastAsExpired() throws Exception {
      int past = (int) (clock.seconds() - 1);
      assertTrue(client.set("past", past, "v").get());
      assertNull(client.get("past"));
    }

    @Test
    void shouldNotExpireWithExptimeZero() throws Exception {
      assertTrue(client.set("forever", 0, "v").get());
      clock.advanceSeconds(THIRTY_DAYS_SECONDS * 2);
      assertEquals("v", client.get("forever"));
    }

    @Test
    void shouldFlushEverything() throws Exception {
      assertTrue(client.set("f1", 0, "a").get());
      assertTrue(client.set("f2", 0, "b").get());
      assertTrue(client.flush().get());
      assertNull(client.get("f1"));
      assertNull(client.get("f2"));
      assertTrue(client.add("f1", 0, "c").get(), "a flushed key is free for add");
      assertEquals("c", client.get("f1"), "items stored after the flush are visible");
    }

    private static boolean succeeded(OperationFuture<Boolean> future) throws InterruptedException {
      try {
        return Boolean.TRUE.equals(future.get());
      } catch (ExecutionException e) {
        return false;
      }
    }
  }

  static byte[] randomBytes(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Bytes as they are, flags 0, no compression and no size limit of the client's own. */
  enum RawBytes implements net.spy.memcached.transcoders.Transcoder<byte[]> {
    INSTANCE;

    @Override
    public boolean asyncDecode(net.spy.memcached.CachedData data) {
      return false;
    }

    @Override
    public net.spy.memcached.CachedData encode(byte[] value) {
      return new net.spy.memcached.CachedData(0, value, Integer.MAX_VALUE);
    }

    @Override
    public byte[] decode(net.spy.memcached.CachedData data) {
      return data.getData();
    }

    @Override
    public int getMaxSize() {
      return Integer.MAX_VALUE;
    }
  }
}

package dev.whack.node.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
import java.util.concurrent.Callable;
import net.rubyeye.xmemcached.CommandFactory;
import net.rubyeye.xmemcached.GetsResponse;
import net.rubyeye.xmemcached.MemcachedClient;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.command.BinaryCommandFactory;
import net.rubyeye.xmemcached.command.TextCommandFactory;
import net.rubyeye.xmemcached.exception.MemcachedException;
import net.rubyeye.xmemcached.transcoders.CachedData;
import net.rubyeye.xmemcached.transcoders.CompressionMode;
import net.rubyeye.xmemcached.transcoders.Transcoder;
import net.rubyeye.xmemcached.utils.AddrUtil;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The node as xmemcached sees it, over its text ({@link TextCommandFactory}) and binary ({@link
 * BinaryCommandFactory}) command factories. Time is a {@link ManualClock}: expiry is tested by
 * moving the clock, and xmemcached caches nothing, so every get after that goes to the node.
 *
 * <p>What xmemcached 2.4.8 cannot send, and so is covered by {@link SpymemcachedTest} and the raw
 * tests instead: a negative exptime (stores refuse it client-side, text touch writes {@code "touch
 * k-1"}), a delayed flush (text {@code flushAll(30, t)} never reaches the wire, binary overflows
 * its extras buffer), and values over 1 MiB (its {@code CachedData} refuses them), which is why the
 * too-large tests run against a second node with a smaller item size limit.
 */
class XmemcachedTest {
  /** memcached's boundary between relative seconds and absolute Unix times. */
  static final long THIRTY_DAYS_SECONDS = 60L * 60 * 24 * 30;

  @Nested
  class TextProtocol extends Contract {
    @Override
    CommandFactory commandFactory() {
      return new TextCommandFactory();
    }

    @Test
    void shouldIncrementFromInitialValueWhenMissing() throws Exception {
      // Text has no initial value on the wire: xmemcached sends incr, gets NOT_FOUND, then adds.
      assertEquals(40, client.incr("init", 2, 40));
      assertEquals(42, client.incr("init", 2, 40));
      assertEquals("42", client.get("init").toString().strip());
    }
  }

  @Nested
  class BinaryProtocol extends Contract {
    @Override
    CommandFactory commandFactory() {
      return new BinaryCommandFactory();
    }

    @Test
    void shouldIncrementFromInitialValueWhenMissing() throws Exception {
      // Binary incr carries the initial value and an expiry in its extras.
      assertEquals(40, client.incr("init", 2, 40));
      assertEquals(42, client.incr("init", 2, 40));
      assertEquals(40, client.decr("init-d", 2, 40));
      assertEquals(38, client.decr("init-d", 2, 40));
      assertEquals("42", client.get("init").toString().strip());
    }

    @Test
    void shouldCreateIncrementedItemWithTheGivenExpiry() throws Exception {
      assertEquals(5, client.incr("init-exp", 1, 5, 10_000, 10));
      clock.advanceSeconds(9);
      assertEquals(6, client.incr("init-exp", 1, 5, 10_000, 10));
      clock.advanceSeconds(2);
      assertNull(client.get("init-exp"), "an item created by incr must honour its exptime");
    }

    @Test
    void shouldGetAndTouchInOneRoundTrip() throws Exception {
      assertTrue(client.set("gat", 10, "v"));
      assertEquals("v", client.getAndTouch("gat", 100));
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

    /** Under xmemcached's own 1 MiB cap, so that the node is the one to refuse. */
    private static final int SMALL_MAX_ITEM_SIZE = 64 << 10;

    private static final long OP_TIMEOUT_MILLIS = 10_000;

    final ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);
    EmbeddedNode node;
    EmbeddedNode smallItemNode;
    MemcachedClient client;

    abstract CommandFactory commandFactory();

    @BeforeAll
    void startNode() {
      node =
          EmbeddedNode.startWithClock(
              clock, c -> c.memoryBytes(64L << 20).maxItemSize(MAX_ITEM_SIZE));
      smallItemNode =
          EmbeddedNode.startWithClock(
              clock, c -> c.memoryBytes(4L << 20).maxItemSize(SMALL_MAX_ITEM_SIZE));
    }

    @AfterAll
    void stopNode() {
      if (node != null) {
        node.close();
      }
      if (smallItemNode != null) {
        smallItemNode.close();
      }
    }

    // A client per test, so that an error reply one test provokes on purpose cannot leave the
    // next test with a connection the client has decided to drop.
    @BeforeEach
    void openClient() throws IOException {
      client = newClient();
    }

    @AfterEach
    void closeClient() throws IOException {
      client.shutdown();
    }

    MemcachedClient newClient() throws IOException {
      return newClient(node);
    }

    MemcachedClient newClient(EmbeddedNode target) throws IOException {
      XMemcachedClientBuilder builder =
          new XMemcachedClientBuilder(AddrUtil.getAddresses(target.address()));
      builder.setCommandFactory(commandFactory());
      builder.setOpTimeout(OP_TIMEOUT_MILLIS);
      builder.setConnectionPoolSize(1);
      return builder.build();
    }

    /** Reads through a new client, independent of whatever the last error did to the first. */
    Object readAfterError(EmbeddedNode target, String key) throws Exception {
      MemcachedClient reader = newClient(target);
      try {
        return reader.get(key);
      } finally {
        reader.shutdown();
      }
    }

    @Test
    void shouldSetThenGetTheSameValue() throws Exception {
      assertNull(client.get("plain"), "a key never set must miss");
      assertTrue(client.set("plain", 0, "v1"));
      assertEquals("v1", client.get("plain"));
      assertTrue(client.set("plain", 0, "v2"), "set overwrites");
      assertEquals("v2", client.get("plain"));
    }

    @Test
    void shouldRoundTripFlagsThroughTheDefaultTranscoder() throws Exception {
      // xmemcached encodes the Java type in the flags; dropped flags would decode as a String.
      assertTrue(client.set("int", 0, 42));
      assertTrue(client.set("long", 0, Long.MIN_VALUE));
      assertTrue(client.set("bytes", 0, new byte[] {0, (byte) 0xff, '\r', '\n'}));
      assertEquals(Integer.valueOf(42), client.get("int"));
      assertEquals(Long.valueOf(Long.MIN_VALUE), client.get("long"));
      assertArrayEquals(new byte[] {0, (byte) 0xff, '\r', '\n'}, client.<byte[]>get("bytes"));
    }

    @Test
    void shouldAddOnlyWhenMissing() throws Exception {
      assertTrue(client.add("add", 0, "first"));
      assertFalse(client.add("add", 0, "second"), "add on an existing key must fail");
      assertEquals("first", client.get("add"));
    }

    @Test
    void shouldReplaceOnlyWhenPresent() throws Exception {
      assertFalse(client.replace("repl", 0, "x"), "replace on a missing key must fail");
      assertNull(client.get("repl"), "a failed replace must not create the key");
      assertTrue(client.set("repl", 0, "a"));
      assertTrue(client.replace("repl", 0, "b"));
      assertEquals("b", client.get("repl"));
    }

    @Test
    void shouldCasWithFreshTokenAndRefuseStaleOne() throws Exception {
      assertTrue(client.set("cas", 0, "v1"));
      GetsResponse<Object> first = client.gets("cas");
      assertEquals("v1", first.getValue());
      assertTrue(client.cas("cas", 0, "v2", first.getCas()));
      assertEquals("v2", client.get("cas"));
      GetsResponse<Object> second = client.gets("cas");
      assertNotEquals(first.getCas(), second.getCas(), "a successful cas must change the token");
      assertFalse(
          client.cas("cas", 0, "stale", first.getCas()),
          "a cas with a token from before the last write must fail");
      assertEquals("v2", client.get("cas"));
      assertFalse(client.cas("cas-missing", 0, "x", second.getCas()), "cas on a missing key");
      assertNull(client.get("cas-missing"), "a failed cas must not create the key");
    }

    @Test
    void shouldReturnCasTokensForEveryKeyOfAMultiGets() throws Exception {
      assertTrue(client.set("mg1", 0, "a"));
      assertTrue(client.set("mg2", 0, "b"));
      Map<String, GetsResponse<Object>> all = client.gets(List.of("mg1", "mg2", "mg-missing"));
      assertEquals(2, all.size(), "only present keys come back: " + all);
      assertEquals("a", all.get("mg1").getValue());
      assertEquals("b", all.get("mg2").getValue());
      assertNotEquals(all.get("mg1").getCas(), all.get("mg2").getCas(), "cas is per item");
      assertEquals(all.get("mg1").getCas(), client.gets("mg1").getCas());
      assertTrue(client.cas("mg2", 0, "b2", all.get("mg2").getCas()));
    }

    @Test
    void shouldIncrementAndDecrement() throws Exception {
      assertTrue(client.set("n", 0, "10"));
      assertEquals(15, client.incr("n", 5));
      assertEquals(12, client.decr("n", 3));
      assertEquals("12", client.get("n").toString().strip());
    }

    @Test
    void shouldFloorDecrementAtZero() throws Exception {
      assertTrue(client.set("floor", 0, "5"));
      assertEquals(0, client.decr("floor", 10));
      assertEquals(0, client.decr("floor", 1), "decr below zero stays at zero");
      assertEquals("0", client.get("floor").toString().strip());
    }

    @Test
    void shouldWrapIncrementAt2To64() throws Exception {
      assertTrue(client.set("wrap", 0, "18446744073709551615"));
      assertEquals(0, client.incr("wrap", 1), "2^64-1 + 1 wraps to 0");
      assertEquals(3, client.incr("wrap", 3));
      assertEquals("3", client.get("wrap").toString().strip());
    }

    @Test
    void shouldRefuseToIncrementANonNumericValue() throws Exception {
      assertTrue(client.set("text", 0, "abc"));
      assertRefused(() -> client.incr("text", 1));
      assertEquals("abc", readAfterError(node, "text"));
    }

    @Test
    void shouldTouchToMoveExpiry() throws Exception {
      assertTrue(client.set("touch", 10, "v"));
      assertTrue(client.touch("touch", 100));
      clock.advanceSeconds(50);
      assertEquals("v", client.get("touch"), "touch must have moved expiry from 10 s to 100 s");
      assertTrue(client.touch("touch", 5), "touch may also shorten");
      clock.advanceSeconds(6);
      assertNull(client.get("touch"));
      assertFalse(client.touch("touch", 100), "touch on a missing key must fail");
    }

    @Test
    void shouldDeleteOnce() throws Exception {
      assertTrue(client.set("del", 0, "v"));
      assertTrue(client.delete("del"));
      assertNull(client.get("del"));
      assertFalse(client.delete("del"), "a second delete must miss");
    }

    @Test
    void shouldReturnOnlyPresentKeysFromMultiGet() throws Exception {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        String key = "multi:" + i;
        keys.add(key);
        if (i % 7 != 3) {
          assertTrue(client.set(key, 0, "value-" + i));
        }
      }
      Map<String, Object> found = client.get(keys);
      for (int i = 0; i < 200; i++) {
        String key = "multi:" + i;
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
      assertTrue(client.set("big", 0, value, RawBytes.INSTANCE));
      assertArrayEquals(value, client.get("big", RawBytes.INSTANCE));
      byte[] other = randomBytes(MAX_ITEM_SIZE - 512, 2);
      assertTrue(client.set("big", 0, other, RawBytes.INSTANCE));
      assertArrayEquals(other, client.get("big", RawBytes.INSTANCE));
    }

    @Test
    void shouldRefuseAValueOverTheMaxItemSizeAndDropTheOldValue() throws Exception {
      MemcachedClient small = newClient(smallItemNode);
      try {
        assertTrue(small.set("huge", 0, "old"));
        byte[] fits = randomBytes(SMALL_MAX_ITEM_SIZE, 3);
        assertTrue(small.set("fits", 0, fits, RawBytes.INSTANCE), "exactly the limit fits");
        assertArrayEquals(fits, small.get("fits", RawBytes.INSTANCE));
        byte[] tooBig = randomBytes(SMALL_MAX_ITEM_SIZE + 1, 4);
        assertRefused(() -> small.set("huge", 0, tooBig, RawBytes.INSTANCE));
      } finally {
        small.shutdown();
      }
      assertNull(
          readAfterError(smallItemNode, "huge"),
          "memcached unlinks the old value when a set is too large");
    }

    @Test
    void shouldKeepTheOldValueWhenAReplaceOrAppendIsTooLarge() throws Exception {
      MemcachedClient small = newClient(smallItemNode);
      try {
        assertTrue(small.set("huge-r", 0, "old"));
        byte[] tooBig = randomBytes(SMALL_MAX_ITEM_SIZE + 1, 5);
        assertRefused(() -> small.replace("huge-r", 0, tooBig, RawBytes.INSTANCE));
        byte[] half = randomBytes(SMALL_MAX_ITEM_SIZE / 2 + 1, 6);
        assertTrue(small.set("huge-a", 0, half, RawBytes.INSTANCE));
        assertRefused(() -> small.append("huge-a", half));
      } finally {
        small.shutdown();
      }
      assertEquals(
          "old", readAfterError(smallItemNode, "huge-r"), "only a too-large set drops the value");
      MemcachedClient reader = newClient(smallItemNode);
      try {
        assertArrayEquals(
            randomBytes(SMALL_MAX_ITEM_SIZE / 2 + 1, 6),
            reader.get("huge-a", RawBytes.INSTANCE),
            "an append over the limit must leave the value as it was");
      } finally {
        reader.shutdown();
      }
    }

    @Test
    void shouldAppendAndPrepend() throws Exception {
      assertFalse(client.append("ap-missing", "x"), "append on a missing key must fail");
      assertFalse(client.prepend("ap-missing", "x"), "prepend on a missing key must fail");
      assertNull(client.get("ap-missing"));
      assertTrue(client.set("ap", 0, "mid"));
      assertTrue(client.append("ap", "-end"));
      assertTrue(client.prepend("ap", "start-"));
      assertEquals("start-mid-end", client.get("ap"));
    }

    @Test
    void shouldExpireRelativeExpiryAfterItsSeconds() throws Exception {
      assertTrue(client.set("exp", 10, "v"));
      clock.advanceSeconds(9);
      assertEquals("v", client.get("exp"), "still live one second before expiry");
      clock.advanceSeconds(2);
      assertNull(client.get("exp"), "must miss after 11 s with exptime 10");
      assertTrue(client.add("exp", 0, "again"), "an expired key is free for add");
    }

    @Test
    void shouldExpireAbsoluteUnixTime() throws Exception {
      int at = (int) (clock.seconds() + 20);
      assertTrue(client.set("abs", at, "v"));
      clock.advanceSeconds(19);
      assertEquals("v", client.get("abs"), "an absolute expiry 20 s ahead is live at 19 s");
      clock.advanceSeconds(2);
      assertNull(client.get("abs"));
    }

    @Test
    void shouldTreatAbsoluteTimeInThePastAsExpired() throws Exception {
      int past = (int) (clock.seconds() - 1);
      assertTrue(client.set("past", past, "v"));
      assertNull(client.get("past"));
    }

    @Test
    void shouldNotExpireWithExptimeZero() throws Exception {
      assertTrue(client.set("forever", 0, "v"));
      clock.advanceSeconds(THIRTY_DAYS_SECONDS * 2);
      assertEquals("v", client.get("forever"));
    }

    @Test
    void shouldFlushEverything() throws Exception {
      assertTrue(client.set("f1", 0, "a"));
      assertTrue(client.set("f2", 0, "b"));
      client.flushAll();
      assertNull(client.get("f1"));
      assertNull(client.get("f2"));
      assertTrue(client.add("f1", 0, "c"), "a flushed key is free for add");
      assertEquals("c", client.get("f1"), "items stored after the flush are visible");
    }

    /** The node said no: xmemcached reports that as false or as a MemcachedException. */
    private static void assertRefused(Callable<?> operation) throws Exception {
      Object result;
      try {
        result = operation.call();
      } catch (MemcachedException e) {
        return;
      }
      assertTrue(Boolean.FALSE.equals(result), "expected the node to refuse, but got: " + result);
    }
  }

  static byte[] randomBytes(int length, long seed) {
    byte[] bytes = new byte[length];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Bytes as they are, flags 0, no compression and no size limit of the client's own. */
  enum RawBytes implements Transcoder<byte[]> {
    INSTANCE;

    @Override
    public CachedData encode(byte[] value) {
      return new CachedData(0, value);
    }

    @Override
    public byte[] decode(CachedData data) {
      return data.getData();
    }

    @Override
    public void setPrimitiveAsString(boolean primitiveAsString) {}

    @Override
    public void setPackZeros(boolean packZeros) {}

    @Override
    public void setCompressionThreshold(int threshold) {}

    @Override
    public boolean isPrimitiveAsString() {
      return false;
    }

    @Override
    public boolean isPackZeros() {
      return false;
    }

    @Override
    public void setCompressionMode(CompressionMode compressionMode) {}
  }
}

package dev.whack.node.profiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.rubyeye.xmemcached.CommandFactory;
import net.rubyeye.xmemcached.GetsResponse;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.command.BinaryCommandFactory;
import net.rubyeye.xmemcached.command.TextCommandFactory;
import net.rubyeye.xmemcached.exception.MemcachedException;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.ConnectionFactoryBuilder.Protocol;
import net.spy.memcached.FailureMode;
import net.spy.memcached.internal.OperationFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Profiles as an app with only a stock memcached client sees them: spymemcached and xmemcached,
 * each over text and binary, write a profile as a JSON String, read it back canonically, follow it
 * through segments with {@code get}s of the virtual keys, delete or expire it, and are told clearly
 * when they try to append to it or increment it. Segments are defined over a raw connection, as a
 * segment-aware tool would.
 *
 * <p>Both clients' default transcoders store a String with flags 0 and its UTF-8 bytes (checked
 * below on the wire), which is what makes a JSON String a profile. From 16 KiB on xmemcached
 * compresses Strings, and a compressed JSON String stays an opaque item; spymemcached never
 * compresses a String that is a JSON object.
 */
class PlainClientProfileTest {
  /** What a test needs from a stock client; each call waits for its answer. */
  interface PlainClient {
    /** Stores with {@code set}; null when stored, else the refusal as the client reports it. */
    String set(String key, int exptime, String value) throws Exception;

    String get(String key) throws Exception;

    Map<String, Object> getMulti(List<String> keys) throws Exception;

    boolean delete(String key) throws Exception;

    /** The refusal of an {@code append}, as the client reports it; fails if it was stored. */
    String appendRefusal(String key, String suffix) throws Exception;

    /** The refusal of an {@code incr}, as the client reports it; fails if it produced a number. */
    String incrRefusal(String key) throws Exception;

    /** {@code gets} then {@code cas} with that token; true if the cas stored. */
    boolean getsThenCas(String key, String value) throws Exception;

    /** A fresh connection, for after an error reply the client may answer by reconnecting. */
    PlainClient reopen() throws Exception;

    void close();
  }

  static final class Spy implements PlainClient {
    private final Protocol protocol;
    private final String address;
    private final net.spy.memcached.MemcachedClient client;

    Spy(Protocol protocol, String address) throws IOException {
      this.protocol = protocol;
      this.address = address;
      this.client =
          new net.spy.memcached.MemcachedClient(
              new ConnectionFactoryBuilder()
                  .setProtocol(protocol)
                  .setOpTimeout(10_000)
                  .setFailureMode(FailureMode.Retry)
                  .setDaemon(true)
                  .build(),
              net.spy.memcached.AddrUtil.getAddresses(address));
    }

    private static String refusal(OperationFuture<Boolean> future) throws InterruptedException {
      try {
        if (future.get()) {
          return null;
        }
        return future.getStatus().getMessage(); // binary: the node's reason
      } catch (ExecutionException e) {
        return e.getCause().getMessage(); // text: the CLIENT_ERROR line
      }
    }

    @Override
    public String set(String key, int exptime, String value) throws Exception {
      return refusal(client.set(key, exptime, value));
    }

    @Override
    public String get(String key) {
      return (String) client.get(key);
    }

    @Override
    public Map<String, Object> getMulti(List<String> keys) {
      return client.getBulk(keys);
    }

    @Override
    public boolean delete(String key) throws Exception {
      return client.delete(key).get();
    }

    @Override
    public String appendRefusal(String key, String suffix) throws Exception {
      String refusal = refusal(client.append(key, suffix));
      assertNotNull(refusal, "append to a profile was stored");
      return refusal;
    }

    @Override
    public String incrRefusal(String key) {
      long result = client.incr(key, 1);
      assertEquals(-1, result, "incr of a profile produced a number");
      return "-1"; // spymemcached reports every failed incr as -1, without the reason
    }

    @Override
    public boolean getsThenCas(String key, String value) {
      CASValue<Object> current = client.gets(key);
      return client.cas(key, current.getCas(), value) == CASResponse.OK;
    }

    @Override
    public PlainClient reopen() throws IOException {
      close();
      return new Spy(protocol, address);
    }

    @Override
    public void close() {
      client.shutdown(100, TimeUnit.MILLISECONDS);
    }
  }

  static final class Xmc implements PlainClient {
    private final CommandFactory factory;
    private final String address;
    private final net.rubyeye.xmemcached.MemcachedClient client;

    Xmc(CommandFactory factory, String address) throws IOException {
      this.factory = factory;
      this.address = address;
      XMemcachedClientBuilder builder =
          new XMemcachedClientBuilder(net.rubyeye.xmemcached.utils.AddrUtil.getAddresses(address));
      builder.setCommandFactory(factory);
      builder.setOpTimeout(10_000);
      builder.setConnectionPoolSize(1);
      this.client = builder.build();
    }

    @Override
    public String set(String key, int exptime, String value) throws Exception {
      try {
        return client.set(key, exptime, value) ? null : "false";
      } catch (MemcachedException e) {
        return e.getMessage();
      }
    }

    @Override
    public String get(String key) throws Exception {
      return client.get(key);
    }

    @Override
    public Map<String, Object> getMulti(List<String> keys) throws Exception {
      return client.get(keys);
    }

    @Override
    public boolean delete(String key) throws Exception {
      return client.delete(key);
    }

    @Override
    public String appendRefusal(String key, String suffix) throws Exception {
      try {
        assertTrue(!client.append(key, suffix), "append to a profile was stored");
        return "false";
      } catch (MemcachedException e) {
        return e.getMessage();
      }
    }

    @Override
    public String incrRefusal(String key) throws Exception {
      try {
        long result = client.incr(key, 1);
        throw new AssertionError("incr of a profile produced " + result);
      } catch (MemcachedException e) {
        return e.getMessage();
      }
    }

    @Override
    public boolean getsThenCas(String key, String value) throws Exception {
      GetsResponse<Object> current = client.gets(key);
      return client.cas(key, 0, value, current.getCas());
    }

    @Override
    public PlainClient reopen() throws IOException {
      close();
      return new Xmc(factory, address);
    }

    @Override
    public void close() {
      try {
        client.shutdown();
      } catch (IOException ignored) {
        // the test is over with this client
      }
    }
  }

  @Nested
  class SpymemcachedText extends Contract {
    @Override
    PlainClient open(String address) throws IOException {
      return new Spy(Protocol.TEXT, address);
    }
  }

  @Nested
  class SpymemcachedBinary extends Contract {
    @Override
    PlainClient open(String address) throws IOException {
      return new Spy(Protocol.BINARY, address);
    }
  }

  @Nested
  class XmemcachedText extends Contract {
    @Override
    PlainClient open(String address) throws IOException {
      return new Xmc(new TextCommandFactory(), address);
    }

    @Override
    boolean compressesLargeStrings() {
      return true;
    }
  }

  @Nested
  class XmemcachedBinary extends Contract {
    @Override
    PlainClient open(String address) throws IOException {
      return new Xmc(new BinaryCommandFactory(), address);
    }

    @Override
    boolean compressesLargeStrings() {
      return true;
    }

    /** xmemcached turns every binary status 0x04 into its own "Invalid arguments." text. */
    @Override
    boolean reportsTheNodesReason() {
      return false;
    }
  }

  abstract static class Contract {
    private static final String CANONICAL =
        "{\"country\":\"DK\",\"age\":31,\"score\":2.5,\"tags\":[\"vip\",\"newsletter\"],"
            + "\"seen\":\"2026-11-20T10:00:00Z\",\"name\":\"Zo\u00eb\"}";

    final ManualClock clock = ManualClock.at("2026-11-20T10:00:00Z");
    EmbeddedNode node;
    RawConnection raw;
    ProfileWire wire;
    PlainClient client;

    abstract PlainClient open(String address) throws IOException;

    boolean reportsTheNodesReason() {
      return true;
    }

    /** Whether the client's default transcoder gzips a String of 16 KiB or more. */
    boolean compressesLargeStrings() {
      return false;
    }

    @BeforeEach
    void start() throws IOException {
      node = EmbeddedNode.startWithClock(clock, c -> {});
      raw = node.connect();
      wire = new ProfileWire(raw);
      client = open(node.address());
    }

    @AfterEach
    void stop() {
      client.close();
      raw.close();
      node.close();
    }

    private String json(String country, int age) {
      return "{\"country\":\"" + country + "\",\"age\":" + age + "}";
    }

    private void assertStored(String key, int exptime, String value) throws Exception {
      assertNull(client.set(key, exptime, value), "set " + key + " " + value);
    }

    @Test
    void shouldReadBackAJsonStringAsCanonicalJsonAndACanonicalOneExactly() throws Exception {
      assertStored(
          "user:1",
          0,
          " { \"country\" : \"DK\", \"age\": 31, \"score\": 2.50, \"tags\": [\"vip\", \"vip\","
              + " \"newsletter\"],\n \"seen\": \"2026-11-20T12:00:00+02:00\", \"name\": \"Zo\\u00eb\" }");
      assertEquals(
          CANONICAL, client.get("user:1"), "spacing, duplicates, offsets and escapes normalised");
      assertStored("user:2", 0, CANONICAL);
      assertEquals(CANONICAL, client.get("user:2"), "canonical JSON round-trips byte for byte");
      // On the wire: flags 0 as the client's transcoder wrote them, and the UTF-8 bytes.
      byte[] utf8 = CANONICAL.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      raw.send("get user:2\r\n");
      assertEquals("VALUE user:2 0 " + utf8.length + "\r\n", raw.readLine());
      assertEquals(
          new String(utf8, java.nio.charset.StandardCharsets.ISO_8859_1) + "\r\n", raw.readLine());
      assertEquals("END\r\n", raw.readLine());
    }

    /**
     * A pitfall worth pinning: from 16 KiB on, xmemcached gzips a String and flags it compressed,
     * so the node sees binary bytes, not '{', and keeps an opaque item that no segment sees (the
     * client still reads its String back). spymemcached 2.12 leaves a String that is a JSON object
     * uncompressed, so there it stays a profile.
     */
    @Test
    void shouldMakeALargeJsonStringAProfileOnlyWhenTheClientSendsItUncompressed() throws Exception {
      String big = "{\"note\":\"" + "x".repeat(20_000) + "\"}";
      assertStored("big", 0, big);
      assertEquals(big, client.get("big"));
      raw.send("get big\r\n");
      String header = raw.readLine();
      raw.read(Integer.parseInt(header.trim().substring(header.trim().lastIndexOf(' ') + 1)) + 2);
      assertEquals("END\r\n", raw.readLine());
      if (compressesLargeStrings()) {
        assertTrue(!header.startsWith("VALUE big 0 "), "flagged compressed: " + header);
        assertEquals("0", client.get("_whack/count/exists(note)"), "compressed: an opaque item");
      } else {
        assertEquals("VALUE big 0 " + big.length() + "\r\n", header);
        assertEquals("1", client.get("_whack/count/exists(note)"), "sent as is: a profile");
      }
    }

    @Test
    void shouldFollowAProfileThroughSegmentsWithVirtualKeys() throws Exception {
      wire.define("dk", "country == \"DK\"");
      wire.define("adults", "age >= 18");
      assertStored("user:1", 0, json("DK", 31));
      assertStored("user:2", 0, json("SE", 12));
      assertEquals("1", client.get("_whack/size/dk"));
      assertEquals("0", client.get("_whack/size/dk%20and%20not%20adults"));
      assertEquals("2", client.get("_whack/size/dk%20or%20not%20adults"));
      assertEquals("1", client.get("_whack/in/dk/user:1"));
      assertEquals("0", client.get("_whack/in/dk/user:2"));
      assertEquals("dk,adults", client.get("_whack/of/user:1"));
      assertEquals("", client.get("_whack/of/user:2"), "in no segment: an empty list");
      assertEquals("1", client.get("_whack/count/age%20%3C%2018"));

      // A plain overwrite moves it; so does a cas, and an update from a segment-aware tool.
      assertStored("user:2", 0, json("DK", 12));
      assertEquals("dk", client.get("_whack/of/user:2"));
      assertTrue(client.getsThenCas("user:2", json("DK", 40)), "gets + cas on a profile");
      assertEquals("dk,adults", client.get("_whack/of/user:2"));
      assertEquals("UPDATED", wire.update("user:1", "{\"set\":{\"country\":\"NO\"}}"));
      assertEquals("0", client.get("_whack/in/dk/user:1"));
      assertEquals("{\"country\":\"NO\",\"age\":31}", client.get("user:1"));

      Map<String, Object> many =
          client.getMulti(
              List.of(
                  "_whack/size/dk",
                  "_whack/size/adults",
                  "_whack/of/user:1",
                  "user:2",
                  "_whack/size/nope"));
      assertEquals(
          Map.of(
              "_whack/size/dk", "1",
              "_whack/size/adults", "2",
              "_whack/of/user:1", "adults",
              "user:2", json("DK", 40)),
          many,
          "a multi-get mixes virtual keys and profiles; an unknown segment is a miss");
    }

    @Test
    void shouldLeaveEverySegmentWhenDeletedOrExpired() throws Exception {
      wire.define("dk", "country == \"DK\"");
      assertStored("user:1", 0, json("DK", 31));
      assertStored("user:2", 10, json("DK", 32));
      assertEquals("2", client.get("_whack/size/dk"));
      assertTrue(client.delete("user:1"));
      assertEquals("1", client.get("_whack/size/dk"));
      assertEquals("0", client.get("_whack/in/dk/user:1"));
      assertNull(client.get("user:1"));
      clock.advanceSeconds(10);
      node.node().runTimers();
      assertEquals("0", client.get("_whack/size/dk"), "an expired profile leaves on the clock");
      assertNull(client.get("user:2"));
    }

    @Test
    void shouldRefuseToAppendToOrIncrementAProfileWithAClearError() throws Exception {
      assertStored("user:1", 0, json("DK", 31));
      String refusal = client.appendRefusal("user:1", ",\"x\":1}");
      if (reportsTheNodesReason()) {
        assertTrue(refusal.contains("cannot append or prepend to a profile"), refusal);
      }
      client = client.reopen();
      String incr = client.incrRefusal("user:1");
      if (reportsTheNodesReason() && !incr.equals("-1")) {
        assertTrue(incr.contains("cannot increment or decrement a profile"), incr);
      }
      client = client.reopen();
      assertEquals(json("DK", 31), client.get("user:1"), "the profile is untouched");
    }

    @Test
    void shouldStoreAStringThatLooksLikeJsonButIsNoProfileAsItIsAndRefuseAReservedKey()
        throws Exception {
      assertStored("user:1", 0, json("DK", 31));
      // Issue 12: memcached stores any bytes, so JSON that is not a profile is an opaque value.
      for (String doc :
          List.of(" {\"country\": ", "{\"a\":{\"b\":1}}", "{\"a\":null}", "{\"ids\":[1,2,3]}")) {
        assertStored("user:1", 0, doc);
        assertEquals(doc, client.get("user:1"), "kept byte for byte");
      }
      assertEquals("0", client.get("_whack/count/exists(country)"), "no profile is left");
      String reserved = client.set("_whack/size/dk", 0, "7");
      assertNotNull(reserved, "a reserved key must not be stored");
      if (reportsTheNodesReason()) {
        assertTrue(reserved.contains("reserved key"), reserved);
      }
      client = client.reopen();
      assertStored("plain", 0, "DK, not JSON");
      assertEquals("DK, not JSON", client.get("plain"), "other strings stay opaque items");
      assertEquals("0", client.get("_whack/count/exists(country)%20and%20not%20exists(age)"));
      assertNull(client.get("_whack/size/nosuch"), "an unknown segment is a miss");
      assertNull(client.get("_whack/count/age%20%3E"), "a bad expression is a miss");
    }
  }
}

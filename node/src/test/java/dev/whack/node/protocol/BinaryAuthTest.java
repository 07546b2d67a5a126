package dev.whack.node.protocol;

import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.Role;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.spy.memcached.AddrUtil;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.auth.PlainCallbackHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binary protocol with an auth file: SASL PLAIN as memcached 1.6 with {@code -S} answers it,
 * with spymemcached's own SASL client and with raw requests, and every binary opcode of {@link
 * CommandAccess} run by every role.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BinaryAuthTest {
  private static final int AUTH_ERROR = 0x20;
  private static final byte[] NONE = new byte[0];

  private EmbeddedNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    Path users = TestUsers.write(dir);
    node = EmbeddedNode.start(c -> c.authFile(users));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private static byte[] plain(String authzid, String user, String password) {
    return bytes(authzid + "\0" + user + "\0" + password);
  }

  private static BinaryPacket ask(
      RawConnection c, int opcode, byte[] extras, byte[] key, byte[] value) {
    c.send(request(opcode, 7, 0, extras, key, value));
    return BinaryPacket.read(c);
  }

  private RawConnection as(String user) {
    RawConnection c = node.connect();
    BinaryPacket p = ask(c, 0x21, NONE, bytes("PLAIN"), plain("", user, TestUsers.password(user)));
    assertEquals(0, p.status(), p::toString);
    assertEquals("Authenticated", p.valueText());
    return c;
  }

  private MemcachedClient spymemcached(String user) throws Exception {
    return new MemcachedClient(
        new ConnectionFactoryBuilder()
            .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
            .setAuthDescriptor(
                new AuthDescriptor(
                    new String[] {"PLAIN"},
                    new PlainCallbackHandler(user, TestUsers.password(user))))
            .setOpTimeout(5000)
            .setMaxReconnectDelay(1) // seconds: after a refusal it reconnects (see below)
            .build(),
        AddrUtil.getAddresses("127.0.0.1:" + node.port()));
  }

  @Test
  void shouldWorkWithSpymemcachedsSaslPlain() throws Exception {
    MemcachedClient client = spymemcached("writer");
    try {
      assertTrue(client.set("x", 0, "somevalue").get());
      assertEquals("somevalue", client.get("x"));
      assertTrue(client.delete("x").get());
    } finally {
      client.shutdown();
    }
  }

  @Test
  void shouldRefuseAndCloseBeforeAuthenticationAsMemcachedDoes() {
    try (RawConnection c = node.connect()) {
      BinaryPacket version = ask(c, 0x0b, NONE, NONE, NONE);
      assertEquals(0, version.status()); // Version is answered before authentication
      BinaryPacket get = ask(c, 0x00, NONE, bytes("x"), NONE);
      assertEquals(AUTH_ERROR, get.status());
      assertEquals("Auth failure.", get.valueText());
      assertTrue(c.isClosedByPeer());
    }
  }

  @Test
  void shouldAnswerSaslAsMemcachedDoes() {
    try (RawConnection c = node.connect()) {
      assertEquals("PLAIN", ask(c, 0x20, NONE, NONE, NONE).valueText());
      BinaryPacket longMechanism =
          ask(c, 0x21, NONE, bytes("X".repeat(40)), plain("", "writer", "writer-pw"));
      assertEquals(0x04, longMechanism.status());
      BinaryPacket otherMechanism =
          ask(c, 0x21, NONE, bytes("CRAM-MD5"), plain("", "writer", "writer-pw"));
      assertEquals(AUTH_ERROR, otherMechanism.status());
      assertEquals(
          AUTH_ERROR, ask(c, 0x21, NONE, bytes("PLAIN"), plain("", "writer", "wrong")).status());
      assertEquals(
          AUTH_ERROR,
          ask(c, 0x21, NONE, bytes("PLAIN"), plain("admin", "writer", "writer-pw")).status());
      assertEquals(
          AUTH_ERROR,
          ask(c, 0x22, NONE, bytes("PLAIN"), plain("", "writer", "writer-pw")).status());
      BinaryPacket more = ask(c, 0x21, NONE, bytes("PLAIN"), NONE);
      assertEquals(0x21, more.status()); // continue: the message comes with the step
      BinaryPacket step =
          ask(c, 0x22, NONE, bytes("PLAIN"), plain("writer", "writer", "writer-pw"));
      assertEquals(0, step.status());
      assertEquals("Authenticated", step.valueText());
      ByteBuffer extras = ByteBuffer.allocate(8).putInt(0).putInt(0);
      assertEquals(0, ask(c, 0x01, extras.array(), bytes("k"), bytes("v")).status());
    }
  }

  @Test
  void shouldAnswerSaslOpcodesAsUnknownWithoutAnAuthFile() {
    try (EmbeddedNode open = EmbeddedNode.start();
        RawConnection c = open.connect()) {
      assertEquals(0x81, ask(c, 0x20, NONE, NONE, NONE).status());
      assertEquals(0x81, ask(c, 0x21, NONE, bytes("PLAIN"), plain("", "a", "b")).status());
      assertEquals(0, ask(c, 0x0a, NONE, NONE, NONE).status());
    }
  }

  /** A request of the right shape per opcode of the table. */
  static final Map<String, byte[]> SAMPLES = new LinkedHashMap<>();

  static {
    byte[] k = bytes("k");
    byte[] store = ByteBuffer.allocate(8).array();
    byte[] arithmetic = ByteBuffer.allocate(20).putLong(1).putLong(0).putInt(0).array();
    byte[] four = BinaryPacket.int4(10);
    for (String get : new String[] {"Get", "GetQ", "GetK", "GetKQ", "Delete", "DeleteQ"}) {
      SAMPLES.put(get, sample(get, NONE, k, NONE));
    }
    for (String set : new String[] {"Set", "SetQ", "Add", "AddQ", "Replace", "ReplaceQ"}) {
      SAMPLES.put(set, sample(set, store, k, bytes("v")));
    }
    for (String append : new String[] {"Append", "AppendQ", "Prepend", "PrependQ"}) {
      SAMPLES.put(append, sample(append, NONE, k, bytes("v")));
    }
    for (String arith : new String[] {"Increment", "IncrementQ", "Decrement", "DecrementQ"}) {
      SAMPLES.put(arith, sample(arith, arithmetic, bytes("n"), NONE));
    }
    for (String touch : new String[] {"Touch", "GAT", "GATQ", "GATK", "GATKQ"}) {
      SAMPLES.put(touch, sample(touch, four, k, NONE));
    }
    for (String bare :
        new String[] {
          "Flush", "FlushQ", "NoOp", "Version", "Stat", "Quit", "QuitQ", "SegList", "Unwatch"
        }) {
      SAMPLES.put(bare, sample(bare, NONE, NONE, NONE));
    }
    SAMPLES.put("Update", sample("Update", NONE, bytes("p"), bytes("{}")));
    SAMPLES.put("UpdateQ", sample("UpdateQ", NONE, bytes("p"), bytes("{}")));
    SAMPLES.put("SegDefine", sample("SegDefine", NONE, bytes("s"), bytes("age > 1")));
    SAMPLES.put("SegDrop", sample("SegDrop", NONE, bytes("nosuch"), NONE));
    SAMPLES.put("SegCount", sample("SegCount", NONE, NONE, bytes("s")));
    SAMPLES.put("SegMembers", sample("SegMembers", four, NONE, bytes("s")));
    SAMPLES.put("SegOf", sample("SegOf", NONE, bytes("p"), NONE));
    SAMPLES.put("FilterCount", sample("FilterCount", NONE, NONE, bytes("age > 1")));
    SAMPLES.put("FilterMembers", sample("FilterMembers", four, NONE, bytes("age > 1")));
    SAMPLES.put("Watch", sample("Watch", NONE, NONE, bytes("s")));
  }

  private static byte[] sample(String name, byte[] extras, byte[] key, byte[] value) {
    int opcode =
        CommandAccess.COMMANDS.stream()
            .filter(c -> c.name().equals(name) && c.opcode() >= 0)
            .findFirst()
            .orElseThrow(() -> new AssertionError("not in the table: " + name))
            .opcode();
    return request(opcode, 0x5eed, 0, extras, key, value);
  }

  @Test
  void shouldHaveASampleForEveryOpcodeOfTheTable() {
    Set<String> table = new TreeSet<>();
    CommandAccess.COMMANDS.stream().filter(c -> c.opcode() >= 0).forEach(c -> table.add(c.name()));
    assertEquals(table, new TreeSet<>(SAMPLES.keySet()));
  }

  @Test
  void shouldRunOrRefuseEveryOpcodeByTheUsersRole() {
    byte[] noop = request(0x0a, 0x0e0d, 0, NONE, NONE, NONE);
    for (String user : TestUsers.NAMES) {
      Role role = TestUsers.role(user);
      for (CommandAccess.Command command : CommandAccess.COMMANDS) {
        if (command.opcode() < 0) {
          continue;
        }
        String what = user + ": " + command.name();
        try (RawConnection c = as(user)) {
          c.send(SAMPLES.get(command.name()));
          if (command.name().equals("Quit")) {
            assertEquals(0, BinaryPacket.read(c).status(), what);
          }
          if (command.name().startsWith("Quit")) {
            assertTrue(c.isClosedByPeer(), what);
            continue;
          }
          c.send(noop);
          if (role.allows(command.role())) {
            // Whatever the answers are, none is a refusal, and the NoOp's comes last.
            BinaryPacket p = BinaryPacket.read(c);
            while (p.opaque() != 0x0e0d) {
              assertNotEquals(AUTH_ERROR, p.status(), what + " -> " + p);
              p = BinaryPacket.read(c);
            }
          } else {
            BinaryPacket refused = BinaryPacket.read(c);
            assertEquals(AUTH_ERROR, refused.status(), what + " -> " + refused);
            assertEquals("Auth failure.", refused.valueText());
            assertEquals(0x0e0d, BinaryPacket.read(c).opaque(), what); // still open, body skipped
          }
        }
      }
    }
  }

  @Test
  void shouldGiveArgumentDependentRolesAsTheTableSays() {
    try (RawConnection c = as("reader")) {
      BinaryPacket dryRun = ask(c, 0x62, BinaryPacket.int4(0), bytes("s"), bytes("age > 1"));
      assertEquals(0, dryRun.status(), dryRun::toString);
    }
    try (RawConnection c = as("writer")) {
      for (String key : new String[] {"reset", "detail on", "detail dump", "conns"}) {
        assertEquals(AUTH_ERROR, ask(c, 0x10, NONE, bytes(key), NONE).status(), key);
      }
    }
  }

  @Test
  void shouldSkipARefusedValueArrivingInPiecesAndAnswerTheNextRequest() throws Exception {
    // A refused Set's value is swallowed however the network splits it, and the Get behind it is
    // read from the right byte: the node's half of a reader's write followed by a read.
    java.util.Random random = new java.util.Random(19);
    byte[] store = ByteBuffer.allocate(8).array();
    byte[] get = request(0x00, 0x6e7, 0, NONE, bytes("split"), NONE);
    try (RawConnection c = as("reader")) {
      for (int i = 0; i < 20; i++) {
        byte[] value = new byte[1 + random.nextInt(3000)];
        random.nextBytes(value);
        byte[] set = request(0x01, 0x5e7, 0, store, bytes("split"), value);
        int at = 0;
        for (int cut : new int[] {1, 24, 24 + 8 + 5 + random.nextInt(value.length)}) {
          int end = Math.min(cut, set.length);
          if (end > at) {
            c.send(java.util.Arrays.copyOfRange(set, at, end));
            at = end;
            Thread.sleep(2); // separate reads on the node, though nothing here depends on it
          }
        }
        c.send(java.util.Arrays.copyOfRange(set, at, set.length));
        c.send(get);
        BinaryPacket refused = BinaryPacket.read(c);
        assertEquals(0x5e7, refused.opaque(), refused::toString);
        assertEquals(AUTH_ERROR, refused.status(), refused::toString);
        BinaryPacket miss = BinaryPacket.read(c);
        assertEquals(0x6e7, miss.opaque(), miss::toString);
        assertEquals(0x01, miss.status(), miss::toString); // not found: nothing was stored
      }
    }
  }

  @Test
  void shouldNotLetAReadUserWriteThroughSpymemcached() throws Exception {
    java.util.concurrent.CountDownLatch dropped = new java.util.concurrent.CountDownLatch(1);
    MemcachedClient client = spymemcached("reader");
    client.addObserver(
        new net.spy.memcached.ConnectionObserver() {
          @Override
          public void connectionEstablished(java.net.SocketAddress sa, int reconnectCount) {}

          @Override
          public void connectionLost(java.net.SocketAddress sa) {
            dropped.countDown();
          }
        });
    try {
      assertNull(client.get("never-there"));
      // Answered status 0x20 "Auth failure.", which spymemcached reports as the server's error.
      java.util.concurrent.ExecutionException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              java.util.concurrent.ExecutionException.class, () -> client.set("x", 0, "v").get());
      assertTrue(refused.getMessage().contains("Auth failure."), refused.getMessage());
      // spymemcached takes any 0x20 (memcached's own too, for flush_all under -F) for a lost
      // login: it closes the connection, reconnects after its backoff and authenticates again
      // (docs/security.md, "spymemcached after a refusal"). A request queued at the instant of the
      // refusal can be
      // left unsent by it, so the next one is asked once the connection has been dropped.
      assertTrue(dropped.await(5, java.util.concurrent.TimeUnit.SECONDS), "reconnecting");
      assertNull(client.get("x"), "nothing of the refused write is stored");
    } finally {
      client.shutdown();
    }
  }
}

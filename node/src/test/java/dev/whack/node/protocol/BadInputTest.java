package dev.whack.node.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Malformed, oversized and hostile input: every case gets memcached's error or a close, the node
 * never allocates what a client merely declares, and other connections keep being served.
 */
class BadInputTest {
  private static final long MEMORY_CAP = 32L * 1024 * 1024;
  private static EmbeddedNode node;

  @BeforeAll
  static void startNode() {
    node = EmbeddedNode.start(c -> c.memoryBytes(MEMORY_CAP).maxItemSize(1024 * 1024));
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  private static void assertStillServing() {
    try (RawConnection probe = node.connect()) {
      probe.send("set probe 0 0 2\r\nok\r\nget probe\r\n");
      assertEquals("STORED\r\n", probe.readLine());
      assertEquals("VALUE probe 0 2\r\n", probe.readLine());
      assertEquals("ok\r\n", probe.readLine());
      assertEquals("END\r\n", probe.readLine());
    }
  }

  @Test
  void shouldAnswerAndCloseALineLongerThanTheLimitWithoutNewline() {
    try (RawConnection conn = node.connect()) {
      conn.send("x".repeat(5000));
      assertEquals("CLIENT_ERROR line too long\r\n", conn.readLine());
      assertTrue(conn.isClosedByPeer());
    }
    assertStillServing();
  }

  @Test
  void shouldAcceptAMultiGetLineFarLongerThanAnOrdinaryLine() {
    StringBuilder line = new StringBuilder("get");
    for (int i = 0; i < 5000; i++) {
      line.append(" key:").append(i);
    }
    try (RawConnection conn = node.connect()) {
      conn.send("set key:4999 0 0 1\r\nz\r\n").send(line + "\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      assertEquals("VALUE key:4999 0 1\r\n", conn.readLine());
      assertEquals("z\r\n", conn.readLine());
      assertEquals("END\r\n", conn.readLine());
    }
  }

  @Test
  void shouldRefuseADeclaredHugeValueWithoutWaitingForOrStoringIt() {
    try (RawConnection conn = node.connect()) {
      conn.send("set huge 0 0 2000000000\r\n");
      assertEquals("SERVER_ERROR object too large for cache\r\n", conn.readLine());
      // The connection now swallows what it was promised; the node is unaffected.
      conn.send("some of the promised bytes");
    }
    assertStillServing();
  }

  @Test
  void shouldAnswerBinaryBodyOfFourGigabytesWithoutAllocatingIt() {
    // Set with a declared body of 2^32-1 bytes: "Too large." and the body is skipped, not read.
    ByteBuffer header = ByteBuffer.allocate(24 + 8 + 1);
    header.put((byte) 0x80).put((byte) 0x01).putShort((short) 1).put((byte) 8).put((byte) 0);
    header.putShort((short) 0).putInt(0xFFFFFFFF).putInt(7).putLong(0);
    header.putInt(0).putInt(0).put((byte) 'k');
    try (RawConnection conn = node.connect()) {
      conn.send(header.array());
      byte[] response = conn.read(24 + "Too large.".length());
      assertEquals(0x0003, ByteBuffer.wrap(response).getShort(6), "status E2BIG");
    }
    assertStillServing();
  }

  @Test
  void shouldCloseAConnectionWhoseBinaryHeaderShapeIsWrong() {
    // Get with extras: memcached answers "Invalid arguments" and closes.
    byte[] get =
        HexFormat.of().parseHex("800000010400000000000005000000000000000000000000" + "0102030461");
    try (RawConnection conn = node.connect()) {
      conn.send(get);
      byte[] response = conn.read(24 + "Invalid arguments".length());
      assertEquals(0x0004, ByteBuffer.wrap(response).getShort(6));
      assertTrue(conn.isClosedByPeer());
    }
    assertStillServing();
  }

  @Test
  void shouldSurviveRandomBytesOnManyConnectionsWhileServingAWellBehavedClient() throws Exception {
    long seed = new Random().nextLong();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> probeFailure = new AtomicReference<>();
    Thread probe =
        new Thread(
            () -> {
              try (RawConnection conn = node.connect()) {
                for (int i = 0; !stop.get(); i++) {
                  String value = Integer.toString(i);
                  conn.send(
                      "set steady 0 0 " + value.length() + "\r\n" + value + "\r\nget steady\r\n");
                  assertEquals("STORED\r\n", conn.readLine());
                  assertEquals("VALUE steady 0 " + value.length() + "\r\n", conn.readLine());
                  assertEquals(value + "\r\n", conn.readLine());
                  assertEquals("END\r\n", conn.readLine());
                }
              } catch (Throwable t) {
                probeFailure.set(t);
              }
            });
    probe.start();
    Random random = new Random(seed);
    List<Thread> fuzzers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long threadSeed = random.nextLong();
      Thread fuzzer = new Thread(() -> fuzz(threadSeed, 60));
      fuzzer.start();
      fuzzers.add(fuzzer);
    }
    for (Thread fuzzer : fuzzers) {
      fuzzer.join(60_000);
    }
    stop.set(true);
    probe.join(10_000);
    assertEquals(
        null, probeFailure.get(), "well-behaved client failed during fuzzing, seed " + seed);
    assertTrue(
        node.node().keyspace().bytesUsed() <= MEMORY_CAP, "cache over its cap, seed " + seed);
    assertStillServing();
  }

  /**
   * Sends random garbage, some of it shaped like commands (but never flush_all, which would rightly
   * empty the well-behaved client's key), then drains whatever comes back.
   */
  private static void fuzz(long seed, int connections) {
    Random random = new Random(seed);
    String[] fragments = {
      "set k 0 0 5\r\n",
      "get k k k\r\n",
      "mg k v t c\r\n",
      "ms k 3 T1\r\nabc\r\n",
      "incr k 1\r\n",
      "cas k 0 0 1 99\r\n",
      "\r\n",
      "\n",
      " ",
      "noreply",
      "-1",
      "18446744073709551616",
      "gat 1 k\r\n",
      "delete k 0\r\n",
      "ma k N0 J5 MD\r\n",
      "md k I T5\r\n",
      "stats\r\n"
    };
    for (int c = 0; c < connections; c++) {
      try (Socket socket = new Socket("127.0.0.1", node.port())) {
        socket.setSoTimeout(200);
        OutputStream out = socket.getOutputStream();
        boolean binary = random.nextInt(3) == 0;
        int writes = 1 + random.nextInt(20);
        for (int w = 0; w < writes; w++) {
          byte[] chunk;
          if (!binary && random.nextBoolean()) {
            chunk =
                fragments[random.nextInt(fragments.length)].getBytes(
                    java.nio.charset.StandardCharsets.ISO_8859_1);
          } else {
            chunk = new byte[1 + random.nextInt(300)];
            random.nextBytes(chunk);
            if (binary && w == 0) {
              chunk[0] = (byte) 0x80;
            }
          }
          out.write(chunk);
        }
        out.flush();
        drain(socket.getInputStream());
      } catch (IOException expectedWhenTheNodeClosesABadConnection) {
        // A close or reset is a valid answer to garbage.
      }
    }
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    try {
      while (in.read(buf) >= 0) {
        // discard
      }
    } catch (java.net.SocketTimeoutException quiet) {
      // nothing more is coming
    }
  }
}

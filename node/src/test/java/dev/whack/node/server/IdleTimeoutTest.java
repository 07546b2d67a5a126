package dev.whack.node.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --idle-timeout} (issue 13, "also seen": idle or slowloris connections could hold all 1,024
 * slots): a connection that completes no request for the timeout is closed, as memcached's {@code
 * idle_timeout} closes it, whether it sends nothing, trickles a request that never ends or stopped
 * reading its replies; one that keeps completing requests, reads a long reply or watches segments
 * stays. Short timeouts on a real clock; the bounds on waiting are generous.
 */
class IdleTimeoutTest {
  private static final long IDLE_TIMEOUT_MILLIS = 1_000;
  private static EmbeddedNode node;

  @BeforeAll
  static void startNode() {
    node = EmbeddedNode.start(c -> c.idleTimeoutMillis(IDLE_TIMEOUT_MILLIS));
    try (RawConnection conn = node.connect()) {
      conn.send("set small 0 0 2\r\nok\r\n");
      assertEquals("STORED\r\n", conn.readLine());
      byte[] big = new byte[512 * 1024];
      java.util.Arrays.fill(big, (byte) 'b');
      conn.send(("set big 0 0 " + big.length + "\r\n").getBytes(US_ASCII)).send(big).send("\r\n");
      assertEquals("STORED\r\n", conn.readLine());
    }
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void shouldCloseAConnectionThatSendsNothingForTheIdleTimeout() throws Exception {
    long kicksBefore = idleKicks();
    try (Socket socket = connect()) {
      long start = System.nanoTime();
      assertEquals(-1, socket.getInputStream().read(), "closed without a word, as memcached");
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(waited >= IDLE_TIMEOUT_MILLIS - 50, "closed after " + waited + " ms, too early");
    }
    assertTrue(idleKicks() > kicksBefore, "idle_kicks counts the close");
  }

  @Test
  void shouldCloseAConnectionThatTricklesAHalfSentRequest() throws Exception {
    byte[] request = "get small".repeat(100).getBytes(US_ASCII); // never a newline
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      socket.setSoTimeout(100);
      long start = System.nanoTime();
      boolean closed = false;
      for (int i = 0; i < request.length && !closed; i++) {
        try {
          out.write(request[i]);
          closed = in.read() < 0;
        } catch (SocketTimeoutException stillOpen) {
          // a byte every 100 ms, and the node has not closed yet
        } catch (IOException reset) {
          closed = true;
        }
      }
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(closed, "a request trickled for " + waited + " ms kept its connection");
      assertTrue(waited >= IDLE_TIMEOUT_MILLIS - 50, "closed after " + waited + " ms, too early");
    }
    assertServed();
  }

  @Test
  void shouldKeepAConnectionThatCompletesRequestsWithinTheTimeout() throws Exception {
    try (RawConnection conn = node.connect()) {
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3 * IDLE_TIMEOUT_MILLIS);
      while (System.nanoTime() < end) {
        conn.send("get small\r\n");
        assertEquals("VALUE small 0 2\r\n", conn.readLine());
        assertEquals("ok\r\n", conn.readLine());
        assertEquals("END\r\n", conn.readLine());
        Thread.sleep(100);
      }
    }
  }

  @Test
  void shouldKeepAConnectionWhoseClientReadsALongReplySlowly() throws Exception {
    int values = 40; // 20 MiB, read over about two idle timeouts in one request
    try (Socket socket = connect()) {
      socket.getOutputStream().write(("get" + " big".repeat(values) + "\r\n").getBytes(US_ASCII));
      InputStream in = socket.getInputStream();
      long block = ("VALUE big 0 " + 512 * 1024 + "\r\n").length() + 512 * 1024 + 2L;
      long expected = values * block + "END\r\n".length();
      byte[] buf = new byte[256 * 1024];
      long got = 0;
      while (got < expected) {
        int r = in.read(buf, 0, (int) Math.min(buf.length, expected - got));
        assertTrue(r > 0, "closed after " + got + " of " + expected + " bytes");
        got += r;
        Thread.sleep(15);
      }
      socket.getOutputStream().write("get small\r\n".getBytes(US_ASCII));
      byte[] reply = new byte["VALUE small 0 2\r\nok\r\nEND\r\n".length()];
      int off = 0;
      while (off < reply.length) {
        int r = in.read(reply, off, reply.length - off);
        assertTrue(r > 0, "closed after the long reply");
        off += r;
      }
      assertEquals("VALUE small 0 2\r\nok\r\nEND\r\n", new String(reply, US_ASCII));
    }
  }

  @Test
  void shouldCloseAConnectionThatStopsReadingItsReplies() throws Exception {
    try (Socket socket = connect()) {
      socket.getOutputStream().write(("get" + " big".repeat(200) + "\r\n").getBytes(US_ASCII));
      socket.setSoTimeout(15_000);
      Thread.sleep(3 * IDLE_TIMEOUT_MILLIS); // not reading: the node's queue stands still
      InputStream in = socket.getInputStream();
      byte[] buf = new byte[1 << 16];
      long got = 0;
      try {
        for (int r = in.read(buf); r >= 0; r = in.read(buf)) {
          got += r;
        }
      } catch (IOException reset) {
        // closed with replies unread
      }
      assertTrue(got < 200L * 512 * 1024, "the whole reply came: the connection was kept");
    }
    assertServed();
  }

  @Test
  void shouldNotCountAWatchingConnectionAsIdle() throws Exception {
    try (RawConnection setup = node.connect()) {
      setup.send("segdef idle_vip 13\r\n\"vip\" in tags\r\n");
      String defined = setup.readLine();
      assertTrue(defined.startsWith("DEFINED "), defined);
    }
    try (RawConnection watcher = node.connect()) {
      watcher.send("watch idle_vip\r\n");
      assertEquals("WATCHING 1\r\n", watcher.readLine());
      Thread.sleep(3 * IDLE_TIMEOUT_MILLIS);
      try (RawConnection writer = node.connect()) {
        String profile = "{\"tags\":[\"vip\"]}";
        writer.send("set idle:1 0 0 " + profile.length() + "\r\n" + profile + "\r\n");
        assertEquals("STORED\r\n", writer.readLine());
      }
      String change = watcher.readLine();
      assertTrue(change.startsWith("CHANGE enter idle_vip idle:1 "), change);
    }
  }

  @Test
  void shouldReportTheIdleTimeoutInStatsSettings() {
    try (RawConnection conn = node.connect()) {
      conn.send("stats settings\r\n");
      boolean found = false;
      for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
        found |= line.equals("STAT idle_timeout 1\r\n");
      }
      assertTrue(found, "stats settings shows idle_timeout 1");
    }
  }

  private static Socket connect() throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(64 * 1024);
    socket.setSoTimeout(10_000);
    socket.connect(new InetSocketAddress("127.0.0.1", node.port()));
    return socket;
  }

  private static void assertServed() {
    try (RawConnection probe = node.connect()) {
      probe.send("get small\r\n");
      assertEquals("VALUE small 0 2\r\n", probe.readLine());
    }
  }

  private static long idleKicks() {
    try (RawConnection conn = node.connect()) {
      conn.send("stats\r\n");
      long kicks = -1;
      for (String line = conn.readLine(); !line.equals("END\r\n"); line = conn.readLine()) {
        if (line.startsWith("STAT idle_kicks ")) {
          kicks = Long.parseLong(line.trim().substring("STAT idle_kicks ".length()));
        }
      }
      assertTrue(kicks >= 0, "stats shows idle_kicks when the timeout is set");
      return kicks;
    }
  }
}

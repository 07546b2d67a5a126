package dev.whack.client.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.CorruptReplyException;
import dev.whack.client.Item;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.OverloadedException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.protocol.GetRequest;
import dev.whack.client.protocol.Keys;
import dev.whack.client.protocol.VersionRequest;
import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One pipelined connection against a scripted server: FIFO, bound, batching, and every way to end.
 */
class ConnectionTest {
  /** As {@code Clients.TIMEOUT}: no request times out by accident on a busy machine. */
  private static final Duration TIMEOUT = Duration.ofMillis(2000);

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final List<Connection.Ending> endings = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    // Newest first; no List.reversed(): the module builds for Java 17.
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private IoResources io(int maxInFlight) {
    IoResources io =
        new IoResources(
            new TransportSettings(
                TIMEOUT,
                TIMEOUT,
                1,
                maxInFlight,
                Duration.ofMillis(20),
                Duration.ofMillis(100),
                1));
    toClose.add(io);
    return io;
  }

  private FakeServer server(FakeServer.Responder responder) {
    FakeServer server = FakeServer.start(responder);
    toClose.add(server);
    return server;
  }

  private Connection connect(IoResources io, FakeServer server) {
    Connection c =
        Connection.open(
            io, NodeAddress.parse(server.address()), (conn, why, cause) -> endings.add(why), null);
    Await.value(c.ready());
    return c;
  }

  private static GetRequest get(String key) {
    return new GetRequest(List.of(key), List.of(Keys.key(key)));
  }

  private static CompletableFuture<Map<String, Item>> send(Connection c, GetRequest request) {
    c.send(request);
    return request.future();
  }

  /** A responder that reads every command and never answers. */
  private static void silent(FakeServer.Command c, FakeServer.Reply r) {}

  @Test
  void shouldWriteABurstOfRequestsWithOneFlush() throws Exception {
    IoResources io = io(1000);
    Connection c = connect(io, server(FakeServer.memcached()));
    // Let the drain scheduled on connect run first: while it is pending, the first sends would
    // not schedule their own, and it could take some of the burst in a flush of its own.
    c.eventLoop().submit(() -> {}).get(5, java.util.concurrent.TimeUnit.SECONDS);
    long before = c.flushes();
    CountDownLatch release = new CountDownLatch(1);
    // Hold the event loop so that the whole burst is queued before the drain runs.
    c.eventLoop().execute(() -> awaitQuietly(release));
    List<CompletableFuture<String>> replies = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      VersionRequest version = new VersionRequest();
      c.send(version);
      replies.add(version.future());
    }
    release.countDown();
    for (CompletableFuture<String> reply : replies) {
      assertEquals("1.6.18-fake", Await.value(reply));
    }
    assertEquals(1, c.flushes() - before, "one flush for the whole burst");
  }

  @Test
  void shouldFailFastPastTheInFlightLimit() {
    Connection c = connect(io(4), server(ConnectionTest::silent));
    List<CompletableFuture<Map<String, Item>>> pending = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      pending.add(send(c, get("k" + i)));
    }
    CompletableFuture<Map<String, Item>> fifth = send(c, get("k4"));
    assertTrue(fifth.isDone(), "refused at once, not queued");
    OverloadedException e = Await.failure(fifth, OverloadedException.class);
    assertEquals(
        c.name() + " has 4 requests in flight on this connection, the limit", e.getMessage());
    // The four that were sent still complete: the oldest by timing out, the rest with it.
    assertInstanceOf(WhackTimeoutException.class, Await.failure(pending.get(0)));
    for (int i = 1; i < 4; i++) {
      assertInstanceOf(ConnectionClosedException.class, Await.failure(pending.get(i)));
    }
  }

  @Test
  void shouldTimeOutTheOldestRequestAndPoisonTheConnection() {
    Connection c = connect(io(100), server(ConnectionTest::silent));
    long start = System.nanoTime();
    CompletableFuture<Map<String, Item>> first = send(c, get("a"));
    CompletableFuture<Map<String, Item>> second = send(c, get("b"));
    WhackTimeoutException timeout = Await.failure(first, WhackTimeoutException.class);
    long waited = Await.millisSince(start);
    assertTrue(waited >= TIMEOUT.toMillis(), "not before the timeout: " + waited);
    assertTrue(waited < TIMEOUT.toMillis() + 1000, "soon after the timeout: " + waited);
    assertEquals(
        c.name() + " did not answer get within " + TIMEOUT.toMillis() + " ms",
        timeout.getMessage());
    ConnectionClosedException poisoned = Await.failure(second, ConnectionClosedException.class);
    assertSame(timeout, poisoned.getCause());
    assertFalse(c.isOpen(), "a late reply must find no connection to be matched on");
    Await.until("told the owner", () -> endings.equals(List.of(Connection.Ending.TIMED_OUT)));
  }

  @Test
  void shouldFailEveryPendingRequestWhenAReplyIsCorruptAndClose() {
    AtomicInteger seen = new AtomicInteger();
    FakeServer server =
        server(
            (cmd, reply) -> {
              if (seen.incrementAndGet() == 3) {
                reply.write("HIPPO\r\n");
              }
            });
    Connection c = connect(io(100), server);
    CompletableFuture<Map<String, Item>> a = send(c, get("a"));
    CompletableFuture<Map<String, Item>> b = send(c, get("b"));
    CompletableFuture<Map<String, Item>> d = send(c, get("d"));
    CorruptReplyException corrupt = Await.failure(a, CorruptReplyException.class);
    assertEquals(
        "corrupt reply from " + c.name() + ": unexpected reply to get: HIPPO",
        corrupt.getMessage());
    assertSame(corrupt, Await.failure(b, ConnectionClosedException.class).getCause());
    assertSame(corrupt, Await.failure(d, ConnectionClosedException.class).getCause());
    assertFalse(c.isOpen());
    Await.until("ended as corrupt", () -> endings.equals(List.of(Connection.Ending.CORRUPT_REPLY)));
  }

  @Test
  void shouldFailPendingRequestsWhenTheServerClosesMidReply() {
    FakeServer server =
        server(
            (cmd, reply) -> {
              if (cmd.tokens()[1].equals("b")) {
                reply.write("VALUE a 0 10\r\nabc").close();
              }
            });
    Connection c = connect(io(100), server);
    CompletableFuture<Map<String, Item>> a = send(c, get("a"));
    CompletableFuture<Map<String, Item>> b = send(c, get("b"));
    ConnectionClosedException e = Await.failure(a, ConnectionClosedException.class);
    assertEquals(c.name() + " closed the connection in the middle of a reply", e.getMessage());
    assertInstanceOf(ConnectionClosedException.class, Await.failure(b));
    Await.until("ended", () -> endings.equals(List.of(Connection.Ending.CLOSED_BY_PEER)));
  }

  @Test
  void shouldFailRequestsQueuedWhileConnectingWhenTheConnectionIsRefused() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    long start = System.nanoTime();
    Connection c =
        Connection.open(
            io(100),
            NodeAddress.parse("127.0.0.1:" + closedPort),
            (conn, why, cause) -> endings.add(why),
            null);
    CompletableFuture<Map<String, Item>> queued = send(c, get("a"));
    NodeUnavailableException e = Await.failure(queued, NodeUnavailableException.class);
    assertTrue(e.getMessage().startsWith("127.0.0.1:" + closedPort + " is down: "), e.getMessage());
    assertTrue(Await.millisSince(start) < TIMEOUT.toMillis(), "refused, not timed out");
    Await.until("ended", () -> endings.equals(List.of(Connection.Ending.CONNECT_FAILED)));
    assertInstanceOf(NodeUnavailableException.class, Await.failure(send(c, get("b"))));
  }

  @Test
  void shouldKeepTheConnectionAfterAnErrorReply() {
    AtomicInteger seen = new AtomicInteger();
    FakeServer server =
        server(
            (cmd, reply) ->
                reply.write(
                    seen.incrementAndGet() == 1 ? "SERVER_ERROR out of memory\r\n" : "END\r\n"));
    Connection c = connect(io(100), server);
    CompletableFuture<Map<String, Item>> failed = send(c, get("a"));
    CompletableFuture<Map<String, Item>> fine = send(c, get("b"));
    ServerErrorException e = Await.failure(failed, ServerErrorException.class);
    assertEquals("SERVER_ERROR", e.kind());
    assertEquals("out of memory", e.serverMessage());
    assertEquals(Map.of(), Await.value(fine));
    assertTrue(c.isOpen());
    assertEquals(1, server.connections());
  }

  @Test
  void shouldParseRepliesThatArriveOneByteAtATime() {
    FakeServer server =
        server(
            (cmd, reply) -> {
              for (byte b : "VALUE k 3 5\r\nhello\r\nEND\r\n".getBytes()) {
                reply.write(new byte[] {b});
              }
            });
    Connection c = connect(io(100), server);
    Map<String, Item> hits = Await.value(send(c, get("k")));
    assertEquals("hello", hits.get("k").valueAsString());
    assertEquals(3, hits.get("k").flags());
  }

  @Test
  void shouldCloseOnAReplyNobodyAskedFor() {
    Connection c = connect(io(100), server((cmd, reply) -> reply.write("END\r\nEND\r\n")));
    assertEquals(Map.of(), Await.value(send(c, get("a"))));
    Await.until(
        "closed after the extra reply",
        () -> endings.equals(List.of(Connection.Ending.CORRUPT_REPLY)));
    assertFalse(c.isOpen());
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

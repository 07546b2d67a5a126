package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Change subscriptions: one listener fed by every node, missed notices, loss and return. */
class WatchTest {
  /** Everything a listener is told, as text, in order. */
  static final class Recorder implements WatchListener {
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    final AtomicInteger concurrent = new AtomicInteger();
    volatile boolean overlapped;

    @Override
    public void onChange(SegmentChange c) {
      if (concurrent.incrementAndGet() > 1) {
        overlapped = true;
      }
      events.add(
          c.kind()
              + " "
              + c.segment()
              + " "
              + c.key()
              + " "
              + c.time().toEpochMilli()
              + " "
              + c.node());
      concurrent.decrementAndGet();
    }

    @Override
    public void onMissed(String node, long count) {
      events.add("MISSED " + count + " " + node);
    }

    final BlockingQueue<Throwable> causes = new LinkedBlockingQueue<>();

    @Override
    public void onDisconnected(String node, Throwable cause) {
      causes.add(cause);
      events.add("DISCONNECTED " + node);
    }

    @Override
    public void onReconnected(String node) {
      events.add("RECONNECTED " + node);
    }

    String next() throws InterruptedException {
      String e = events.poll(Await.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      if (e == null) {
        throw new AssertionError("no event within " + Await.BOUND);
      }
      return e;
    }
  }

  /** A node that confirms a watch and then pushes {@code changes} lines. */
  private static FakeServer pushing(String... changes) {
    return FakeServer.start(
        (cmd, reply) -> {
          if (cmd.verb().equals("watch")) {
            StringBuilder out = new StringBuilder("WATCHING " + (cmd.tokens().length - 1) + "\r\n");
            for (String change : changes) {
              out.append(change).append("\r\n");
            }
            reply.write(out.toString());
          } else {
            reply.write("ERROR\r\n");
          }
        });
  }

  @Test
  void shouldMergeChangesFromEveryNodeIntoOneListener() throws Exception {
    FakeServer a =
        pushing("CHANGE enter dk user:1 1000", "CHANGE leave vip user:1 1001", "MISSED 7");
    FakeServer b = pushing("CHANGE enter vip user:2 2000");
    Recorder recorder = new Recorder();
    try (WhackClient client = Clients.client(a, b);
        Watch watch = Await.value(client.segments().watch(List.of("dk", "vip"), recorder))) {
      assertEquals(List.of("dk", "vip"), watch.segments());
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 4; i++) {
        seen.add(recorder.next());
      }
      assertEquals(
          Set.of(
              "ENTER dk user:1 1000 " + a.address(),
              "LEAVE vip user:1 1001 " + a.address(),
              "MISSED 7 " + a.address(),
              "ENTER vip user:2 2000 " + b.address()),
          seen);
      assertEquals(List.of("local watch dk vip"), a.received());
      assertEquals(List.of("local watch dk vip"), b.received());
      assertTrue(!recorder.overlapped, "listener calls never overlap");
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void shouldKeepOrderWithinANode() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      lines.add("CHANGE enter dk user:" + i + " " + i);
    }
    FakeServer a = pushing(lines.toArray(String[]::new));
    Recorder recorder = new Recorder();
    try (WhackClient client = Clients.client(a);
        Watch watch = Await.value(client.segments().watch(List.of("dk"), recorder))) {
      for (int i = 0; i < 500; i++) {
        assertEquals("ENTER dk user:" + i + " " + i + " " + a.address(), recorder.next());
      }
      assertTrue(watch.segments().contains("dk"));
    } finally {
      a.close();
    }
  }

  @Test
  void shouldStopCallingTheListenerOnceClosed() throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    FakeServer a =
        FakeServer.start(
            (cmd, reply) -> {
              reply.write("WATCHING 1\r\n");
              awaitQuietly(closed);
              reply.write("CHANGE enter dk late 1\r\n");
            });
    Recorder recorder = new Recorder();
    try (WhackClient client = Clients.client(a)) {
      Watch watch = Await.value(client.segments().watch(List.of("dk"), recorder));
      watch.close();
      closed.countDown();
      Await.until("the watch connection is closed", () -> a.openConnections() == 1);
      assertNull(recorder.events.poll(100, TimeUnit.MILLISECONDS));
    } finally {
      a.close();
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void shouldFailToStartWhenANodeRejectsTheWatch() {
    FakeServer a = pushing();
    FakeServer b =
        FakeServer.start((cmd, reply) -> reply.write("CLIENT_ERROR unknown segment dk\r\n"));
    try (WhackClient client = Clients.client(a, b)) {
      ServerErrorException e =
          Await.failure(
              client.segments().watch(List.of("dk"), c -> {}), ServerErrorException.class);
      assertEquals("unknown segment dk", e.serverMessage());
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void shouldReconnectAWatchThatANodeDrops() throws Exception {
    AtomicInteger watches = new AtomicInteger();
    FakeServer a =
        FakeServer.start(
            (cmd, reply) -> {
              int n = watches.incrementAndGet();
              reply.write("WATCHING 1\r\n");
              if (n == 1) {
                reply.write("CHANGE enter dk before 1\r\n").close();
              } else {
                reply.write("CHANGE enter dk after 2\r\n");
              }
            });
    Recorder recorder = new Recorder();
    try (WhackClient client = Clients.client(a);
        Watch watch = Await.value(client.segments().watch(List.of("dk"), recorder))) {
      assertEquals("ENTER dk before 1 " + a.address(), recorder.next());
      assertEquals("DISCONNECTED " + a.address(), recorder.next());
      assertEquals("RECONNECTED " + a.address(), recorder.next());
      assertEquals("ENTER dk after 2 " + a.address(), recorder.next());
      assertEquals(List.of("local watch dk", "local watch dk"), a.received());
      assertTrue(watch.segments().size() == 1);
    } finally {
      a.close();
    }
  }

  @Test
  void shouldTellTheListenerWhyANodeEndedTheWatch() throws Exception {
    AtomicInteger watches = new AtomicInteger();
    FakeServer a =
        FakeServer.start(
            (cmd, reply) -> {
              reply.write("WATCHING 1\r\n");
              if (watches.incrementAndGet() == 1) {
                reply.write("CHANGE enter dk before 1\r\n");
                reply.write("SERVER_ERROR watch lapped for 30 s: closing\r\n").close();
              } else {
                reply.write("CHANGE enter dk after 2\r\n");
              }
            });
    Recorder recorder = new Recorder();
    // Not the short request timeout: the first watch of a JVM on a busy machine can take longer.
    try (WhackClient client = Clients.builder(a).requestTimeout(Duration.ofSeconds(5)).build();
        Watch watch = Await.value(client.segments().watch(List.of("dk"), recorder))) {
      assertEquals("ENTER dk before 1 " + a.address(), recorder.next());
      assertEquals("DISCONNECTED " + a.address(), recorder.next());
      Throwable cause = recorder.causes.poll(Await.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      assertTrue(cause instanceof ConnectionClosedException, String.valueOf(cause));
      assertEquals(
          a.address() + " ended the connection: SERVER_ERROR watch lapped for 30 s: closing",
          cause.getMessage());
      assertEquals("RECONNECTED " + a.address(), recorder.next());
      assertEquals("ENTER dk after 2 " + a.address(), recorder.next());
      assertEquals(List.of("dk"), watch.segments());
    } finally {
      a.close();
    }
  }

  @Test
  void shouldDeliverAChangeTimeAsAnInstant() throws Exception {
    FakeServer a = pushing("CHANGE enter dk user:1 1795305600000");
    BlockingQueue<SegmentChange> changes = new LinkedBlockingQueue<>();
    try (WhackClient client = Clients.client(a);
        Watch watch = Await.value(client.segments().watch(List.of("dk"), changes::add))) {
      SegmentChange c = changes.poll(Await.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      assertEquals(
          new SegmentChange(
              "dk",
              "user:1",
              SegmentChange.Kind.ENTER,
              Instant.parse("2026-11-22T00:00:00Z"),
              a.address()),
          c);
      assertTrue(watch.segments().contains("dk"));
    } finally {
      a.close();
    }
  }
}

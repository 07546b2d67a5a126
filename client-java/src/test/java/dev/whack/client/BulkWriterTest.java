package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Loading through a bulk writer: backpressure at its bound, failures reported per record. */
class BulkWriterTest {

  @Test
  void shouldBlockTheWriterWhileItsBoundIsInFlight() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer server =
            FakeServer.start(
                (cmd, reply) -> {
                  release.await();
                  memcached.respond(cmd, reply);
                });
        WhackClient client = Clients.builder(server).requestTimeout(Await.BOUND).build()) {
      BulkWriter writer = client.bulkWriter(5);
      AtomicInteger written = new AtomicInteger();
      Thread loader =
          new Thread(
              () -> {
                for (int i = 0; i < 8; i++) {
                  writer.setProfile("user:" + i, "{\"n\":" + i + "}");
                  written.incrementAndGet();
                }
                writer.flush();
              });
      loader.start();
      Await.until("five in flight", () -> writer.inFlight() == 5 && written.get() == 5);
      Await.until("the loader waits", () -> loader.getState() == Thread.State.WAITING);
      assertEquals(5, written.get(), "the sixth write waits for room");

      release.countDown();
      loader.join(Await.BOUND.toMillis());
      assertEquals(8, written.get());
      assertEquals(8, writer.succeeded());
      assertEquals(0, writer.failed());
      assertEquals(0, writer.inFlight());
    }
  }

  @Test
  void shouldReportEachFailedRecordAndGoOn() {
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer server =
            FakeServer.start(
                (cmd, reply) -> {
                  if (cmd.tokens()[1].startsWith("bad")) {
                    reply.write("CLIENT_ERROR bad profile: nope\r\n");
                  } else if (cmd.verb().equals("update")) {
                    reply.write("UPDATED\r\n");
                  } else {
                    memcached.respond(cmd, reply);
                  }
                });
        WhackClient client = Clients.client(server)) {
      List<BulkWriter.Failure> told = new CopyOnWriteArrayList<>();
      CompletableFuture<UpdateResult> update;
      try (BulkWriter writer = client.bulkWriter(100, told::add)) {
        for (int i = 0; i < 20; i++) {
          writer.setProfile((i % 7 == 3 ? "bad:" : "ok:") + i, "{}");
        }
        writer.set("not a key", new byte[0], 0, 0);
        update = writer.update("ok:1", "{\"incr\":{\"n\":1}}");
        writer.flush();
        assertEquals(UpdateResult.UPDATED, update.getNow(null));
        assertEquals(18, writer.succeeded());
        assertEquals(4, writer.failed());
        List<BulkWriter.Failure> failures = writer.failures();
        assertEquals(4, failures.size());
        assertEquals(
            List.of("bad:10", "bad:17", "bad:3", "not a key"),
            failures.stream().map(BulkWriter.Failure::key).sorted().toList());
        for (BulkWriter.Failure f : failures) {
          if (f.key().startsWith("bad")) {
            assertEquals("set", f.operation());
            assertEquals(
                "bad profile: nope",
                assertInstanceOf(ServerErrorException.class, f.cause()).serverMessage());
          } else {
            assertInstanceOf(IllegalArgumentException.class, f.cause());
          }
        }
        assertEquals(4, told.size());
      }
    }
  }

  @Test
  void shouldRefuseABoundOverWhatOneNodeAllows() {
    try (FakeServer server = FakeServer.start(FakeServer.memcached());
        WhackClient client =
            Clients.builder(server).connectionsPerNode(2).maxInFlightPerConnection(10).build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> client.bulkWriter(21));
      assertTrue(
          e.getMessage().startsWith("maxInFlight 21 is over one node's bound (20"), e.getMessage());
      client.bulkWriter(20).close();
    }
  }

  @Test
  void shouldKeepEachKeysWritesInOrderWithAnOrderedWriter() throws Exception {
    List<String> arrived = new CopyOnWriteArrayList<>();
    java.util.Map<String, java.util.Set<Integer>> connectionsOfKey =
        new java.util.concurrent.ConcurrentHashMap<>();
    FakeServer.Responder memcached = FakeServer.memcached();
    try (FakeServer server =
            FakeServer.start(
                (cmd, reply) -> {
                  String key = cmd.tokens()[1];
                  arrived.add(key + " " + cmd.blockText());
                  connectionsOfKey
                      .computeIfAbsent(key, k -> java.util.concurrent.ConcurrentHashMap.newKeySet())
                      .add(cmd.connection());
                  if (cmd.verb().equals("update")) {
                    reply.write("UPDATED\r\n");
                  } else {
                    memcached.respond(cmd, reply);
                  }
                });
        WhackClient client =
            Clients.builder(server).connectionsPerNode(4).maxInFlightPerConnection(100).build()) {
      try (BulkWriter writer = client.orderedBulkWriter(99, null)) {
        for (int k = 0; k < 20; k++) {
          writer.setProfileJson(
              "k" + k, "{\"n\":0}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        for (int i = 1; i <= 50; i++) {
          for (int k = 0; k < 20; k++) {
            writer.update(
                "k" + k, ("{\"n\":" + i + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }
        }
      }
      for (int k = 0; k < 20; k++) {
        String key = "k" + k;
        List<String> mine = arrived.stream().filter(a -> a.startsWith(key + " ")).toList();
        assertEquals(51, mine.size());
        for (int i = 0; i <= 50; i++) {
          assertEquals(key + " {\"n\":" + i + "}", mine.get(i), "in the order written");
        }
        assertEquals(1, connectionsOfKey.get(key).size(), "one connection per key");
      }
      assertTrue(
          connectionsOfKey.values().stream().flatMap(java.util.Set::stream).distinct().count() > 1,
          "keys spread over the connections");
    }
  }

  @Test
  void shouldRefuseAnOrderedWriterAsLargeAsOneConnectionsBound() {
    try (FakeServer server = FakeServer.start(FakeServer.memcached());
        WhackClient client =
            Clients.builder(server).connectionsPerNode(4).maxInFlightPerConnection(10).build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> client.orderedBulkWriter(10, null));
      assertTrue(
          e.getMessage()
              .startsWith(
                  "maxInFlight 10 of an ordered writer must be under one connection's bound (10)"),
          e.getMessage());
      client.orderedBulkWriter(9, null).close();
    }
  }
}

package dev.whack.client.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.CorruptReplyException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeGrpcNode;
import dev.whack.proto.Attribute;
import dev.whack.proto.Increment;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import io.grpc.Status;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The gRPC bulk writer against a scripted node: answers matched by id whatever their grouping and
 * order, backpressure at its bound, refused items reported with their id and code, and every way a
 * stream can go wrong failing exactly the items in flight on it.
 */
class GrpcBulkWriterTest {

  private static GrpcBulkWriter.Builder writer(FakeGrpcNode node) {
    return GrpcBulkWriter.builder(node.target())
        .connectTimeout(Await.BOUND)
        .answerTimeout(Await.BOUND.multipliedBy(2)); // never reached unless a test asks
  }

  private static Update increment(String key) {
    return Update.newBuilder()
        .setKey(key)
        .addIncr(Increment.newBuilder().setName("n").setIntDelta(1))
        .build();
  }

  @Test
  void shouldMatchCoalescedAcknowledgementsArrivingInAnyOrder() {
    // Answers every ten items at once, as two ranges, the later one first.
    List<Long> waiting = new ArrayList<>();
    FakeGrpcNode.Responder inTens =
        (item, call) -> {
          synchronized (waiting) {
            waiting.add(item.getId());
            if (waiting.size() == 10) {
              long first = waiting.get(0);
              call.ack(first + 5, first + 9).ack(first, first + 4);
              waiting.clear();
            }
          }
        };
    try (FakeGrpcNode node = FakeGrpcNode.start(inTens);
        GrpcBulkWriter writer = writer(node).maxInFlight(100).open()) {
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        futures.add(writer.update(increment("user:" + i % 37)));
      }
      writer.flush();
      assertEquals(1000, writer.succeeded());
      assertEquals(0, writer.failed());
      assertEquals(0, writer.inFlight());
      assertTrue(futures.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
    }
  }

  @Test
  void shouldBatchWhatWaitsWhileTheRequestsInFlightAreAtTheirBound() throws Exception {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).batching(4, 1).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      futures.add(writer.update(increment("a")));
      IngestRequest alone = node.nextItem();
      assertEquals(1, alone.getId(), "an item written to an idle writer goes at once, alone");
      assertEquals(0, alone.getItemsCount());
      for (int i = 0; i < 9; i++) {
        futures.add(writer.update(increment("k" + i)));
      }
      Thread.sleep(100);
      assertEquals(1, node.receivedCount(), "one request in flight at most");
      call.ack(1, 1);
      IngestRequest batch = node.nextItem();
      assertEquals(
          List.of(2L, 3L, 4L, 5L),
          batch.getItemsList().stream().map(dev.whack.proto.IngestItem::getId).toList());
      assertEquals("k0", batch.getItems(0).getUpdate().getKey());
      call.ack(2, 5);
      assertEquals(4, node.nextItem().getItemsCount());
      call.ack(6, 9);
      IngestRequest last = node.nextItem();
      assertEquals(10, last.getId(), "the last one alone: nothing else waits");
      call.ack(10, 10);
      writer.flush();
      for (CompletableFuture<Void> f : futures) {
        assertTrue(f.isDone() && !f.isCompletedExceptionally());
      }
    }
  }

  @Test
  void shouldNumberItemsFromOneInTheOrderWritten() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.ACK_EACH);
        GrpcBulkWriter writer = writer(node).open()) {
      writer.update(increment("a"));
      writer.setProfile(Profile.newBuilder().setKey("b").build());
      writer.flush();
      IngestRequest first = node.nextItem();
      IngestRequest second = node.nextItem();
      assertEquals(1, first.getId());
      assertEquals("a", first.getUpdate().getKey());
      assertEquals(2, second.getId());
      assertEquals("b", second.getProfile().getKey());
    }
  }

  @Test
  void shouldBlockTheWriterWhileItsBoundIsInFlight() throws Exception {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).maxInFlight(5).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      AtomicInteger written = new AtomicInteger();
      Thread loader =
          new Thread(
              () -> {
                for (int i = 0; i < 8; i++) {
                  writer.update(increment("user:" + i));
                  written.incrementAndGet();
                }
                writer.flush();
              });
      loader.start();
      Await.until("five in flight", () -> writer.inFlight() == 5 && written.get() == 5);
      Await.until("the node has five", () -> node.receivedCount() == 5);
      Await.until("the loader waits", () -> loader.getState() == Thread.State.WAITING);
      assertEquals(5, written.get(), "the sixth write waits for room");
      assertEquals(5, node.receivedCount(), "nothing past the bound is sent");

      call.ack(1, 5);
      Await.until("the rest sent", () -> node.receivedCount() == 8);
      call.ack(6, 8);
      loader.join(Await.BOUND.toMillis());
      assertFalse(loader.isAlive());
      assertEquals(8, writer.succeeded());
      assertEquals(0, writer.inFlight());
    }
  }

  @Test
  void shouldReportARefusedItemWithItsIdCodeAndMessageAndGoOn() {
    FakeGrpcNode.Responder refuseBad =
        (item, call) -> {
          if (item.getUpdate().getKey().startsWith("bad")) {
            call.refuse(item.getId(), "INVALID_ARGUMENT", "bad update: \"n\" is a string");
          } else {
            call.ack(item.getId(), item.getId());
          }
        };
    List<GrpcBulkWriter.Failure> told = new CopyOnWriteArrayList<>();
    try (FakeGrpcNode node = FakeGrpcNode.start(refuseBad);
        GrpcBulkWriter writer = writer(node).onFailure(told::add).open()) {
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        futures.add(writer.update(increment((i % 7 == 3 ? "bad:" : "ok:") + i)));
      }
      writer.flush();
      assertEquals(17, writer.succeeded());
      assertEquals(3, writer.failed());
      assertEquals(Set.copyOf(told), Set.copyOf(writer.failures()));
      assertEquals(
          List.of("4 bad:3", "11 bad:10", "18 bad:17"),
          told.stream()
              .sorted(Comparator.comparingLong(GrpcBulkWriter.Failure::id))
              .map(f -> f.id() + " " + f.key())
              .toList());
      for (GrpcBulkWriter.Failure f : told) {
        assertEquals("update", f.operation());
        ItemRefusedException refused = (ItemRefusedException) f.cause();
        assertEquals(f.id(), refused.id());
        assertEquals("INVALID_ARGUMENT", refused.code());
        assertEquals("bad update: \"n\" is a string", refused.serverMessage());
        assertEquals(node.target(), refused.node());
        assertSame(
            refused, Await.failure(futures.get((int) f.id() - 1), ServerErrorException.class));
      }
    }
  }

  @Test
  void shouldFailEveryItemInFlightWhenTheStreamBreaksAndOpenAnotherForTheNextWrite() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      List<CompletableFuture<Void>> lost = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        lost.add(writer.update(increment("user:" + i)));
      }
      Await.until("three sent", () -> node.receivedCount() == 3);
      call.ack(2, 2);
      call.fail(Status.INTERNAL.withDescription("disk on fire"));
      for (int i : new int[] {0, 2}) {
        ConnectionClosedException e = Await.failure(lost.get(i), ConnectionClosedException.class);
        assertEquals(
            "the Ingest stream to "
                + node.target()
                + " ended: INTERNAL: disk on fire; 2 items unanswered (those sent may have been"
                + " applied)",
            e.getMessage());
      }
      Await.value(lost.get(1));

      node.respondWith(FakeGrpcNode.ACK_EACH);
      Await.value(writer.update(increment("user:9")));
      FakeGrpcNode.Call second = node.nextCall();
      assertFalse(second.cancelled());
      assertEquals(2, writer.succeeded());
      assertEquals(2, writer.failed());
    }
  }

  @Test
  void shouldFailItemsInFlightWhenTheNodeShutsDown() {
    FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
    try (GrpcBulkWriter writer = writer(node).open()) {
      CompletableFuture<Void> update = writer.update(increment("user:1"));
      Await.until("sent", () -> node.receivedCount() == 1);
      node.close(); // the server resets its streams
      ConnectionClosedException e = Await.failure(update, ConnectionClosedException.class);
      assertTrue(
          e.getMessage().startsWith("the Ingest stream to " + node.target() + " ended: CANCELLED"),
          e.getMessage());
      assertTrue(e.getMessage().endsWith("; 1 item unanswered (those sent may have been applied)"));
    }
  }

  @Test
  void shouldFailItemsInFlightAsNodeUnavailableOnUnavailable() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> update = writer.update(increment("user:1"));
      Await.until("sent", () -> node.receivedCount() == 1);
      call.fail(Status.UNAVAILABLE.withDescription("draining"));
      NodeUnavailableException e = Await.failure(update, NodeUnavailableException.class);
      assertEquals(List.of(node.target()), e.nodes());
      assertEquals(
          node.target()
              + " is down: UNAVAILABLE: draining; 1 item unanswered (those sent may have been"
              + " applied)",
          e.getMessage());
    }
  }

  @Test
  void shouldCancelTheStreamWhenAnAcknowledgementNamesAnIdNotInFlight() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> one = writer.update(increment("a"));
      CompletableFuture<Void> two = writer.update(increment("b"));
      Await.until("both sent", () -> node.receivedCount() == 2);
      call.ack(1, 3);
      for (CompletableFuture<Void> f : List.of(one, two)) {
        assertEquals(
            "the node acknowledged ids 1..3, 1 of them not in flight (never sent, or answered"
                + " before); the Ingest stream is cancelled with 2 items",
            Await.failure(f, CorruptReplyException.class).getMessage());
      }
      Await.until("the node sees the cancel", call::cancelled);
    }
  }

  @Test
  void shouldCancelTheStreamWhenAnItemIsAnsweredTwice() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> one = writer.update(increment("a"));
      CompletableFuture<Void> two = writer.update(increment("b"));
      Await.until("both sent", () -> node.receivedCount() == 2);
      call.ack(1, 1);
      Await.value(one);
      call.refuse(1, "INVALID_ARGUMENT", "after all, no");
      assertEquals(
          "the node refused id 1, not in flight (never sent, or answered before); the Ingest"
              + " stream is cancelled with 1 item",
          Await.failure(two, CorruptReplyException.class).getMessage());
      Await.until("the node sees the cancel", call::cancelled);
      assertEquals(1, writer.succeeded());
    }
  }

  @Test
  void shouldRefuseARangeThatIsNoRangeOfIdsSent() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> one = writer.update(increment("a"));
      Await.until("sent", () -> node.receivedCount() == 1);
      call.ack(-1, -1); // uint64 18446744073709551615
      assertTrue(
          Await.failure(one, CorruptReplyException.class)
              .getMessage()
              .startsWith(
                  "the node acknowledged ids 18446744073709551615..18446744073709551615, not a"
                      + " range of ids sent"));
    }
  }

  @Test
  void shouldFailItemsInFlightWhenTheNodeEndsTheStream() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> one = writer.update(increment("a"));
      CompletableFuture<Void> two = writer.update(increment("b"));
      Await.until("both sent", () -> node.receivedCount() == 2);
      call.ack(2, 2).complete();
      assertEquals(
          "the node at " + node.target() + " ended the Ingest stream with 1 item unanswered",
          Await.failure(one, ConnectionClosedException.class).getMessage());
      Await.value(two);
    }
  }

  @Test
  void shouldTimeOutAndCancelTheStreamWhenNoAnswerComes() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).answerTimeout(Duration.ofMillis(200)).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      long start = System.nanoTime();
      CompletableFuture<Void> one = writer.update(increment("a"));
      WhackTimeoutException e = Await.failure(one, WhackTimeoutException.class);
      assertTrue(Await.millisSince(start) >= 200, "not before the timeout");
      assertEquals(
          "no answer from "
              + node.target()
              + " in 200 ms with 1 item in flight; the Ingest stream is cancelled",
          e.getMessage());
      Await.until("the node sees the cancel", call::cancelled);
    }
  }

  @Test
  void shouldNotTimeOutWhileAnswersKeepComing() {
    // Each answer comes 100 ms after its item, 12 in a row: longer in all than the timeout of a
    // second, which counts from the last answer.
    FakeGrpcNode.Responder slow =
        (item, call) ->
            CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS)
                .execute(() -> call.ack(item.getId(), item.getId()));
    try (FakeGrpcNode node = FakeGrpcNode.start(slow);
        GrpcBulkWriter writer =
            writer(node).maxInFlight(1).answerTimeout(Duration.ofSeconds(1)).open()) {
      long start = System.nanoTime();
      for (int i = 0; i < 12; i++) {
        writer.update(increment("a"));
      }
      writer.flush();
      assertEquals(12, writer.succeeded(), () -> writer.failures().toString());
      assertTrue(Await.millisSince(start) > 1000, "longer than the timeout in all");
    }
  }

  @Test
  void shouldRefuseToOpenWhenNothingListens() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    NodeUnavailableException e =
        assertThrows(
            NodeUnavailableException.class,
            () -> GrpcBulkWriter.builder("127.0.0.1:" + port).connectTimeout(Await.BOUND).open());
    assertTrue(
        e.getMessage().startsWith("127.0.0.1:" + port + " is down: UNAVAILABLE"), e.getMessage());
  }

  @Test
  void shouldRefuseBadSettingsBeforeConnecting() {
    assertEquals(
        "a server is host:port, got 'nowhere'",
        assertThrows(IllegalArgumentException.class, () -> GrpcBulkWriter.builder("nowhere").open())
            .getMessage());
    assertEquals(
        "maxInFlight is positive, got 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> GrpcBulkWriter.builder("127.0.0.1:1").maxInFlight(0).open())
            .getMessage());
  }

  @Test
  void shouldRefuseToBlockInTheCallbackOfItsOwnAnswer() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT);
        GrpcBulkWriter writer = writer(node).maxInFlight(1).open()) {
      FakeGrpcNode.Call call = node.nextCall();
      AtomicReference<Throwable> refused = new AtomicReference<>();
      CompletableFuture<Void> answered =
          writer
              .update(increment("a"))
              .whenComplete(
                  (ok, failure) -> {
                    try {
                      writer.update(increment("b")); // its own item still holds the only room
                    } catch (IllegalStateException e) {
                      refused.set(e);
                    }
                  });
      Await.until("sent", () -> node.receivedCount() == 1);
      call.ack(1, 1);
      Await.value(answered);
      assertTrue(
          String.valueOf(refused.get()).contains("a gRPC bulk writer blocks when full"),
          String.valueOf(refused.get()));
      assertEquals(1, node.receivedCount());
    }
  }

  @Test
  void shouldEndTheStreamOnCloseAfterEverythingIsAnsweredAndRefuseWritesAfter() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.SILENT)) {
      GrpcBulkWriter writer = writer(node).open();
      FakeGrpcNode.Call call = node.nextCall();
      CompletableFuture<Void> one = writer.update(increment("a"));
      Await.until("sent", () -> node.receivedCount() == 1);
      Thread closer = new Thread(writer::close);
      closer.start();
      Await.until("close waits for the answer", () -> closer.getState() == Thread.State.WAITING);
      assertFalse(call.halfClosed());
      call.ack(1, 1);
      Await.value(one);
      Await.until("the stream ended", call::halfClosed);
      Await.until("closed", () -> !closer.isAlive());
      assertFalse(call.cancelled());
      assertEquals(
          "the writer to " + node.target() + " is closed",
          assertThrows(IllegalStateException.class, () -> writer.update(increment("b")))
              .getMessage());
      assertEquals(0, writer.inFlight());
    }
  }

  @Test
  void shouldSendAProfileAsItIs() {
    try (FakeGrpcNode node = FakeGrpcNode.start(FakeGrpcNode.ACK_EACH);
        GrpcBulkWriter writer = writer(node).open()) {
      Profile profile =
          Profile.newBuilder()
              .setKey("user:1")
              .addAttributes(
                  Attribute.newBuilder()
                      .setName("country")
                      .setValue(Value.newBuilder().setStringValue("DK")))
              .build();
      Await.value(writer.setProfile(profile));
      assertEquals(profile, node.nextItem().getProfile());
    }
  }
}

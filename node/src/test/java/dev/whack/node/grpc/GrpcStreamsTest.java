package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.CountReply;
import dev.whack.proto.CountRequest;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.MembersReply;
import dev.whack.proto.MembersRequest;
import dev.whack.proto.ProfileFormat;
import dev.whack.proto.SegmentChange;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.SubscribeReply;
import dev.whack.proto.SubscribeRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC streams over real sockets: Subscribe's snapshot and live changes, a subscriber that
 * stops reading (ingestion goes on, it is told exactly what it missed, and past the lapped timeout
 * it is ended), Members in pages, protobuf profiles, partial counts, and Ingest under {@code
 * --fsync always} surviving a restart.
 */
class GrpcStreamsTest {
  @Test
  void shouldSendTheSnapshotThenTheChangesInOrder() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        WhackGrpc.WhackStub async = WhackGrpc.newStub(channel);
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);
        define(blocking, "one", "n >= 1");
        List<IngestRequest> items = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
          items.add(GrpcCalls.add(i, "k" + i, 1));
        }
        GrpcCalls.ingest(async, items, items.size());

        Iterator<SubscribeReply> replies =
            blocking.subscribe(
                SubscribeRequest.newBuilder().addSegments("one").setSnapshot(true).build());
        Set<String> snapshot = new HashSet<>();
        int pages = 0;
        while (true) {
          SubscribeReply reply = replies.next();
          if (reply.getSnapshotDone()) {
            break;
          }
          assertEquals(0, reply.getChangesCount(), "no change before the snapshot is done");
          reply.getSnapshotList().forEach(m -> snapshot.addAll(m.getKeysList()));
          pages++;
        }
        assertEquals(2500, snapshot.size());
        assertTrue(pages >= 3, "the snapshot comes in pages: " + pages);

        // Live: k0 leaves, a new key enters, k0 enters again; k0's changes in that order.
        GrpcCalls.ingest(
            async,
            List.of(
                GrpcCalls.add(1, "k0", -1), GrpcCalls.add(2, "new", 1), GrpcCalls.add(3, "k0", 1)),
            3);
        List<String> seen = new ArrayList<>();
        while (seen.size() < 3) {
          for (SegmentChange c : replies.next().getChangesList()) {
            assertEquals("one", c.getSegment());
            seen.add(c.getKind() + " " + c.getKey());
          }
        }
        // One profile's changes in the order they happened; two profiles' in any order.
        assertEquals(
            List.of("LEAVE k0", "ENTER k0"), seen.stream().filter(c -> c.endsWith(" k0")).toList());
        assertTrue(seen.contains("ENTER new"), seen.toString());

        GrpcCalls.assertCode(
            Status.Code.NOT_FOUND,
            () ->
                blocking
                    .subscribe(SubscribeRequest.newBuilder().addSegments("nosuch").build())
                    .hasNext());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * 100,000 changes through a 64 KiB change buffer while the subscriber reads nothing: every item
   * is acknowledged (the stalled subscriber holds nothing up), and once it reads, the changes it
   * gets plus the missed counts it is told add up to exactly what happened.
   */
  @Test
  void shouldNotSlowIngestionForASubscriberThatStopsReadingAndTellItWhatItMissed()
      throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c ->
                c.grpcPort(ports[0])
                    .watchBufferBytes(64 * 1024)
                    .watchLappedTimeoutMillis(600_000))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        WhackGrpc.WhackStub async = WhackGrpc.newStub(channel);
        define(WhackGrpc.newBlockingStub(channel), "one", "n >= 1");
        StalledSubscriber stalled = StalledSubscriber.start(node, async, "one");

        int changes = 100_000;
        List<IngestRequest> items = new ArrayList<>(changes);
        for (int i = 0; i < changes; i++) {
          items.add(GrpcCalls.add(i, "t" + (i % 8), i % 16 < 8 ? 1 : -1)); // enter, then leave
        }
        GrpcCalls.Ingested ingested = GrpcCalls.ingest(async, items, changes);
        assertEquals(changes, ingested.acked().size());

        stalled.readAll();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (stalled.received.get() + stalled.missed.get() < changes
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertEquals(changes, stalled.received.get() + stalled.missed.get());
        assertTrue(stalled.missed.get() > 0, "a 64 KiB buffer laps a stalled subscriber");
        stalled.call.cancel("done", null);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void shouldEndASubscriberThatStaysLappedWithResourceExhausted() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node =
        EmbeddedNode.start(
            c -> c.grpcPort(ports[0]).watchBufferBytes(64 * 1024).watchLappedTimeoutMillis(1000))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        WhackGrpc.WhackStub async = WhackGrpc.newStub(channel);
        define(WhackGrpc.newBlockingStub(channel), "one", "n >= 1");
        StalledSubscriber stalled = StalledSubscriber.start(node, async, "one");
        List<IngestRequest> items = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
          items.add(GrpcCalls.add(i, "t" + (i % 8), i % 16 < 8 ? 1 : -1));
        }
        GrpcCalls.ingest(async, items, items.size());
        Thread.sleep(2500); // lapped for longer than the timeout
        stalled.readAll();
        Throwable end = stalled.ended.get(30, TimeUnit.SECONDS);
        StatusRuntimeException e = (StatusRuntimeException) end;
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
        assertTrue(e.getStatus().getDescription().contains("lapped"), e.toString());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void shouldListMembersInPagesReadProtobufProfilesAndCountPartially() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        WhackGrpc.WhackStub async = WhackGrpc.newStub(channel);
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);
        List<IngestRequest> items = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          items.add(GrpcCalls.add(i, "m" + i, i + 1));
        }
        GrpcCalls.ingest(async, items, 5);
        define(blocking, "two", "n >= 2");

        List<MembersReply> pages = new ArrayList<>();
        blocking
            .members(MembersRequest.newBuilder().setExpression("two").setPageSize(2).build())
            .forEachRemaining(pages::add);
        Set<String> keys = new TreeSet<>();
        pages.forEach(p -> keys.addAll(p.getKeysList()));
        assertEquals(Set.of("m1", "m2", "m3", "m4"), keys);
        assertTrue(pages.get(0).getKeysCount() == 2 && !pages.get(0).getNextCursor().isEmpty());
        assertTrue(pages.get(pages.size() - 1).getNextCursor().isEmpty(), "the last has none");

        // A cursor resumes after its page, in a new call.
        Set<String> rest = new TreeSet<>(pages.get(0).getKeysList());
        blocking
            .members(
                MembersRequest.newBuilder()
                    .setExpression("two")
                    .setPageSize(2)
                    .setCursor(pages.get(0).getNextCursor())
                    .build())
            .forEachRemaining(p -> rest.addAll(p.getKeysList()));
        assertEquals(keys, rest);
        Set<String> filtered = new TreeSet<>();
        blocking
            .members(MembersRequest.newBuilder().setExpression("n > 3").setFilter(true).build())
            .forEachRemaining(p -> filtered.addAll(p.getKeysList()));
        assertEquals(Set.of("m3", "m4"), filtered);
        GrpcCalls.assertCode(
            Status.Code.INVALID_ARGUMENT,
            () ->
                blocking
                    .members(
                        MembersRequest.newBuilder().setExpression("two").setCursor("x").build())
                    .hasNext());

        GetProfilesReply profiles =
            blocking.getProfiles(
                GetProfilesRequest.newBuilder()
                    .addKeys("m4")
                    .addKeys("none")
                    .setFormat(ProfileFormat.PROFILE_FORMAT_PROTOBUF)
                    .build());
        assertEquals("m4", profiles.getProfiles(0).getProfile().getKey());
        assertEquals(
            5,
            profiles.getProfiles(0).getProfile().getAttributesList().stream()
                .filter(a -> a.getName().equals("n"))
                .findFirst()
                .orElseThrow()
                .getValue()
                .getIntValue());
        assertFalse(profiles.getProfiles(1).getFound());

        CountReply partial =
            blocking.count(CountRequest.newBuilder().setExpression("two").setPartial(true).build());
        assertEquals(4, partial.getCount());
        assertEquals(0, partial.getMissingCount(), "a node alone misses nothing");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void shouldKeepWhatIngestAcknowledgedUnderFsyncAlwaysAcrossARestart(@TempDir Path dir)
      throws Exception {
    int[] ports = FreePorts.take(1);
    Path data = Files.createDirectories(dir.resolve("data"));
    List<IngestRequest> items = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      items.add(GrpcCalls.add(i, "d" + (i % 30), 1));
    }
    try (EmbeddedNode node =
        EmbeddedNode.start(c -> c.grpcPort(ports[0]).dataDir(data).fsync("always"))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        GrpcCalls.ingest(WhackGrpc.newStub(channel), items, items.size());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    try (EmbeddedNode node =
        EmbeddedNode.start(c -> c.grpcPort(ports[0]).dataDir(data).fsync("always"))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        define(WhackGrpc.newBlockingStub(channel), "ten", "n == 10");
        assertEquals(
            30,
            WhackGrpc.newBlockingStub(channel)
                .count(CountRequest.newBuilder().setExpression("ten").build())
                .getCount(),
            "every acknowledged update is there after the restart");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A producer's stream cut mid-way (its connection closed with items unanswered), then sent again
   * whole on a new connection: with producer and seq, every update counts exactly once.
   */
  @Test
  void shouldCountEachUpdateOnceWhenADroppedStreamIsSentAgain() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      List<IngestRequest> items = new ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        items.add(GrpcCalls.increment(i, "x" + (i % 10), "producer-x", i + 1));
      }
      ManagedChannel doomed = GrpcCalls.channel(node.node().grpcPort());
      var requests =
          WhackGrpc.newStub(doomed)
              .ingest(
                  new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(dev.whack.proto.IngestReply reply) {}

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                  });
      for (IngestRequest item : items.subList(0, 12_000)) {
        requests.onNext(item);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (stat(node, "profile_updates") < 1000) { // part of it applied: then cut
        assertTrue(System.nanoTime() < deadline, "the first stream was never applied");
        Thread.sleep(5);
      }
      doomed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS); // cut, answers unread

      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        GrpcCalls.Ingested again =
            GrpcCalls.ingest(WhackGrpc.newStub(channel), items, items.size());
        assertEquals(items.size(), again.acked().size());
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);
        define(blocking, "all", "n == 2000");
        assertEquals(
            10,
            blocking.count(CountRequest.newBuilder().setExpression("all").build()).getCount(),
            "each of the 10 counters at exactly 2000");
        assertTrue(
            stat(node, "profile_updates_ignored") > 0,
            "part of the cut stream was applied before the cut, and its repeat was ignored");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A producer that stops reading its answers stops being read: the node asks for no more items
   * than it has answered and the client takes, so the client's sends stop being ready long before a
   * million small items, and once it reads, every item sent is answered.
   */
  @Test
  void shouldStopReadingAProducerThatStopsReadingItsAnswers() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        AtomicLong answered = new AtomicLong();
        CompletableFuture<Void> done = new CompletableFuture<>();
        List<ClientCallStreamObserver<IngestRequest>> call = new ArrayList<>();
        WhackGrpc.newStub(channel)
            .ingest(
                new ClientResponseObserver<IngestRequest, dev.whack.proto.IngestReply>() {
                  @Override
                  public void beforeStart(ClientCallStreamObserver<IngestRequest> c) {
                    call.add(c);
                    c.disableAutoRequestWithInitial(0); // reads no answer until told
                  }

                  @Override
                  public void onNext(dev.whack.proto.IngestReply reply) {
                    reply
                        .getAckedList()
                        .forEach(r -> answered.addAndGet(r.getLast() - r.getFirst() + 1));
                    answered.addAndGet(reply.getErrorsCount());
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
        long sent = 0;
        long notReadySince = 0;
        while (sent < 1_000_000) {
          if (call.get(0).isReady()) {
            call.get(0).onNext(GrpcCalls.add(sent, "no spaces " + sent, 1));
            sent++;
            notReadySince = 0;
          } else if (notReadySince == 0) {
            notReadySince = System.nanoTime();
          } else if (System.nanoTime() - notReadySince > TimeUnit.SECONDS.toNanos(2)) {
            break; // held back for 2 s: the node is not reading this producer
          } else {
            Thread.sleep(5);
          }
        }
        assertTrue(sent < 1_000_000, "the node kept reading a producer that reads nothing");
        call.get(0).request(Integer.MAX_VALUE);
        call.get(0).onCompleted();
        done.get(60, TimeUnit.SECONDS);
        assertEquals(sent, answered.get(), "every item sent is answered once read");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** A request of many items answers each by its id, a bad one among them refused alone. */
  @Test
  void shouldAnswerEachItemOfABatchByItsId() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
      try {
        List<IngestRequest> requests = new ArrayList<>();
        long id = 0;
        for (int r = 0; r < 100; r++) {
          IngestRequest.Builder request = IngestRequest.newBuilder();
          for (int i = 0; i < 50; i++) {
            IngestRequest one = GrpcCalls.add(id, i == 7 && r == 3 ? "no spaces" : "b" + i, 1);
            request.addItems(
                dev.whack.proto.IngestItem.newBuilder().setId(id).setUpdate(one.getUpdate()));
            id++;
          }
          requests.add(request.build());
        }
        java.util.Set<Long> acked = new java.util.HashSet<>();
        List<dev.whack.proto.IngestError> errors = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        var stream =
            WhackGrpc.newStub(channel)
                .ingest(
                    new io.grpc.stub.StreamObserver<>() {
                      @Override
                      public void onNext(dev.whack.proto.IngestReply reply) {
                        for (var range : reply.getAckedList()) {
                          for (long i = range.getFirst(); i <= range.getLast(); i++) {
                            assertTrue(acked.add(i), "answered twice: " + i);
                          }
                        }
                        errors.addAll(reply.getErrorsList());
                      }

                      @Override
                      public void onError(Throwable t) {
                        done.completeExceptionally(t);
                      }

                      @Override
                      public void onCompleted() {
                        done.complete(null);
                      }
                    });
        requests.forEach(stream::onNext);
        stream.onCompleted();
        done.get(30, TimeUnit.SECONDS);
        assertEquals(4999, acked.size());
        assertEquals(1, errors.size());
        assertEquals(157, errors.get(0).getId());
        assertEquals("INVALID_ARGUMENT", errors.get(0).getCode());
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);
        define(blocking, "hundred", "n == 100");
        assertEquals(
            49,
            blocking.count(CountRequest.newBuilder().setExpression("hundred").build()).getCount(),
            "b7 missed one; every other key got all 100");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** A node stopping ends its subscriptions at once, telling them why, instead of waiting. */
  @Test
  void shouldEndSubscriptionsWithUnavailableWhenTheNodeStops() throws Exception {
    int[] ports = FreePorts.take(1);
    EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]));
    ManagedChannel channel = GrpcCalls.channel(node.node().grpcPort());
    try {
      define(WhackGrpc.newBlockingStub(channel), "one", "n >= 1");
      StalledSubscriber subscriber =
          StalledSubscriber.start(node, WhackGrpc.newStub(channel), "one");
      subscriber.readAll();
      long start = System.nanoTime();
      node.close();
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      Throwable end = subscriber.ended.get(10, TimeUnit.SECONDS);
      assertEquals(
          Status.Code.UNAVAILABLE,
          ((StatusRuntimeException) end).getStatus().getCode(),
          end.toString());
      assertTrue(millis < 4000, "the node took " + millis + " ms to stop with a subscriber");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      node.close();
    }
  }

  /** A number of the node's {@code stats}. */
  static long stat(EmbeddedNode node, String name) {
    try (RawConnection c = node.connect()) {
      c.send("stats\r\n");
      long value = -1;
      for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
        if (line.startsWith("STAT " + name + " ")) {
          value = Long.parseLong(line.substring(name.length() + 6).trim());
        }
      }
      return value;
    }
  }

  /** Waits until the node counts this many watchers (its {@code stats}). */
  static void awaitWatchers(EmbeddedNode node, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try (RawConnection c = node.connect()) {
      while (true) {
        c.send("stats\r\n");
        boolean there = false;
        for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
          there |= line.equals("STAT watchers " + count + "\r\n");
        }
        if (there) {
          return;
        }
        assertTrue(System.nanoTime() < deadline, "no " + count + " watchers in 10 s");
        Thread.sleep(10);
      }
    }
  }

  static void define(WhackGrpc.WhackBlockingStub blocking, String name, String expression) {
    blocking.defineSegment(
        DefineSegmentRequest.newBuilder()
            .setSegment(SegmentDefinition.newBuilder().setName(name).setExpression(expression))
            .build());
  }

  /** A subscriber that asks for no reply until told to read them all. */
  static final class StalledSubscriber
      implements ClientResponseObserver<SubscribeRequest, SubscribeReply> {
    final AtomicLong received = new AtomicLong();
    final AtomicLong missed = new AtomicLong();
    final CompletableFuture<Throwable> ended = new CompletableFuture<>();
    final LinkedBlockingQueue<SubscribeReply> unused = new LinkedBlockingQueue<>();
    ClientCallStreamObserver<SubscribeRequest> call;

    static StalledSubscriber start(EmbeddedNode node, WhackGrpc.WhackStub stub, String segment)
        throws Exception {
      StalledSubscriber s = new StalledSubscriber();
      stub.subscribe(SubscribeRequest.newBuilder().addSegments(segment).build(), s);
      awaitWatchers(node, 1); // subscribed before the first change
      return s;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<SubscribeRequest> call) {
      this.call = call;
      call.disableAutoRequestWithInitial(0);
    }

    void readAll() {
      call.request(Integer.MAX_VALUE);
    }

    @Override
    public void onNext(SubscribeReply reply) {
      received.addAndGet(reply.getChangesCount());
      missed.addAndGet(reply.getMissed());
    }

    @Override
    public void onError(Throwable t) {
      ended.complete(t);
    }

    @Override
    public void onCompleted() {
      ended.complete(null);
    }
  }
}

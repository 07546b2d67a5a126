package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.Attribute;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IdRange;
import dev.whack.proto.Increment;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.Profile;
import dev.whack.proto.ProfileResult;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * gRPC in a Kafka-managed cluster: Ingest items go through the updates topic as the memcached
 * port's writes do (docs/cluster.md, "Writes through the log"), whichever member receives them, so
 * the standby copies have them; each key's items apply in the order sent, and any member reads what
 * another acknowledged.
 */
class ManagedGrpcTest {
  private static final int SLOTS = 6;
  private static final int KEYS = 40;
  private static final int ROUNDS = 5;

  @Test
  void shouldSendIngestedItemsThroughTheLogFromAnyMember() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "managed-grpc";
    broker.createTopic(topic, SLOTS, false);
    int[] ports = FreePorts.take(4);
    List<AutoCloseable> started = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        int port = ports[i];
        int grpc = ports[2 + i];
        started.add(
            EmbeddedNode.start(
                c ->
                    c.port(port)
                        .grpcPort(grpc)
                        .kafka(KafkaOptions.updates(broker.bootstrap(), topic, null))
                        .cluster("managed-grpc")
                        .sessionTimeoutMillis(ManagedClusterTest.SESSION_MILLIS)));
      }
      ManagedClusterTest.awaitMap(List.of(ports[0], ports[1]), SLOTS);
      ManagedChannel first = channel(ports[2]);
      ManagedChannel second = channel(ports[3]);
      started.add(() -> first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
      started.add(() -> second.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));

      // A whole profile per key, then increments: all through member 0, in one stream.
      List<IngestRequest> items = new ArrayList<>();
      for (int k = 0; k < KEYS; k++) {
        items.add(
            IngestRequest.newBuilder()
                .setId(items.size())
                .setProfile(
                    Profile.newBuilder()
                        .setKey("g" + k)
                        .addAttributes(
                            Attribute.newBuilder()
                                .setName("n")
                                .setValue(Value.newBuilder().setIntValue(100))))
                .build());
      }
      for (int round = 0; round < ROUNDS; round++) {
        for (int k = 0; k < KEYS; k++) {
          items.add(
              IngestRequest.newBuilder()
                  .setId(items.size())
                  .setUpdate(
                      Update.newBuilder()
                          .setKey("g" + k)
                          .addIncr(Increment.newBuilder().setName("n").setIntDelta(1)))
                  .build());
        }
      }
      assertEquals(items.size(), ingest(first, items), "every item acknowledged");

      // Read through member 1: the profile set first, then every increment, in order.
      GetProfilesRequest.Builder ask = GetProfilesRequest.newBuilder();
      for (int k = 0; k < KEYS; k++) {
        ask.addKeys("g" + k);
      }
      GetProfilesReply read = WhackGrpc.newBlockingStub(second).getProfiles(ask.build());
      for (ProfileResult r : read.getProfilesList()) {
        assertTrue(r.getJson().contains("\"n\":" + (100 + ROUNDS)), r.toString());
      }
      // A snapshot on member 1 waits for its watch of member 0 to open, then covers both.
      WhackGrpc.newBlockingStub(first)
          .defineSegment(
              dev.whack.proto.DefineSegmentRequest.newBuilder()
                  .setSegment(
                      dev.whack.proto.SegmentDefinition.newBuilder()
                          .setName("done")
                          .setExpression("n == " + (100 + ROUNDS)))
                  .build());
      java.util.Set<String> snapshot = subscribedSnapshot(second, "done");
      assertEquals(KEYS, snapshot.size(), "the snapshot covers both members");

      long logged = 0;
      for (int i = 0; i < 2; i++) {
        logged += loggedWrites(ports[i]);
      }
      assertTrue(logged >= items.size(), "every item went through the updates topic: " + logged);
    } finally {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
    }
  }

  private static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** Sends the items on one stream; the number acknowledged (an error fails the test). */
  private static long ingest(ManagedChannel channel, List<IngestRequest> items) throws Exception {
    AtomicLong acked = new AtomicLong();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<IngestRequest> requests =
        WhackGrpc.newStub(channel)
            .ingest(
                new StreamObserver<>() {
                  @Override
                  public void onNext(IngestReply reply) {
                    for (IdRange r : reply.getAckedList()) {
                      acked.addAndGet(r.getLast() - r.getFirst() + 1);
                    }
                    if (reply.getErrorsCount() > 0) {
                      done.completeExceptionally(new AssertionError(reply.getErrorsList()));
                    }
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
    items.forEach(requests::onNext);
    requests.onCompleted();
    done.get(60, TimeUnit.SECONDS);
    return acked.get();
  }

  /** {@code logged_writes} of a member's {@code stats cluster}. */
  private static long loggedWrites(int port) {
    try (RawConnection c = new RawConnection("127.0.0.1", port)) {
      c.send("stats cluster\r\n");
      long logged = 0;
      for (String line = c.readLine().trim(); !line.equals("END"); line = c.readLine().trim()) {
        if (line.startsWith("STAT logged_writes ")) {
          logged = Long.parseLong(line.substring("STAT logged_writes ".length()));
        }
      }
      return logged;
    }
  }

  /**
   * The members of {@code segment} a Subscribe's snapshot gives. A member that is taking over slots
   * refuses with UNAVAILABLE and "try again shortly" (its answer would miss their keys): asked
   * again, as a client is told to, for up to a minute.
   */
  private static java.util.Set<String> subscribedSnapshot(ManagedChannel channel, String segment)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      java.util.Set<String> snapshot = new java.util.HashSet<>();
      try {
        var changes =
            WhackGrpc.newBlockingStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .subscribe(
                    dev.whack.proto.SubscribeRequest.newBuilder()
                        .addSegments(segment)
                        .setSnapshot(true)
                        .build());
        for (var r = changes.next(); !r.getSnapshotDone(); r = changes.next()) {
          r.getSnapshotList().forEach(m -> snapshot.addAll(m.getKeysList()));
        }
        return snapshot;
      } catch (io.grpc.StatusRuntimeException e) {
        boolean retry =
            e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE
                && String.valueOf(e.getStatus().getDescription()).contains("try again");
        if (!retry || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }
}

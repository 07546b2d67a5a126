package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.CountRequest;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.DropSegmentRequest;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.SegmentsOfRequest;
import dev.whack.proto.Update;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The gRPC port of a node (docs/grpc.md) over a real socket with grpc-java's own client: Ingest
 * acknowledges each item or says why not without ending the stream, a producer's sequence makes a
 * stream sent again after a drop count once, reads and counts see what was ingested, errors carry
 * gRPC status codes, and health and reflection answer.
 */
class GrpcServiceTest {
  @Test
  void shouldIngestReadCountAndAnswerHealthAndReflectionOverARealSocket() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", ports[0]).usePlaintext().build();
      try {
        WhackGrpc.WhackStub async = WhackGrpc.newStub(channel);
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);

        // One stream: three increments, one bad item, one more increment.
        List<IngestRequest> items = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
          items.add(GrpcCalls.increment(id, "g1", null, 0));
        }
        items.add(IngestRequest.newBuilder().setId(4).setUpdate(Update.newBuilder()).build());
        items.add(GrpcCalls.increment(5, "g1", null, 0));
        items.add(GrpcCalls.increment(6, "a key", null, 0)); // no key memcached could name
        GrpcCalls.Ingested first = GrpcCalls.ingest(async, items, items.size());
        assertEquals(List.of(1L, 2L, 3L, 5L), first.acked(), "each good item acknowledged");
        assertEquals(2, first.errors().size());
        assertEquals(4, first.errors().get(0).getId());
        assertEquals("INVALID_ARGUMENT", first.errors().get(0).getCode());
        assertEquals(6, first.errors().get(1).getId());
        assertEquals("INVALID_ARGUMENT", first.errors().get(1).getCode());

        // A producer's stream dropped after seq 2 and sent again from seq 2: each counts once.
        GrpcCalls.Ingested dropped =
            GrpcCalls.ingest(
                async,
                List.of(GrpcCalls.increment(1, "g2", "p", 1), GrpcCalls.increment(2, "g2", "p", 2)),
                2);
        assertEquals(List.of(1L, 2L), dropped.acked());
        GrpcCalls.Ingested again =
            GrpcCalls.ingest(
                async,
                List.of(
                    GrpcCalls.increment(1, "g2", "p", 2),
                    GrpcCalls.increment(2, "g2", "p", 3),
                    GrpcCalls.increment(3, "g2", "p", 4)),
                3);
        assertEquals(List.of(1L, 2L, 3L), again.acked(), "a repeat is acknowledged and ignored");

        GetProfilesReply profiles =
            blocking.getProfiles(
                GetProfilesRequest.newBuilder()
                    .addKeys("g1")
                    .addKeys("g2")
                    .addKeys("none")
                    .build());
        assertTrue(profiles.getProfiles(0).getJson().contains("\"n\":4"), profiles.toString());
        assertTrue(profiles.getProfiles(1).getJson().contains("\"n\":4"), profiles.toString());
        assertTrue(!profiles.getProfiles(2).getFound());

        assertEquals(
            2,
            blocking
                .defineSegment(
                    DefineSegmentRequest.newBuilder()
                        .setSegment(
                            SegmentDefinition.newBuilder().setName("big").setExpression("n >= 4"))
                        .build())
                .getSize(),
            "defined and backfilled over the profiles held");
        assertEquals(
            List.of("big"),
            blocking
                .segmentsOf(SegmentsOfRequest.newBuilder().setKey("g1").build())
                .getSegmentsList());
        assertEquals(
            "big",
            blocking
                .segmentsOf(SegmentsOfRequest.newBuilder().setKey("g1").build())
                .getMemberships(0)
                .getSegment());
        assertEquals(
            "big n >= 4 2",
            blocking
                .listSegments(ListSegmentsRequest.getDefaultInstance())
                .getSegmentsList()
                .stream()
                .map(x -> x.getName() + " " + x.getExpression() + " " + x.getSize())
                .findFirst()
                .orElseThrow());
        try (RawConnection c = node.connect()) {
          c.send("segcount 3\r\nbig\r\n"); // the memcached port sees the same segment
          assertEquals("COUNT 2\r\n", c.readLine());
        }
        assertEquals(
            2, blocking.count(CountRequest.newBuilder().setExpression("big").build()).getCount());
        assertEquals(
            2,
            blocking
                .count(CountRequest.newBuilder().setExpression("n >= 4").setFilter(true).build())
                .getCount(),
            "a filter counts too");
        GrpcCalls.assertCode(
            Status.Code.NOT_FOUND,
            () -> blocking.count(CountRequest.newBuilder().setExpression("nosuch").build()));
        StatusRuntimeException bad =
            GrpcCalls.assertCode(
                Status.Code.INVALID_ARGUMENT,
                () ->
                    blocking.count(
                        CountRequest.newBuilder().setExpression("n >=").setFilter(true).build()));
        assertTrue(bad.getStatus().getDescription().contains("position"), bad.toString());

        StatusRuntimeException badName =
            GrpcCalls.assertCode(
                Status.Code.INVALID_ARGUMENT,
                () ->
                    blocking.defineSegment(
                        DefineSegmentRequest.newBuilder()
                            .setSegment(
                                SegmentDefinition.newBuilder()
                                    .setName("and")
                                    .setExpression("n > 1"))
                            .build()));
        assertTrue(badName.getStatus().getDescription().contains("and"), badName.toString());
        blocking.defineSegment(
            DefineSegmentRequest.newBuilder()
                .setSegment(
                    SegmentDefinition.newBuilder()
                        .setName("reads_big")
                        .setExpression("in_segment(\"big\")"))
                .build());
        StatusRuntimeException read =
            GrpcCalls.assertCode(
                Status.Code.INVALID_ARGUMENT,
                () -> blocking.dropSegment(DropSegmentRequest.newBuilder().setName("big").build()));
        assertTrue(
            read.getStatus().getDescription().contains("is read by reads_big"), read.toString());
        blocking.dropSegment(DropSegmentRequest.newBuilder().setName("big").setForce(true).build());
        GrpcCalls.assertCode(
            Status.Code.NOT_FOUND,
            () -> blocking.dropSegment(DropSegmentRequest.newBuilder().setName("big").build()));
        GrpcCalls.assertCode(
            Status.Code.NOT_FOUND,
            () ->
                blocking.dropSegment(DropSegmentRequest.newBuilder().setName("reads_big").build()));

        HealthCheckResponse health =
            HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService("whack.v1.Whack").build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        assertTrue(reflectedServices(channel).contains("whack.v1.Whack"));
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static List<String> reflectedServices(ManagedChannel channel) throws Exception {
    List<String> names = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> ask =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse r) {
                    r.getListServicesResponse()
                        .getServiceList()
                        .forEach(s -> names.add(s.getName()));
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
    ask.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    ask.onCompleted();
    done.get(10, TimeUnit.SECONDS);
    return names;
  }
}

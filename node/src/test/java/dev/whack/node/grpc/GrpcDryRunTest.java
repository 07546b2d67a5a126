package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.DefineSegmentReply;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.SegmentChange;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.SubscribeReply;
import dev.whack.proto.SubscribeRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code DefineSegment} with {@code dry_run} over a real gRPC socket (docs/grpc.md): the size a
 * definition would have and a sample of its members, a definition's errors with their codes, and
 * nothing defined or told to a subscriber.
 */
class GrpcDryRunTest {
  private static DefineSegmentRequest.Builder dryRun(String name, String expression) {
    return DefineSegmentRequest.newBuilder()
        .setSegment(SegmentDefinition.newBuilder().setName(name).setExpression(expression))
        .setDryRun(true);
  }

  @Test
  void shouldAnswerTheSizeAndASampleAndDefineNothing() throws Exception {
    int[] ports = FreePorts.take(1);
    try (EmbeddedNode node = EmbeddedNode.start(c -> c.grpcPort(ports[0]))) {
      ManagedChannel channel = GrpcCalls.channel(ports[0]);
      try {
        WhackGrpc.WhackBlockingStub blocking = WhackGrpc.newBlockingStub(channel);
        List<IngestRequest> items = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          items.add(GrpcCalls.add(i, "k" + i, i % 3)); // n: 0, 1, 2, 0, 1, 2...
        }
        items.add(GrpcCalls.add(30, "k\u00f6", 2));
        GrpcCalls.ingest(WhackGrpc.newStub(channel), items, items.size());
        GrpcStreamsTest.define(blocking, "one", "n == 1");
        Iterator<SubscribeReply> changes =
            blocking.subscribe(SubscribeRequest.newBuilder().addSegments("one").build());

        DefineSegmentReply twos = blocking.defineSegment(dryRun("two", "n == 2").build());
        assertEquals(11, twos.getSize());
        List<String> all = new ArrayList<>();
        try (RawConnection c = node.connect()) {
          c.send("filtermembers 6 1000\r\nn == 2\r\n");
          for (String line = c.readLine(); !line.equals("END\r\n"); line = c.readLine()) {
            all.add(line.substring(4, line.length() - 2));
          }
        }
        assertEquals(
            all.subList(0, 10).stream().map(k -> k.replace("%C3%B6", "\u00f6")).toList(),
            twos.getSampleList(),
            "ten keys by default, the engine's first, as UTF-8 text");
        assertEquals(
            List.of("k2", "k5", "k8"),
            blocking.defineSegment(dryRun("two", "n == 2").setSample(3).build()).getSampleList());
        assertTrue(
            blocking
                .defineSegment(dryRun("two", "n == 2").setSample(1000).build())
                .getSampleList()
                .contains("k\u00f6"));
        DefineSegmentReply countOnly =
            blocking.defineSegment(dryRun("one", "n >= 1").setSample(0).build());
        assertEquals(21, countOnly.getSize());
        assertEquals(0, countOnly.getSampleCount(), "a sample of 0: the count alone");

        for (int sample : new int[] {1001, -1}) {
          StatusRuntimeException bad =
              GrpcCalls.assertCode(
                  Status.Code.INVALID_ARGUMENT,
                  () -> blocking.defineSegment(dryRun("two", "n == 2").setSample(sample).build()));
          assertTrue(
              bad.getStatus().getDescription().contains("a sample is 0 to 1000 keys"),
              bad.toString());
        }
        StatusRuntimeException badExpression =
            GrpcCalls.assertCode(
                Status.Code.INVALID_ARGUMENT,
                () -> blocking.defineSegment(dryRun("two", "n ==").build()));
        assertTrue(
            badExpression.getStatus().getDescription().startsWith("bad expression at position 4"),
            badExpression.toString());
        GrpcCalls.assertCode(
            Status.Code.INVALID_ARGUMENT,
            () -> blocking.defineSegment(dryRun("not", "n == 2").build()));

        assertEquals(
            List.of("one 10"),
            blocking
                .listSegments(ListSegmentsRequest.getDefaultInstance())
                .getSegmentsList()
                .stream()
                .map(s -> s.getName() + " " + s.getSize())
                .toList(),
            "nothing defined, and the dry run of \"one\" left it as it was");
        // k1 (n 1 -> 2) leaves "one" as it is defined; as the dry run had it (n >= 1) it stays.
        GrpcCalls.ingest(WhackGrpc.newStub(channel), List.of(GrpcCalls.add(1, "k1", 1)), 1);
        SegmentChange first = changes.next().getChanges(0);
        assertEquals(
            SegmentChange.Kind.LEAVE + " k1",
            first.getKind() + " " + first.getKey(),
            "the subscriber's first change is the update's: none came from the dry runs");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}

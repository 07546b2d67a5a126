package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.proto.IdRange;
import dev.whack.proto.Increment;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.Update;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Calls the gRPC tests make with grpc-java's own client. */
final class GrpcCalls {
  private GrpcCalls() {}

  static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** An update setting the attribute {@code last} to {@code value}: what wins shows the order. */
  static IngestRequest setLast(long id, String key, long value) {
    return IngestRequest.newBuilder()
        .setId(id)
        .setUpdate(
            Update.newBuilder()
                .setKey(key)
                .addSet(
                    dev.whack.proto.Attribute.newBuilder()
                        .setName("last")
                        .setValue(dev.whack.proto.Value.newBuilder().setIntValue(value))))
        .build();
  }

  /** An update adding {@code delta} to the counter {@code n}, with a producer and seq if given. */
  static IngestRequest add(long id, String key, long delta) {
    return IngestRequest.newBuilder()
        .setId(id)
        .setUpdate(
            Update.newBuilder()
                .setKey(key)
                .addIncr(Increment.newBuilder().setName("n").setIntDelta(delta)))
        .build();
  }

  static IngestRequest increment(long id, String key, String producer, long seq) {
    Update.Builder update =
        Update.newBuilder().setKey(key).addIncr(Increment.newBuilder().setName("n").setIntDelta(1));
    if (producer != null) {
      update.setProducer(producer).setSeq(seq);
    }
    return IngestRequest.newBuilder().setId(id).setUpdate(update).build();
  }

  /** What one Ingest stream acknowledged and refused, by id. */
  record Ingested(List<Long> acked, List<IngestError> errors) {}

  static Ingested ingest(WhackGrpc.WhackStub stub, List<IngestRequest> items, int answers)
      throws Exception {
    List<Long> acked = new ArrayList<>();
    List<IngestError> errors = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<IngestRequest> requests =
        stub.ingest(
            new StreamObserver<>() {
              @Override
              public void onNext(IngestReply reply) {
                for (IdRange r : reply.getAckedList()) {
                  for (long id = r.getFirst(); id <= r.getLast(); id++) {
                    acked.add(id);
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
    for (IngestRequest item : items) {
      requests.onNext(item);
    }
    requests.onCompleted();
    done.get(60, TimeUnit.SECONDS); // every reply was handled before the stream completed
    assertEquals(answers, acked.size() + errors.size(), "an answer per item");
    // Each id sent is answered exactly once.
    java.util.Set<Long> answered = new java.util.HashSet<>(acked);
    errors.forEach(e -> answered.add(e.getId()));
    java.util.Set<Long> sent = new java.util.HashSet<>();
    items.forEach(i -> sent.add(i.getId()));
    assertEquals(sent, answered, "every id answered once");
    return new Ingested(acked, errors);
  }

  static StatusRuntimeException assertCode(Status.Code code, Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      assertEquals(code, e.getStatus().getCode(), e.toString());
      return e;
    }
    throw new AssertionError("no error, where " + code + " was due");
  }
}

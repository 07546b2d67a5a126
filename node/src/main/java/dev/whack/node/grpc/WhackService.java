package dev.whack.node.grpc;

import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.proto.CountReply;
import dev.whack.proto.CountRequest;
import dev.whack.proto.DefineSegmentReply;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.DropSegmentReply;
import dev.whack.proto.DropSegmentRequest;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IdRange;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsReply;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.ProfileResult;
import dev.whack.proto.SegmentSummary;
import dev.whack.proto.SegmentsOfReply;
import dev.whack.proto.SegmentsOfRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.Status.Code;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;

/**
 * The gRPC service's calls (docs/grpc.md), on the same keyspace and engine calls the memcached
 * commands use. One node's data: the node refuses to serve gRPC in a cluster until forwarding is
 * built.
 *
 * <p>Concurrency: gRPC calls each stream's observer methods one at a time, on the server's
 * executor; each call takes a keyspace session of its own.
 */
final class WhackService extends WhackGrpc.WhackImplBase {
  private final Keyspace keyspace;
  private final ProfileEngine engine;

  WhackService(Keyspace keyspace, ProfileEngine engine) {
    this.keyspace = keyspace;
    this.engine = engine;
  }

  /**
   * Applies each item as it arrives and acknowledges it (or says why not) before it asks for the
   * next: the client's messages wait in gRPC's own flow-control window, never in the node.
   */
  @Override
  public StreamObserver<IngestRequest> ingest(StreamObserver<IngestReply> replies) {
    ServerCallStreamObserver<IngestReply> call = (ServerCallStreamObserver<IngestReply>) replies;
    call.disableAutoRequest();
    KeyspaceSession session = keyspace.session();
    Outcome outcome = new Outcome();
    // gRPC runs these handlers one at a time for a call; the flags are read and written there.
    boolean[] waitingToRead = {false};
    boolean[] gone = {false};
    call.setOnCancelHandler(() -> gone[0] = true);
    call.setOnReadyHandler(
        () -> {
          // The client reads its acknowledgements again: the next message may come.
          if (waitingToRead[0] && !gone[0]) {
            waitingToRead[0] = false;
            call.request(1);
          }
        });
    call.request(1);
    return new StreamObserver<>() {
      @Override
      public void onNext(IngestRequest request) {
        if (gone[0]) {
          return;
        }
        IngestReply.Builder reply = IngestReply.newBuilder();
        IngestError error = apply(request, session, outcome);
        if (error == null) {
          reply.addAcked(IdRange.newBuilder().setFirst(request.getId()).setLast(request.getId()));
        } else {
          reply.addErrors(error);
        }
        call.onNext(reply.build());
        // A client that does not read its acknowledgements gets no more of its messages read.
        if (call.isReady()) {
          call.request(1);
        } else {
          waitingToRead[0] = true;
        }
      }

      @Override
      public void onError(Throwable t) {
        gone[0] = true; // what it sent was applied and acknowledged one by one
      }

      @Override
      public void onCompleted() {
        if (!gone[0]) {
          call.onCompleted();
        }
      }
    };
  }

  private static IngestError apply(
      IngestRequest request, KeyspaceSession session, Outcome outcome) {
    Status status;
    try {
      switch (request.getItemCase()) {
        case UPDATE -> {
          byte[] key = request.getUpdate().getKey().getBytes(StandardCharsets.UTF_8);
          String bad = Keyspace.badKey(key);
          if (bad != null) {
            return error(request, Code.INVALID_ARGUMENT, bad);
          }
          byte[] body = request.getUpdate().toByteArray();
          status = session.update(key, 0, key.length, body, 0, body.length, true, outcome);
        }
        case PROFILE -> {
          byte[] key = request.getProfile().getKey().getBytes(StandardCharsets.UTF_8);
          String bad = Keyspace.badKey(key);
          if (bad != null) {
            return error(request, Code.INVALID_ARGUMENT, bad);
          }
          status =
              session.store(
                  StoreMode.SET,
                  key,
                  0,
                  key.length,
                  Keyspace.PROTOBUF_PROFILE_FLAGS,
                  0,
                  request.getProfile().toByteArray(),
                  0,
                  false,
                  false,
                  outcome);
        }
        default -> {
          return error(request, Code.INVALID_ARGUMENT, "an item is an update or a profile");
        }
      }
    } catch (ProfileRejectedException | EngineException | IllegalArgumentException e) {
      return error(request, Code.INVALID_ARGUMENT, e.getMessage());
    }
    return switch (status) {
      case STORED, IGNORED -> null;
      case TOO_LARGE ->
          error(request, Code.RESOURCE_EXHAUSTED, "the profile would exceed the item size limit");
      case RESERVED -> error(request, Code.INVALID_ARGUMENT, "keys under _whack/ are reserved");
      case NOT_PROFILE -> error(request, Code.FAILED_PRECONDITION, "the key holds no profile");
      default -> error(request, Code.INTERNAL, "not applied: " + status);
    };
  }

  private static IngestError error(IngestRequest request, Code code, String message) {
    return IngestError.newBuilder()
        .setId(request.getId())
        .setCode(code.name())
        .setMessage(String.valueOf(message))
        .build();
  }

  @Override
  public void getProfiles(GetProfilesRequest request, StreamObserver<GetProfilesReply> replies) {
    GetProfilesReply.Builder reply = GetProfilesReply.newBuilder();
    for (String key : request.getKeysList()) {
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      byte[] json =
          Keyspace.isReserved(k, 0, k.length) ? null : keyspace.profileJson(k, 0, k.length);
      ProfileResult.Builder result = ProfileResult.newBuilder().setKey(key).setFound(json != null);
      if (json != null) {
        result.setJson(new String(json, StandardCharsets.UTF_8));
      }
      reply.addProfiles(result);
    }
    replies.onNext(reply.build());
    replies.onCompleted();
  }

  @Override
  public void segmentsOf(SegmentsOfRequest request, StreamObserver<SegmentsOfReply> replies) {
    byte[] key = request.getKey().getBytes(StandardCharsets.UTF_8);
    String bad = Keyspace.badKey(key);
    if (bad != null) {
      replies.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription(bad).asRuntimeException());
      return;
    }
    replies.onNext(
        SegmentsOfReply.newBuilder()
            .addAllSegments(keyspace.segmentsOf(key, 0, key.length))
            .build());
    replies.onCompleted();
  }

  @Override
  public void defineSegment(
      DefineSegmentRequest request, StreamObserver<DefineSegmentReply> replies) {
    answer(
        replies,
        () -> {
          SegmentInfo defined =
              engine.define(request.getSegment().getName(), request.getSegment().getExpression());
          return DefineSegmentReply.newBuilder().setSize(defined.size()).build();
        });
  }

  @Override
  public void dropSegment(DropSegmentRequest request, StreamObserver<DropSegmentReply> replies) {
    answer(
        replies,
        () -> {
          if (!engine.drop(request.getName())) {
            throw io.grpc.Status.NOT_FOUND
                .withDescription("no segment named " + request.getName())
                .asRuntimeException();
          }
          return DropSegmentReply.getDefaultInstance();
        });
  }

  @Override
  public void listSegments(ListSegmentsRequest request, StreamObserver<ListSegmentsReply> replies) {
    ListSegmentsReply.Builder reply = ListSegmentsReply.newBuilder();
    for (SegmentInfo s : engine.segments()) {
      reply.addSegments(
          SegmentSummary.newBuilder()
              .setName(s.name())
              .setExpression(s.expression())
              .setSize(s.size()));
    }
    replies.onNext(reply.build());
    replies.onCompleted();
  }

  /**
   * Answers with what {@code call} returns, or with the status its refusal maps to: an unknown
   * segment NOT_FOUND, a bad expression or name INVALID_ARGUMENT with the engine's reason (an
   * expression's position included).
   */
  private static <T> void answer(StreamObserver<T> replies, java.util.function.Supplier<T> call) {
    T reply;
    try {
      reply = call.get();
    } catch (io.grpc.StatusRuntimeException e) {
      replies.onError(e);
      return;
    } catch (dev.whack.node.engine.segment.UnknownSegmentException e) {
      replies.onError(
          io.grpc.Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException());
      return;
    } catch (EngineException | IllegalArgumentException e) {
      replies.onError(
          io.grpc.Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    replies.onNext(reply);
    replies.onCompleted();
  }

  @Override
  public void count(CountRequest request, StreamObserver<CountReply> replies) {
    answer(
        replies,
        () ->
            CountReply.newBuilder()
                .setCount(
                    request.getFilter()
                        ? engine.filterCount(request.getExpression())
                        : engine.count(request.getExpression()))
                .build());
  }
}

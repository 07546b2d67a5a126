package dev.whack.node.grpc;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.ClusterSegments;
import dev.whack.proto.MembersReply;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;

/**
 * One {@code Members} call: the listing's pages, one asked for only once the last was sent and the
 * call can take another ({@code isReady}), so a reader that stops holds at most one page in the
 * node. Each reply's {@code next_cursor} resumes after it; the last has none.
 *
 * <p>Concurrency: pages complete on the cluster client's threads (or at once on a node alone); the
 * next step runs on the executor, one at a time, under this object's monitor.
 */
final class MembersStream {
  private final ServerCallStreamObserver<MembersReply> call;
  private final ClusterSegments segments;
  private final ClusterSegments.Listing listing;
  private final String expression;
  private final int limit;
  private final Executor executor;
  private String cursor;
  private boolean asking;
  private boolean done;

  MembersStream(
      ServerCallStreamObserver<MembersReply> call,
      ClusterSegments segments,
      ClusterSegments.Listing listing,
      String expression,
      String cursor,
      int limit,
      Executor executor) {
    this.call = call;
    this.segments = segments;
    this.listing = listing;
    this.expression = expression;
    this.cursor = cursor;
    this.limit = limit;
    this.executor = executor;
  }

  /**
   * A key as the engine lists it (one char per byte) as the UTF-8 text it was written as, for a
   * protobuf string: Members pages and Subscribe snapshots alike.
   */
  static String asText(String engineKey) {
    return new String(engineKey.getBytes(ISO_8859_1), UTF_8);
  }

  synchronized void start() {
    call.setOnReadyHandler(this::next);
    call.setOnCancelHandler(this::cancelled);
    next();
  }

  private synchronized void cancelled() {
    done = true;
  }

  /** Asks for the next page if the call can take it and none is on its way. */
  private synchronized void next() {
    if (done || asking || !call.isReady()) {
      return;
    }
    asking = true;
    segments
        .page(listing, expression, cursor, limit)
        .whenCompleteAsync(
            (page, failure) -> {
              synchronized (this) {
                asking = false;
                if (done) {
                  return;
                }
                if (failure != null) {
                  done = true;
                  call.onError(GrpcErrors.statusOf(failure));
                  return;
                }
                MembersReply.Builder reply = MembersReply.newBuilder();
                for (String key : page.keys()) {
                  reply.addKeys(asText(key));
                }
                cursor = page.nextCursor();
                if (cursor != null) {
                  reply.setNextCursor(cursor);
                }
                call.onNext(reply.build());
                if (cursor == null) {
                  done = true;
                  call.onCompleted();
                  return;
                }
                next();
              }
            },
            executor);
  }
}

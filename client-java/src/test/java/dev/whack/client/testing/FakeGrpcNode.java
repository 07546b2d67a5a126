package dev.whack.client.testing;

import dev.whack.proto.IdRange;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted gRPC {@code Ingest} service on a loopback port, for tests of how the client copes with
 * whatever a node answers: each request is handed to the current {@link Responder} (which may
 * answer at once, later through its {@link Call}, never, or wrongly), and is kept for the test.
 */
public final class FakeGrpcNode implements AutoCloseable {
  /** Sees each item as it arrives, on a gRPC server thread. */
  @FunctionalInterface
  public interface Responder {
    void onItem(IngestRequest item, Call call);
  }

  /** Answers nothing: the test answers through {@link #nextCall()}. */
  public static final Responder SILENT = (item, call) -> {};

  /** Acknowledges each item as it arrives, as a node does. */
  public static final Responder ACK_EACH = (item, call) -> call.ack(item.getId(), item.getId());

  /** The reply side of one {@code Ingest} call. */
  public static final class Call {
    private final ServerCallStreamObserver<IngestReply> replies;
    private volatile boolean cancelled;
    private volatile boolean halfClosed;

    Call(ServerCallStreamObserver<IngestReply> replies) {
      this.replies = replies;
      replies.setOnCancelHandler(() -> cancelled = true);
    }

    public synchronized Call reply(IngestReply reply) {
      replies.onNext(reply);
      return this;
    }

    public Call ack(long first, long last) {
      return reply(
          IngestReply.newBuilder()
              .addAcked(IdRange.newBuilder().setFirst(first).setLast(last))
              .build());
    }

    public Call refuse(long id, String code, String message) {
      return reply(
          IngestReply.newBuilder()
              .addErrors(IngestError.newBuilder().setId(id).setCode(code).setMessage(message))
              .build());
    }

    public synchronized void fail(Status status) {
      replies.onError(status.asRuntimeException());
    }

    public synchronized void complete() {
      replies.onCompleted();
    }

    /** The client cancelled the call. */
    public boolean cancelled() {
      return cancelled;
    }

    /** The client ended its side of the stream (after its last item). */
    public boolean halfClosed() {
      return halfClosed;
    }
  }

  private final Server server;
  private final String target;
  private final BlockingQueue<IngestRequest> received = new LinkedBlockingQueue<>();
  private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
  private final AtomicInteger receivedCount = new AtomicInteger();
  private volatile Responder responder;

  private FakeGrpcNode(Responder responder) {
    this.responder = responder;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new Service())
            .build();
    try {
      server.start();
      target = "127.0.0.1:" + server.getPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static FakeGrpcNode start(Responder responder) {
    return new FakeGrpcNode(responder);
  }

  /** {@code 127.0.0.1:port}. */
  public String target() {
    return target;
  }

  /** Answers the items still to come with {@code responder}. */
  public void respondWith(Responder responder) {
    this.responder = responder;
  }

  /** Items received so far, on every call. */
  public int receivedCount() {
    return receivedCount.get();
  }

  /** The next item received, failing the test if none comes within {@link Await#BOUND}. */
  public IngestRequest nextItem() {
    return take(received, "an item");
  }

  /** The next call opened, failing the test if none comes within {@link Await#BOUND}. */
  public Call nextCall() {
    return take(calls, "an Ingest call");
  }

  private static <T> T take(BlockingQueue<T> queue, String what) {
    try {
      T t = queue.poll(Await.BOUND.toMillis(), TimeUnit.MILLISECONDS);
      if (t == null) {
        throw new AssertionError("no " + what + " within " + Await.BOUND);
      }
      return t;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Service extends WhackGrpc.WhackImplBase {
    @Override
    public StreamObserver<IngestRequest> ingest(StreamObserver<IngestReply> replies) {
      Call call = new Call((ServerCallStreamObserver<IngestReply>) replies);
      calls.add(call);
      return new StreamObserver<>() {
        @Override
        public void onNext(IngestRequest item) {
          received.add(item);
          receivedCount.incrementAndGet();
          responder.onItem(item, call);
        }

        @Override
        public void onError(Throwable t) {
          call.cancelled = true;
        }

        @Override
        public void onCompleted() {
          call.halfClosed = true;
          call.complete();
        }
      };
    }
  }
}

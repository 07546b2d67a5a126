package dev.whack.node.grpc;

import dev.whack.node.durability.DurableLog;
import dev.whack.proto.IdRange;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestReply;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * One {@code Ingest} call (docs/grpc.md). gRPC's automatic reading is off: the node asks for at
 * most {@link #WINDOW} items at a time, and for one more only once an item is answered and the
 * client reads its answers ({@code isReady}), so a fast producer waits in HTTP/2's window, never in
 * the node's memory. Items are written in order as they come ({@link ItemWriter}); one whose answer
 * comes from elsewhere (its owner, the updates log) makes the next item of the same key wait for
 * it, so each key's items apply in the order sent. Answers collect into one reply of id ranges and
 * errors until the executor gets to send it, so a busy stream gets few, dense replies.
 *
 * <p>Concurrency: gRPC calls the observer one message at a time; answers that come later complete
 * on the executor. Everything that touches the call or the stream's state holds this object's
 * monitor.
 */
final class IngestStream implements StreamObserver<IngestItem> {
  /** Items asked for and not yet answered, at most. */
  static final int WINDOW = 256;

  private final ServerCallStreamObserver<IngestReply> call;
  private final ItemWriter writer;
  private final DurableLog log;
  private final Executor executor;
  private final Runnable flushTask = this::flush;

  /** Items that wait for an earlier item of their key, or for the log to catch up, in order. */
  private final ArrayDeque<IngestItem> held = new ArrayDeque<>();

  /** Keys with an item whose answer comes from elsewhere, not answered yet. */
  private final Set<ByteBuffer> keysOnTheirWay = new HashSet<>();

  private IngestReply.Builder answers = IngestReply.newBuilder();

  /** The acknowledged range being extended, not yet in {@link #answers}. */
  private boolean rangeOpen;

  private long rangeFirst;
  private long rangeLast;
  private int unanswered;

  /** Answered items whose place in the window is not yet given back to the client. */
  private int owed;

  private boolean flushScheduled;
  private boolean waitingForLog;
  private boolean clientDone;
  private boolean gone;

  /**
   * @param log the node's log, whose overload holds the stream's next items (null: in memory)
   */
  IngestStream(
      ServerCallStreamObserver<IngestReply> call,
      ItemWriter writer,
      DurableLog log,
      Executor executor) {
    this.call = call;
    this.writer = writer;
    this.log = log;
    this.executor = executor;
  }

  /** Sets the call up; from the service's method, before it returns. */
  synchronized void start() {
    call.disableAutoRequest();
    call.setOnCancelHandler(this::cancelled);
    call.setOnReadyHandler(this::ready);
    call.request(WINDOW);
  }

  @Override
  public synchronized void onNext(IngestItem item) {
    if (gone) {
      return;
    }
    unanswered++;
    if (!held.isEmpty() || waitsForItsKey(item) || !write(item)) {
      held.addLast(item);
    }
  }

  /** Whether an earlier item of the same key is on its way elsewhere. */
  private boolean waitsForItsKey(IngestItem item) {
    return item.key() != null
        && !keysOnTheirWay.isEmpty()
        && keysOnTheirWay.contains(ByteBuffer.wrap(item.key()));
  }

  /**
   * Writes one item, or returns false when it must wait: the log is too far behind the writes (a
   * slow disk), and the stream resumes once it has caught up, as a memcached connection does.
   */
  private boolean write(IngestItem request) {
    if (log != null && log.overloaded()) {
      if (!waitingForLog) {
        waitingForLog = true;
        log.whenRelieved(() -> executor.execute(this::logRelieved));
      }
      return false;
    }
    ItemWriter.Written written = writer.write(request);
    if (written.answer().isDone()) {
      answered(request.id(), written.answer().join());
      return true;
    }
    ByteBuffer ordered = written.keyOrdered() ? ByteBuffer.wrap(request.key()) : null;
    if (ordered != null) {
      keysOnTheirWay.add(ordered);
    }
    long id = request.id();
    written
        .answer()
        .whenCompleteAsync(
            (error, failure) -> {
              synchronized (this) {
                if (ordered != null) {
                  keysOnTheirWay.remove(ordered);
                }
                answered(
                    id,
                    failure == null
                        ? error
                        : ItemWriter.error(
                            request, io.grpc.Status.Code.INTERNAL, String.valueOf(failure)));
                writeHeld();
              }
            },
            executor);
    return true;
  }

  private synchronized void logRelieved() {
    waitingForLog = false;
    writeHeld();
  }

  /** Writes the held items that may go now, in order, up to the first that must still wait. */
  private void writeHeld() {
    while (!held.isEmpty() && !gone) {
      IngestItem next = held.peekFirst();
      if (waitsForItsKey(next) || !write(next)) {
        return;
      }
      held.removeFirst();
    }
  }

  /** Adds an item's answer to the reply being collected, and has it sent. */
  private void answered(long id, IngestError error) {
    unanswered--;
    owed++;
    if (error != null) {
      answers.addErrors(error);
    } else if (rangeOpen && id == rangeLast + 1) {
      rangeLast = id; // the common case: the next id of a range, no object made
    } else {
      closeRange();
      rangeOpen = true;
      rangeFirst = id;
      rangeLast = id;
    }
    if (!flushScheduled) {
      flushScheduled = true;
      executor.execute(flushTask);
    }
  }

  /** Puts the range being extended into the reply. */
  private void closeRange() {
    if (rangeOpen) {
      answers.addAcked(IdRange.newBuilder().setFirst(rangeFirst).setLast(rangeLast));
      rangeOpen = false;
    }
  }

  /** Sends the answers collected, gives their places in the window back, ends a finished call. */
  private synchronized void flush() {
    flushScheduled = false;
    if (gone) {
      return;
    }
    closeRange();
    if (answers.getAckedCount() > 0 || answers.getErrorsCount() > 0) {
      call.onNext(answers.build());
      answers = IngestReply.newBuilder();
    }
    giveBack();
    if (clientDone && unanswered == 0) {
      gone = true;
      call.onCompleted();
    }
  }

  /** Asks for as many items as were answered, while the client reads its answers. */
  private void giveBack() {
    if (owed > 0 && !clientDone && call.isReady()) {
      call.request(owed);
      owed = 0;
    }
  }

  /** The client reads its answers again. */
  private synchronized void ready() {
    if (!gone) {
      giveBack();
    }
  }

  private synchronized void cancelled() {
    gone = true; // what was applied stays applied; its answers have no one to go to
    held.clear();
  }

  @Override
  public synchronized void onError(Throwable t) {
    cancelled();
  }

  @Override
  public synchronized void onCompleted() {
    clientDone = true;
    if (!gone && unanswered == 0 && !flushScheduled) {
      flush();
    }
  }
}

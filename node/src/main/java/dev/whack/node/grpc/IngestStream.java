package dev.whack.node.grpc;

import dev.whack.node.durability.DurableLog;
import dev.whack.proto.IdRange;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestReply;
import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * One {@code Ingest} call (docs/grpc.md). gRPC's automatic reading is off: the node asks for at
 * most {@link #WINDOW} requests (each one item, or a batch of them) at a time, and for more only as
 * their items are answered, while the client reads its answers ({@code isReady}) and while the
 * items held here stay under {@link #MAX_HELD_BYTES}, so a fast producer waits in HTTP/2's window,
 * never in the node's memory.
 *
 * <p>Items are written as they come ({@link ItemWriter}). One whose answer comes from elsewhere
 * (its owner, the updates log) makes the later items of its key wait for it, each key in a queue of
 * its own, so each key's items apply in the order sent while other keys go on. While the log is too
 * far behind its writes, new items wait in arrival order until it catches up. Answers collect into
 * one reply of id ranges and errors until the executor gets to send it, so a busy stream gets few,
 * dense replies.
 *
 * <p>Concurrency: gRPC calls the observer one message at a time; answers that come later complete
 * on the executor. Everything that touches the call or the stream's state holds this object's
 * monitor.
 */
final class IngestStream implements StreamObserver<List<IngestItem>> {
  /** Requests asked for and not yet answered, at most. */
  static final int WINDOW = 256;

  /** Bytes of items waiting here (for their key, or for the log) past which no more are asked. */
  static final int MAX_HELD_BYTES = 8 << 20;

  private final ServerCallStreamObserver<IngestReply> call;
  private final ItemWriter writer;
  private final DurableLog log;
  private final Executor executor;
  private final Runnable flushTask = this::flush;

  /**
   * Keys with an item on its way elsewhere, each with the later items of that key waiting for it,
   * in order (empty while none waits).
   */
  private final Map<ByteBuffer, ArrayDeque<IngestItem>> onTheirWay = new HashMap<>();

  /** Items that came while the log was too far behind, in arrival order. */
  private final ArrayDeque<IngestItem> forTheLog = new ArrayDeque<>();

  private long heldBytes;

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

  /** Run once the stream is over, however it ended (the service forgets it). */
  private Runnable onEnd;

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
  public synchronized void onNext(List<IngestItem> items) {
    if (gone) {
      return;
    }
    unanswered += items.size();
    for (IngestItem item : items) {
      if (!forTheLog.isEmpty()) {
        hold(forTheLog, item); // behind items that wait for the log: in arrival order
      } else {
        submit(item);
      }
    }
  }

  /** Writes the item, or queues it behind its key's item on its way, or behind the log. */
  private void submit(IngestItem item) {
    ArrayDeque<IngestItem> keyQueue =
        item.key() == null || onTheirWay.isEmpty()
            ? null
            : onTheirWay.get(ByteBuffer.wrap(item.key()));
    if (keyQueue != null) {
      hold(keyQueue, item);
      return;
    }
    if (log != null && log.overloaded()) {
      // The log is behind the writes by its whole allowance (a slow disk): take in no more, as a
      // memcached connection pauses, until it has caught up.
      hold(forTheLog, item);
      waitForTheLog();
      return;
    }
    write(item);
  }

  private void hold(ArrayDeque<IngestItem> queue, IngestItem item) {
    queue.addLast(item);
    heldBytes += item.message().length;
  }

  private IngestItem unhold(ArrayDeque<IngestItem> queue) {
    IngestItem item = queue.pollFirst();
    heldBytes -= item.message().length;
    return item;
  }

  private void waitForTheLog() {
    if (!waitingForLog) {
      waitingForLog = true;
      log.whenRelieved(() -> executor.execute(this::logRelieved));
    }
  }

  /** Writes one item; its answer now, or once it comes from elsewhere. */
  private void write(IngestItem item) {
    ItemWriter.Written written;
    try {
      written = writer.write(item);
    } catch (RuntimeException e) {
      // A failure of the node's, not of the item (a log that cannot be written, a bug): this item
      // is answered with it, and the stream goes on.
      answered(item, ItemWriter.error(item, Code.INTERNAL, "not applied: " + e));
      return;
    }
    if (written.answer().isDone()) {
      answered(item, written.answer().join());
      return;
    }
    ByteBuffer key = written.keyOrdered() ? ByteBuffer.wrap(item.key()) : null;
    if (key != null) {
      onTheirWay.put(key, new ArrayDeque<>());
    }
    written
        .answer()
        .whenCompleteAsync(
            (error, failure) -> {
              synchronized (this) {
                answered(
                    item,
                    failure == null
                        ? error
                        : ItemWriter.error(item, Code.INTERNAL, "not applied: " + failure));
                if (key != null) {
                  nextOfKey(key);
                }
              }
            },
            executor);
  }

  /** The key's item on its way is answered: its next items go, up to one that goes elsewhere. */
  private void nextOfKey(ByteBuffer key) {
    ArrayDeque<IngestItem> waiting = onTheirWay.remove(key);
    while (waiting != null && !waiting.isEmpty() && !gone) {
      write(unhold(waiting));
      ArrayDeque<IngestItem> again = onTheirWay.get(key);
      if (again != null) {
        again.addAll(waiting); // that one went elsewhere: the rest wait for it, still in order
        return;
      }
    }
    giveBack();
  }

  private synchronized void logRelieved() {
    waitingForLog = false;
    while (!forTheLog.isEmpty() && !gone) {
      if (log.failure() != null) {
        IngestItem item = unhold(forTheLog);
        answered(
            item,
            ItemWriter.error(
                item,
                Code.UNAVAILABLE,
                "the log cannot be written: " + log.failure().getMessage()));
        continue;
      }
      if (log.overloaded()) {
        waitForTheLog();
        return;
      }
      IngestItem item = unhold(forTheLog);
      ArrayDeque<IngestItem> keyQueue =
          item.key() == null ? null : onTheirWay.get(ByteBuffer.wrap(item.key()));
      if (keyQueue != null) {
        hold(keyQueue, item);
      } else {
        write(item);
      }
    }
    giveBack();
  }

  /**
   * Adds an item's answer to the reply being collected, and has it sent; the last of a request's
   * items gives the request's place in the window back.
   */
  private void answered(IngestItem item, IngestError error) {
    long id = item.id();
    unanswered--;
    if (--item.request().unanswered == 0) {
      owed++;
    }
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
      release();
      call.onCompleted();
    }
  }

  /**
   * Asks for as many items as were answered, while the client reads its answers and the items
   * waiting here are few enough.
   */
  private void giveBack() {
    if (owed > 0 && !clientDone && !gone && heldBytes < MAX_HELD_BYTES && call.isReady()) {
      call.request(owed);
      owed = 0;
    }
  }

  /** The client reads its answers again. */
  private synchronized void ready() {
    giveBack();
  }

  private synchronized void cancelled() {
    release(); // what was applied stays applied; its answers have no one to go to
  }

  /** Run once when the stream is over: completed, cancelled or ended by the node. */
  synchronized void onEnd(Runnable action) {
    this.onEnd = action;
  }

  /**
   * Ends the call now with {@code status}, from any thread (its tenant was dropped): the items held
   * here are never written, and those on their way elsewhere are applied or not, unanswered, as
   * when the client cancels.
   */
  synchronized void endNow(Status status) {
    if (gone) {
      return;
    }
    release();
    if (!call.isCancelled()) {
      call.onError(status.asRuntimeException());
    }
  }

  /**
   * Takes no more items and lets go of those held: nothing waits here for a key, or for the log's
   * relief, once the stream is over.
   */
  private void release() {
    gone = true;
    forTheLog.clear();
    onTheirWay.clear();
    heldBytes = 0;
    Runnable released = onEnd;
    onEnd = null;
    if (released != null) {
      released.run();
    }
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

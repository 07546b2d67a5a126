package dev.whack.client.grpc;

import dev.whack.client.AuthenticationException;
import dev.whack.client.ConnectionClosedException;
import dev.whack.client.CorruptReplyException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.WhackException;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.tls.ClientTls;
import dev.whack.client.transport.Credentials;
import dev.whack.client.transport.NodeAddress;
import dev.whack.proto.IdRange;
import dev.whack.proto.IngestError;
import dev.whack.proto.IngestItem;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * Bulk ingest through a node's gRPC port (docs/grpc.md): updates and whole profiles go out on one
 * {@code Ingest} stream, and the node answers each exactly once, by an acknowledged id range or by
 * an error, matched here by the id the writer gave the item. The gRPC counterpart of {@link
 * dev.whack.client.BulkWriter}, of the same shape: a write returns a future as soon as it is queued
 * and blocks only while {@code maxInFlight} writes are unanswered (backpressure); a write that
 * fails is counted and reported per item (to the failure handler and in {@link #failures()}) and
 * does not stop the others; {@link #flush()} waits for everything written.
 *
 * <pre>{@code
 * try (GrpcBulkWriter writer =
 *     GrpcBulkWriter.builder("10.0.0.7:9090").maxInFlight(1000).onFailure(f -> log(f)).open()) {
 *   for (Update update : updates) writer.update(update);
 * } // close() flushes
 * }</pre>
 *
 * <p>Items carry their key inside ({@code Update.key}, {@code Profile.key}). JSON is turned into
 * these messages by the caller: the readers of Profile and Update JSON are the node's ({@code whack
 * load --grpc} uses them).
 *
 * <p>Flow control. Two bounds keep memory bounded: at most {@code maxInFlight} items are queued or
 * sent and unanswered (a write blocks past that), and an item leaves the queue only while the call
 * {@link ClientCallStreamObserver#isReady() is ready}, so gRPC buffers no more than its own small
 * threshold on top of HTTP/2's window; the call's on-ready handler sends the rest. A sent item's
 * message is dropped here once gRPC has it, so a large profile is not held until its answer. The
 * node applies one item at a time per stream and reads the next only while this side reads its
 * answers, which it always does: each answers items in flight, so they are bounded too.
 *
 * <p>Answers. An {@code acked} range names only ids in flight, each once; an error names one.
 * Acknowledgements may be coalesced and, across keys, come in any order. A reply that breaks this
 * (an id never sent, or answered before) means nothing after it can be trusted: the stream is
 * cancelled and everything in flight on it fails with {@link CorruptReplyException}. A stream that
 * ends with items unanswered (the node went away, the connection dropped) fails them with {@link
 * NodeUnavailableException} for {@code UNAVAILABLE}, else {@link ConnectionClosedException}; the
 * ones sent may have been applied. When nothing is answered for {@code answerTimeout} while items
 * are in flight, the stream is cancelled and they fail with {@link WhackTimeoutException}. A write
 * after a stream ended opens a new one. The future a write returns always completes.
 *
 * <p>Order. The node applies a stream's items in the order sent, so each key's items are applied in
 * the order written (except across a stream that ended: its unanswered items failed).
 *
 * <p>Concurrency: thread-safe; several threads may write through one writer. One lock guards the
 * open stream, its queue and its ids in flight, and serializes every {@code onNext} on the call
 * (gRPC's request observer is not thread-safe). Answers are handled on the channel's network thread
 * (and timeouts on the writer's watchdog thread): the failure handler and the futures' dependent
 * actions run there, outside the lock, and must not block. Writing blocks when full, so it is
 * refused from those callbacks rather than left to deadlock.
 */
public final class GrpcBulkWriter implements AutoCloseable {
  /** Failures kept for {@link #failures()}; the count goes on beyond. */
  public static final int MAX_KEPT_FAILURES = 1000;

  /** Items one request may carry (the node's limit). */
  public static final int MAX_BATCH = 10_000;

  /** How long {@link #close()} waits for the stream and channel to end once all is answered. */
  private static final long CLOSE_TIMEOUT_MS = 5_000;

  /**
   * An item that failed: the id it had on its stream, its key, the operation ({@code set} for a
   * profile, {@code update}), and why: an {@link ItemRefusedException} when the node refused it.
   */
  public record Failure(long id, String key, String operation, Throwable cause) {}

  /** The writer whose answers this thread is delivering, if any. */
  private static final ThreadLocal<GrpcBulkWriter> ANSWERING = new ThreadLocal<>();

  private final String target;
  private final ManagedChannel channel;
  private final Credentials credentials;
  private final WhackGrpc.WhackStub stub;
  private final int maxInFlight;
  private final Semaphore room;
  private final Consumer<Failure> onFailure;
  private final long answerTimeoutNanos;
  private final int batch;
  private final int requestsInFlight;
  private final ScheduledExecutorService watchdog;
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final List<Failure> kept = new ArrayList<>(); // guarded by itself

  private final Object lock = new Object();
  private Stream stream; // guarded by lock: null after one ended, until the next write
  private long lastId; // guarded by lock
  private boolean closed; // guarded by lock

  /** A writer to the gRPC port at {@code target} ({@code host:port}); configure, then open. */
  public static Builder builder(String target) {
    return new Builder(target);
  }

  private GrpcBulkWriter(Builder b, NodeAddress address) {
    this.target = address.name();
    this.maxInFlight = b.maxInFlight;
    this.room = new Semaphore(b.maxInFlight);
    this.onFailure = b.onFailure;
    this.answerTimeoutNanos = b.answerTimeout.toNanos();
    this.batch = b.batch;
    this.requestsInFlight = b.requestsInFlight;
    this.channel = Channels.open(address, b.connectTimeout, b.tls);
    this.credentials = b.credentials;
    this.stub = WhackGrpc.newStub(Channels.authenticated(channel, b.credentials));
    this.watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "whack-grpc-writer-watchdog " + target);
              t.setDaemon(true);
              return t;
            });
    long periodMillis = Math.max(1, b.answerTimeout.toMillis() / 4);
    watchdog.scheduleWithFixedDelay(
        () -> {
          try {
            checkAnswers();
          } catch (RuntimeException e) { // a task that throws is never run again
            System.getLogger(GrpcBulkWriter.class.getName())
                .log(System.Logger.Level.WARNING, "gRPC bulk writer watchdog failed", e);
          }
        },
        periodMillis,
        periodMillis,
        TimeUnit.MILLISECONDS);
  }

  /** Settings of a {@link GrpcBulkWriter}, checked together by {@link #open()}. */
  public static final class Builder {
    private final String target;
    private int maxInFlight = 1000;
    private Consumer<Failure> onFailure;
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration answerTimeout = Duration.ofSeconds(10);
    private int batch = 1;
    private int requestsInFlight = Integer.MAX_VALUE;
    private Credentials credentials;
    private ClientTls tls;

    private Builder(String target) {
      this.target = Objects.requireNonNull(target, "target");
    }

    /** Items queued or sent and not yet answered, at most (default 1000). */
    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** Told of every item that failed, on a gRPC thread; must not block. */
    public Builder onFailure(Consumer<Failure> onFailure) {
      this.onFailure = onFailure;
      return this;
    }

    /**
     * Sends {@code user} and {@code password} as {@code authorization: Basic ...} metadata on every
     * call (default: none), for a node with an auth file (docs/security.md); Ingest needs the
     * {@code write} role. {@link #open()} checks them first and fails if the node refuses them.
     *
     * @throws IllegalArgumentException for a user name with a space, colon, NUL or line end, or a
     *     password with a NUL or a line end
     */
    public Builder credentials(String user, String password) {
      this.credentials = new Credentials(user, password);
      return this;
    }

    /**
     * Speaks TLS to the node's gRPC port (default: plaintext), trusting and presenting what {@code
     * tls} says, as {@code WhackClient.Builder.tls} does on the memcached port: the node's
     * certificate must be signed by the CA and name the target's host. A failed handshake fails
     * {@link #open()} with {@link NodeUnavailableException} ({@code TLS handshake failed: ...}).
     *
     * @param tls the files to use, or null for plaintext
     */
    public Builder tls(ClientTls tls) {
      this.tls = tls;
      return this;
    }

    /** How long {@link #open()} waits for the connection and the stream (default 5 s). */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
      return this;
    }

    /**
     * How long items may be in flight with no answer at all before the stream is cancelled and they
     * fail (default 10 s). It is checked every quarter of itself, so it fires within 1.25 times it.
     */
    public Builder answerTimeout(Duration answerTimeout) {
      this.answerTimeout = Objects.requireNonNull(answerTimeout, "answerTimeout");
      return this;
    }

    /**
     * Sends items in batches (docs/grpc.md, "Batches"): at most {@code requestsInFlight} requests
     * unanswered, each of up to {@code maxItems} items; items written while that many are on their
     * way wait, and go out together as the next request once one is answered. A writer kept busy
     * sends few, large requests (less per item for it and the node); one written to now and then
     * still sends each item at once. The default, {@code (1, unbounded)}, sends every item as a
     * request of its own.
     */
    public Builder batching(int maxItems, int requestsInFlight) {
      this.batch = maxItems;
      this.requestsInFlight = requestsInFlight;
      return this;
    }

    /**
     * Connects and opens the {@code Ingest} stream.
     *
     * @throws IllegalArgumentException for a bad target or setting
     * @throws NodeUnavailableException when the stream is not ready within the connect timeout, or
     *     the node refuses the credentials (its cause an {@link
     *     dev.whack.client.AuthenticationException})
     */
    public GrpcBulkWriter open() {
      NodeAddress address = NodeAddress.parse(target);
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight is positive, got " + maxInFlight);
      }
      if (connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("connectTimeout is positive, got " + connectTimeout);
      }
      if (answerTimeout.isNegative() || answerTimeout.isZero()) {
        throw new IllegalArgumentException("answerTimeout is positive, got " + answerTimeout);
      }
      if (batch < 1 || batch > MAX_BATCH || requestsInFlight < 1) {
        throw new IllegalArgumentException(
            "batching takes 1 to "
                + MAX_BATCH
                + " items per request and at least one request in flight, got "
                + batch
                + " and "
                + requestsInFlight);
      }
      GrpcBulkWriter writer = new GrpcBulkWriter(this, address);
      writer.connect(connectTimeout);
      return writer;
    }
  }

  private void connect(Duration timeout) {
    if (credentials != null) {
      // The node may verify a new password on its auth thread (a third of a second at the default
      // iterations, more behind other logins): the connect and an answer's time.
      checkCredentials(timeout.plusNanos(answerTimeoutNanos));
    }
    Stream first;
    synchronized (lock) {
      first = stream = new Stream();
      first.start();
    }
    try {
      first.started.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return;
    } catch (ExecutionException e) {
      shutdownNow();
      if (e.getCause() instanceof StatusRuntimeException refused
          && refused.getStatus().getCode() == Status.Code.PERMISSION_DENIED) {
        // The user may not ingest (a read role): the node is up, the stream is refused.
        throw new WhackException(target, describe(refused));
      }
      throw NodeUnavailableException.down(
          target, new WhackException(target, describe(e.getCause())));
    } catch (TimeoutException e) {
      shutdownNow();
      throw NodeUnavailableException.down(
          target,
          new WhackTimeoutException(
              target, "no gRPC connection within " + timeout.toMillis() + " ms"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shutdownNow();
      throw new WhackException(target, "interrupted while connecting", e);
    }
  }

  /**
   * Asks the node, within {@code timeout}, one small read with the credentials (a stream's refusal
   * would come only with its first answer), so that refused credentials fail the open rather than
   * every item.
   */
  private void checkCredentials(Duration timeout) {
    try {
      WhackGrpc.newBlockingStub(Channels.authenticated(channel, credentials))
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .listSegments(ListSegmentsRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      if (code == Status.Code.UNAUTHENTICATED) {
        shutdownNow();
        String detail = e.getStatus().getDescription();
        throw NodeUnavailableException.down(
            target,
            new AuthenticationException(
                target,
                credentials.user(),
                detail == null || detail.equals("authentication failed") ? null : detail));
      }
      if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) {
        shutdownNow();
        throw NodeUnavailableException.down(target, new WhackException(target, describe(e)));
      }
      // Anything else (an older node without the method): the credentials were not refused.
    }
  }

  /** Applies an update to the profile under its key ({@code Update.key}). */
  public CompletableFuture<Void> update(Update update) {
    Objects.requireNonNull(update, "update");
    return submit(
        update.getKey(),
        "update",
        id -> IngestRequest.newBuilder().setId(id).setUpdate(update).build());
  }

  /** Replaces the profile under its key ({@code Profile.key}), stored as a protobuf Profile. */
  public CompletableFuture<Void> setProfile(Profile profile) {
    Objects.requireNonNull(profile, "profile");
    return submit(
        profile.getKey(),
        "set",
        id -> IngestRequest.newBuilder().setId(id).setProfile(profile).build());
  }

  private CompletableFuture<Void> submit(
      String key, String operation, LongFunction<IngestRequest> request) {
    acquire(1);
    Entry entry;
    Stream on;
    synchronized (lock) {
      if (closed) {
        room.release();
        throw new IllegalStateException("the writer to " + target + " is closed");
      }
      long id = ++lastId;
      entry = new Entry(id, key, operation, request.apply(id));
      if (stream == null) {
        stream = new Stream();
        stream.start();
      }
      on = stream;
      if (on.enqueue(entry)) {
        return entry.future;
      }
    }
    // The stream ended as it opened (its callbacks ran on this thread, inside the lock).
    deliver(List.of(new Answered(entry, on.endCause)));
    return entry.future;
  }

  private void acquire(int permits) {
    if (room.tryAcquire(permits)) {
      return;
    }
    if (ANSWERING.get() == this) {
      throw new IllegalStateException(
          "a gRPC bulk writer blocks when full; it cannot be written to or flushed from the"
              + " callbacks of its own answers");
    }
    try {
      room.acquire(permits);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WhackException(target, "interrupted while waiting for room to write", e);
    }
  }

  /** Waits until every item written so far has been answered (or has failed). */
  public void flush() {
    acquire(maxInFlight);
    room.release(maxInFlight);
  }

  /** Items answered with an acknowledgement. */
  public long succeeded() {
    return succeeded.get();
  }

  /** Items that failed. */
  public long failed() {
    return failed.get();
  }

  /** Items written and not yet answered, queued or sent. */
  public int inFlight() {
    return maxInFlight - room.availablePermits();
  }

  /** The first {@link #MAX_KEPT_FAILURES} failures. */
  public List<Failure> failures() {
    synchronized (kept) {
      return List.copyOf(kept);
    }
  }

  /** The gRPC port written to, {@code host:port}. */
  public String target() {
    return target;
  }

  /**
   * Refuses further writes, waits for everything written to be answered, ends the stream and closes
   * the connection.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      flush();
      synchronized (lock) {
        if (stream != null && !stream.ended) {
          stream.requests.onCompleted();
        }
      }
      channel.shutdown();
      if (!channel.awaitTermination(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      shutdownNow();
    } finally {
      watchdog.shutdownNow();
    }
  }

  private void shutdownNow() {
    channel.shutdownNow();
    watchdog.shutdownNow();
  }

  /** Ends the open stream when items have been in flight for the answer timeout with no answer. */
  private void checkAnswers() {
    Stream overdue;
    List<Entry> lost;
    WhackTimeoutException timeout;
    synchronized (lock) {
      overdue = stream;
      if (overdue == null || !overdue.overdue(System.nanoTime())) {
        return;
      }
      lost = overdue.end();
      timeout =
          new WhackTimeoutException(
              target,
              "no answer from "
                  + target
                  + " in "
                  + answerTimeoutNanos / 1_000_000
                  + " ms with "
                  + items(lost.size())
                  + " in flight; the Ingest stream is cancelled");
      overdue.endCause = timeout;
    }
    overdue.requests.cancel(timeout.getMessage(), null);
    deliver(failAll(lost, timeout));
  }

  private static List<Answered> failAll(List<Entry> entries, Throwable cause) {
    List<Answered> out = new ArrayList<>(entries.size());
    for (Entry e : entries) {
      out.add(new Answered(e, cause));
    }
    return out;
  }

  /** Completes each item's future, counting and reporting it first; then makes room. */
  private void deliver(List<Answered> answers) {
    GrpcBulkWriter outer = ANSWERING.get();
    ANSWERING.set(this);
    try {
      for (Answered a : answers) {
        if (a.failure == null) {
          succeeded.incrementAndGet();
          a.entry.future.complete(null);
        } else {
          record(new Failure(a.entry.id, a.entry.key, a.entry.operation, a.failure));
          a.entry.future.completeExceptionally(a.failure);
        }
        // After the count and the future's dependents: flush() returning means all are final.
        room.release();
      }
    } finally {
      if (outer == null) {
        ANSWERING.remove();
      } else {
        ANSWERING.set(outer);
      }
    }
  }

  private void record(Failure failure) {
    failed.incrementAndGet();
    synchronized (kept) {
      if (kept.size() < MAX_KEPT_FAILURES) {
        kept.add(failure);
      }
    }
    if (onFailure != null) {
      try {
        onFailure.accept(failure);
      } catch (RuntimeException e) {
        System.getLogger(GrpcBulkWriter.class.getName())
            .log(System.Logger.Level.WARNING, "gRPC bulk failure handler failed", e);
      }
    }
  }

  /** {@code UNAVAILABLE: io exception (Connection refused: /127.0.0.1:1)}. */
  private static String describe(Throwable t) {
    if (t instanceof WhackException) {
      return t.getMessage();
    }
    Status status = Status.fromThrowable(t);
    String handshake = handshakeFailure(status.getCause());
    if (handshake != null) {
      return handshake; // grpc's own words ("io exception" and its pipeline) say nothing more
    }
    StringBuilder b = new StringBuilder(status.getCode().name());
    if (status.getDescription() != null) {
      b.append(": ").append(status.getDescription());
    }
    Throwable cause = status.getCause();
    if (cause != null && cause.getMessage() != null) {
      b.append(" (").append(cause.getMessage()).append(')');
    }
    return b.toString();
  }

  /**
   * The TLS handshake's failure in {@code t}'s causes, in the memcached port's words ({@code TLS
   * handshake failed: <reason>}), or null when it is not one. The reason is the innermost cause:
   * OpenSSL's engine wraps the certificate check's own reason ({@code No subject alternative names
   * matching IP address ...}) in a {@code General OpenSslEngine problem}.
   */
  private static String handshakeFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof javax.net.ssl.SSLException) {
        Throwable reason = c;
        while (reason.getCause() != null && reason.getCause() != reason) {
          reason = reason.getCause();
        }
        String message = reason.getMessage();
        return "TLS handshake failed: "
            + (message == null || message.isEmpty() ? reason.getClass().getSimpleName() : message);
      }
    }
    return null;
  }

  private static String items(int n) {
    return n + (n == 1 ? " item" : " items");
  }

  /** One item in flight. */
  private static final class Entry {
    final long id;
    final String key;
    final String operation;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    IngestRequest request; // guarded by lock; dropped once handed to gRPC

    /** The items of the request it went in that are not answered yet; guarded by lock. */
    int[] requestUnanswered;

    Entry(long id, String key, String operation, IngestRequest request) {
      this.id = id;
      this.key = key;
      this.operation = operation;
      this.request = request;
    }
  }

  /** An item's answer: null for an acknowledgement. */
  private record Answered(Entry entry, Throwable failure) {}

  /** One {@code Ingest} call: its queue of items not yet sent and its items sent, by id. */
  private final class Stream implements ClientResponseObserver<IngestRequest, IngestReply> {
    /** Completes when the call is first ready to send, fails if it ends before. */
    final CompletableFuture<Void> started = new CompletableFuture<>();

    ClientCallStreamObserver<IngestRequest> requests; // set by beforeStart, before any callback
    private final ArrayDeque<Entry> unsent = new ArrayDeque<>(); // guarded by lock
    private final TreeMap<Long, Entry> sent = new TreeMap<>(); // guarded by lock
    private int requestsSent; // guarded by lock: requests with an item not answered yet
    boolean ended; // guarded by lock
    Throwable endCause; // guarded by lock
    private long lastAnswerNanos; // guarded by lock

    void start() {
      stub.ingest(this);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<IngestRequest> requests) {
      this.requests = requests;
      requests.setOnReadyHandler(this::onReady);
    }

    private void onReady() {
      started.complete(null);
      synchronized (lock) {
        sendWhileReady();
      }
    }

    /** Under the lock: queues the item and sends what the call takes; false if it has ended. */
    boolean enqueue(Entry e) {
      if (ended) {
        return false;
      }
      if (unsent.isEmpty() && sent.isEmpty()) {
        lastAnswerNanos = System.nanoTime(); // the answer timeout runs from here
      }
      unsent.add(e);
      sendWhileReady();
      return true;
    }

    private void sendWhileReady() {
      while (!ended && !unsent.isEmpty() && requestsSent < requestsInFlight && requests.isReady()) {
        int n = Math.min(batch, unsent.size());
        int[] unanswered = {n};
        IngestRequest request = null;
        IngestRequest.Builder many = n == 1 ? null : IngestRequest.newBuilder();
        for (int i = 0; i < n; i++) {
          Entry e = unsent.poll();
          sent.put(e.id, e);
          e.requestUnanswered = unanswered;
          if (many == null) {
            request = e.request;
          } else {
            // The request's own fields as an item of a batch (same field numbers).
            many.addItems(
                e.request.hasUpdate()
                    ? IngestItem.newBuilder().setId(e.id).setUpdate(e.request.getUpdate())
                    : IngestItem.newBuilder().setId(e.id).setProfile(e.request.getProfile()));
          }
          e.request = null;
        }
        requestsSent++;
        requests.onNext(many == null ? request : many.build());
      }
    }

    /** Under the lock: an item is answered; its request is once all of its items are. */
    private void answered(Entry e) {
      if (e.requestUnanswered != null && --e.requestUnanswered[0] == 0) {
        requestsSent--;
      }
    }

    /** Under the lock: items have waited for an answer longer than the timeout. */
    boolean overdue(long nowNanos) {
      return !ended
          && !(unsent.isEmpty() && sent.isEmpty())
          && nowNanos - lastAnswerNanos > answerTimeoutNanos;
    }

    /**
     * Under the lock: marks the stream ended and takes every item in flight on it; the caller sets
     * {@link #endCause} before releasing the lock.
     */
    List<Entry> end() {
      ended = true;
      if (stream == this) {
        stream = null;
      }
      List<Entry> lost = new ArrayList<>(sent.values());
      lost.addAll(unsent);
      sent.clear();
      unsent.clear();
      return lost;
    }

    @Override
    public void onNext(IngestReply reply) {
      List<Answered> answers = new ArrayList<>();
      CorruptReplyException corrupt = null;
      synchronized (lock) {
        if (ended) {
          return;
        }
        String wrong = take(reply, answers);
        if (wrong == null) {
          lastAnswerNanos = System.nanoTime();
          sendWhileReady(); // items that waited for a request's answers go now, together
        } else {
          List<Entry> lost = new ArrayList<>();
          for (Answered a : answers) {
            lost.add(a.entry);
          }
          lost.addAll(end());
          corrupt =
              new CorruptReplyException(
                  target, wrong + "; the Ingest stream is cancelled with " + items(lost.size()));
          endCause = corrupt;
          answers = failAll(lost, corrupt);
        }
      }
      if (corrupt != null) {
        requests.cancel(corrupt.getMessage(), null);
      }
      deliver(answers);
    }

    /**
     * Under the lock: moves the items a reply answers out of {@link #sent} into {@code answers};
     * what is wrong with the reply, or null.
     */
    private String take(IngestReply reply, List<Answered> answers) {
      for (IdRange range : reply.getAckedList()) {
        long first = range.getFirst();
        long last = range.getLast();
        // Ids are 1, 2, 3...: a uint64 beyond 2^63 - 1 reads negative here and was never sent.
        if (first < 1 || last < first) {
          return "the node acknowledged ids "
              + Long.toUnsignedString(first)
              + ".."
              + Long.toUnsignedString(last)
              + ", not a range of ids sent";
        }
        SortedMap<Long, Entry> acked = sent.subMap(first, true, last, true);
        long missing = last - first + 1 - acked.size();
        if (missing > 0) {
          return "the node acknowledged ids "
              + first
              + ".."
              + last
              + ", "
              + missing
              + " of them not in flight (never sent, or answered before)";
        }
        for (Entry e : acked.values()) {
          answers.add(new Answered(e, null));
          answered(e);
        }
        acked.clear();
      }
      for (IngestError error : reply.getErrorsList()) {
        Entry e = sent.remove(error.getId());
        if (e == null) {
          return "the node refused id "
              + Long.toUnsignedString(error.getId())
              + ", not in flight (never sent, or answered before)";
        }
        answered(e);
        String code = error.getCode().isEmpty() ? "UNKNOWN" : error.getCode();
        answers.add(
            new Answered(e, new ItemRefusedException(target, e.id, code, error.getMessage())));
      }
      return null;
    }

    @Override
    public void onError(Throwable t) {
      started.completeExceptionally(t);
      List<Entry> lost;
      WhackException cause;
      synchronized (lock) {
        if (ended) {
          return; // cancelled here, its items already failed
        }
        lost = end();
        cause = broken(t, lost.size());
        endCause = cause;
      }
      deliver(failAll(lost, cause));
    }

    @Override
    public void onCompleted() {
      started.completeExceptionally(
          new ConnectionClosedException(target, "the node ended the Ingest stream at once", null));
      List<Entry> lost;
      ConnectionClosedException cause;
      synchronized (lock) {
        if (ended) {
          return;
        }
        lost = end();
        cause =
            new ConnectionClosedException(
                target,
                "the node at "
                    + target
                    + " ended the Ingest stream with "
                    + items(lost.size())
                    + " unanswered",
                null);
        endCause = cause;
      }
      deliver(failAll(lost, cause));
    }

    private WhackException broken(Throwable t, int unanswered) {
      String why = describe(t);
      String lost = items(unanswered) + " unanswered (those sent may have been applied)";
      if (Status.fromThrowable(t).getCode() == Status.Code.UNAVAILABLE) {
        return new NodeUnavailableException(
            List.of(target), target + " is down: " + why + "; " + lost, t);
      }
      return new ConnectionClosedException(
          target, "the Ingest stream to " + target + " ended: " + why + "; " + lost, t);
    }
  }
}

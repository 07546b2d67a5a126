package dev.whack.client;

import dev.whack.client.model.ProfileData;
import dev.whack.client.model.ProfileUpdate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Keeps many stores and updates in flight for loading: each write returns as soon as it is sent,
 * and blocks only while {@code maxInFlight} writes are already unanswered (backpressure). A write
 * that fails is counted and reported per record (to the failure handler and in {@link
 * #failures()}); it does not stop the others. {@link #flush()} waits for everything sent.
 *
 * <p>An ordered writer ({@link WhackClient#orderedBulkWriter}) also keeps each key's writes in
 * order: they travel on one connection of the key's owner, which the node serves in order, so a
 * profile followed by updates of it is applied in that order (except across a connection being
 * replaced after a failure). A plain writer spreads writes over the connections.
 *
 * <pre>{@code
 * try (BulkWriter writer = client.bulkWriter(10_000, f -> log(f.key(), f.cause()))) {
 *   for (Record r : records) writer.setProfile(r.key(), r.json());
 * } // close() flushes
 * }</pre>
 *
 * <p>Concurrency: thread-safe; several threads may write through one writer. Writing blocks, so
 * never write from a callback on the client's I/O threads.
 */
public final class BulkWriter implements AutoCloseable {
  /** Failures kept for {@link #failures()}; the count goes on beyond. */
  public static final int MAX_KEPT_FAILURES = 1000;

  /** A record that failed: its key, the operation ({@code set}, {@code update}...), why. */
  public record Failure(String key, String operation, Throwable cause) {}

  private final WhackClient client;
  private final boolean inKeyOrder;
  private final int maxInFlight;
  private final Semaphore room;
  private final Consumer<Failure> onFailure;
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final List<Failure> kept = new ArrayList<>(); // guarded by itself

  BulkWriter(WhackClient client, int maxInFlight, Consumer<Failure> onFailure) {
    this(client, maxInFlight, onFailure, false);
  }

  BulkWriter(WhackClient client, int maxInFlight, Consumer<Failure> onFailure, boolean inKeyOrder) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight is positive, got " + maxInFlight);
    }
    if (inKeyOrder && maxInFlight >= client.maxInFlightPerConnection()) {
      // Every write may go to one connection. Strictly below its bound: a reply frees the writer's
      // room (its future completes) just before the connection counts it as answered.
      throw new IllegalArgumentException(
          "maxInFlight "
              + maxInFlight
              + " of an ordered writer must be under one connection's bound ("
              + client.maxInFlightPerConnection()
              + "); raise that or lower this");
    }
    if (maxInFlight > client.maxInFlightPerNode()) {
      // All of them may be for one node; past its bound they would fail as overloaded.
      throw new IllegalArgumentException(
          "maxInFlight "
              + maxInFlight
              + " is over one node's bound ("
              + client.maxInFlightPerNode()
              + " = connections per node x in-flight per connection); raise those or lower this");
    }
    this.client = client;
    this.inKeyOrder = inKeyOrder;
    this.maxInFlight = maxInFlight;
    this.room = new Semaphore(maxInFlight);
    this.onFailure = onFailure;
  }

  /** Stores an opaque value ({@code set}). */
  public CompletableFuture<Void> set(String key, byte[] value, int flags, int expirySeconds) {
    return submit(key, "set", () -> client.store(key, value, flags, expirySeconds, inKeyOrder));
  }

  /** Replaces a profile with Profile JSON. */
  public CompletableFuture<Void> setProfile(String key, String json) {
    return submit(
        key,
        "set",
        () -> {
          if (!WhackClient.isJsonObject(json)) {
            throw new IllegalArgumentException("profile JSON is an object and starts with '{'");
          }
          byte[] value = json.getBytes(StandardCharsets.UTF_8);
          return client.store(key, value, WhackClient.PROFILE_JSON_FLAGS, 0, inKeyOrder);
        });
  }

  /**
   * Replaces a profile with Profile JSON given as UTF-8 bytes (as read from a file), sent as they
   * are; the node parses and checks them.
   */
  public CompletableFuture<Void> setProfileJson(String key, byte[] json) {
    return submit(
        key,
        "set",
        () -> {
          if (!startsWithBrace(json)) {
            throw new IllegalArgumentException("profile JSON is an object and starts with '{'");
          }
          return client.store(key, json, WhackClient.PROFILE_JSON_FLAGS, 0, inKeyOrder);
        });
  }

  /** Replaces a profile with a typed one, sent as its Profile JSON. */
  public CompletableFuture<Void> setProfile(String key, ProfileData profile) {
    return submit(
        key,
        "set",
        () ->
            client.store(
                key, profile.toJsonBytes(), WhackClient.PROFILE_JSON_FLAGS, 0, inKeyOrder));
  }

  /** Replaces a profile with a protobuf {@code whack.v1.Profile}. */
  public CompletableFuture<Void> setProfileProtobuf(String key, byte[] profile) {
    return submit(
        key,
        "set",
        () -> client.store(key, profile, WhackClient.PROFILE_PROTOBUF_FLAGS, 0, inKeyOrder));
  }

  /** Applies Update JSON. */
  public CompletableFuture<UpdateResult> update(String key, String updateJson) {
    return submit(
        key,
        "update",
        () -> {
          if (!WhackClient.isJsonObject(updateJson)) {
            throw new IllegalArgumentException("update JSON is an object and starts with '{'");
          }
          return client.updateBytes(
              key, updateJson.getBytes(StandardCharsets.UTF_8), false, inKeyOrder);
        });
  }

  /**
   * Applies Update JSON given as UTF-8 bytes, sent as they are; the node parses and checks them.
   */
  public CompletableFuture<UpdateResult> update(String key, byte[] updateJson) {
    return submit(
        key,
        "update",
        () -> {
          if (!startsWithBrace(updateJson)) {
            throw new IllegalArgumentException("update JSON is an object and starts with '{'");
          }
          return client.updateBytes(key, updateJson, false, inKeyOrder);
        });
  }

  /** Applies a typed update, sent as its Update JSON. */
  public CompletableFuture<UpdateResult> update(String key, ProfileUpdate update) {
    return submit(
        key, "update", () -> client.updateBytes(key, update.toJsonBytes(), false, inKeyOrder));
  }

  /** Applies a protobuf {@code whack.v1.Update}. */
  public CompletableFuture<UpdateResult> updateProtobuf(String key, byte[] update) {
    return submit(key, "update", () -> client.updateBytes(key, update, true, inKeyOrder));
  }

  /** Removes a key. */
  public CompletableFuture<Boolean> delete(String key) {
    return submit(key, "delete", () -> client.delete(key, inKeyOrder));
  }

  private static boolean startsWithBrace(byte[] json) {
    for (byte b : json) {
      if (b == '{') {
        return true;
      }
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return false;
  }

  private <T> CompletableFuture<T> submit(
      String key, String operation, Supplier<CompletableFuture<T>> call) {
    acquire(1);
    CompletableFuture<T> future = Futures.attempt(call);
    future.whenComplete(
        (value, failure) -> {
          // Count before making room, so that flush() returning means the counts are final.
          if (failure == null) {
            succeeded.incrementAndGet();
          } else {
            record(new Failure(key, operation, Futures.unwrap(failure)));
          }
          room.release();
        });
    return future;
  }

  private void acquire(int permits) {
    if (room.tryAcquire(permits)) {
      return;
    }
    if (client.io().inIoThread()) {
      throw new IllegalStateException(
          "a bulk writer blocks when full; it cannot be used on a Whack I/O thread");
    }
    try {
      room.acquire(permits);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WhackException(null, "interrupted while waiting for room to write", e);
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
        System.getLogger(BulkWriter.class.getName())
            .log(System.Logger.Level.WARNING, "bulk failure handler failed", e);
      }
    }
  }

  /** Waits until every write sent so far has been answered (each within the request timeout). */
  public void flush() {
    acquire(maxInFlight);
    room.release(maxInFlight);
  }

  /** Writes answered with success. */
  public long succeeded() {
    return succeeded.get();
  }

  /** Writes that failed. */
  public long failed() {
    return failed.get();
  }

  /** Writes sent and not yet answered. */
  public int inFlight() {
    return maxInFlight - room.availablePermits();
  }

  /** The first {@link #MAX_KEPT_FAILURES} failures. */
  public List<Failure> failures() {
    synchronized (kept) {
      return List.copyOf(kept);
    }
  }

  /** Flushes. */
  @Override
  public void close() {
    flush();
  }
}

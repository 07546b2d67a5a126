package dev.whack.client.testing;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Bounded waits: a test never hangs, and a future that never completes is a failure. */
public final class Await {
  /** Longer than any timeout the tests configure; reaching it means a future did not complete. */
  public static final Duration BOUND = Duration.ofSeconds(5);

  private Await() {}

  /** The future's value, failing the test if it fails or does not complete within the bound. */
  public static <T> T value(CompletableFuture<T> future) {
    try {
      return future.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected a value, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("the future did not complete within " + BOUND);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The exception the future failed with (unwrapped), failing the test if it succeeds or hangs. */
  public static Throwable failure(CompletableFuture<?> future) {
    try {
      Object value = future.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
      throw new AssertionError("expected a failure, got " + value);
    } catch (ExecutionException e) {
      Throwable t = e.getCause();
      while (t instanceof CompletionException && t.getCause() != null) {
        t = t.getCause();
      }
      return t;
    } catch (TimeoutException e) {
      throw new AssertionError("the future did not complete within " + BOUND);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  public static <T extends Throwable> T failure(CompletableFuture<?> future, Class<T> type) {
    return assertInstanceOf(type, failure(future));
  }

  /** Polls until the condition holds, failing the test after the bound. */
  public static void until(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("not true within " + BOUND + ": " + what);
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Milliseconds since {@code startNanos}. */
  public static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}

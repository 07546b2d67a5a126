package dev.whack.client;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * Composition that keeps the client's exceptions unwrapped: a future from this client fails with a
 * {@link WhackException} (or an {@link IllegalArgumentException} for a bad argument), never with a
 * {@link CompletionException} around it.
 */
final class Futures {
  private Futures() {}

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  static <A, B> CompletableFuture<B> map(CompletableFuture<A> source, Function<A, B> fn) {
    CompletableFuture<B> out = new CompletableFuture<>();
    source.whenComplete(
        (a, failure) -> {
          if (failure != null) {
            out.completeExceptionally(unwrap(failure));
            return;
          }
          try {
            out.complete(fn.apply(a));
          } catch (RuntimeException e) {
            out.completeExceptionally(e);
          }
        });
    return out;
  }

  static <A, B> CompletableFuture<B> flatMap(
      CompletableFuture<A> source, Function<A, CompletableFuture<B>> fn) {
    CompletableFuture<B> out = new CompletableFuture<>();
    source.whenComplete(
        (a, failure) -> {
          if (failure != null) {
            out.completeExceptionally(unwrap(failure));
            return;
          }
          try {
            fn.apply(a)
                .whenComplete(
                    (b, second) -> {
                      if (second != null) {
                        out.completeExceptionally(unwrap(second));
                      } else {
                        out.complete(b);
                      }
                    });
          } catch (RuntimeException e) {
            out.completeExceptionally(e);
          }
        });
    return out;
  }

  /** Runs {@code call}, turning an argument error thrown before anything is sent into a future. */
  static <T> CompletableFuture<T> attempt(java.util.function.Supplier<CompletableFuture<T>> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Waits for every future; the results in order, or one failure that accounts for all: an error
   * reply if any node gave one (the same request gets the same answer everywhere), else a {@link
   * NodeUnavailableException} naming every node that failed.
   */
  static <T> CompletableFuture<List<T>> all(
      String what, List<String> nodes, List<CompletableFuture<T>> futures) {
    CompletableFuture<List<T>> out = new CompletableFuture<>();
    CompletableFuture.allOf(futures.toArray(CompletableFuture<?>[]::new))
        .whenComplete(
            (ignored, anyFailure) -> {
              List<T> results = new ArrayList<>(futures.size());
              List<String> failedNodes = new ArrayList<>();
              Throwable firstFailure = null;
              ServerErrorException serverError = null;
              for (int i = 0; i < futures.size(); i++) {
                CompletableFuture<T> f = futures.get(i);
                try {
                  results.add(f.join());
                } catch (RuntimeException e) {
                  Throwable cause = unwrap(e);
                  if (cause instanceof ServerErrorException s && serverError == null) {
                    serverError = s;
                  }
                  if (firstFailure == null) {
                    firstFailure = cause;
                  }
                  failedNodes.add(nodes.get(i));
                }
              }
              if (serverError != null) {
                out.completeExceptionally(serverError);
              } else if (firstFailure instanceof WhackException && !failedNodes.isEmpty()) {
                out.completeExceptionally(
                    new NodeUnavailableException(
                        failedNodes,
                        what
                            + ": no answer from "
                            + String.join(", ", failedNodes)
                            + ": "
                            + firstFailure.getMessage(),
                        firstFailure));
              } else if (firstFailure != null) {
                out.completeExceptionally(firstFailure);
              } else {
                out.complete(results);
              }
            });
    return out;
  }
}

package dev.whack.node.client;

import dev.whack.client.WhackClient;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.testing.EmbeddedNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Three real nodes on loopback and a Java client over them, with bounded waits. */
final class ClusterFixture implements AutoCloseable {
  /** Long enough that "failed fast" cannot be "waited for the timeout". */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

  /** Longer than any timeout here: a future not complete by then is a failure. */
  static final Duration BOUND = Duration.ofSeconds(10);

  final List<EmbeddedNode> nodes = new ArrayList<>();
  final WhackClient client;

  ClusterFixture() {
    for (int i = 0; i < 3; i++) {
      nodes.add(EmbeddedNode.start());
    }
    client =
        WhackClient.builder()
            .servers(nodes.stream().map(EmbeddedNode::address).toList())
            .requestTimeout(REQUEST_TIMEOUT)
            .connectTimeout(REQUEST_TIMEOUT)
            .reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .ioThreads(2)
            .membersPageSize(4)
            .build();
  }

  EmbeddedNode node(String address) {
    return nodes.stream().filter(n -> n.address().equals(address)).findFirst().orElseThrow();
  }

  /** True if the node's own cache holds the key. */
  static boolean holds(EmbeddedNode node, String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return node.node().keyspace().session().peek(k, 0, k.length, false, new Outcome());
  }

  static <T> T value(CompletableFuture<T> future) {
    try {
      return future.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("expected a value, got " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("not complete within " + BOUND);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static Throwable failure(CompletableFuture<?> future) {
    try {
      throw new AssertionError(
          "expected a failure, got " + future.get(BOUND.toMillis(), TimeUnit.MILLISECONDS));
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException e) {
      throw new AssertionError("not complete within " + BOUND);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static void until(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not true within " + BOUND + ": " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    client.close();
    nodes.forEach(EmbeddedNode::close);
  }
}

package dev.whack.client.metrics;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.CorruptReplyException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.OverloadedException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackTimeoutException;
import dev.whack.client.transport.RequestObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * The client's requests as Micrometer meters, per node and command (docs/client.md, "Metrics"):
 *
 * <ul>
 *   <li>{@value #REQUESTS}, a timer: every request sent to a node and how long it took to complete,
 *       tagged {@code node} ({@code host:port}), {@code command} ({@code get}, {@code set}, {@code
 *       update}, {@code segcount}...) and {@code outcome} ({@code success} or {@code error});
 *   <li>{@value #ERRORS}, a counter: the failed ones by {@code node}, {@code command} and {@code
 *       error}: {@code timeout}, {@code unavailable} (the node is down), {@code overloaded} (the
 *       in-flight bound), {@code closed} (the connection or the client closed), {@code
 *       corrupt_reply}, {@code server_error} (an error reply, such as a refused profile) or {@code
 *       other}.
 * </ul>
 *
 * <p>Tag values are bounded: the members of the cluster and the protocol's command words. The
 * meters of one tag set are looked up once and then cached, so a request costs two map lookups and
 * the timer's own recording.
 *
 * <p>This class is the only one that touches Micrometer, which is an optional dependency of the
 * client: an application that passes no registry needs none on its classpath.
 *
 * <p>Concurrency: thread-safe; the caches are concurrent maps.
 */
public final class MicrometerMetrics implements RequestObserver {
  /** The timer of every request. */
  public static final String REQUESTS = "whack.client.requests";

  /** The counter of failed requests. */
  public static final String ERRORS = "whack.client.errors";

  private final MeterRegistry registry;
  private final ConcurrentMap<Key, Timer> timers = new ConcurrentHashMap<>();
  private final ConcurrentMap<Key, Counter> errors = new ConcurrentHashMap<>();

  private record Key(String node, String command, String outcome) {}

  private MicrometerMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Meters in {@code registry}. */
  public static RequestObserver of(MeterRegistry registry) {
    return new MicrometerMetrics(registry);
  }

  @Override
  public void completed(String node, String command, long nanos, Throwable error) {
    String outcome = error == null ? "success" : "error";
    timers
        .computeIfAbsent(
            new Key(node, command, outcome),
            k ->
                Timer.builder(REQUESTS)
                    .description("Requests sent to a Whack node, by how they ended")
                    .tag("node", k.node())
                    .tag("command", k.command())
                    .tag("outcome", k.outcome())
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
    if (error != null) {
      errors
          .computeIfAbsent(
              new Key(node, command, kind(error)),
              k ->
                  Counter.builder(ERRORS)
                      .description("Requests to a Whack node that failed, by why")
                      .tag("node", k.node())
                      .tag("command", k.command())
                      .tag("error", k.outcome())
                      .register(registry))
          .increment();
    }
  }

  /** The {@code error} tag of a failure. */
  static String kind(Throwable error) {
    Throwable e = error;
    while (e instanceof java.util.concurrent.CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof WhackTimeoutException) {
      return "timeout";
    } else if (e instanceof NodeUnavailableException) {
      return "unavailable";
    } else if (e instanceof OverloadedException) {
      return "overloaded";
    } else if (e instanceof ConnectionClosedException) {
      return "closed";
    } else if (e instanceof CorruptReplyException) {
      return "corrupt_reply";
    } else if (e instanceof ServerErrorException) {
      return "server_error";
    }
    return "other";
  }
}

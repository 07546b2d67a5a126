package dev.whack.node.observability;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP API's requests (docs/http.md, "Metrics"): a count per route and status ({@code
 * whack_http_requests_total{route,status}}) and the latency per route ({@code
 * whack_http_request_latency_seconds{route}}, the same bucketed histogram as the memcached
 * commands'). A route and status pair gets its counter the first time it is answered, so the
 * exposition lists only the statuses that happened; after that, recording is a lookup in an array
 * and an add.
 *
 * <p>Concurrency: safe from any thread; a counter is registered once under this object's monitor.
 */
public final class HttpRequestMeters {
  /** HTTP statuses are three digits: 100 to 599. */
  private static final int STATUSES = 600;

  private final MeterRegistry registry;
  private final String[] routes;
  private final LatencyHistograms latency;
  private final AtomicReferenceArray<LongAdder> counts;

  HttpRequestMeters(MeterRegistry registry, String[] routes, LatencyHistograms latency) {
    this.registry = registry;
    this.routes = routes.clone();
    this.latency = latency;
    this.counts = new AtomicReferenceArray<>(routes.length * STATUSES);
  }

  /** One answered request: its route (an index into the names given), status and latency. */
  public void record(int route, int status, long nanos) {
    latency.record(route, nanos);
    int slot = route * STATUSES + Math.floorMod(status, STATUSES);
    LongAdder count = counts.get(slot);
    if (count == null) {
      count = register(slot, route, status);
    }
    count.increment();
  }

  private synchronized LongAdder register(int slot, int route, int status) {
    LongAdder count = counts.get(slot);
    if (count == null) {
      count = new LongAdder();
      FunctionCounter.builder("whack.http.requests", count, LongAdder::sum)
          .description("HTTP API requests answered, by route and status")
          .tag("route", routes[route])
          .tag("status", Integer.toString(status))
          .register(registry);
      counts.set(slot, count);
    }
    return count;
  }
}

package dev.whack.node.observability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.config.NodeConfig;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} on a real node, read the way Prometheus and a person with grep read it:
 * exact sample names and labels, counts that match the commands sent (and the text protocol's
 * {@code stats}, a second route to the same numbers), histogram buckets, and the JVM meters. Each
 * test starts its own node, so every counter starts at zero.
 */
class MetricsEndpointTest {
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);

  /** "name{labels} value", as the Prometheus text format writes a sample. */
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)$", Pattern.MULTILINE);

  private static final Pattern LABEL =
      Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
  private EmbeddedNode node;
  private int metricsPort;

  @AfterEach
  void stopNode() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void shouldServePrometheusTextOnTheMetricsPath() throws Exception {
    start(c -> {});
    HttpResponse<String> response = get("/metrics");
    assertEquals(200, response.statusCode());
    String contentType = response.headers().firstValue("Content-Type").orElse("");
    assertTrue(
        contentType.startsWith("text/plain; version=0.0.4"), () -> "content type: " + contentType);
    String body = response.body();
    assertTrue(body.contains("# TYPE whack_commands_total counter\n"), body);
    assertTrue(body.contains("# TYPE whack_request_latency_seconds histogram\n"), body);
    assertTrue(body.contains("# TYPE whack_connections_open gauge\n"), body);
    assertTrue(body.contains("# TYPE whack_cache_items gauge\n"), body);
    assertTrue(body.contains("# TYPE whack_cache_evictions_total counter\n"), body);
  }

  @Test
  void shouldCountTheLogsBytesAndForcesOnADurableNode(@TempDir Path dir) throws Exception {
    start(c -> c.dataDir(dir).fsync("always"));
    try (RawConnection conn = node.connect()) {
      exchange(conn, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
      exchange(conn, "set b 0 0 1\r\n2\r\n", "STORED\r\n");
    }
    Samples samples = scrape();
    assertTrue(samples.value("whack_log_written_bytes_total") > 0, samples.text());
    assertTrue(samples.value("whack_log_fsyncs_total") >= 1, samples.text());
    assertTrue(samples.value("whack_log_fsync_seconds_total") > 0, samples.text());
    assertTrue(samples.value("whack_log_size_bytes") > 16, samples.text());
    assertEquals(-1, samples.value("whack_snapshot_age_seconds"), samples.text());
    assertEquals(0, samples.value("whack_snapshot_size_bytes"), samples.text());
    try (RawConnection conn = node.connect()) {
      conn.send("snapshot\r\n");
      assertTrue(conn.readLine().startsWith("SNAPSHOT "));
    }
    samples = scrape();
    assertTrue(samples.value("whack_snapshot_age_seconds") >= 0, samples.text());
    assertTrue(samples.value("whack_snapshot_size_bytes") > 16, samples.text());
    assertTrue(samples.value("whack_snapshot_duration_seconds") > 0, samples.text());
    assertEquals(16, samples.value("whack_log_size_bytes"), "the log the snapshot covers is gone");
  }

  @Test
  void shouldCountCommandsByTypeAndResult() throws Exception {
    start(c -> c.maxItemSize(NodeConfig.MIN_ITEM_SIZE).memoryBytes(1L << 20));
    try (RawConnection conn = node.connect()) {
      exchange(conn, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
      exchange(conn, "set b 0 0 1\r\n2\r\n", "STORED\r\n");
      exchange(conn, "set n 0 0 1\r\n5\r\n", "STORED\r\n");
      exchange(conn, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
      exchange(conn, "get a b zz\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
      exchange(conn, "get zz\r\n", "END\r\n");
      exchange(conn, "incr n 2\r\n", "7\r\n");
      exchange(conn, "incr zz 1\r\n", "NOT_FOUND\r\n");
      exchange(conn, "decr n 3\r\n", "4\r\n");
      exchange(conn, "decr zz 1\r\n", "NOT_FOUND\r\n");
      exchange(conn, "touch b 100\r\n", "TOUCHED\r\n");
      exchange(conn, "touch zz 100\r\n", "NOT_FOUND\r\n");
      exchange(conn, "delete b\r\n", "DELETED\r\n");
      exchange(conn, "delete zz\r\n", "NOT_FOUND\r\n");
      long cas = gets(conn, "a");
      exchange(conn, "cas a 0 0 1 " + cas + "\r\n3\r\n", "STORED\r\n");
      exchange(conn, "cas a 0 0 1 " + cas + "\r\n4\r\n", "EXISTS\r\n");
      exchange(conn, "cas zz 0 0 1 " + cas + "\r\n5\r\n", "NOT_FOUND\r\n");
      exchange(
          conn,
          "set big 0 0 1025\r\n" + "x".repeat(1025) + "\r\n",
          "SERVER_ERROR object too large for cache\r\n");

      Samples samples = scrape();
      assertEquals(4, samples.value("whack_commands_total", "command", "get", "result", "hit"));
      assertEquals(2, samples.value("whack_commands_total", "command", "get", "result", "miss"));
      assertEquals(1, samples.value("whack_commands_total", "command", "incr", "result", "hit"));
      assertEquals(1, samples.value("whack_commands_total", "command", "incr", "result", "miss"));
      assertEquals(1, samples.value("whack_commands_total", "command", "decr", "result", "hit"));
      assertEquals(1, samples.value("whack_commands_total", "command", "decr", "result", "miss"));
      assertEquals(1, samples.value("whack_commands_total", "command", "touch", "result", "hit"));
      assertEquals(1, samples.value("whack_commands_total", "command", "touch", "result", "miss"));
      assertEquals(1, samples.value("whack_commands_total", "command", "delete", "result", "hit"));
      assertEquals(1, samples.value("whack_commands_total", "command", "delete", "result", "miss"));
      assertEquals(1, samples.value("whack_commands_total", "command", "cas", "result", "hit"));
      assertEquals(1, samples.value("whack_commands_total", "command", "cas", "result", "badval"));
      assertEquals(1, samples.value("whack_commands_total", "command", "cas", "result", "miss"));
      assertEquals(
          1, samples.value("whack_commands_total", "command", "store", "result", "too_large"));
      assertEquals(0, samples.value("whack_commands_total", "command", "flush", "result", "ok"));
      assertEquals(4, samples.value("whack_cache_hits_total"));
      assertEquals(2, samples.value("whack_cache_misses_total"));

      // The text protocol's stats are a second route to the same counters.
      Map<String, String> stats = stats(conn);
      assertEquals(stats.get("get_hits"), command(samples, "get", "hit"));
      assertEquals(stats.get("get_misses"), command(samples, "get", "miss"));
      assertEquals(stats.get("incr_hits"), command(samples, "incr", "hit"));
      assertEquals(stats.get("decr_misses"), command(samples, "decr", "miss"));
      assertEquals(stats.get("touch_hits"), command(samples, "touch", "hit"));
      assertEquals(stats.get("delete_misses"), command(samples, "delete", "miss"));
      assertEquals(stats.get("cas_badval"), command(samples, "cas", "badval"));
      assertEquals(stats.get("store_too_large"), command(samples, "store", "too_large"));
    }
  }

  @Test
  void shouldCountEveryStoreThatStored() throws Exception {
    start(c -> {});
    try (RawConnection conn = node.connect()) {
      exchange(conn, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
      exchange(conn, "add b 0 0 1\r\n2\r\n", "STORED\r\n");
      exchange(conn, "replace a 0 0 1\r\n3\r\n", "STORED\r\n");
      exchange(conn, "append a 0 0 1\r\n4\r\n", "STORED\r\n");
      exchange(conn, "ms c 1\r\n5\r\n", "HD\r\n");
      assertEquals(
          5, scrape().value("whack_commands_total", "command", "store", "result", "stored"));
    }
  }

  @Test
  void shouldNotCountRefusedWritesAsStored() throws Exception {
    start(c -> {});
    try (RawConnection conn = node.connect()) {
      exchange(conn, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
      exchange(conn, "add a 0 0 1\r\n2\r\n", "NOT_STORED\r\n");
      exchange(conn, "replace zz 0 0 1\r\n3\r\n", "NOT_STORED\r\n");
      exchange(conn, "append zz 0 0 1\r\n4\r\n", "NOT_STORED\r\n");
      exchange(conn, "cas a 0 0 1 999999\r\n5\r\n", "EXISTS\r\n");
      exchange(conn, "cas zz 0 0 1 999999\r\n6\r\n", "NOT_FOUND\r\n");
      assertEquals(
          1, scrape().value("whack_commands_total", "command", "store", "result", "stored"));
    }
  }

  @Test
  void shouldRecordLatencyHistogramsPerCommandFamily() throws Exception {
    start(c -> {});
    try (RawConnection conn = node.connect()) {
      exchange(conn, "set a 0 0 1\r\n1\r\n", "STORED\r\n");
      exchange(conn, "set b 0 0 1\r\n2\r\n", "STORED\r\n");
      exchange(conn, "get a\r\n", "VALUE a 0 1\r\n1\r\nEND\r\n");
      exchange(conn, "get a b\r\n", "VALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n");
      exchange(conn, "get zz\r\n", "END\r\n");
      exchange(conn, "delete a\r\n", "DELETED\r\n");
    }
    Samples samples = scrape();
    assertHistogram(samples, "get", 3);
    assertHistogram(samples, "store", 2);
    assertHistogram(samples, "delete", 1);
    assertHistogram(samples, "arithmetic", 0);
    assertHistogram(samples, "touch", 0);
  }

  @Test
  void shouldReportOpenConnections() throws Exception {
    start(c -> {});
    assertEquals(0, scrape().value("whack_connections_open"));
    try (RawConnection first = node.connect()) {
      exchange(first, "mn\r\n", "MN\r\n"); // a reply means the node has registered it
      assertEquals(1, scrape().value("whack_connections_open"));
      try (RawConnection second = node.connect()) {
        exchange(second, "mn\r\n", "MN\r\n");
        Samples both = scrape();
        assertEquals(2, both.value("whack_connections_open"));
        assertEquals(2, both.value("whack_connections_total"));
      }
      // Closing is seen by the node asynchronously: poll the gauge, never sleep a fixed time.
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      double open;
      do {
        open = scrape().value("whack_connections_open");
      } while (open != 1 && System.nanoTime() < deadline);
      assertEquals(1, open, "a closed connection must leave the gauge");
    }
  }

  @Test
  void shouldReportItemsAndEvictionsLikeStats() throws Exception {
    // 1 MiB of cache and 1 KiB values: 3,000 of them cannot all fit.
    start(c -> c.memoryBytes(1L << 20).maxItemSize(NodeConfig.MIN_ITEM_SIZE));
    int stored = 3_000;
    try (RawConnection conn = node.connect()) {
      assertEquals(0, scrape().value("whack_cache_items"));
      StringBuilder batch = new StringBuilder();
      String value = "v".repeat(1000);
      for (int i = 0; i < stored; i++) {
        batch.append("set key:").append(i).append(" 0 0 1000 noreply\r\n");
        batch.append(value).append("\r\n");
      }
      conn.send(batch.toString());
      exchange(conn, "mn\r\n", "MN\r\n"); // every set before it has been executed
      Samples samples = scrape();
      Map<String, String> stats = stats(conn);
      double items = samples.value("whack_cache_items");
      double evictions = samples.value("whack_cache_evictions_total");
      assertTrue(items > 0 && items < stored, "items held under a 1 MiB cap: " + items);
      assertTrue(evictions > 0, "filling 1 MiB three times over must evict");
      assertEquals(stored, items + evictions, "every set either stayed or was evicted");
      assertEquals(stats.get("curr_items"), whole(items));
      assertEquals(stats.get("evictions"), whole(evictions));
      assertTrue(samples.value("whack_cache_bytes") <= samples.value("whack_cache_limit_bytes"));
      exchange(conn, "flush_all\r\n", "OK\r\n");
      Samples flushed = scrape();
      assertEquals(0, flushed.value("whack_cache_items"), "flush_all empties the cache");
      assertEquals(1, flushed.value("whack_commands_total", "command", "flush", "result", "ok"));
    }
  }

  @Test
  void shouldExposeJvmMemoryAndGcMetrics() throws Exception {
    start(c -> {});
    HttpResponse<String> response = get("/metrics");
    Samples samples = Samples.parse(response.body());
    List<Map<String, String>> heap = samples.labelsOf("jvm_memory_used_bytes");
    assertTrue(
        heap.stream().anyMatch(labels -> "heap".equals(labels.get("area"))),
        () -> "no heap pool in jvm_memory_used_bytes: " + heap);
    double heapUsed =
        heap.stream()
            .filter(labels -> "heap".equals(labels.get("area")))
            .mapToDouble(labels -> samples.value("jvm_memory_used_bytes", flatten(labels)))
            .sum();
    assertTrue(heapUsed > 0, "a running JVM uses heap: " + heapUsed);
    assertTrue(response.body().contains("# TYPE jvm_gc_memory_allocated_bytes_total counter\n"));
    assertTrue(samples.value("jvm_gc_max_data_size_bytes") > 0);
    assertTrue(samples.value("jvm_threads_live_threads") > 0);
  }

  // ---------------------------------------------------------------------------------------------

  private void start(Consumer<NodeConfig> customize) {
    // The port is free when chosen and taken by the node a moment later; another process can win
    // that race, so try a few ports before giving up.
    UncheckedIOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int port = freePort();
      try {
        node = EmbeddedNode.start(c -> customize.accept(c.metricsPort(port)));
        metricsPort = node.node().metricsPort();
        assertEquals(port, metricsPort);
        return;
      } catch (UncheckedIOException e) {
        last = e;
      }
    }
    throw last;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
            .timeout(HTTP_TIMEOUT)
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private Samples scrape() throws IOException, InterruptedException {
    HttpResponse<String> response = get("/metrics");
    assertEquals(200, response.statusCode(), response::body);
    return Samples.parse(response.body());
  }

  private static void exchange(RawConnection conn, String request, String reply) {
    conn.send(request);
    assertEquals(reply, conn.readText(reply), () -> "reply to " + request.strip());
  }

  private static long gets(RawConnection conn, String key) {
    conn.send("gets " + key + "\r\n");
    String header = conn.readLine();
    String[] tokens = header.strip().split(" ");
    assertEquals(5, tokens.length, header);
    int length = Integer.parseInt(tokens[3]);
    conn.read(length + 2);
    assertEquals("END\r\n", conn.readLine());
    return Long.parseLong(tokens[4]);
  }

  private static Map<String, String> stats(RawConnection conn) {
    conn.send("stats\r\n");
    Map<String, String> stats = new HashMap<>();
    while (true) {
      String line = conn.readLine();
      if (line.equals("END\r\n")) {
        return stats;
      }
      String[] tokens = line.strip().split(" ", 3);
      assertEquals("STAT", tokens[0], line);
      stats.put(tokens[1], tokens[2]);
    }
  }

  /** Buckets cumulative, +Inf equal to _count, and _count the number of requests. */
  private static void assertHistogram(Samples samples, String family, long requests) {
    List<Map<String, String>> buckets = new ArrayList<>();
    for (Map<String, String> labels : samples.labelsOf("whack_request_latency_seconds_bucket")) {
      if (family.equals(labels.get("command"))) {
        buckets.add(labels);
      }
    }
    assertTrue(buckets.size() > 10, () -> family + " has too few buckets: " + buckets.size());
    buckets.sort((x, y) -> Double.compare(bound(x.get("le")), bound(y.get("le"))));
    double previous = 0;
    for (Map<String, String> labels : buckets) {
      double count = samples.value("whack_request_latency_seconds_bucket", flatten(labels));
      assertTrue(
          count >= previous, () -> family + " buckets not cumulative at le=" + labels.get("le"));
      previous = count;
    }
    assertEquals("+Inf", buckets.get(buckets.size() - 1).get("le"));
    assertEquals(requests, previous, family + ": +Inf bucket");
    assertEquals(
        requests,
        samples.value("whack_request_latency_seconds_count", "command", family),
        family + ": _count");
    double sum = samples.value("whack_request_latency_seconds_sum", "command", family);
    assertTrue(requests == 0 ? sum == 0 : sum > 0, family + ": _sum " + sum);
  }

  private static double bound(String le) {
    return "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
  }

  private static String[] flatten(Map<String, String> labels) {
    List<String> pairs = new ArrayList<>();
    labels.forEach(
        (name, value) -> {
          pairs.add(name);
          pairs.add(value);
        });
    return pairs.toArray(new String[0]);
  }

  /** Prometheus counts are doubles; stats prints integers. */
  private static String whole(double value) {
    return Long.toString((long) value);
  }

  private static String command(Samples samples, String command, String result) {
    return whole(samples.value("whack_commands_total", "command", command, "result", result));
  }

  /** The samples of one scrape, looked up by name and exact label set. */
  private record Samples(Map<String, Map<Map<String, String>, Double>> byName, String text) {
    static Samples parse(String text) {
      Map<String, Map<Map<String, String>, Double>> byName = new HashMap<>();
      Matcher sample = SAMPLE.matcher(text);
      while (sample.find()) {
        Map<String, String> labels = new TreeMap<>();
        if (sample.group(2) != null) {
          Matcher label = LABEL.matcher(sample.group(2));
          while (label.find()) {
            labels.put(label.group(1), label.group(2));
          }
        }
        byName
            .computeIfAbsent(sample.group(1), name -> new HashMap<>())
            .put(labels, Double.parseDouble(sample.group(3).replace("+Inf", "Infinity")));
      }
      return new Samples(byName, text);
    }

    double value(String name, String... labelPairs) {
      Map<String, String> labels = new TreeMap<>();
      for (int i = 0; i < labelPairs.length; i += 2) {
        labels.put(labelPairs[i], labelPairs[i + 1]);
      }
      Map<Map<String, String>, Double> series = byName.get(name);
      assertFalse(series == null, () -> "no metric named " + name + " in:\n" + text);
      Double value = series.get(labels);
      assertFalse(
          value == null, () -> "no " + name + labels + "; the series are " + series.keySet());
      return value;
    }

    List<Map<String, String>> labelsOf(String name) {
      Map<Map<String, String>, Double> series = byName.get(name);
      assertFalse(series == null, () -> "no metric named " + name + " in:\n" + text);
      return new ArrayList<>(series.keySet());
    }
  }
}

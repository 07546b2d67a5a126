package dev.whack.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The soak test behind {@code scripts/soak}: well-behaved clients beside hostile ones against one
 * node for a long time (30 minutes by default), reporting the node's resident memory, the
 * well-behaved clients' latency and every error they saw, once per interval and at the end.
 *
 * <p>The hostile clients are the attacks of issue 13, each in a loop of its own: a pipeline of gets
 * whose replies are never read, a multi-get naming a 512 KB item thousands of times read slowly,
 * watchers that never read, updates inventing attribute and producer names by the thousand, a
 * profile grown by updates until the node refuses, slowloris connections that send a byte at a
 * time, random bytes in both protocols, and connection churn.
 *
 * <p>The well-behaved clients store and read back opaque values and keep a counter per profile with
 * {@code update}; a value that comes back different from what was stored, a counter that does not
 * match the client's own count, an error reply or a connection lost is an error. A miss is counted
 * apart: under the memory cap the node may evict, as memcached may.
 */
final class Soak {
  private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int NORMAL_KEYS_PER_CLIENT = 200;
  private static final int WATCHERS = 100;
  private static final int SLOWLORIS = 100;

  /**
   * Time a well-behaved request may take before it counts as an error (and its socket is reset).
   */
  private static final int NORMAL_TIMEOUT_MS = 10_000;

  /** What to run: the node's address and pid, for how long, and how often to report. */
  public record Settings(
      String host,
      int port,
      Long serverPid,
      long durationMillis,
      long intervalMillis,
      int normalClients,
      int normalRatePerClient,
      long seed) {}

  private final Settings settings;
  private final PrintStream out;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final Recorder normalLatency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
  private final Histogram overallLatency = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
  private final LongAdder normalOps = new LongAdder();
  private final LongAdder normalMisses = new LongAdder();
  private final LongAdder normalErrors = new LongAdder();
  private final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();

  /** Per hostile kind: rounds run (connections used, requests sent). */
  private final Map<String, LongAdder> hostileRounds = new ConcurrentHashMap<>();

  /** Per hostile kind: how the node answered (closed, error lines), for the report. */
  private final Map<String, LongAdder> hostileAnswers = new ConcurrentHashMap<>();

  private final AtomicLong rssMaxKb = new AtomicLong();

  public Soak(Settings settings, PrintStream out) {
    this.settings = settings;
    this.out = out;
  }

  /** Runs every client until the duration has passed; returns the summary line. */
  public String run() throws Exception {
    setUp();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < settings.normalClients(); i++) {
      int client = i;
      threads.add(start("normal-" + i, () -> normalClient(client)));
    }
    threads.add(start("unread-pipeline", this::unreadPipeline));
    threads.add(start("huge-multiget", this::hugeMultiGet));
    threads.add(start("watchers", this::silentWatchers));
    threads.add(start("name-inventor", this::nameInventor));
    threads.add(start("grower", this::grower));
    threads.add(start("slowloris", this::slowloris));
    threads.add(start("garbage", this::garbage));
    threads.add(start("churn", this::churn));

    long start = System.nanoTime();
    long end = start + TimeUnit.MILLISECONDS.toNanos(settings.durationMillis());
    Histogram interval = null;
    double worstIntervalP99Us = 0;
    while (System.nanoTime() < end) {
      long sleep =
          Math.min(
              settings.intervalMillis(), TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
      Thread.sleep(Math.max(1, sleep));
      interval = normalLatency.getIntervalHistogram(interval);
      overallLatency.add(interval);
      double p99 = interval.getTotalCount() == 0 ? 0 : interval.getValueAtPercentile(99) / 1000.0;
      worstIntervalP99Us = Math.max(worstIntervalP99Us, p99);
      long rss = residentKb();
      rssMaxKb.accumulateAndGet(rss, Math::max);
      out.printf(
          Locale.ROOT,
          "soak t_s=%d rss_mb=%.0f normal_ops=%d normal_p99_us=%.0f normal_max_us=%.0f errors=%d misses=%d %s%n",
          TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start),
          rss / 1024.0,
          interval.getTotalCount(),
          p99,
          interval.getTotalCount() == 0 ? 0 : interval.getMaxValue() / 1000.0,
          normalErrors.sum(),
          normalMisses.sum(),
          hostileSummary());
      out.flush();
    }
    stop.set(true);
    for (Thread t : threads) {
      t.interrupt();
    }
    for (Thread t : threads) {
      t.join(15_000);
    }
    for (String e : firstErrors) {
      out.println("soak error " + e);
    }
    return String.format(
        Locale.ROOT,
        "bench soak whack minutes=%.1f normal_ops=%d p50_us=%.1f p99_us=%.1f p999_us=%.1f"
            + " worst_interval_p99_us=%.0f max_us=%.0f errors=%d misses=%d rss_max_mb=%.0f rss_end_mb=%.0f",
        settings.durationMillis() / 60_000.0,
        overallLatency.getTotalCount(),
        overallLatency.getValueAtPercentile(50) / 1000.0,
        overallLatency.getValueAtPercentile(99) / 1000.0,
        overallLatency.getValueAtPercentile(99.9) / 1000.0,
        worstIntervalP99Us,
        overallLatency.getMaxValue() / 1000.0,
        normalErrors.sum(),
        normalMisses.sum(),
        rssMaxKb.get() / 1024.0,
        residentKb() / 1024.0);
  }

  private String hostileSummary() {
    StringBuilder s = new StringBuilder();
    new java.util.TreeMap<>(hostileRounds)
        .forEach((k, v) -> s.append(k).append('=').append(v.sum()).append(' '));
    new java.util.TreeMap<>(hostileAnswers)
        .forEach((k, v) -> s.append(k).append('=').append(v.sum()).append(' '));
    return s.toString().trim();
  }

  private Thread start(String name, Body body) {
    Thread t =
        new Thread(
            () -> {
              while (!stop.get()) {
                try {
                  body.run();
                } catch (InterruptedException e) {
                  return;
                } catch (Exception e) {
                  if (stop.get()) {
                    return;
                  }
                  if (name.startsWith("normal")) {
                    error(name + ": " + e);
                  } else {
                    count(hostileAnswers, name + ".ended_" + e.getClass().getSimpleName());
                  }
                  pause(100);
                }
              }
            },
            "soak-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private interface Body {
    void run() throws Exception;
  }

  // --- set-up --------------------------------------------------------------------------------

  /** The items and segments the clients share: a 4 KB and a 512 KB item, ten segments. */
  private void setUp() throws IOException {
    try (Conn c = connect()) {
      c.store("soak:hot", bytes(4096, 'h'));
      c.store("soak:big", bytes(512 * 1024, 'b'));
      String[] expressions = {
        "visits >= 1",
        "visits >= 10",
        "visits >= 100",
        "\"vip\" in tags",
        "exists(grown)",
        "count(view, 7d) >= 1",
        "visits >= 5 and \"vip\" in tags",
        "not exists(visits)",
        "score > 0.5",
        "country == \"DK\""
      };
      for (int i = 0; i < expressions.length; i++) {
        byte[] e = expressions[i].getBytes(StandardCharsets.UTF_8);
        c.command("segdef soak_" + i + " " + e.length + "\r\n" + expressions[i] + "\r\n");
        String reply = c.line();
        if (!reply.startsWith("DEFINED")) {
          throw new IOException("segdef soak_" + i + ": " + reply);
        }
      }
    }
  }

  // --- the well-behaved clients --------------------------------------------------------------

  private void normalClient(int client) throws Exception {
    SplittableRandom random = new SplittableRandom(settings.seed() * 31 + client);
    long[] visits = new long[NORMAL_KEYS_PER_CLIENT];
    byte[][] stored = new byte[NORMAL_KEYS_PER_CLIENT][];
    long periodNanos = TimeUnit.SECONDS.toNanos(1) / Math.max(1, settings.normalRatePerClient());
    long next = System.nanoTime();
    try (Conn c = connect()) {
      c.socket.setSoTimeout(NORMAL_TIMEOUT_MS);
      while (!stop.get()) {
        int k = random.nextInt(NORMAL_KEYS_PER_CLIENT);
        String key = "normal:" + client + ":" + k;
        String profile = "normal-p:" + client + ":" + k;
        long t0 = System.nanoTime();
        switch (random.nextInt(4)) {
          case 0 -> {
            byte[] value = bytes(100, (char) ('a' + random.nextInt(26)));
            c.store(key, value);
            stored[k] = value;
          }
          case 1 -> {
            byte[] got = c.get(key);
            if (got == null) {
              if (stored[k] != null) {
                normalMisses.increment();
                stored[k] = null;
              }
            } else if (stored[k] == null || !java.util.Arrays.equals(got, stored[k])) {
              error("normal-" + client + ": " + key + " came back different from what was stored");
              stored[k] = got;
            }
          }
          case 2 -> {
            String body =
                "{\"incr\":{\"visits\":1},\"add\":{\"tags\":[\"t" + random.nextInt(5) + "\"]}}";
            String reply = c.update(profile, body);
            if (!reply.equals("UPDATED")) {
              throw new IOException("update " + profile + ": " + reply);
            }
            visits[k]++;
          }
          default -> {
            byte[] got = c.get(profile);
            if (got == null) {
              if (visits[k] != 0) {
                normalMisses.increment();
                visits[k] = 0;
              }
            } else {
              long seen = visitsOf(new String(got, StandardCharsets.UTF_8));
              if (seen != visits[k]) {
                error(
                    "normal-"
                        + client
                        + ": "
                        + profile
                        + " has visits "
                        + seen
                        + ", expected "
                        + visits[k]);
                visits[k] = seen;
              }
            }
          }
        }
        long t1 = System.nanoTime();
        normalLatency.recordValue(Math.min(t1 - t0, TimeUnit.SECONDS.toNanos(60)));
        normalOps.increment();
        next += periodNanos;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        } else if (wait < -TimeUnit.SECONDS.toNanos(1)) {
          next = System.nanoTime(); // fell behind (a stall): do not burst to catch up
        }
      }
    }
  }

  private static long visitsOf(String json) {
    int i = json.indexOf("\"visits\":");
    if (i < 0) {
      return 0;
    }
    int j = i + 9;
    int e = j;
    while (e < json.length() && (Character.isDigit(json.charAt(e)) || json.charAt(e) == '-')) {
      e++;
    }
    return Long.parseLong(json.substring(j, e));
  }

  private void error(String what) {
    normalErrors.increment();
    if (firstErrors.size() < 20) {
      firstErrors.add(what);
    }
  }

  // --- the hostile clients -------------------------------------------------------------------

  /** Pipelines gets of a 4 KB item and never reads a reply, for 20 s per connection. */
  private void unreadPipeline() throws Exception {
    byte[] gets = "get soak:hot\r\n".repeat(4096).getBytes(StandardCharsets.US_ASCII);
    try (SocketChannel ch =
        SocketChannel.open(new InetSocketAddress(settings.host(), settings.port()))) {
      ch.configureBlocking(false);
      count(hostileRounds, "unread_pipeline");
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      ByteBuffer buffer = ByteBuffer.wrap(gets);
      while (!stop.get() && System.nanoTime() < until) {
        if (!buffer.hasRemaining()) {
          buffer.rewind();
        }
        if (ch.write(buffer) == 0) {
          Thread.sleep(50); // the node stopped reading us: hold the connection as it is
        }
      }
    }
  }

  /** One multi-get naming a 512 KB item 6,000 times (3 GB of replies), read at about 4 MB/s. */
  private void hugeMultiGet() throws Exception {
    StringBuilder line = new StringBuilder("get");
    for (int i = 0; i < 6000; i++) {
      line.append(" soak:big");
    }
    line.append("\r\n");
    try (Conn c = connect()) {
      count(hostileRounds, "huge_multiget");
      c.socket.setSoTimeout(1000);
      c.command(line.toString());
      byte[] chunk = new byte[64 * 1024];
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      long read = 0;
      while (!stop.get() && System.nanoTime() < until) {
        try {
          int n = c.in.read(chunk);
          if (n < 0) {
            count(hostileAnswers, "huge_multiget.closed");
            return;
          }
          read += n;
        } catch (SocketTimeoutException e) {
          // nothing to read this second
        }
        Thread.sleep(15);
      }
      if (read == 0) {
        count(hostileAnswers, "huge_multiget.nothing");
      }
    }
  }

  /** 100 watchers of every soak segment that never read, replaced every five minutes. */
  private void silentWatchers() throws Exception {
    List<Socket> watchers = new ArrayList<>();
    try {
      for (int i = 0; i < WATCHERS && !stop.get(); i++) {
        Socket s = new Socket(settings.host(), settings.port());
        s.setReceiveBufferSize(4096);
        watchers.add(s);
        OutputStream o = s.getOutputStream();
        o.write(
            "watch soak_0 soak_1 soak_2 soak_3 soak_4 soak_5 soak_6 soak_7 soak_8 soak_9\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        o.flush();
        count(hostileRounds, "silent_watchers");
      }
      long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!stop.get() && System.nanoTime() < until) {
        Thread.sleep(1000);
      }
    } finally {
      for (Socket s : watchers) {
        s.close();
      }
    }
  }

  /**
   * Updates inventing names: 500 new attribute names and a new producer per update on a rotating
   * set of keys (deleted as the rotation comes round), and once a minute one update naming 100,000
   * new attributes, which the node must refuse alone.
   */
  private void nameInventor() throws Exception {
    SplittableRandom random = new SplittableRandom(settings.seed() + 1);
    long round = 0;
    long lastHuge = System.nanoTime();
    try (Conn c = connect()) {
      c.socket.setSoTimeout(60_000);
      while (!stop.get()) {
        round++;
        String key = "names:" + (round % 1000);
        if (round % 1000 == 0) {
          c.command("delete " + key + "\r\n");
          c.line();
        }
        int names = 500;
        if (System.nanoTime() - lastHuge > TimeUnit.MINUTES.toNanos(1)) {
          names = 100_000;
          lastHuge = System.nanoTime();
        }
        StringBuilder body = new StringBuilder("{\"set\":{");
        for (int i = 0; i < names; i++) {
          if (i > 0) {
            body.append(',');
          }
          body.append("\"n")
              .append(Long.toString(random.nextLong() & Long.MAX_VALUE, 36))
              .append("\":1");
        }
        body.append("},\"producer\":\"p")
            .append(random.nextLong() & Long.MAX_VALUE)
            .append("\",\"seq\":1}");
        String reply = c.update(key, body.toString());
        count(hostileRounds, "name_inventor");
        count(hostileAnswers, "name_inventor." + word(reply));
        Thread.sleep(5);
      }
    }
  }

  /**
   * Grows one profile's set by updates until the node refuses, then deletes it and starts again.
   */
  private void grower() throws Exception {
    SplittableRandom random = new SplittableRandom(settings.seed() + 2);
    long round = 0;
    try (Conn c = connect()) {
      c.socket.setSoTimeout(60_000);
      while (!stop.get()) {
        round++;
        String key = "grown:" + (round % 4);
        StringBuilder body = new StringBuilder("{\"set\":{\"grown\":true},\"add\":{\"blob\":[");
        for (int i = 0; i < 1000; i++) {
          if (i > 0) {
            body.append(',');
          }
          body.append('"')
              .append(Long.toString(random.nextLong(), 36))
              .append("x".repeat(80))
              .append('"');
        }
        body.append("]}}");
        String reply = c.update(key, body.toString());
        count(hostileRounds, "grower");
        if (!reply.equals("UPDATED")) {
          count(hostileAnswers, "grower." + word(reply));
          c.command("delete " + key + "\r\n");
          c.line();
        }
      }
    }
  }

  /** 100 connections each sending one byte of a get every two seconds. */
  private void slowloris() throws Exception {
    byte[] request = "get soak:hot\r\n".getBytes(StandardCharsets.US_ASCII);
    List<Socket> sockets = new ArrayList<>();
    int[] sent = new int[SLOWLORIS];
    try {
      while (!stop.get()) {
        for (int i = 0; i < SLOWLORIS && !stop.get(); i++) {
          if (i >= sockets.size()) {
            sockets.add(null);
          }
          Socket s = sockets.get(i);
          try {
            if (s == null || s.isClosed()) {
              s = new Socket(settings.host(), settings.port());
              sockets.set(i, s);
              sent[i] = 0;
              count(hostileRounds, "slowloris");
            }
            s.getOutputStream().write(request[sent[i] % request.length]);
            sent[i]++;
          } catch (IOException e) {
            count(hostileAnswers, "slowloris.closed");
            if (s != null) {
              s.close();
            }
            sockets.set(i, null);
          }
        }
        Thread.sleep(2000);
      }
    } finally {
      for (Socket s : sockets) {
        if (s != null) {
          s.close();
        }
      }
    }
  }

  /** Random bytes and known-bad requests in both protocols on fresh connections. */
  private void garbage() throws Exception {
    SplittableRandom random = new SplittableRandom(settings.seed() + 3);
    String[] bad = {
      "set k 0 0 99999999999\r\n",
      "get " + "k".repeat(300) + "\r\n",
      "incr\r\n",
      "segdef bad 5\r\n(((((\r\n",
      "update soak:hot 2\r\n{}\r\n",
      "mg soak:hot b\r\n",
      "gat -1\r\n",
      "set k 0 0 -1\r\n",
      "watch " + "x ".repeat(2000) + "\r\n",
      "filtercount 10\r\nvisits >>>\r\n",
      "segmembers 4 0\r\nall!\r\n"
    };
    try (Conn c = connect()) {
      c.socket.setSoTimeout(200);
      byte[] noise;
      int kind = random.nextInt(3);
      if (kind == 0) {
        noise = bad[random.nextInt(bad.length)].getBytes(StandardCharsets.UTF_8);
      } else {
        noise = new byte[1 + random.nextInt(64 * 1024)];
        random.nextBytes(noise);
        if (kind == 1) {
          noise[0] = (byte) 0x80; // the binary protocol's magic
        } else if (noise[0] == (byte) 0x80) {
          noise[0] = 'g';
        }
      }
      count(hostileRounds, "garbage");
      try {
        c.out.write(noise);
        c.out.flush();
        byte[] sink = new byte[8192];
        while (c.in.read(sink) >= 0) {
          // drain what the node answers until it stops (timeout) or closes
        }
        count(hostileAnswers, "garbage.closed");
      } catch (SocketTimeoutException e) {
        count(hostileAnswers, "garbage.open");
      } catch (IOException e) {
        count(hostileAnswers, "garbage.reset");
      }
    }
  }

  /** Connections opened and closed as fast as the node accepts them, 50 a second. */
  private void churn() throws Exception {
    try (Socket s = new Socket(settings.host(), settings.port())) {
      count(hostileRounds, "churn");
      s.setSoLinger(true, 0);
    }
    Thread.sleep(20);
  }

  // --- plumbing ------------------------------------------------------------------------------

  private static void count(Map<String, LongAdder> counters, String what) {
    counters.computeIfAbsent(what, k -> new LongAdder()).increment();
  }

  private static String word(String reply) {
    int space = reply.indexOf(' ');
    String w = space < 0 ? reply : reply.substring(0, space);
    return w.toLowerCase(Locale.ROOT);
  }

  private static byte[] bytes(int n, char c) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) c);
    return b;
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private long residentKb() {
    if (settings.serverPid() == null) {
      return 0;
    }
    try {
      for (String l : Files.readAllLines(Path.of("/proc/" + settings.serverPid() + "/status"))) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  private Conn connect() throws IOException {
    return new Conn(new Socket(settings.host(), settings.port()));
  }

  /** One blocking text-protocol connection. */
  private static final class Conn implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Conn(Socket socket) throws IOException {
      this.socket = socket;
      socket.setTcpNoDelay(true);
      in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
      out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    }

    void command(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    void store(String key, byte[] value) throws IOException {
      out.write(
          ("set " + key + " 0 0 " + value.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(value);
      out.write(CRLF);
      out.flush();
      String reply = line();
      if (!reply.equals("STORED")) {
        throw new IOException("set " + key + ": " + reply);
      }
    }

    /** The value of {@code key}, or null on a miss. */
    byte[] get(String key) throws IOException {
      command("get " + key + "\r\n");
      String header = line();
      if (header.equals("END")) {
        return null;
      }
      String[] parts = header.split(" ");
      if (parts.length < 4 || !parts[0].equals("VALUE")) {
        throw new IOException("get " + key + ": " + header);
      }
      byte[] value = in.readNBytes(Integer.parseInt(parts[3]));
      in.readNBytes(2);
      String end = line();
      if (!end.equals("END")) {
        throw new IOException("get " + key + ": expected END, got " + end);
      }
      return value;
    }

    String update(String key, String body) throws IOException {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      out.write(("update " + key + " " + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(b);
      out.write(CRLF);
      out.flush();
      return line();
    }

    String line() throws IOException {
      StringBuilder s = new StringBuilder();
      while (true) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("connection closed by the node");
        }
        if (c == '\n') {
          int n = s.length();
          return n > 0 && s.charAt(n - 1) == '\r' ? s.substring(0, n - 1) : s.toString();
        }
        s.append((char) c);
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}

package dev.whack.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * The profile workload over the wire (P2, P7): profiles preloaded with {@code set}, 50 segments
 * defined, then partial {@code update}s on random profiles. With a watcher, one update in {@link
 * #FLIP_EVERY} creates a fresh key that enters the {@code flip} segment, and the delay from that
 * update's acknowledgement to the watcher receiving its {@code CHANGE} line is recorded.
 */
final class ProfileLoad implements PipelinedLoad.Protocol {
  static final int FLIP_EVERY = 100;
  private static final byte[] UPDATE = "update ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = "\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] FLIP_BODY =
      "{\"set\":{\"flag\":true}}".getBytes(StandardCharsets.US_ASCII);

  private final int profiles;
  private final ProfileWorkload workload;
  private final byte[][] updates;
  private final boolean watch;
  private final boolean preferences;
  private final long[] flipSequence = new long[64];

  /** Makes this run's flip keys new to a node that served earlier runs (they must enter). */
  private final String flipPrefix = "flip:" + Long.toString(System.currentTimeMillis(), 36) + ":";

  private final ChangeDelays changeDelays = new ChangeDelays();

  public ProfileLoad(int profiles, long nowMillis, boolean watch) {
    this(profiles, nowMillis, watch, false);
  }

  /**
   * @param preferences profiles carry 60 days of counts in the 20 preference dimensions, which are
   *     defined before the preload, and every update is a viewed car with its 20 properties
   */
  public ProfileLoad(int profiles, long nowMillis, boolean watch, boolean preferences) {
    this.profiles = profiles;
    this.workload = new ProfileWorkload(nowMillis);
    this.watch = watch;
    this.preferences = preferences;
    this.updates = preferences ? preferencePool(workload) : updatePool(workload);
  }

  private static byte[][] preferencePool(ProfileWorkload workload) {
    SplittableRandom r = new SplittableRandom(7);
    byte[][] pool = new byte[4096][];
    for (int i = 0; i < pool.length; i++) {
      pool[i] = workload.preferenceUpdate(r);
    }
    return pool;
  }

  /** Defines the 20 preference dimensions over the memcached port, expecting {@code DEFINED}. */
  public void defineDimensions(String host, int port) throws IOException {
    try (Socket s = Login.socket(host, port)) {
      OutputStream out = s.getOutputStream();
      InputStream in = new java.io.BufferedInputStream(s.getInputStream());
      for (String[] d : ProfileWorkload.dimensionDefinitions()) {
        byte[] spec = d[1].getBytes(StandardCharsets.UTF_8);
        out.write(
            ("dimdef " + d[0] + " " + spec.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(spec);
        out.write(CRLF);
        out.flush();
        String line = readLine(in);
        if (!line.equals("DEFINED")) {
          throw new IOException("dimdef " + d[0] + " answered " + line);
        }
      }
    }
  }

  /**
   * The pool of update bodies every profile update stream draws from (over the memcached port here,
   * through Kafka in {@link KafkaLoad}), built once so a generator spends its time on the wire.
   */
  static byte[][] updatePool(ProfileWorkload workload) {
    SplittableRandom r = new SplittableRandom(7);
    byte[][] pool = new byte[4096][];
    for (int i = 0; i < pool.length; i++) {
      pool[i] = workload.update(r);
    }
    return pool;
  }

  /** Writes every profile with pipelined sets over a few connections. */
  public void preload(String host, int port, int connections) throws Exception {
    if (preferences) {
      defineDimensions(host, port);
    }
    Ranges.inParallel(profiles, connections, (from, to) -> preloadRange(host, port, from, to));
  }

  private void preloadRange(String host, int port, int from, int to) throws IOException {
    SplittableRandom r = new SplittableRandom(from);
    try (Socket s = Login.socket(host, port)) {
      s.setTcpNoDelay(true);
      OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 1 << 16);
      InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 16);
      int batch = 500;
      for (int start = from; start < to; start += batch) {
        int end = Math.min(to, start + batch);
        for (int i = start; i < end; i++) {
          byte[] json = preferences ? workload.profileWithPreferences(r) : workload.profile(r);
          out.write(
              ("set user:" + i + " 0 0 " + json.length + "\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(json);
          out.write(CRLF);
        }
        out.flush();
        for (int i = start; i < end; i++) {
          String line = readLine(in);
          if (!line.equals("STORED")) {
            throw new IOException("preload of user:" + i + " answered " + line);
          }
        }
      }
    }
  }

  /** Defines the 50 segments. */
  public void defineSegments(String host, int port) throws IOException {
    define(host, port, ProfileWorkload.segments());
  }

  /** Defines the {@code flip} segment whose entries the watcher times. */
  public void defineFlipSegment(String host, int port) throws IOException {
    define(host, port, List.<String[]>of(new String[] {"flip", "flag == true"}));
  }

  /** Defines each (name, expression) over the memcached port, expecting {@code DEFINED}. */
  static void define(String host, int port, List<String[]> segments) throws IOException {
    try (Socket s = Login.socket(host, port)) {
      OutputStream out = s.getOutputStream();
      InputStream in = new java.io.BufferedInputStream(s.getInputStream());
      for (String[] seg : segments) {
        byte[] expr = seg[1].getBytes(StandardCharsets.UTF_8);
        out.write(
            ("segdef " + seg[0] + " " + expr.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(expr);
        out.write(CRLF);
        out.flush();
        String line = readLine(in);
        if (!line.startsWith("DEFINED ")) {
          throw new IOException("segdef " + seg[0] + " answered " + line);
        }
      }
    }
  }

  /** Starts a thread that watches {@code flip} and records change delays; returns its socket. */
  public Socket startWatcher(String host, int port) throws IOException {
    Socket s = Login.socket(host, port);
    s.setTcpNoDelay(true);
    s.getOutputStream().write("watch flip\r\n".getBytes(StandardCharsets.US_ASCII));
    InputStream in = new java.io.BufferedInputStream(s.getInputStream(), 1 << 16);
    String first = readLine(in);
    if (!first.startsWith("WATCHING")) {
      s.close();
      throw new IOException("watch answered " + first);
    }
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  String line = readLine(in);
                  long now = System.nanoTime();
                  if (line.startsWith("CHANGE enter flip ")) {
                    String key =
                        line.substring("CHANGE enter flip ".length(), line.lastIndexOf(' '));
                    changeDelays.changed(key, now);
                  }
                }
              } catch (IOException closed) {
                // the run is over
              }
            },
            "watcher");
    t.setDaemon(true);
    t.start();
    return s;
  }

  /** Segment names one watch line holds: the text protocol splits a line into 24 tokens. */
  static final int NAMES_PER_WATCH = 23;

  /**
   * Opens {@code count} connections that each watch {@link #NAMES_PER_WATCH} of the 50 segments (a
   * window that moves by that many per connection, so every segment is watched) and then never
   * read: what watchers that stop reading cost ingestion. Close them when the run is over.
   */
  public List<Socket> openIdleWatchers(String host, int port, int count) throws IOException {
    List<String[]> segments = ProfileWorkload.segments();
    List<Socket> sockets = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        StringBuilder line = new StringBuilder("watch");
        for (int j = 0; j < NAMES_PER_WATCH; j++) {
          line.append(' ').append(segments.get((i * NAMES_PER_WATCH + j) % segments.size())[0]);
        }
        Socket s = Login.socket(host, port);
        sockets.add(s);
        s.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
        String reply = readLine(s.getInputStream());
        if (!reply.equals("WATCHING " + NAMES_PER_WATCH)) {
          throw new IOException("watch answered " + reply);
        }
      }
    } catch (IOException e) {
      for (Socket s : sockets) {
        s.close();
      }
      throw e;
    }
    return sockets;
  }

  public Histogram changeDelays() {
    return changeDelays.histogram();
  }

  @Override
  public void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot) {
    if (watch && random.nextInt(FLIP_EVERY) == 0) {
      long n = ++flipSequence[worker];
      slot[0] = ((long) worker << 40) | n; // a flip key, remembered to pair with its change
      byte[] key = (flipPrefix + worker + ":" + n).getBytes(StandardCharsets.US_ASCII);
      writeUpdate(out, key, FLIP_BODY);
      return;
    }
    slot[0] = 0;
    byte[] key = ("user:" + random.nextInt(profiles)).getBytes(StandardCharsets.US_ASCII);
    writeUpdate(out, key, updates[random.nextInt(updates.length)]);
  }

  private static void writeUpdate(ByteBuffer out, byte[] key, byte[] body) {
    out.put(UPDATE).put(key).put((byte) ' ');
    PipelinedLoad.putDecimal(out, body.length);
    out.put(CRLF).put(body).put(CRLF);
  }

  private final java.util.concurrent.atomic.AtomicLong serverErrors =
      new java.util.concurrent.atomic.AtomicLong();

  /** Updates answered SERVER_ERROR (the node could not apply them then). */
  long serverErrors() {
    return serverErrors.get();
  }

  /** "UPDATED" (or "IGNORED"), or SERVER_ERROR (counted). */
  @Override
  public boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException {
    int lineEnd = PipelinedLoad.findLf(in);
    if (lineEnd < 0) {
      return false;
    }
    byte first = in.get(in.position());
    if (first == 'S' && serverErrors.getAndIncrement() == 0) {
      // SERVER_ERROR: the node could not apply it now (a cluster member moving); said once.
      System.err.println(
          "whack bench: an update answered "
              + StandardCharsets.US_ASCII.decode(in.duplicate().limit(lineEnd)).toString().trim());
    } else if (first != 'U' && first != 'I' && first != 'S') {
      throw new IOException(
          "unexpected reply: " + StandardCharsets.US_ASCII.decode(in.duplicate().limit(lineEnd)));
    }
    in.position(lineEnd + 1);
    if (slot[0] != 0) {
      changeDelays.acknowledged(
          flipPrefix + (slot[0] >>> 40) + ":" + (slot[0] & ((1L << 40) - 1)), nowNanos);
    }
    return true;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = b.length();
        return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
      }
      b.append((char) c);
    }
    throw new IOException("connection closed");
  }
}

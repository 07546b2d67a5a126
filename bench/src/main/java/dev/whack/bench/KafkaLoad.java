package dev.whack.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * P10, profile updates through Kafka (scripts/bench kafka): the P2 update stream ({@link
 * ProfileLoad#updatePool}, random {@code user:<n>} keys) produced into a node's updates topic, in
 * three steps the script runs around the node:
 *
 * <ul>
 *   <li>{@link #produceBacklog}: a backlog of updates, as fast as the broker takes them, while the
 *       node reads none of them;
 *   <li>{@link #drain}: the node's applied-records counter polled on its metrics endpoint until the
 *       backlog is applied, the rate taken from the first poll that saw records applied to the
 *       last;
 *   <li>{@link #changeDelays}: a steady stream at a fixed rate beside probes that move a probe key
 *       in and out of the {@code probe} segment, and a consumer of the node's changes topic that
 *       times each probe's change from the moment the probe was handed to the producer.
 * </ul>
 *
 * <p>Concurrency: each step runs on the calling thread, {@link #changeDelays} also on a probe
 * thread and a stream thread; what they share is the probe send times (a concurrent map) and
 * counters.
 */
final class KafkaLoad {
  private static final byte[] PROBE_IN =
      "{\"set\":{\"probe\":true}}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PROBE_OUT =
      "{\"set\":{\"probe\":false}}".getBytes(StandardCharsets.US_ASCII);

  /**
   * How often the drain reads the node's metrics: each read costs the node a Prometheus rendering
   * (about 8 ms of a core with P2's segments), so every 100 ms took 8% of a core from the drain it
   * timed; every 200 ms halves that and still times a 10 s drain to 2%.
   */
  private static final long POLL_MILLIS = 200;

  /** Probes per second in {@link #changeDelays}. */
  private static final int PROBES_PER_SECOND = 100;

  private final String bootstrap;
  private final String topic;
  private final int profiles;
  private final byte[][] updates;

  KafkaLoad(String bootstrap, String topic, int profiles, long nowMillis) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.profiles = profiles;
    this.updates = ProfileLoad.updatePool(new ProfileWorkload(nowMillis));
  }

  /** What a producer of the update stream was handed and what the broker refused. */
  record Produced(long records, double seconds, long failed) {
    double perSecond() {
      return seconds > 0 ? records / seconds : 0;
    }
  }

  /**
   * Produces {@code count} updates (keys and bodies drawn as P2 draws them) as fast as the broker
   * takes them; returns once all are acknowledged.
   */
  Produced produceBacklog(long count, long seed) {
    AtomicLong failed = new AtomicLong();
    Callback onAck = (metadata, e) -> countFailure(failed, e);
    long start = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = producer(20, 256 << 10)) {
      SplittableRandom random = new SplittableRandom(seed);
      for (long i = 0; i < count; i++) {
        producer.send(record(random), onAck);
      }
      producer.flush();
    }
    return new Produced(count, (System.nanoTime() - start) / 1e9, failed.get());
  }

  /**
   * Produces {@code count} whole profiles, {@code user:0} up, as P5's refill loads them (20
   * attributes and an event history, Profile JSON, header {@code whack-type: profile}), into the
   * topic, for a node to refill from (P5 through Kafka) or a cluster to read as updates (P11);
   * returns once all are acknowledged.
   */
  private static final byte[] PROFILE_TYPE = "profile".getBytes(StandardCharsets.US_ASCII);

  Produced produceProfiles(long count, long seed, long nowMillis) {
    AtomicLong failed = new AtomicLong();
    Callback onAck = (metadata, e) -> countFailure(failed, e);
    ProfileWorkload workload = new ProfileWorkload(nowMillis);
    long start = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = producer(20, 256 << 10)) {
      SplittableRandom random = new SplittableRandom(seed);
      for (long i = 0; i < count; i++) {
        byte[] key = ("user:" + i).getBytes(StandardCharsets.US_ASCII);
        ProducerRecord<byte[], byte[]> record =
            new ProducerRecord<>(topic, key, workload.profileWithHistory(random));
        // A whole profile, for an updates topic as for a profiles topic (docs/kafka.md).
        record.headers().add("whack-type", PROFILE_TYPE);
        producer.send(record, onAck);
      }
      producer.flush();
    }
    return new Produced(count, (System.nanoTime() - start) / 1e9, failed.get());
  }

  private ProducerRecord<byte[], byte[]> record(SplittableRandom random) {
    byte[] key = ("user:" + random.nextInt(profiles)).getBytes(StandardCharsets.US_ASCII);
    return new ProducerRecord<>(topic, key, updates[random.nextInt(updates.length)]);
  }

  private static void countFailure(AtomicLong failed, Exception e) {
    if (e != null) {
      failed.incrementAndGet();
    }
  }

  private KafkaProducer<byte[], byte[]> producer(int lingerMillis, int batchBytes) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "whack-bench");
    p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMillis);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, batchBytes);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(p);
  }

  /** The node's Kafka counters as its metrics endpoint gave them at one moment. */
  record Counters(long nanos, long applied, long duplicates, long deadLetters) {}

  /**
   * A backlog's drain: the rate between the first poll that saw progress and the last; {@code
   * handledTotal} the records applied or sent to the dead letters since the node started.
   */
  record Drain(long records, double seconds, long duplicates, long deadLetters, long handledTotal) {
    double perSecond() {
      return seconds > 0 ? records / seconds : 0;
    }
  }

  /**
   * Polls {@code metricsUrl} every {@link #POLL_MILLIS} until the node has applied {@code count}
   * records after the {@code after} it applied before them (a warm-up's; counted from its start),
   * or until nothing moved for {@code stallSeconds}. The rate runs from the first poll that saw one
   * of them applied to the first that saw them all, so it leaves out the node's wait for its first
   * fetch and is exact to one poll at the end.
   *
   * @param ready told just before the first poll, which a frozen node answers once it resumes (the
   *     script resumes it then)
   */
  static Drain drain(String metricsUrl, long after, long count, double stallSeconds, Runnable ready)
      throws IOException, InterruptedException {
    URI uri = URI.create(metricsUrl);
    ready.run();
    Counters last = read(uri);
    Counters first = last.applied() + last.deadLetters() > after ? last : null;
    long lastMove = last.nanos();
    while (last.applied() + last.deadLetters() < after + count) {
      Thread.sleep(POLL_MILLIS);
      Counters now = read(uri);
      if (first == null && now.applied() + now.deadLetters() > after) {
        first = now;
      }
      if (now.applied() != last.applied() || now.deadLetters() != last.deadLetters()) {
        lastMove = now.nanos();
      } else if (now.nanos() - lastMove > (long) (stallSeconds * 1e9)) {
        throw new IOException(
            "the node applied "
                + now.applied()
                + " of "
                + count
                + " records and nothing more for "
                + stallSeconds
                + " s");
      }
      last = now;
    }
    if (first == null) {
      first = last; // all of it was applied before the first poll: no rate to give
    }
    return new Drain(
        last.applied() - first.applied(),
        (last.nanos() - first.nanos()) / 1e9,
        last.duplicates(),
        last.deadLetters(),
        last.applied() + last.deadLetters());
  }

  /** {@code whack_kafka_records_total} by outcome, from the node's Prometheus text. */
  static Counters read(URI metrics) throws IOException {
    String text;
    try (InputStream in = metrics.toURL().openStream()) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    long nanos = System.nanoTime();
    return new Counters(
        nanos, counter(text, "applied"), counter(text, "duplicate"), counter(text, "dead_letter"));
  }

  private static long counter(String metrics, String outcome) throws IOException {
    String tag = "outcome=\"" + outcome + "\"";
    for (String line : metrics.split("\n")) {
      if (line.startsWith("whack_kafka_records_total{") && line.contains(tag)) {
        return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).trim());
      }
    }
    throw new IOException("no whack_kafka_records_total{" + tag + "} in the node's metrics");
  }

  /**
   * The delays from produce to change on the changes topic, and to the node's {@code watch} line
   * for the same change (the ingest leg alone), and what the run around them did.
   */
  record Delays(
      Histogram nanos,
      Histogram watchNanos,
      long probes,
      long unmatched,
      long streamed,
      double seconds,
      long failed) {}

  /**
   * For {@code warmupMillis + durationMillis}: updates at {@code ratePerSecond} into the updates
   * topic and, 100 times a second, a probe into the same topic that sets {@code probe} true or
   * false on a probe key (true first, then false, then the next key), so the node publishes an
   * enter or a leave of {@code probe} to {@code changesTopic}; records, for the probes sent after
   * the warm-up, the time from handing the probe to the producer to reading its change, and to the
   * {@code CHANGE} line of a connection to the node ({@code host}, {@code port}) that watches
   * {@code probe}. Waits up to 5 s after the run for the last changes; a probe whose change never
   * came on the topic counts as unmatched.
   */
  Delays changeDelays(
      String host,
      int port,
      String changesTopic,
      long ratePerSecond,
      long warmupMillis,
      long durationMillis,
      long seed)
      throws InterruptedException, IOException {
    String prefix = "probe:" + Long.toString(System.currentTimeMillis(), 36) + ":";
    ConcurrentHashMap<String, Long> sentNanos = new ConcurrentHashMap<>();
    ConcurrentHashMap<String, Long> watchSentNanos = new ConcurrentHashMap<>();
    Histogram delays = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    Histogram watchDelays = new ConcurrentHistogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong failed = new AtomicLong();
    AtomicLong streamed = new AtomicLong();
    AtomicLong probes = new AtomicLong();
    Socket watch = watch(host, port, prefix, watchSentNanos, watchDelays);
    try (KafkaConsumer<byte[], byte[]> changes = changesConsumer(changesTopic);
        KafkaProducer<byte[], byte[]> streamProducer = producer(5, 64 << 10);
        KafkaProducer<byte[], byte[]> probeProducer = producer(0, 16 << 10)) {
      // A producer's first send waits for the topic's metadata: fetched here, before the clock.
      streamProducer.partitionsFor(topic);
      probeProducer.partitionsFor(topic);
      long start = System.nanoTime();
      long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
      long end = measureFrom + TimeUnit.MILLISECONDS.toNanos(durationMillis);
      Thread stream =
          new Thread(
              () -> stream(streamProducer, ratePerSecond, seed, start, end, streamed, failed),
              "kafka-stream");
      Thread prober =
          new Thread(
              () ->
                  probe(
                      probeProducer,
                      prefix,
                      start,
                      measureFrom,
                      end,
                      sentNanos,
                      watchSentNanos,
                      probes,
                      failed),
              "kafka-probe");
      stream.start();
      prober.start();
      long stopAt = Long.MAX_VALUE;
      while (System.nanoTime() < stopAt) {
        for (ConsumerRecord<byte[], byte[]> change : changes.poll(Duration.ofMillis(50))) {
          long now = System.nanoTime();
          if (change.key() == null || change.value() == null) {
            continue; // a gap marker: the probes it hid stay unmatched
          }
          String key = new String(change.key(), StandardCharsets.UTF_8);
          if (!key.startsWith(prefix)) {
            continue;
          }
          String value = new String(change.value(), StandardCharsets.UTF_8);
          String kind = value.contains("\"kind\":\"enter\"") ? "enter" : "leave";
          Long sent = sentNanos.remove(key + " " + kind);
          if (sent != null) {
            delays.recordValue(Math.min(now - sent, delays.getHighestTrackableValue()));
          }
        }
        if (stopAt == Long.MAX_VALUE && !prober.isAlive()) {
          stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        }
        if (stopAt != Long.MAX_VALUE && sentNanos.isEmpty()) {
          break;
        }
      }
      stream.join();
      prober.join();
    } finally {
      watch.close();
    }
    return new Delays(
        delays,
        watchDelays,
        probes.get(),
        sentNanos.size(),
        streamed.get(),
        (warmupMillis + durationMillis) / 1e3,
        failed.get());
  }

  /**
   * A connection watching {@code probe} whose reader thread records, for each probe change it is
   * told of, the delay since the probe was sent.
   */
  private static Socket watch(
      String host,
      int port,
      String prefix,
      ConcurrentHashMap<String, Long> sentNanos,
      Histogram delays)
      throws IOException {
    Socket s = new Socket(host, port);
    s.setTcpNoDelay(true);
    s.getOutputStream().write("watch probe\r\n".getBytes(StandardCharsets.US_ASCII));
    BufferedReader in =
        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
    String first = in.readLine();
    if (first == null || !first.startsWith("WATCHING")) {
      s.close();
      throw new IOException("watch probe answered " + first);
    }
    Thread reader =
        new Thread(
            () -> {
              try {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  long now = System.nanoTime();
                  // CHANGE enter|leave probe <key> <millis>
                  String[] t = line.split(" ");
                  if (t.length == 5 && t[0].equals("CHANGE") && t[3].startsWith(prefix)) {
                    Long sent = sentNanos.remove(t[3] + " " + t[1]);
                    if (sent != null) {
                      delays.recordValue(Math.min(now - sent, delays.getHighestTrackableValue()));
                    }
                  }
                }
              } catch (IOException closed) {
                // the run is over
              }
            },
            "kafka-probe-watch");
    reader.setDaemon(true);
    reader.start();
    return s;
  }

  /** A consumer of every partition of the changes topic, from its end. */
  private KafkaConsumer<byte[], byte[]> changesConsumer(String changesTopic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "whack-bench-changes");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo info : consumer.partitionsFor(changesTopic, Duration.ofSeconds(30))) {
      partitions.add(new TopicPartition(changesTopic, info.partition()));
    }
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    for (TopicPartition partition : partitions) {
      consumer.position(partition); // settles the end now, before the first probe
    }
    return consumer;
  }

  /** The steady stream: P2's updates at a fixed rate, each handed over as it falls due. */
  private void stream(
      KafkaProducer<byte[], byte[]> producer,
      long ratePerSecond,
      long seed,
      long start,
      long end,
      AtomicLong streamed,
      AtomicLong failed) {
    Callback onAck = (metadata, e) -> countFailure(failed, e);
    SplittableRandom random = new SplittableRandom(seed);
    long sent = 0;
    for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
      long due = (long) ((now - start) / 1e9 * ratePerSecond);
      while (sent < due) {
        producer.send(record(random), onAck);
        sent++;
      }
      LockSupport.parkNanos(200_000);
    }
    producer.flush();
    streamed.set(sent);
  }

  /** The probes: one every 10 ms, each sent at once (no linger), its send time remembered. */
  private void probe(
      KafkaProducer<byte[], byte[]> producer,
      String prefix,
      long start,
      long measureFrom,
      long end,
      ConcurrentHashMap<String, Long> sentNanos,
      ConcurrentHashMap<String, Long> watchSentNanos,
      AtomicLong probes,
      AtomicLong failed) {
    Callback onAck = (metadata, e) -> countFailure(failed, e);
    long every = TimeUnit.SECONDS.toNanos(1) / PROBES_PER_SECOND;
    for (long n = 0; ; n++) {
      long at = start + n * every;
      if (at >= end) {
        break;
      }
      long wait = at - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      String key = prefix + n / 2;
      boolean in = n % 2 == 0;
      long now = System.nanoTime();
      if (now >= measureFrom) {
        String change = key + (in ? " enter" : " leave");
        sentNanos.put(change, now);
        watchSentNanos.put(change, now);
        probes.incrementAndGet();
      }
      producer.send(
          new ProducerRecord<>(
              topic, key.getBytes(StandardCharsets.US_ASCII), in ? PROBE_IN : PROBE_OUT),
          onAck);
    }
    producer.flush();
  }
}

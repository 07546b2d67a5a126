package dev.whack.node.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real single-node Kafka broker (KRaft) for tests, started once per test JVM by {@code
 * scripts/kafka start} on free loopback ports, with this JVM's class path (which holds Kafka's
 * broker artifacts, a test dependency), and stopped when the JVM exits.
 */
public final class KafkaBroker {
  private static KafkaBroker shared;

  private final Path dir;
  private final int port;
  private final Admin admin;

  private KafkaBroker(Path dir, int port) {
    this.dir = dir;
    this.port = port;
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    this.admin = Admin.create(p);
  }

  /** The broker of this test JVM, started on first use. */
  public static synchronized KafkaBroker shared() throws IOException, InterruptedException {
    if (shared == null) {
      Path dir = Files.createTempDirectory("whack-kafka-test");
      int port = freePortPair();
      script("start", "--port", Integer.toString(port), "--dir", dir.toString());
      KafkaBroker broker = new KafkaBroker(dir, port);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    broker.admin.close(Duration.ofSeconds(2));
                    try {
                      script("stop", "--dir", dir.toString());
                    } catch (IOException | InterruptedException e) {
                      // the JVM is going; the broker's pid file says what to kill by hand
                    }
                  }));
      shared = broker;
    }
    return shared;
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  public Path dir() {
    return dir;
  }

  /**
   * Creates a topic (one replica), compacted when asked, and returns once every partition has a
   * leader: a producer that writes to a partition the broker has not yet set up can lose a batch to
   * an endless OUT_OF_ORDER_SEQUENCE_NUMBER retry (KAFKA-15591).
   */
  public void createTopic(String name, int partitions, boolean compacted)
      throws ExecutionException, InterruptedException {
    NewTopic topic = new NewTopic(name, partitions, (short) 1);
    if (compacted) {
      topic.configs(Map.of("cleanup.policy", "compact"));
    }
    admin.createTopics(List.of(topic)).all().get();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        var description = admin.describeTopics(List.of(name)).allTopicNames().get().get(name);
        if (description.partitions().size() == partitions
            && description.partitions().stream().allMatch(p -> p.leader() != null)) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw e;
        }
        // created, not yet known to the broker's metadata: ask again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topic " + name + " has no leader for every partition");
      }
      Thread.sleep(50);
    }
  }

  public Admin admin() {
    return admin;
  }

  /** A producer of raw bytes that waits for the broker's acknowledgement of every record. */
  public KafkaProducer<byte[], byte[]> producer() {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    // One request in flight: a batch retried after NOT_LEADER_OR_FOLLOWER cannot be overtaken by
    // the next one, which the broker would then take as its first (KAFKA-15591).
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(p);
  }

  /** Every record of {@code topic} now in it (read from the beginning with no group). */
  public List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int expected, Duration within) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      var partitions =
          consumer.partitionsFor(topic).stream()
              .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + within.toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  private static int freePortPair() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      try (ServerSocket next = new ServerSocket(port + 1)) {
        if (next.isBound()) {
          return port; // both free a moment ago: the broker and its controller
        }
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no two free adjacent ports for a Kafka broker");
  }

  private static void script(String... args) throws IOException, InterruptedException {
    Path script = repositoryRoot().resolve("scripts/kafka");
    List<String> command = new ArrayList<>();
    command.add(script.toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("WHACK_KAFKA_CLASSPATH", System.getProperty("java.class.path"));
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("scripts/kafka " + String.join(" ", args) + " failed:\n" + output);
    }
  }

  private static Path repositoryRoot() {
    Path here = Path.of("").toAbsolutePath();
    while (here != null && !Files.exists(here.resolve("scripts/kafka"))) {
      here = here.getParent();
    }
    if (here == null) {
      throw new IllegalStateException(
          "scripts/kafka not found above " + Path.of("").toAbsolutePath());
    }
    return here;
  }
}

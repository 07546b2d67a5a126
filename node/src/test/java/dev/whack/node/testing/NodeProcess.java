package dev.whack.node.testing;

import dev.whack.node.WhackNode;
import dev.whack.node.config.KafkaOptions;
import dev.whack.node.config.NodeConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A node in a process of its own, for tests that must kill one ({@code kill -9}) rather than close
 * it: started from the test class path, it prints {@code PORT <n>} once it listens.
 */
public final class NodeProcess implements AutoCloseable {
  private final Process process;
  private final int port;

  private NodeProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts a node on a free port with {@code --data-dir dir --fsync fsync}, no snapshots by itself.
   */
  public static NodeProcess start(Path dir, String fsync) throws IOException {
    return start(dir, fsync, 0);
  }

  /**
   * Starts a node on a free port with {@code --data-dir dir --fsync fsync}, taking a snapshot by
   * itself every {@code snapshotEveryWrites} logged writes (0: never).
   */
  public static NodeProcess start(Path dir, String fsync, long snapshotEveryWrites)
      throws IOException {
    return start(dir, fsync, snapshotEveryWrites, List.of());
  }

  /**
   * As {@link #start(Path, String, long)}, consuming updates from Kafka: {@code kafka} is the
   * bootstrap address, the updates topic and the consumer group.
   */
  public static NodeProcess start(
      Path dir, String fsync, long snapshotEveryWrites, List<String> kafka) throws IOException {
    return start(dir, fsync, snapshotEveryWrites, kafka, null);
  }

  /**
   * As {@link #start(Path, String, long, List)}, also publishing the changes of every segment
   * (defined now or later) to {@code changesTopic} in JSON, when it is not null; {@code kafka} must
   * then name the bootstrap address, the updates topic and the consumer group.
   */
  public static NodeProcess start(
      Path dir, String fsync, long snapshotEveryWrites, List<String> kafka, String changesTopic)
      throws IOException {
    if (changesTopic != null && kafka.size() != 3) {
      throw new IllegalArgumentException("a changes topic needs bootstrap, updates topic, group");
    }
    List<String> args =
        new java.util.ArrayList<>(
            List.of(dir.toString(), fsync, Long.toString(snapshotEveryWrites)));
    args.addAll(kafka);
    if (changesTopic != null) {
      args.add(changesTopic);
    }
    return launch(args);
  }

  /**
   * A member of a Kafka-managed cluster, in memory, on {@code port}: {@code whack node --cluster
   * <cluster> --kafka-updates <topic> --kafka-session-timeout <sessionMillis>}.
   */
  public static NodeProcess startMember(
      int port, String bootstrap, String topic, String cluster, long sessionMillis)
      throws IOException {
    return startMember(port, bootstrap, topic, cluster, sessionMillis, null, 1);
  }

  /**
   * As {@link #startMember(int, String, String, String, long)}, keeping the profiles topic {@code
   * profilesTopic} (null: none; published every 100 ms) with {@code --replicas <replicas>}.
   */
  public static NodeProcess startMember(
      int port,
      String bootstrap,
      String topic,
      String cluster,
      long sessionMillis,
      String profilesTopic,
      int replicas)
      throws IOException {
    return launch(
        List.of(
            MEMBER,
            Integer.toString(port),
            bootstrap,
            topic,
            cluster,
            Long.toString(sessionMillis),
            profilesTopic == null ? "-" : profilesTopic,
            Integer.toString(replicas)));
  }

  private static final String MEMBER = "--member";

  /**
   * A node in memory on a free port with TLS from {@code certificate} and {@code key} (client
   * certificates not asked for), in a JVM started with {@code jvmOptions}: with {@code
   * -Dio.netty.handler.ssl.noOpenSsl=true} it serves with the JDK's TLS, and refuses to start if
   * OpenSSL loads all the same.
   */
  public static NodeProcess startTls(Path certificate, Path key, List<String> jvmOptions)
      throws IOException {
    return launch(jvmOptions, List.of(TLS, certificate.toString(), key.toString()));
  }

  private static final String TLS = "--tls";

  private static final java.util.regex.Pattern PORT_LINE =
      java.util.regex.Pattern.compile("PORT (\\d+)");

  private static NodeProcess launch(List<String> args) throws IOException {
    return launch(List.of(), args);
  }

  private static NodeProcess launch(List<String> jvmOptions, List<String> args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx512m"));
    command.addAll(jvmOptions);
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), NodeProcess.class.getName()));
    command.addAll(args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      // stdout and stderr share the pipe: a log line from another thread can land on the same
      // line as the port, before or after it.
      java.util.regex.Matcher announced = PORT_LINE.matcher(line);
      if (announced.find()) {
        int port = Integer.parseInt(announced.group(1));
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // keep the pipe empty
                    }
                  } catch (IOException ignored) {
                    // the process is gone
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return new NodeProcess(p, port);
      }
      seen.append(line).append('\n');
    }
    throw new IOException("the node process ended before it listened:\n" + seen);
  }

  public int port() {
    return port;
  }

  /** {@code kill -9}: no shutdown of any kind. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
  }

  /**
   * The node: {@code <data dir> <fsync> <snapshot every writes> [<kafka bootstrap> <topic> <group>
   * [<changes topic>]]}; the changes topic gets every segment's changes in JSON. Or a managed
   * cluster's member: {@code --member <port> <bootstrap> <topic> <cluster> <session millis>
   * <profiles topic or -> <replicas>}.
   */
  public static void main(String[] args) throws Exception {
    if (args[0].equals(TLS)) {
      if (System.getProperty("io.netty.handler.ssl.noOpenSsl") != null
          && io.netty.handler.ssl.OpenSsl.isAvailable()) {
        System.out.println("OpenSSL loaded although -Dio.netty.handler.ssl.noOpenSsl was given");
        System.exit(1);
      }
      WhackNode node =
          WhackNode.start(
              new NodeConfig()
                  .port(0)
                  .metricsPort(0)
                  .tls(
                      new dev.whack.node.config.TlsOptions(
                          Path.of(args[1]),
                          Path.of(args[2]),
                          null,
                          dev.whack.node.config.TlsOptions.ClientAuth.NONE))
                  .conclude());
      System.out.println("PORT " + node.port());
      System.out.flush();
      Thread.currentThread().join();
    }
    if (args[0].equals(MEMBER)) {
      WhackNode member =
          WhackNode.start(
              new NodeConfig()
                  .port(Integer.parseInt(args[1]))
                  .metricsPort(0)
                  .kafka(
                      args[6].equals("-")
                          ? KafkaOptions.updates(args[2], args[3], null)
                          : new KafkaOptions(
                              args[2], args[3], null, null, null, List.of(), true, args[6], 100))
                  .cluster(args[4])
                  .replicas(Integer.parseInt(args[7]))
                  .sessionTimeoutMillis(Long.parseLong(args[5]))
                  .conclude());
      System.out.println("PORT " + member.port());
      System.out.flush();
      Thread.currentThread().join();
    }
    NodeConfig config =
        new NodeConfig()
            .port(0)
            .metricsPort(0)
            .dataDir(Path.of(args[0]))
            .fsync(args[1])
            .snapshotEvery(0, Long.parseLong(args[2]));
    if (args.length > 6) {
      config.kafka(
          new KafkaOptions(args[3], args[4], args[5], null, args[6], List.of(), true, null, 0));
    } else if (args.length > 3) {
      config.kafka(KafkaOptions.updates(args[3], args[4], args[5]));
    }
    WhackNode node = WhackNode.start(config.conclude());
    System.out.println("PORT " + node.port());
    System.out.flush();
    Thread.currentThread().join();
  }
}

package dev.whack.node.config;

import java.util.Objects;

/**
 * Where a node reads its updates from Kafka ({@code --kafka-*} flags, docs/kafka.md).
 *
 * @param bootstrap the brokers, {@code host:port[,host:port...]}
 * @param updatesTopic the topic of updates keyed by profile key
 * @param group the consumer group the node commits its progress hints under
 * @param deadLetterTopic where a record that cannot be applied goes, with the reason in headers
 */
public record KafkaOptions(
    String bootstrap, String updatesTopic, String group, String deadLetterTopic) {
  /** The consumer group when none is given. */
  public static final String DEFAULT_GROUP = "whack";

  public KafkaOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    Objects.requireNonNull(updatesTopic, "updatesTopic");
    if (bootstrap.isBlank()) {
      throw new IllegalArgumentException("--kafka-bootstrap must name at least one broker");
    }
    if (!validTopic(updatesTopic)) {
      throw new IllegalArgumentException(
          "--kafka-updates must be a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -): "
              + updatesTopic);
    }
    if (group == null || group.isBlank()) {
      group = DEFAULT_GROUP;
    }
    if (deadLetterTopic == null || deadLetterTopic.isBlank()) {
      deadLetterTopic = updatesTopic + ".dead-letters";
    }
    if (!validTopic(deadLetterTopic)) {
      throw new IllegalArgumentException(
          "--kafka-dead-letters must be a Kafka topic name: " + deadLetterTopic);
    }
  }

  /** Kafka's own rule for topic names. */
  static boolean validTopic(String topic) {
    return topic.length() >= 1
        && topic.length() <= 249
        && !topic.equals(".")
        && !topic.equals("..")
        && topic
            .chars()
            .allMatch(
                c ->
                    (c >= 'a' && c <= 'z')
                        || (c >= 'A' && c <= 'Z')
                        || (c >= '0' && c <= '9')
                        || c == '.'
                        || c == '_'
                        || c == '-');
  }
}

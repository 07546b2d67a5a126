package dev.whack.node.config;

import java.util.List;
import java.util.Objects;

/**
 * How a node uses Kafka ({@code --kafka-*} flags, docs/kafka.md): a topic of updates it consumes, a
 * topic of segment changes it publishes, or both.
 *
 * @param bootstrap the brokers, {@code host:port[,host:port...]}
 * @param updatesTopic the topic of updates keyed by profile key, or null to consume none
 * @param group the consumer group the node commits its progress hints under
 * @param deadLetterTopic where an update that cannot be applied goes, with the reason in headers
 * @param changesTopic the topic every segment enter and leave is published to, or null for none
 * @param changesSegments the segments whose changes are published; empty for every segment, defined
 *     now or later
 * @param changesJson publish changes as JSON rather than protobuf {@code whack.v1.SegmentChange}
 * @param profilesTopic a compacted topic of whole profiles the node keeps up to date and, when it
 *     starts empty, refills from; null for none
 * @param profilesDelayMillis how long a changed profile waits before it is published (changes
 *     within it are coalesced)
 */
public record KafkaOptions(
    String bootstrap,
    String updatesTopic,
    String group,
    String deadLetterTopic,
    String changesTopic,
    List<String> changesSegments,
    boolean changesJson,
    String profilesTopic,
    long profilesDelayMillis) {
  /** How long a changed profile waits before the profiles topic gets it, when not said. */
  public static final long DEFAULT_PROFILES_DELAY_MILLIS = 1000;

  /** The consumer group when none is given. */
  public static final String DEFAULT_GROUP = "whack";

  public KafkaOptions {
    Objects.requireNonNull(bootstrap, "bootstrap");
    if (bootstrap.isBlank()) {
      throw new IllegalArgumentException("--kafka-bootstrap must name at least one broker");
    }
    if (updatesTopic == null && changesTopic == null && profilesTopic == null) {
      throw new IllegalArgumentException(
          "--kafka-bootstrap needs --kafka-updates, --kafka-changes or --kafka-profiles");
    }
    requireTopic("--kafka-profiles", profilesTopic);
    if (profilesDelayMillis < 0) {
      throw new IllegalArgumentException("--kafka-profiles-delay must not be negative");
    }
    if (profilesDelayMillis == 0) {
      profilesDelayMillis = DEFAULT_PROFILES_DELAY_MILLIS;
    }
    requireTopic("--kafka-updates", updatesTopic);
    requireTopic("--kafka-changes", changesTopic);
    if (group == null || group.isBlank()) {
      group = DEFAULT_GROUP;
    }
    if (updatesTopic != null && (deadLetterTopic == null || deadLetterTopic.isBlank())) {
      deadLetterTopic = updatesTopic + ".dead-letters";
    }
    requireTopic("--kafka-dead-letters", deadLetterTopic);
    changesSegments = changesSegments == null ? List.of() : List.copyOf(changesSegments);
  }

  /** Consumes {@code updatesTopic} only, with the default group and dead-letter topic. */
  public static KafkaOptions updates(String bootstrap, String updatesTopic, String group) {
    return new KafkaOptions(bootstrap, updatesTopic, group, null, null, List.of(), false, null, 0);
  }

  /** These options with another consumer group (a managed cluster's own). */
  public KafkaOptions withGroup(String newGroup) {
    return new KafkaOptions(
        bootstrap,
        updatesTopic,
        newGroup,
        deadLetterTopic,
        changesTopic,
        changesSegments,
        changesJson,
        profilesTopic,
        profilesDelayMillis);
  }

  private static void requireTopic(String flag, String topic) {
    if (topic != null && !validTopic(topic)) {
      throw new IllegalArgumentException(
          flag + " must be a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -): " + topic);
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

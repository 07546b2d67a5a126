package dev.whack.node.kafka;

/**
 * Publishes every segment enter and leave to the changes topic (docs/kafka.md, "Segment changes
 * out"), at least once, each with a version, the pair (epoch, seq), that grows with each change of
 * one profile in one segment and is the same when a change is published twice; what it could not
 * publish is told on the topic by a gap marker. A node with a data directory publishes from its log
 * ({@link LoggedChangePublisher}: across a crash too), one in memory from the change stream ({@link
 * StreamChangePublisher}: while it runs).
 */
public interface ChangePublisher extends AutoCloseable {
  /** The header of a gap marker: how many changes were lost just before it, or {@code unknown}. */
  String GAP_HEADER = "whack-gap";

  /** Starts publishing on the publisher's own thread. */
  void start();

  /** Changes the broker took. */
  long published();

  /** Changes known to be lost (each run told by a gap marker). */
  long missed();

  /** Gap markers sent. */
  long gaps();

  /** Times the publisher failed and went on after a gap marker. */
  long failures();

  @Override
  void close();
}

package dev.whack.node.kafka;

import dev.whack.node.config.KafkaOptions;
import dev.whack.node.durability.ChangeFeed;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Publishes the segment changes a node with a data directory logged ({@link ChangeFeed}), at least
 * once across a crash: it reads the log's changes from the position kept in the directory, sends a
 * batch, waits until the broker took all of it, and only then moves the kept position past it. A
 * batch the broker did not take whole is sent again after a pause, so nothing is skipped; after a
 * crash, what was sent but not yet kept as passed is sent again, with the same versions (the epoch
 * of the node's life that made the change, and its log record's sequence), so a consumer drops the
 * duplicates (docs/kafka.md). Ingestion never waits for it: the log is the buffer, and the files it
 * has not passed are kept until it has.
 *
 * <p>Concurrency: one thread owns the feed and sends; counts are read by others.
 */
public final class LoggedChangePublisher implements ChangePublisher {
  /** Changes per batch, at most (whole records: a little more). */
  private static final int BATCH = 5_000;

  private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long RETRY_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long KEEP_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final String topic;
  private final boolean json;
  private final ChangeFeed feed;
  private final ChangeSender sender;
  private final Thread thread;
  private volatile boolean running = true;

  private final Failures failures = new Failures("the Kafka changes publisher");

  private long sentInBatch;
  private long lastKeptNanos;

  private final ChangeFeed.Reader reader =
      new ChangeFeed.Reader() {
        @Override
        public void change(
            long epoch, long seq, String segment, byte[] key, boolean enter, long timeMillis) {
          byte[] k = key.clone();
          send(
              new ProducerRecord<>(
                  topic, k, ChangeMessages.value(json, segment, k, enter, timeMillis, epoch, seq)));
        }

        @Override
        public void lost(String reason) {
          sentInBatch++;
          sender.sendGap(ChangeMessages.gap(topic, -1, System.currentTimeMillis(), reason));
        }
      };

  public LoggedChangePublisher(KafkaOptions options, ChangeFeed feed) {
    this.topic = options.changesTopic();
    this.json = options.changesJson();
    this.feed = feed;
    this.sender = new ChangeSender(options);
    this.thread = new Thread(this::run, "whack-kafka-changes");
    thread.setDaemon(true);
  }

  @Override
  public void start() {
    thread.start();
  }

  private void run() {
    while (running) {
      try {
        publishBatch();
      } catch (IOException | RuntimeException | Error e) {
        recover(e);
      }
    }
    try {
      sender.flush();
      if (sender.takeRefused() == 0) {
        feed.commit(feed.position());
      }
    } catch (IOException | RuntimeException e) {
      // The kept position is a little behind: the next start sends those changes again.
    }
  }

  /** Reads a batch, sends it, and keeps the position past it once the broker took all of it. */
  private void publishBatch() throws IOException {
    ChangeFeed.Position start = feed.position();
    sentInBatch = 0;
    sender.takeRefused();
    try {
      int records = feed.read(BATCH, reader);
      if (records == 0 && sentInBatch == 0) {
        LockSupport.parkNanos(IDLE_NANOS);
        return;
      }
      sender.flush();
      long refused = sender.takeRefused();
      if (refused > 0) {
        throw new IOException(
            "the broker did not take " + refused + " of " + sentInBatch + " records");
      }
    } catch (IOException | RuntimeException | Error e) {
      feed.seek(start); // the whole batch again, after the pause
      throw e;
    }
    long now = System.nanoTime();
    if (now - lastKeptNanos >= KEEP_EVERY_NANOS) {
      feed.commit(feed.position());
      lastKeptNanos = now;
    }
  }

  /**
   * After a batch failed: it is read again after a pause (nothing of it is skipped; what the broker
   * took of it is sent twice, with the same versions); counted, and told ({@link Failures}).
   */
  private void recover(Throwable e) {
    failures.failed(e, "it sends that batch again");
    LockSupport.parkNanos(RETRY_PAUSE_NANOS);
  }

  private void send(ProducerRecord<byte[], byte[]> record) {
    sentInBatch++;
    sender.send(record);
  }

  @Override
  public long published() {
    return sender.published();
  }

  /** None: a change the broker refused is sent again, never skipped. */
  @Override
  public long missed() {
    return 0;
  }

  @Override
  public long gaps() {
    return sender.gaps();
  }

  @Override
  public long failures() {
    return failures.count();
  }

  /** Stops after the batch in hand, keeps the position past what the broker took, and closes. */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(15_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.close();
    try {
      feed.close();
    } catch (IOException e) {
      // read-only: nothing is lost
    }
  }
}

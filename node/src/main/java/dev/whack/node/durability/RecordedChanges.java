package dev.whack.node.durability;

import dev.whack.node.engine.segment.ChangeRecorder;
import dev.whack.node.keyspace.Keyspace;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;

/**
 * Logs the membership changes a stripe's writes make, as CHANGES records in the stripe's own log
 * buffer, for the changes publisher ({@link ChangeFeed}; docs/kafka.md, "Segment changes out").
 *
 * <p>A change is first kept with its stripe, and logged by the log thread just before it takes the
 * stripe's records ({@link DurableLog#beforeDrain}), so a CHANGES record is always numbered after
 * the writes that made its changes; the log reaches the disk in sequence order, so a change that
 * survives a crash has its write beside it, and one whose write was lost is lost with it. Each
 * record carries the epoch of the node's life that made it (when that life began): with the
 * record's sequence it makes each change's version, the same when read again after a restart and
 * greater for a later life even if a power cut lost the end of the log and its sequences are given
 * out again.
 *
 * <p>Concurrency: {@link #changed} runs under the stripe's lock (the engine publishes a change
 * under it), and so does the drain; each stripe's pending changes are guarded by that lock.
 */
final class RecordedChanges implements ChangeRecorder {
  /** Changes in one record at most, so a version's index (its low 16 bits) never overflows. */
  static final int MAX_PER_RECORD = 4096;

  private volatile DurableLog log;
  private final Keyspace keyspace;
  private final Lock[] locks;
  private final Set<String> segments;
  private final long epoch;
  private final Pending[] pending;
  private final ConcurrentHashMap<String, byte[]> names = new ConcurrentHashMap<>();

  /**
   * Encoded changes of one stripe not yet logged, in the CHANGES record's own layout (segment, key,
   * enter, time each), and how many.
   */
  private static final class Pending {
    RecordBuffer bytes = new RecordBuffer(256);
    int count;
  }

  /** Where dropped changes go. */
  private static final RecordBuffer.Sink DROP = (b, off, len) -> {};

  /**
   * @param segments the segments whose changes are logged, or null for all
   */
  RecordedChanges(Keyspace keyspace, Lock[] stripeLocks, Set<String> segments, long epoch) {
    this.keyspace = keyspace;
    this.locks = stripeLocks.clone();
    this.segments = segments == null ? null : Set.copyOf(segments);
    this.epoch = epoch;
    this.pending = new Pending[keyspace.stripeCount()];
    for (int i = 0; i < pending.length; i++) {
      pending[i] = new Pending();
    }
  }

  @Override
  public void changed(String segment, byte[] key, boolean enter, long timeMillis) {
    if (segments != null && !segments.contains(segment)) {
      return;
    }
    byte[] name = names.computeIfAbsent(segment, s -> s.getBytes(StandardCharsets.UTF_8));
    Pending p = pending[keyspace.stripeOf(key, 0, key.length)];
    int bytes = 4 + name.length + 4 + key.length + 1 + 8;
    p.bytes.putBytes(name, 0, name.length).putBytes(key, 0, key.length);
    p.bytes.putByte(enter ? 1 : 0).putLong(timeMillis);
    p.count++;
    DurableLog to = log;
    if (to != null) {
      to.appended(bytes); // what waits to be logged counts against the log's allowance already
    }
  }

  /**
   * The log the changes go to, from now on (recovery plays the old log first, with the changes it
   * makes again kept here: {@link #logged}).
   */
  void logTo(DurableLog log) {
    this.log = log;
  }

  /**
   * In replay: a CHANGES record of {@code stripe} was played, so the changes its writes made before
   * it, made again by replay and kept here, were logged already.
   */
  void logged(int stripe) {
    if (stripe >= pending.length) {
      return;
    }
    // Under the lock: replay's evictions may record a leave in this stripe from another thread.
    locks[stripe].lock();
    try {
      Pending p = pending[stripe];
      p.bytes.drainTo(DROP);
      p.count = 0;
    } finally {
      locks[stripe].unlock();
    }
  }

  /**
   * Logs source {@code source}'s pending changes as CHANGES records, numbered now: on the log
   * thread before it drains the source, or by a snapshot before it reads the source's cut; the
   * caller holds the source's lock.
   */
  void flush(int source) {
    if (source < pending.length && pending[source].count > 0) {
      write(source);
    }
  }

  /**
   * Logs source {@code source}'s pending changes, even none: a CHANGES record that tells a later
   * replay that no change of the stripe's earlier writes is to be logged again (made when recording
   * starts, so that changes from before it are not published after a crash). Caller holds the
   * source's lock.
   */
  void mark(int source) {
    if (source < pending.length) {
      write(source);
    }
  }

  private void write(int source) {
    if (log == null) {
      return;
    }
    Pending p = pending[source];
    int count = p.count;
    if (count == 0) {
      write(source, 0, new byte[0], 0); // a mark: no changes
      return;
    }
    boolean large = p.bytes.size() > (1 << 20);
    p.bytes.drainTo((bytes, off, len) -> write(source, count, bytes, off));
    p.count = 0;
    if (large) {
      p.bytes = new RecordBuffer(256); // back down after an unusual burst (a flush_all's leaves)
    }
  }

  /** Logs {@code count} encoded changes from {@code bytes[at]} as CHANGES records of the source. */
  private void write(int source, int count, byte[] bytes, int at) {
    int left = count;
    do {
      int n = Math.min(left, MAX_PER_RECORD);
      int end = at;
      for (int i = 0; i < n; i++) {
        end = entryEnd(bytes, end);
      }
      RecordBuffer b =
          log.append(source)
              .begin(LogRecords.CHANGES, log.nextSequence())
              .putInt(source)
              .putLong(epoch)
              .putInt(n)
              .putRaw(bytes, at, end - at);
      log.appended(b.end() - (end - at)); // the changes themselves were counted as they came
      at = end;
      left -= n;
    } while (left > 0);
  }

  /** Where the encoded change starting at {@code at} ends. */
  private static int entryEnd(byte[] b, int at) {
    at += 4 + LogFormat.intAt(b, at); // segment
    at += 4 + LogFormat.intAt(b, at); // key
    return at + 1 + 8;
  }
}

package dev.whack.node.durability;

import dev.whack.node.engine.segment.ChangeRecorder;
import dev.whack.node.keyspace.Keyspace;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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

  /** Encoded changes of one stripe not yet logged: segment, key, enter, time each. */
  private static final class Pending {
    byte[] bytes = new byte[256];
    int size;
    int count;

    void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }

    void putInt(int v) {
      bytes[size++] = (byte) (v >>> 24);
      bytes[size++] = (byte) (v >>> 16);
      bytes[size++] = (byte) (v >>> 8);
      bytes[size++] = (byte) v;
    }

    void putLong(long v) {
      putInt((int) (v >>> 32));
      putInt((int) v);
    }

    void put(byte[] b, int len) {
      putInt(len);
      System.arraycopy(b, 0, bytes, size, len);
      size += len;
    }
  }

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
    p.ensure(bytes);
    p.put(name, name.length);
    p.put(key, key.length);
    p.bytes[p.size++] = (byte) (enter ? 1 : 0);
    p.putLong(timeMillis);
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
      p.size = 0;
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
    int at = 0;
    int left = p.count;
    do {
      int n = Math.min(left, MAX_PER_RECORD);
      int end = at;
      for (int i = 0; i < n; i++) {
        end = entryEnd(p.bytes, end);
      }
      RecordBuffer b =
          log.append(source)
              .begin(LogRecords.CHANGES, log.nextSequence())
              .putInt(source)
              .putLong(epoch)
              .putInt(n)
              .putRaw(p.bytes, at, end - at);
      log.appended(b.end() - (end - at)); // the changes themselves were counted as they came
      at = end;
      left -= n;
    } while (left > 0);
    p.size = 0;
    p.count = 0;
    if (p.bytes.length > (1 << 20)) {
      p.bytes = new byte[256];
    }
  }

  /** Where the encoded change starting at {@code at} ends. */
  private static int entryEnd(byte[] b, int at) {
    at += 4 + intAt(b, at); // segment
    at += 4 + intAt(b, at); // key
    return at + 1 + 8;
  }

  private static int intAt(byte[] b, int at) {
    return (b[at] & 0xff) << 24
        | (b[at + 1] & 0xff) << 16
        | (b[at + 2] & 0xff) << 8
        | b[at + 3] & 0xff;
  }
}

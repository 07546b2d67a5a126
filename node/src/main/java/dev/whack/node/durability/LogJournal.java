package dev.whack.node.durability;

import dev.whack.node.engine.CatalogListener;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.keyspace.Journal;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.Lock;

/**
 * Writes the keyspace's changes ({@link Journal}) and segment and dimension definitions to the
 * {@link DurableLog} as {@link LogRecords}. Keyspace records go to their stripe's buffer, under the
 * stripe lock the keyspace holds when it calls; segment and dimension records to one more source,
 * under its own lock.
 *
 * <p>Each thread's last sequence is remembered by the log ({@link
 * DurableLog#lastSequenceOfThisThread}).
 *
 * <p>Concurrency: called from any thread, under the lock of the source it appends to.
 */
public final class LogJournal implements Journal, CatalogListener {
  private final DurableLog log;
  private final int segmentSource;
  private final Lock segmentLock;

  /**
   * @param segmentSource the log source for segment records, whose lock is {@code segmentLock}
   */
  public LogJournal(DurableLog log, int segmentSource, Lock segmentLock) {
    this.log = log;
    this.segmentSource = segmentSource;
    this.segmentLock = segmentLock;
  }

  private RecordBuffer begin(int source, byte type) {
    long seq = log.nextSequence();
    return log.append(source).begin(type, seq);
  }

  /** Closes the record and counts it towards the log's allowance. */
  private void end(RecordBuffer b) {
    log.appended(b.end());
  }

  private static void key(RecordBuffer b, byte[] key) {
    b.putBytes(key, 0, key.length);
  }

  @Override
  public void item(
      int stripe, byte[] key, int flags, long expiresAtSeconds, long cas, int marks, byte[] value) {
    RecordBuffer b = begin(stripe, LogRecords.ITEM).putInt(stripe);
    key(b, key);
    b.putInt(flags).putLong(expiresAtSeconds).putLong(cas).putByte(marks);
    end(b.putBytes(value, 0, value.length));
  }

  @Override
  public void profilePut(
      int stripe,
      byte[] key,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      long atMillis,
      byte[] document,
      int offset,
      int length) {
    RecordBuffer b = begin(stripe, LogRecords.PROFILE_PUT).putInt(stripe);
    key(b, key);
    b.putByte(kind).putInt(flags).putLong(expiresAtSeconds).putLong(cas).putByte(marks);
    end(b.putLong(atMillis).putBytes(document, offset, length));
  }

  @Override
  public void profileUpdate(
      int stripe,
      byte[] key,
      long cas,
      long atMillis,
      boolean protobuf,
      byte[] document,
      int offset,
      int length) {
    RecordBuffer b = begin(stripe, LogRecords.PROFILE_UPDATE).putInt(stripe);
    key(b, key);
    b.putLong(cas).putLong(atMillis).putByte(protobuf ? 1 : 0);
    end(b.putBytes(document, offset, length));
  }

  @Override
  public void profileMarked(int stripe, byte[] key, long cas, long expiresAtSeconds, int marks) {
    RecordBuffer b = begin(stripe, LogRecords.PROFILE_MARKED).putInt(stripe);
    key(b, key);
    end(b.putLong(cas).putLong(expiresAtSeconds).putByte(marks));
  }

  @Override
  public void expiry(int stripe, byte[] key, long expiresAtSeconds) {
    RecordBuffer b = begin(stripe, LogRecords.EXPIRY).putInt(stripe);
    key(b, key);
    end(b.putLong(expiresAtSeconds));
  }

  @Override
  public void removed(int stripe, byte[] key) {
    RecordBuffer b = begin(stripe, LogRecords.REMOVED).putInt(stripe);
    key(b, key);
    end(b);
  }

  @Override
  public void flushed(int stripe, long oldestLiveSeconds, long oldestLiveCas) {
    end(
        begin(stripe, LogRecords.FLUSHED)
            .putInt(stripe)
            .putLong(oldestLiveSeconds)
            .putLong(oldestLiveCas));
  }

  @Override
  public void defined(String name, String expression) {
    defined(name, expression, Long.MIN_VALUE);
  }

  /** The definition, with the time it began (so a replay backfills at it), when known. */
  @Override
  public void defined(String name, String expression, long beganAtMillis) {
    segmentLock.lock();
    try {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      byte[] e = expression.getBytes(StandardCharsets.UTF_8);
      RecordBuffer b =
          begin(segmentSource, LogRecords.SEGMENT_DEFINED)
              .putBytes(n, 0, n.length)
              .putBytes(e, 0, e.length);
      if (beganAtMillis != Long.MIN_VALUE) {
        b.putLong(beganAtMillis);
      }
      end(b);
    } finally {
      segmentLock.unlock();
    }
  }

  /** A dimension definition, logged as its canonical JSON (what a replay defines again). */
  @Override
  public void dimensionDefined(DimensionSpec spec) {
    catalogRecord(LogRecords.DIMENSION_DEFINED, spec.name(), spec.toJson());
  }

  @Override
  public void dimensionDropped(String name) {
    catalogRecord(LogRecords.DIMENSION_DROPPED, name, null);
  }

  /**
   * A categorical value numbered, under the dimension's table and before the write that met it is
   * logged: a replay numbers the values in this order, whatever order it replays the stripes in
   * (LogRecords, CATEGORY_LEARNED).
   */
  @Override
  public void categoryLearned(int dimension, int category, String value) {
    segmentLock.lock();
    try {
      byte[] v = value.getBytes(StandardCharsets.UTF_8);
      end(
          begin(segmentSource, LogRecords.CATEGORY_LEARNED)
              .putInt(dimension)
              .putInt(category)
              .putBytes(v, 0, v.length));
    } finally {
      segmentLock.unlock();
    }
  }

  private void catalogRecord(byte type, String name, String definition) {
    segmentLock.lock();
    try {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      RecordBuffer b = begin(segmentSource, type).putBytes(n, 0, n.length);
      if (definition != null) {
        byte[] d = definition.getBytes(StandardCharsets.UTF_8);
        b.putBytes(d, 0, d.length);
      }
      end(b);
    } finally {
      segmentLock.unlock();
    }
  }

  @Override
  public void dropped(String name) {
    segmentLock.lock();
    try {
      byte[] n = name.getBytes(StandardCharsets.UTF_8);
      end(begin(segmentSource, LogRecords.SEGMENT_DROPPED).putBytes(n, 0, n.length));
    } finally {
      segmentLock.unlock();
    }
  }
}

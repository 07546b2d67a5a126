package dev.whack.node.durability;

import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Records appended by one writer (on the node, one keyspace stripe, under the stripe's lock) and
 * not yet taken by the log thread. Each record is encoded and checksummed here, by the thread that
 * made the change, so the log thread only copies bytes to the file.
 *
 * <p>Concurrency: appends and {@link #drainTo} are serialised by the owner's lock; the log thread
 * calls {@link #drainTo} under that same lock (see {@link DurableLog}).
 */
public final class RecordBuffer {
  private final CRC32C crc = new CRC32C();
  private byte[] bytes;
  private int size;

  public RecordBuffer() {
    this(4096);
  }

  public RecordBuffer(int initialBytes) {
    this.bytes = new byte[initialBytes];
  }

  /** Where the record being written starts, or -1. */
  private int start = -1;

  /** Starts a record; write the payload with the {@code put} methods, then {@link #end}. */
  public RecordBuffer begin(byte type, long sequence) {
    ensure(LogFormat.RECORD_HEADER + LogFormat.BODY_OVERHEAD);
    start = size;
    size += LogFormat.RECORD_HEADER;
    bytes[size++] = type;
    putLongAt(size, sequence);
    size += 8;
    return this;
  }

  public RecordBuffer putByte(int v) {
    ensure(1);
    bytes[size++] = (byte) v;
    return this;
  }

  public RecordBuffer putInt(int v) {
    ensure(4);
    bytes[size++] = (byte) (v >>> 24);
    bytes[size++] = (byte) (v >>> 16);
    bytes[size++] = (byte) (v >>> 8);
    bytes[size++] = (byte) v;
    return this;
  }

  public RecordBuffer putLong(long v) {
    ensure(8);
    putLongAt(size, v);
    size += 8;
    return this;
  }

  /** A length-prefixed byte string. */
  public RecordBuffer putBytes(byte[] b, int off, int len) {
    putInt(len);
    ensure(len);
    System.arraycopy(b, off, bytes, size, len);
    size += len;
    return this;
  }

  /** Bytes as they are, with no length before them (already encoded fields). */
  public RecordBuffer putRaw(byte[] b, int off, int len) {
    ensure(len);
    System.arraycopy(b, off, bytes, size, len);
    size += len;
    return this;
  }

  /** Closes the record begun last: writes its length and checksum; returns its size in bytes. */
  public int end() {
    int body = size - start - LogFormat.RECORD_HEADER;
    if (body > LogFormat.MAX_BODY) {
      size = start;
      start = -1;
      throw new IllegalArgumentException("a log record of " + body + " bytes is over the limit");
    }
    crc.reset();
    crc.update(bytes, start + LogFormat.RECORD_HEADER, body);
    putIntAt(start, body);
    putIntAt(start + 4, (int) crc.getValue());
    start = -1;
    return LogFormat.RECORD_HEADER + body;
  }

  /** Hands every complete record to {@code sink} and forgets them. */
  public void drainTo(Sink sink) {
    if (size > 0) {
      sink.accept(bytes, 0, size);
      size = 0;
    }
  }

  /** Bytes of complete records held. */
  public int size() {
    return start < 0 ? size : start;
  }

  /** Where drained bytes go. */
  @FunctionalInterface
  public interface Sink {
    void accept(byte[] b, int off, int len);
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }

  private void putIntAt(int at, int v) {
    bytes[at] = (byte) (v >>> 24);
    bytes[at + 1] = (byte) (v >>> 16);
    bytes[at + 2] = (byte) (v >>> 8);
    bytes[at + 3] = (byte) v;
  }

  private void putLongAt(int at, long v) {
    putIntAt(at, (int) (v >>> 32));
    putIntAt(at + 4, (int) v);
  }
}

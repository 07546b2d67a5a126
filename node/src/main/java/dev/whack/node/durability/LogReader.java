package dev.whack.node.durability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads a log file back, record by record, and tells a torn end from damage.
 *
 * <p>A crash can leave the last record incomplete (its length written, not all of its body), with a
 * body whose checksum fails and nothing after it, or with zeros where it should be: that record was
 * never acknowledged under {@code --fsync always} (the reply waits until the whole record is on
 * disk), so it is dropped and reported ({@link Result#tornBytes}). A record that fails its
 * checksum, or has an impossible length, with other bytes after it is damage, which recovery must
 * not guess past: {@link #read} throws {@link CorruptLogException} naming the file, offset and
 * reason. (A power cut in the middle of a group commit can, rarely, persist a later page of the
 * batch before an earlier one; that too reads as damage, and the operator decides.)
 *
 * <p>Reads the whole file through one buffer of the largest record's size; allocates per record
 * only what the consumer keeps.
 */
public final class LogReader {
  /** What a caller does with each good record. */
  @FunctionalInterface
  public interface Consumer {
    /**
     * @param payload the record's payload, valid only during the call
     */
    void record(byte type, long sequence, ByteBuffer payload);
  }

  /**
   * @param records good records read
   * @param maxSequence the highest sequence of a good record (a maximum, not the last: logs written
   *     before the log kept sequence order hold different sources' records out of order), or -1
   * @param goodBytes the length of the file up to the end of the last good record
   * @param tornBytes bytes after it that were dropped as a torn last record (0 when none)
   * @param skipped damaged parts passed over when told to ({@code skipDamage}), as "offset +bytes"
   *     descriptions; empty otherwise
   */
  public record Result(
      long records,
      long maxSequence,
      long goodBytes,
      long tornBytes,
      java.util.List<String> skipped) {
    Result(long records, long maxSequence, long goodBytes, long tornBytes) {
      this(records, maxSequence, goodBytes, tornBytes, java.util.List.of());
    }
  }

  private LogReader() {}

  /**
   * Reads every record of the file at {@code path}.
   *
   * @throws CorruptLogException when the header is wrong or a record is damaged before the end
   */
  public static Result read(Path path, Consumer consumer) throws IOException {
    return read(path, LogFormat.MAGIC, false, consumer);
  }

  /**
   * {@link #read(Path, Consumer)} for a file whose header carries {@code magic}; with {@code
   * skipDamage} (the operator's explicit choice), a damaged record is passed over instead of
   * stopping the read: reading goes on at the next offset where a whole record with a good checksum
   * starts, and {@link Result#skipped} says what was lost.
   */
  static Result read(Path path, byte[] magic, boolean skipDamage, Consumer consumer)
      throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < LogFormat.FILE_HEADER) {
        if (fileSize == 0) {
          return new Result(0, -1, 0, 0);
        }
        // A crash while the header itself was written: nothing was ever logged after it.
        return new Result(0, -1, 0, fileSize);
      }
      ByteBuffer header = ByteBuffer.allocate(LogFormat.FILE_HEADER);
      readFully(ch, header, 0);
      header.flip();
      byte[] found = new byte[magic.length];
      header.get(found);
      if (!Arrays.equals(found, magic)) {
        String expected = new String(magic, java.nio.charset.StandardCharsets.US_ASCII);
        throw new CorruptLogException(path, 0, "not a Whack file (no " + expected + " header)");
      }
      int version = header.getInt();
      if (version != LogFormat.VERSION) {
        throw new CorruptLogException(
            path, 8, "log format version " + version + ", this node reads " + LogFormat.VERSION);
      }
      long pos = LogFormat.FILE_HEADER;
      java.util.List<String> skipped = new java.util.ArrayList<>();
      long records = 0;
      long maxSequence = -1;
      ByteBuffer head = ByteBuffer.allocate(LogFormat.RECORD_HEADER);
      ByteBuffer body = ByteBuffer.allocate(64 * 1024);
      while (pos < fileSize) {
        long left = fileSize - pos;
        if (left < LogFormat.RECORD_HEADER) {
          return new Result(records, maxSequence, pos, left, skipped);
        }
        head.clear();
        readFully(ch, head, pos);
        int length = head.getInt(0);
        int crc = head.getInt(4);
        if (length < LogFormat.BODY_OVERHEAD || length > LogFormat.MAX_BODY) {
          if (zerosFrom(ch, pos)) {
            return new Result(records, maxSequence, pos, left, skipped); // space never filled
          }
          if (!skipDamage) {
            throw new CorruptLogException(path, pos, "impossible record length " + length);
          }
          long next = nextGoodRecord(ch, pos + 1, fileSize);
          skipped.add(pos + " +" + (next - pos) + " (impossible record length " + length + ")");
          pos = next;
          continue;
        }
        if (left < LogFormat.RECORD_HEADER + (long) length) {
          return new Result(records, maxSequence, pos, left, skipped); // torn: body never landed
        }
        if (body.capacity() < length) {
          body = ByteBuffer.allocate(Math.max(length, body.capacity() * 2));
        }
        body.clear().limit(length);
        readFully(ch, body, pos + LogFormat.RECORD_HEADER);
        if (LogFormat.crc(body.array(), 0, length) != crc) {
          long next = pos + LogFormat.RECORD_HEADER + length;
          if (next == fileSize) {
            return new Result(records, maxSequence, pos, left, skipped); // the last record, torn
          }
          if (!skipDamage) {
            throw new CorruptLogException(path, pos, "record checksum does not match");
          }
          long good = nextGoodRecord(ch, pos + 1, fileSize);
          skipped.add(pos + " +" + (good - pos) + " (record checksum does not match)");
          pos = good;
          continue;
        }
        byte type = body.get(0);
        long sequence = body.getLong(1);
        body.position(LogFormat.BODY_OVERHEAD);
        consumer.record(type, sequence, body.slice());
        records++;
        maxSequence = Math.max(maxSequence, sequence);
        pos += LogFormat.RECORD_HEADER + length;
      }
      return new Result(records, maxSequence, pos, 0, skipped);
    }
  }

  /**
   * The first offset from {@code from} where a whole record with a good checksum starts, or the end
   * of the file: where reading goes on after damage the operator chose to skip.
   */
  private static long nextGoodRecord(FileChannel ch, long from, long fileSize) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(LogFormat.RECORD_HEADER);
    for (long at = from; at + LogFormat.RECORD_HEADER <= fileSize; at++) {
      head.clear();
      readFully(ch, head, at);
      int length = head.getInt(0);
      if (length < LogFormat.BODY_OVERHEAD
          || length > LogFormat.MAX_BODY
          || at + LogFormat.RECORD_HEADER + length > fileSize) {
        continue;
      }
      ByteBuffer body = ByteBuffer.allocate(length);
      readFully(ch, body, at + LogFormat.RECORD_HEADER);
      if (LogFormat.crc(body.array(), 0, length) == head.getInt(4)) {
        return at;
      }
    }
    return fileSize;
  }

  /** Whether every byte from {@code pos} to the end of the file is zero. */
  private static boolean zerosFrom(FileChannel ch, long pos) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
    for (long at = pos; at < ch.size(); ) {
      b.clear();
      int n = ch.read(b, at);
      if (n <= 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        if (b.get(i) != 0) {
          return false;
        }
      }
      at += n;
    }
    return true;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
    long pos = at;
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new IOException("log ended early at " + pos);
      }
      pos += n;
    }
  }
}

package dev.whack.node.durability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The membership changes a node with a data directory logged ({@link RecordedChanges}), read back
 * in log order from a position that is kept in the directory, for the changes publisher
 * (docs/kafka.md, "Segment changes out"): so what the publisher had not handed to Kafka when the
 * node stopped or crashed is read again after the restart, and changes are published at least once
 * across a crash, each with the same version every time.
 *
 * <p>It reads only records below the log's durable sequence (forced under {@code --fsync always},
 * written otherwise), so it never publishes a change a crash could still take back; the log is in
 * sequence order, so that is a prefix of the file. Files are read by generation; a file is done
 * once the next one exists and holds nothing more. The position is kept in {@value #POSITION_FILE}
 * ({@link #commit}); the log files from its generation on are kept until it passes them ({@link
 * #heldGeneration}), however many snapshots are taken meanwhile.
 *
 * <p>Concurrency: one reader thread; {@link #heldGeneration} is read by the snapshot's thread.
 */
public final class ChangeFeed implements AutoCloseable {
  /** Where the position is kept: generation and offset of the first record not yet handed over. */
  public static final String POSITION_FILE = "changes-position";

  /** A place in the log: a file's generation and an offset in it. */
  public record Position(long generation, long offset) {}

  /** What the reader is handed. */
  public interface Reader {
    /**
     * One change, with its version (epoch, seq): the epoch of the node's life that made it, and its
     * record's sequence times 65,536 plus its place in the record.
     *
     * @param key valid only during the call
     */
    void change(long epoch, long seq, String segment, byte[] key, boolean enter, long timeMillis);

    /** Changes were lost (files gone, or damaged): how many is not known. */
    void lost(String reason);
  }

  private final Path dir;
  private final DurableLog log;
  private long generation;
  private long offset;
  private FileChannel file;
  private volatile long held;

  /** File bytes from {@link #chunkStart}, read after the durable sequence was taken. */
  private ByteBuffer chunk = ByteBuffer.allocate(1 << 20);

  private long chunkStart;

  /** Where the last damaged record was told of (-1: none), so it is told once. */
  private long damagedAt = -1;

  /** Why the feed starts after a gap (its position's file was gone), or null. */
  private String startGap;

  private ChangeFeed(Path dir, DurableLog log, long generation, long offset, String startGap)
      throws IOException {
    this.dir = dir;
    this.log = log;
    this.generation = generation;
    this.offset = offset;
    this.held = generation;
    this.startGap = startGap;
    this.file = FileChannel.open(Durability.logPath(dir, generation), StandardOpenOption.READ);
  }

  /**
   * Opens the feed at the position kept in {@code dir}; without one (the first start with a
   * publisher), at the end of the current log, {@code current}, and keeps that position at once.
   */
  static ChangeFeed open(Path dir, DurableLog log, long current) throws IOException {
    Position kept = read(dir);
    TreeMap<Long, Path> logs = Durability.logFiles(dir);
    ChangeFeed feed;
    if (kept == null) {
      feed =
          new ChangeFeed(
              dir,
              log,
              current,
              Files.size(Durability.logPath(dir, current)),
              "the changes publisher starts here: changes made before are not on the topic");
    } else if (!logs.containsKey(kept.generation())) {
      Map.Entry<Long, Path> next = logs.ceilingEntry(kept.generation());
      long from = next != null ? next.getKey() : current;
      feed =
          new ChangeFeed(
              dir,
              log,
              from,
              LogFormat.FILE_HEADER,
              "the log the publisher stood in (generation "
                  + kept.generation()
                  + ") is gone: its changes after offset "
                  + kept.offset()
                  + " were not published");
    } else {
      // A power cut may have taken the end of the file back, below where the feed stood: the
      // records written there since are new ones, read from where the file now ends.
      long size = Files.size(Durability.logPath(dir, kept.generation()));
      feed =
          new ChangeFeed(
              dir,
              log,
              kept.generation(),
              Math.max(LogFormat.FILE_HEADER, Math.min(kept.offset(), size)),
              null);
    }
    feed.commit(feed.position());
    return feed;
  }

  /** The position kept in {@code dir}, or null. */
  static Position read(Path dir) throws IOException {
    try {
      String[] parts =
          Files.readString(dir.resolve(POSITION_FILE), StandardCharsets.US_ASCII).trim().split(" ");
      return new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
    } catch (NoSuchFileException e) {
      return null;
    } catch (RuntimeException e) {
      throw new IOException(dir.resolve(POSITION_FILE) + " is not a position: " + e.getMessage());
    }
  }

  /**
   * The generation of the oldest log the feed kept in {@code dir} still needs, or {@link
   * Long#MAX_VALUE} when there is no feed position there.
   */
  static long heldGeneration(Path dir) {
    try {
      Position p = read(dir);
      return p == null ? Long.MAX_VALUE : p.generation();
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Where the next record to read starts. */
  public Position position() {
    return new Position(generation, offset);
  }

  /** Goes back to {@code p}, a position this feed was at before (a batch to read again). */
  public void seek(Position p) throws IOException {
    if (p.generation() != generation) {
      file.close();
      file = FileChannel.open(Durability.logPath(dir, p.generation()), StandardOpenOption.READ);
      generation = p.generation();
    }
    offset = p.offset();
  }

  /**
   * Keeps {@code p} as where the next start reads from: every change before it was handed over.
   * Written to a new file and renamed over the old, so a crash leaves one or the other; not forced
   * (a position lost to a power cut only makes the next start read more again).
   */
  public void commit(Position p) throws IOException {
    Path tmp = dir.resolve(POSITION_FILE + ".tmp");
    Files.writeString(
        tmp,
        String.format(Locale.ROOT, "%d %d%n", p.generation(), p.offset()),
        StandardCharsets.US_ASCII);
    Files.move(
        tmp,
        dir.resolve(POSITION_FILE),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    held = p.generation();
  }

  /** The oldest log generation the kept position still needs (logs from it on stay). */
  public long heldGeneration() {
    return held;
  }

  /**
   * Hands {@code reader} the changes of the records from the position on, up to about {@code max}
   * changes (whole records only), and moves the position past them; returns how many records were
   * read (0: nothing new is durable yet).
   */
  public int read(int max, Reader reader) throws IOException {
    if (startGap != null) {
      reader.lost(startGap);
      startGap = null;
    }
    long durable = log.durableBelow(); // before any byte is read: what is below it is whole
    chunk.clear().limit(0);
    chunkStart = offset;
    int records = 0;
    int changes = 0;
    while (changes < max) {
      if (!available(offset, LogFormat.RECORD_HEADER)) {
        if (!nextFile()) {
          break;
        }
        continue;
      }
      int at = (int) (offset - chunkStart);
      int length = chunk.getInt(at);
      int crc = chunk.getInt(at + 4);
      if (length < LogFormat.BODY_OVERHEAD || length > LogFormat.MAX_BODY) {
        // Damage: nothing after it in this file can be found. Told once; the next file, when
        // there is one, goes on.
        if (damagedAt != offset) {
          damagedAt = offset;
          reader.lost(
              "a damaged record in " + Durability.logPath(dir, generation) + " at " + offset);
        }
        if (!skipFile()) {
          break;
        }
        continue;
      }
      if (!available(offset, LogFormat.RECORD_HEADER + length)) {
        if (!nextFile()) {
          break;
        }
        continue;
      }
      at = (int) (offset - chunkStart);
      int body = at + LogFormat.RECORD_HEADER;
      byte type = chunk.get(body);
      long sequence = chunk.getLong(body + 1);
      if (sequence >= durable) {
        break; // not durable yet: read again once it is
      }
      if (type == LogRecords.CHANGES) {
        if (LogFormat.crc(chunk.array(), body, length) != crc) {
          reader.lost("a damaged changes record in " + Durability.logPath(dir, generation));
        } else {
          changes += changes(sequence, body + LogFormat.BODY_OVERHEAD, reader);
        }
      }
      offset += LogFormat.RECORD_HEADER + length;
      records++;
    }
    return records;
  }

  /** Hands over the changes of the CHANGES payload at {@code at}; returns how many. */
  private int changes(long sequence, int at, Reader reader) {
    ByteBuffer p = chunk.duplicate().position(at);
    p.getInt(); // stripe
    long epoch = p.getLong();
    int count = p.getInt();
    for (int i = 0; i < count; i++) {
      String segment = LogRecords.text(p);
      byte[] key = LogRecords.bytes(p);
      boolean enter = p.get() != 0;
      long time = p.getLong();
      reader.change(epoch, sequence * 65_536 + i, segment, key, enter, time);
    }
    return count;
  }

  /**
   * Whether {@code n} bytes from {@code from} are in the chunk, reading more of the file if they
   * are not (the chunk then starts at {@code from}).
   */
  private boolean available(long from, int n) throws IOException {
    if (from >= chunkStart && from + n <= chunkStart + chunk.limit()) {
      return true;
    }
    if (chunk.capacity() < n) {
      chunk = ByteBuffer.allocate(Math.max(n, chunk.capacity() * 2));
    }
    chunk.clear();
    chunkStart = from;
    while (chunk.hasRemaining()) {
      int read = file.read(chunk, from + chunk.position());
      if (read <= 0) {
        break;
      }
    }
    chunk.flip();
    return chunk.limit() >= n;
  }

  /**
   * At the end of what the current file holds: moves to the next generation if it exists and this
   * one holds nothing more (it is created only after this one's last write); false to wait.
   */
  private boolean nextFile() throws IOException {
    Path next = Durability.logPath(dir, generation + 1);
    if (!Files.exists(next) || file.size() > offset) {
      return false;
    }
    return skipFile();
  }

  /** Moves to the start of the next generation's file, if there is one. */
  private boolean skipFile() throws IOException {
    Path next = Durability.logPath(dir, generation + 1);
    if (!Files.exists(next)) {
      return false;
    }
    file.close();
    file = FileChannel.open(next, StandardOpenOption.READ);
    generation++;
    offset = LogFormat.FILE_HEADER;
    chunk.clear().limit(0);
    chunkStart = offset;
    return true;
  }

  @Override
  public void close() throws IOException {
    file.close();
  }
}

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
 * <p>It reads only records the log has forced to disk (under {@code --fsync everysec} about once a
 * second; written, under {@code --fsync no}, which forces nothing), so it never publishes a change
 * a crash could still take back; the log is in sequence order, so that is a prefix of the file.
 * Files are read by generation; a file is done once the next one exists and holds nothing more. The
 * position is kept in {@value #POSITION_FILE} ({@link #commit}); the log files from its generation
 * on are kept until it passes them ({@link #heldGeneration}), however many snapshots are taken
 * meanwhile.
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
  private final long epoch;
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

  private ChangeFeed(
      Path dir, DurableLog log, long epoch, long generation, long offset, String startGap)
      throws IOException {
    this.dir = dir;
    this.log = log;
    this.epoch = epoch;
    this.generation = generation;
    this.offset = offset;
    this.held = generation;
    this.startGap = startGap;
    this.file = FileChannel.open(Durability.logPath(dir, generation), StandardOpenOption.READ);
  }

  /**
   * What {@value #POSITION_FILE} holds: the position and the epoch of the life that kept it; or,
   * for a file that cannot be read as one (a power cut can leave it empty), {@code damaged}.
   */
  record Kept(Position position, long epoch, boolean damaged) {}

  /**
   * Opens the feed at the position kept in {@code dir}; without one (the first start with a
   * publisher), at the end of the current log, {@code current}; and keeps that position at once,
   * with {@code epoch}, the epoch of this life's changes.
   */
  static ChangeFeed open(Path dir, DurableLog log, long current, long epoch) throws IOException {
    Kept kept = read(dir);
    TreeMap<Long, Path> logs = Durability.logFiles(dir);
    ChangeFeed feed;
    if (kept == null) {
      feed =
          new ChangeFeed(
              dir,
              log,
              epoch,
              current,
              Files.size(Durability.logPath(dir, current)),
              "the changes publisher starts here: changes made before are not on the topic");
    } else if (kept.damaged() || !logs.containsKey(kept.position().generation())) {
      long from = kept.damaged() ? logs.firstKey() : kept.position().generation();
      Map.Entry<Long, Path> next = logs.ceilingEntry(from);
      feed =
          new ChangeFeed(
              dir,
              log,
              epoch,
              next != null ? next.getKey() : current,
              LogFormat.FILE_HEADER,
              kept.damaged()
                  ? POSITION_FILE + " could not be read: publishing from the oldest log kept"
                  : "the log the publisher stood in (generation "
                      + kept.position().generation()
                      + ") is gone: its changes after offset "
                      + kept.position().offset()
                      + " were not published");
    } else {
      // A power cut may have taken the end of the file back, below where the feed stood: the
      // records written there since are new ones, read from where the file now ends.
      Position p = kept.position();
      long size = Files.size(Durability.logPath(dir, p.generation()));
      feed =
          new ChangeFeed(
              dir,
              log,
              epoch,
              p.generation(),
              Math.max(LogFormat.FILE_HEADER, Math.min(p.offset(), size)),
              null);
    }
    feed.commit(feed.position());
    return feed;
  }

  /** What {@value #POSITION_FILE} in {@code dir} holds, or null when there is none. */
  static Kept read(Path dir) throws IOException {
    String text;
    try {
      text = Files.readString(dir.resolve(POSITION_FILE), StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return null;
    }
    try {
      String[] parts = text.trim().split(" ");
      return new Kept(
          new Position(Long.parseLong(parts[0]), Long.parseLong(parts[1])),
          Long.parseLong(parts[2]),
          false);
    } catch (RuntimeException e) {
      return new Kept(null, 0, true);
    }
  }

  /**
   * The generation of the oldest log the feed kept in {@code dir} still needs: {@link
   * Long#MAX_VALUE} when there is no position there, 0 (all of them) when it cannot be read.
   */
  static long heldGeneration(Path dir) {
    try {
      Kept k = read(dir);
      return k == null ? Long.MAX_VALUE : k.damaged() ? 0 : k.position().generation();
    } catch (IOException e) {
      return 0;
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
   * Written to a new file, forced, and renamed over the old, so a crash leaves one or the other
   * whole (a position a power cut takes back only makes the next start read more again).
   */
  public void commit(Position p) throws IOException {
    Path tmp = dir.resolve(POSITION_FILE + ".tmp");
    byte[] text =
        String.format(Locale.ROOT, "%d %d %d%n", p.generation(), p.offset(), epoch)
            .getBytes(StandardCharsets.US_ASCII);
    try (FileChannel out =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(text);
      while (b.hasRemaining()) {
        out.write(b);
      }
      out.force(true);
    }
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
    // Before any byte is read: what is below it is whole. Forced records only, unless the node
    // never forces (--fsync no): a power cut cannot then take back a change already published.
    long durable = log.fsync() == DurableLog.Fsync.NO ? log.durableBelow() : log.forcedBelow();
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
      // Type and sequence first: the body of any other record is passed over unread.
      if (!available(offset, LogFormat.RECORD_HEADER + LogFormat.BODY_OVERHEAD)) {
        if (!nextFile()) {
          break;
        }
        continue;
      }
      at = (int) (offset - chunkStart);
      byte type = chunk.get(at + LogFormat.RECORD_HEADER);
      long sequence = chunk.getLong(at + LogFormat.RECORD_HEADER + 1);
      if (sequence >= durable) {
        break; // not durable yet (so perhaps not whole): read again once it is
      }
      if (type == LogRecords.CHANGES) {
        if (!available(offset, LogFormat.RECORD_HEADER + length)) {
          break; // cannot be: durable means written whole; read again
        }
        int body = (int) (offset - chunkStart) + LogFormat.RECORD_HEADER;
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
    if (chunk.capacity() > (4 << 20) && n <= (1 << 20)) {
      chunk = ByteBuffer.allocate(1 << 20); // back down after an unusually large changes record
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

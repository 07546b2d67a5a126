package dev.whack.node.durability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The append-only log with group commit. Writers append records to their source's {@link
 * RecordBuffer} while holding that source's lock (on the node: a keyspace stripe's lock, which the
 * change holds anyway), each record numbered from one sequence. One log thread takes every source's
 * records in turn, writes them with one write, and under {@link Fsync#ALWAYS} forces the file once
 * for all of them before it announces them durable; so one fsync covers every connection's records
 * of that turn.
 *
 * <p>Which records are durable: before a turn the thread reads the next sequence {@code s}. A
 * writer takes its sequence and appends its record under its source's lock, and the thread takes
 * each source's lock to drain it, so after the turn every record numbered below {@code s} is in the
 * file. A turn writes exactly those, in sequence order, and keeps the later ones it drained for the
 * next turn; so the file is in sequence order, and what a crash leaves of it (up to a write it cut
 * short) is every record below some sequence. That is what keeps a client's writes in order under
 * {@link Fsync#EVERYSEC}, where it is answered before its record is written: a write sent after an
 * answer has a higher sequence than the write answered, so it never survives without it, even when
 * the two are in different sources' buffers (docs/architecture.md, "Durability").
 *
 * <p>The thread takes a turn when kicked, and at least every 10 ms.
 *
 * <p>Concurrency: {@link #append}'s caller holds the source's lock; {@link #whenDurable} and {@link
 * #kick} may be called from any thread; actions run on the log thread and must only hand work to
 * another thread (a connection's event loop).
 */
public final class DurableLog implements AutoCloseable {
  /** When the file is forced to disk. */
  public enum Fsync {
    /** Before any reply to a logged write: group commit. */
    ALWAYS,
    /** About once a second: a power cut loses at most about the last second. */
    EVERYSEC,
    /** Never by the node: the kernel writes the pages back when it likes. */
    NO
  }

  private static final long EVERYSEC_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /**
   * Bytes appended and not yet written to the file above which connections stop taking requests
   * until the log thread has caught up ({@link #overloaded}): the bound on the log's memory when
   * the disk is slower than the writes or stalls.
   */
  static final long PENDING_LIMIT = 64L << 20;

  private Path path;
  private FileChannel file;
  private final Fsync fsync;
  private final Lock[] locks;
  private final RecordBuffer[] buffers;
  private final AtomicLong nextSequence;
  private final Thread thread;

  private final ReentrantLock signal = new ReentrantLock();
  private final Condition work = signal.newCondition();
  private boolean kicked;
  private boolean closing;

  /** A file to go on in once the current turn is written ({@link #rotate}); guarded by signal. */
  private Path rotateTo;

  private IOException rotateFailure;
  private final Condition rotated = signal.newCondition();

  /** Waiting actions, soonest sequence first; guarded by {@link #signal}. */
  private final PriorityQueue<Waiter> waiters = new PriorityQueue<>();

  /** Every record below this sequence is durable as the policy means it. */
  private volatile long durableBelow;

  /** Every record below this sequence is forced to disk (whatever the policy). */
  private volatile long forcedBelow;

  /** A force was asked for ({@link #force}): the next turn forces whatever the policy. */
  private volatile boolean forceWanted;

  private volatile IOException failure;

  private volatile java.util.function.IntConsumer beforeDrain;

  /** Bytes appended and not yet taken by the log thread. */
  private final java.util.concurrent.atomic.AtomicLong pending =
      new java.util.concurrent.atomic.AtomicLong();

  /** Waiting for the log to be under {@link #PENDING_LIMIT} again; guarded by {@link #signal}. */
  private final java.util.ArrayList<Runnable> relieved = new java.util.ArrayList<>();

  /**
   * A turn's records, copied out of the sources' buffers under their locks and put in order into
   * {@link #ordered} after every lock is released, so no writer waits for the disk; at its front,
   * the records an earlier turn drained but could not write yet. Grows to the largest turn; shrinks
   * back after an unusually large one.
   */
  private byte[] out = new byte[1 << 20];

  private int outSize;

  /** The records a turn writes, in sequence order. */
  private byte[] ordered = new byte[1 << 20];

  private int orderedSize;

  /** Where in {@link #out} the record of each sequence of a turn starts (-1: none), by offset. */
  private int[] startOfSequence = new int[1 << 14];

  private long lastForceNanos = System.nanoTime();
  private volatile long bytesWritten;
  private volatile long forces;
  private volatile long forceNanos;

  private record Waiter(long sequence, Runnable action) implements Comparable<Waiter> {
    @Override
    public int compareTo(Waiter o) {
      return Long.compare(sequence, o.sequence);
    }
  }

  /**
   * Opens (creating if needed) the log at {@code path} for appending after its last good record.
   *
   * @param locks one lock per source; source {@code i}'s records are appended under {@code
   *     locks[i]}
   * @param firstSequence the sequence the next record gets (one past the last one replayed)
   * @param goodBytes where the file's last good record ends ({@link LogReader.Result#goodBytes}); a
   *     torn tail after it is cut off
   */
  public DurableLog(Path path, Fsync fsync, Lock[] locks, long firstSequence, long goodBytes)
      throws IOException {
    this.path = path;
    this.fsync = fsync;
    this.locks = locks.clone();
    this.buffers = new RecordBuffer[locks.length];
    for (int i = 0; i < buffers.length; i++) {
      buffers[i] = new RecordBuffer();
    }
    this.nextSequence = new AtomicLong(firstSequence);
    this.durableBelow = firstSequence;
    this.forcedBelow = firstSequence;
    this.file = openForAppend(path, goodBytes);
    this.thread = new Thread(this::run, "whack-log");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Opens {@code path} for appending after its last good record, cutting off a torn tail, or
   * creates it with a header; forced before it is used.
   */
  private static FileChannel openForAppend(Path path, long goodBytes) throws IOException {
    boolean fresh = !Files.exists(path) || Files.size(path) == 0;
    FileChannel file =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
    try {
      prepare(file, fresh, goodBytes);
    } catch (IOException e) {
      file.close();
      if (fresh) {
        Files.deleteIfExists(path);
      }
      throw e;
    }
    return file;
  }

  private static void prepare(FileChannel file, boolean fresh, long goodBytes) throws IOException {
    if (fresh) {
      file.truncate(0);
      ByteBuffer header = LogFormat.fileHeader(LogFormat.MAGIC);
      while (header.hasRemaining()) {
        file.write(header);
      }
    } else {
      file.truncate(Math.max(goodBytes, LogFormat.FILE_HEADER));
      file.position(Math.max(goodBytes, LogFormat.FILE_HEADER));
    }
    file.force(true);
  }

  /**
   * Goes on in a new file at {@code next}: returns once the current file is forced and the log
   * thread writes to {@code next} from then on (records numbered at or above the last turn's start
   * may go to {@code next}, records below it are all in the current file). A snapshot whose cuts
   * are read after this covers every record of the files before.
   */
  public void rotate(Path next) throws IOException {
    signal.lock();
    try {
      checkHealthy();
      rotateTo = next;
      rotateFailure = null;
      kicked = true;
      work.signal();
      while (rotateTo != null && failure == null && !closing) {
        rotated.awaitUninterruptibly();
      }
      if (rotateFailure != null) {
        throw rotateFailure;
      }
      if (rotateTo != null) {
        throw new IOException("the log closed or failed before it moved to " + next);
      }
    } finally {
      signal.unlock();
    }
  }

  /**
   * The sequence the next record will get. Read under a source's lock, every record of that source
   * so far is numbered below it and every later one at or above it: a snapshot's cut.
   */
  public long upcomingSequence() {
    return nextSequence.get();
  }

  /**
   * The sequence for the next record; call while holding the source's lock, then {@link #append}.
   */
  public long nextSequence() {
    long seq = nextSequence.getAndIncrement();
    lastOfThread.get()[0] = seq;
    return seq;
  }

  /**
   * The sequence of the last record this thread appended to this log, or -1: under {@code --fsync
   * always} a connection's event loop holds its replies until the log is durable up to there. Per
   * log, as a node with tenants has a log for each and one event loop writes to several.
   */
  public long lastSequenceOfThisThread() {
    return lastOfThread.get()[0];
  }

  private final ThreadLocal<long[]> lastOfThread = ThreadLocal.withInitial(() -> new long[] {-1});

  /**
   * Source {@code i}'s buffer, to append a record begun with a sequence from {@link #nextSequence}.
   * The caller holds {@code locks[i]}.
   */
  public RecordBuffer append(int source) {
    return buffers[source];
  }

  /**
   * Counts a record just appended ({@link RecordBuffer#end}'s size) towards {@link #PENDING_LIMIT};
   * wakes the log thread once past it.
   */
  public void appended(int bytes) {
    if (pending.addAndGet(bytes) > PENDING_LIMIT) {
      kick();
    }
  }

  /** Why the log can no longer be written, or null while it can. */
  public IOException failure() {
    return failure;
  }

  /** True while the records not yet written are over {@link #PENDING_LIMIT}. */
  public boolean overloaded() {
    return pending.get() > PENDING_LIMIT;
  }

  /**
   * Runs {@code action} once the log is no longer {@link #overloaded} (at once if it is not now),
   * on the log thread: it must only hand work to another thread.
   */
  public void whenRelieved(Runnable action) {
    signal.lock();
    try {
      if (overloaded() && failure == null) {
        relieved.add(action);
        kicked = true;
        work.signal();
        return;
      }
    } finally {
      signal.unlock();
    }
    action.run();
  }

  /**
   * Has {@code action} run on the log thread for each source, under its lock, just before the
   * source's records are taken in each turn: it may append records of its own (numbered at or above
   * the turn's start, so they go out in a later turn). The changes record uses it to log what the
   * source's writes changed after the writes themselves.
   */
  public void beforeDrain(java.util.function.IntConsumer action) {
    this.beforeDrain = action;
  }

  /** Wakes the log thread: records are waiting (call once per batch of appends). */
  public void kick() {
    signal.lock();
    try {
      kicked = true;
      work.signal();
    } finally {
      signal.unlock();
    }
  }

  /**
   * Runs {@code action} once every record up to {@code sequence} is durable as the policy means it
   * (forced, under {@link Fsync#ALWAYS}; written, otherwise): at once on this thread if it already
   * is, else on the log thread.
   *
   * @throws UncheckedIOException when the log can no longer be written
   */
  public void whenDurable(long sequence, Runnable action) {
    checkHealthy();
    if (sequence < durableBelow) {
      action.run();
      return;
    }
    signal.lock();
    try {
      waiters.add(new Waiter(sequence, action));
      kicked = true;
      work.signal();
    } finally {
      signal.unlock();
    }
  }

  /** Every record below this sequence is durable as the policy means it. */
  public long durableBelow() {
    return durableBelow;
  }

  /** Every record below this sequence is forced to disk: it survives a power cut. */
  public long forcedBelow() {
    return forcedBelow;
  }

  /**
   * Returns once every record below {@code below} is forced to disk, asking the log thread for a
   * force whatever the policy (a snapshot, before it becomes visible).
   *
   * @throws IOException when the log fails first
   */
  public void force(long below) throws IOException {
    while (forcedBelow < below) {
      IOException f = failure;
      if (f != null) {
        throw f;
      }
      if (!thread.isAlive()) {
        throw new IOException("the log is closed");
      }
      forceWanted = true;
      kick();
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  public Fsync fsync() {
    return fsync;
  }

  /** Bytes written to the file since it was opened. */
  public long bytesWritten() {
    return bytesWritten;
  }

  /** How many times the file was forced, and the nanoseconds that took in total. */
  public long forces() {
    return forces;
  }

  public long forceNanos() {
    return forceNanos;
  }

  private void checkHealthy() {
    IOException f = failure;
    if (f != null) {
      throw new UncheckedIOException(
          "the log " + path + " cannot be written: " + f.getMessage(), f);
    }
  }

  private void run() {
    try {
      while (true) {
        boolean last;
        signal.lock();
        try {
          if (!kicked && !closing) {
            // Also without a kick, a turn every few milliseconds: records a writer did not kick
            // for still reach the file soon, and everysec forces on time.
            work.awaitNanos(TURN_NANOS);
          }
          kicked = false;
          last = closing;
        } finally {
          signal.unlock();
        }
        turn(last);
        if (last) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      failure = e;
    } catch (RuntimeException | Error e) {
      // A bug (in a beforeDrain action, say) must not leave writers waiting for a thread that is
      // gone: the log is failed, and says why.
      failure = new IOException("the log thread failed: " + e, e);
    } finally {
      signal.lock();
      try {
        // Nothing more becomes durable: wake the waiters so no connection waits for ever; they
        // find the log failed (checkHealthy) when they next log.
        waiters.forEach(w -> w.action.run());
        waiters.clear();
        relieved.forEach(Runnable::run);
        relieved.clear();
        rotated.signalAll();
      } finally {
        signal.unlock();
      }
    }
  }

  /** One group commit: drain every source, write, force as the policy says, announce. */
  private void turn(boolean closingNow) throws IOException {
    long below = nextSequence.get();
    java.util.function.IntConsumer beforeDrain = this.beforeDrain;
    for (int i = 0; i < buffers.length; i++) {
      locks[i].lock();
      try {
        if (beforeDrain != null) {
          beforeDrain.accept(i);
        }
        buffers[i].drainTo(this::copyOut);
      } finally {
        locks[i].unlock();
      }
    }
    putInOrder(closingNow ? Long.MAX_VALUE : below);
    int taken = orderedSize;
    flushOrdered();
    pending.addAndGet(-taken);
    boolean wanted = forceWanted;
    boolean force =
        fsync == Fsync.ALWAYS
            || wanted
            || (closingNow && fsync != Fsync.NO)
            || (fsync == Fsync.EVERYSEC && System.nanoTime() - lastForceNanos >= EVERYSEC_NANOS);
    if (force) {
      if (wanted) {
        forceWanted = false; // before the force: a request made during it gets one of its own
      }
      long t0 = System.nanoTime();
      file.force(false);
      lastForceNanos = System.nanoTime();
      forces++;
      forceNanos += lastForceNanos - t0;
      forcedBelow = below;
    }
    durableBelow = below;
    signal.lock();
    try {
      if (rotateTo != null) {
        moveTo(rotateTo);
        rotateTo = null;
        rotated.signalAll();
      }
      while (!waiters.isEmpty() && waiters.peek().sequence < below) {
        waiters.poll().action.run();
      }
      if (!relieved.isEmpty() && !overloaded()) {
        relieved.forEach(Runnable::run);
        relieved.clear();
      }
    } finally {
      signal.unlock();
    }
  }

  /**
   * Forces the current file and goes on in {@code next}; on failure stays in the current file and
   * tells the caller of {@link #rotate}. On the log thread, under {@link #signal}.
   */
  private void moveTo(Path next) {
    try {
      if (Files.exists(next) && Files.size(next) > 0) {
        throw new IOException(next + " already holds records: the log does not move over it");
      }
      file.force(true);
      FileChannel opened = openForAppend(next, 0);
      try {
        syncDirectory(next.toAbsolutePath().getParent());
      } catch (IOException e) {
        // No half-made next file: a reader of the logs (ChangeFeed) takes the next generation's
        // existence to mean this one is finished.
        opened.close();
        Files.deleteIfExists(next);
        throw e;
      }
      file.close();
      file = opened;
      path = next;
    } catch (IOException e) {
      rotateFailure = e;
    }
  }

  /**
   * Makes a file created or renamed in {@code dir} survive a power cut (a no-op where unsupported).
   */
  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      if (!System.getProperty("os.name", "").startsWith("Windows")) {
        throw e;
      }
    }
  }

  private void copyOut(byte[] b, int off, int len) {
    if (outSize + len > out.length) {
      out = java.util.Arrays.copyOf(out, Math.max(out.length * 2, outSize + len));
    }
    System.arraycopy(b, off, out, outSize, len);
    outSize += len;
  }

  /**
   * Moves the records of {@link #out} numbered below {@code below} into {@link #ordered}, in
   * sequence order, and the others to the front of {@link #out}, for a later turn. Each sequence is
   * taken once and its records are drained within a turn or two of it, so the sequences of a turn
   * are nearly dense: placing each record by its sequence's offset from the lowest one orders them
   * in one pass, with no sort and no garbage.
   */
  private void putInOrder(long below) {
    long lowest = Long.MAX_VALUE;
    long highest = Long.MIN_VALUE;
    for (int at = 0; at < outSize; at = next(at)) {
      long sequence = sequenceAt(at);
      if (sequence < below) {
        lowest = Math.min(lowest, sequence);
        highest = Math.max(highest, sequence);
      }
    }
    orderedSize = 0;
    if (highest < lowest) {
      return;
    }
    int span = Math.toIntExact(highest - lowest + 1);
    if (span > startOfSequence.length) {
      startOfSequence = new int[Math.max(span, startOfSequence.length * 2)];
    }
    java.util.Arrays.fill(startOfSequence, 0, span, -1);
    int kept = 0;
    for (int at = 0; at < outSize; at = next(at)) {
      long sequence = sequenceAt(at);
      if (sequence < below) {
        startOfSequence[(int) (sequence - lowest)] = at;
      } else {
        kept += next(at) - at;
      }
    }
    if (outSize - kept > ordered.length) {
      ordered = new byte[Math.max(outSize - kept, ordered.length * 2)];
    }
    for (int i = 0; i < span; i++) {
      int at = startOfSequence[i];
      if (at >= 0) {
        int length = next(at) - at;
        System.arraycopy(out, at, ordered, orderedSize, length);
        orderedSize += length;
      }
    }
    int keptSize = 0;
    for (int at = 0; at < outSize; ) {
      int end = next(at);
      if (sequenceAt(at) >= below) {
        System.arraycopy(out, at, out, keptSize, end - at);
        keptSize += end - at;
      }
      at = end;
    }
    outSize = keptSize;
    if (out.length > (16 << 20) && outSize < (1 << 20)) {
      out = java.util.Arrays.copyOf(out, 1 << 20);
    }
    if (startOfSequence.length > (1 << 20)) {
      startOfSequence = new int[1 << 14];
    }
  }

  /** Where the record after the one at {@code at} in {@link #out} starts. */
  private int next(int at) {
    return at + LogFormat.RECORD_HEADER + LogFormat.intAt(out, at);
  }

  /** The sequence of the record at {@code at} in {@link #out} (after its length, CRC and type). */
  private long sequenceAt(int at) {
    int body = at + LogFormat.RECORD_HEADER + 1;
    return ((long) LogFormat.intAt(out, body) << 32)
        | (LogFormat.intAt(out, body + 4) & 0xffffffffL);
  }

  private void flushOrdered() throws IOException {
    ByteBuffer pending = ByteBuffer.wrap(ordered, 0, orderedSize);
    long written = bytesWritten;
    while (pending.hasRemaining()) {
      written += file.write(pending);
    }
    bytesWritten = written;
    if (ordered.length > (16 << 20)) {
      ordered = new byte[1 << 20];
    }
  }

  /** Writes and forces what is waiting, stops the log thread and closes the file. */
  @Override
  public void close() throws IOException {
    signal.lock();
    try {
      closing = true;
      work.signal();
    } finally {
      signal.unlock();
    }
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    file.close();
    IOException f = failure;
    if (f != null) {
      throw f;
    }
  }
}

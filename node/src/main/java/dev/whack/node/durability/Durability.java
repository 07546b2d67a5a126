package dev.whack.node.durability;

import dev.whack.node.engine.CatalogListener;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.keyspace.Journal;
import dev.whack.node.keyspace.Keyspace;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A node's data directory: at start-up, loads the newest snapshot and plays the log after it back
 * into the keyspace and the engine; then logs every change, and takes snapshots that let the log
 * before them go.
 *
 * <p>Files, numbered by generation {@code G} (docs/architecture.md, "Durability"): {@code
 * log-G.wlog}, the log from the moment generation {@code G} began; {@code snapshot-G.wsnap}, the
 * state at the start of generation {@code G}, which covers every log before {@code log-G}. A
 * snapshot first moves the log to the next generation, then writes itself under that number, then
 * deletes what it covers.
 *
 * <p>Concurrency: opened and closed by the node's start and stop; {@link #snapshot} runs one
 * snapshot at a time, on the caller's thread; the log it runs is thread-safe.
 */
public final class Durability implements AutoCloseable {
  private static final Pattern LOG = Pattern.compile("log-(\\d{12})\\.wlog");
  private static final Pattern SNAPSHOT = Pattern.compile("snapshot-(\\d{12})\\.wsnap");

  /** What the last snapshot took, or null before the first. */
  public record SnapshotStats(long bytes, long records, long nanos, long takenAtMillis) {}

  /** What start-up found and played. */
  public record Recovery(
      long snapshotRecords,
      long logRecords,
      long tornBytes,
      double seconds,
      String snapshot,
      List<String> skipped) {}

  private final Path dir;
  private final DirectoryLock lock;
  private final DurableLog log;
  private final Keyspace keyspace;
  private final ProfileEngine engine;
  private final Lock segmentLock;
  private final InstantSource clock;
  private final Recovery recovery;

  /** Guards {@link #generation} and {@link #lastSnapshot}; held for a whole snapshot. */
  private final ReentrantLock snapshotting = new ReentrantLock();

  private long generation;
  private volatile SnapshotStats lastSnapshot;
  private volatile long sequenceAtSnapshot;

  /** The changes publisher's feed, whose logs are kept until it passes them; or null. */
  private final ChangeFeed feed;

  /** Membership changes kept per stripe until logged; or null when none are recorded. */
  private final RecordedChanges recorded;

  private final long openedAtMillis;

  private Durability(
      Path dir,
      DirectoryLock lock,
      DurableLog log,
      Keyspace keyspace,
      ProfileEngine engine,
      Lock segmentLock,
      InstantSource clock,
      Recovery recovery,
      long generation,
      SnapshotStats lastSnapshot,
      RecordedChanges recorded,
      ChangeFeed feed) {
    this.dir = dir;
    this.lock = lock;
    this.log = log;
    this.keyspace = keyspace;
    this.engine = engine;
    this.segmentLock = segmentLock;
    this.clock = clock;
    this.recovery = recovery;
    this.generation = generation;
    this.lastSnapshot = lastSnapshot;
    this.sequenceAtSnapshot = log.upcomingSequence();
    this.openedAtMillis = clock.millis();
    this.recorded = recorded;
    this.feed = feed;
  }

  /**
   * Recovers what {@code dir} holds into {@code keyspace} and {@code engine} (both empty, no
   * connection open, no timer running), then attaches the log.
   *
   * @param clock the engine's clock, set to each replayed write's time
   * @param changes the segments whose membership changes are logged for the changes publisher
   *     (empty: all), or null when none are ({@link #changeFeed}, docs/kafka.md)
   * @param report where a line about the recovery goes (records, time, a torn tail dropped)
   * @throws CorruptLogException when a snapshot or the log is damaged: start-up must stop
   */
  public static Durability open(
      Path dir,
      DurableLog.Fsync fsync,
      boolean skipDamage,
      Keyspace keyspace,
      ProfileEngine engine,
      ReplayClock clock,
      Collection<String> changes,
      Consumer<String> report)
      throws IOException {
    Files.createDirectories(dir);
    DirectoryLock lock = DirectoryLock.take(dir);
    try {
      Durability opened =
          open(dir, lock, fsync, skipDamage, keyspace, engine, clock, changes, report);
      if (!opened.recovery.skipped().isEmpty()) {
        // The damaged files stay as they are until a snapshot covers them; take one now, so the
        // next start-up does not meet the same damage.
        SnapshotStats taken = opened.snapshot();
        report.accept(
            "wrote a snapshot past the damage ("
                + taken.records()
                + " records); the damaged files are gone");
      }
      return opened;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private static Durability open(
      Path dir,
      DirectoryLock lock,
      DurableLog.Fsync fsync,
      boolean skipDamage,
      Keyspace keyspace,
      ProfileEngine engine,
      ReplayClock clock,
      Collection<String> changes,
      Consumer<String> report)
      throws IOException {
    long started = System.nanoTime();
    // Changes recorded for the publisher: replay makes again the changes of every write it plays;
    // a stripe's CHANGES record says those of its writes before it were logged, and what is left
    // after the last one (writes whose changes a crash took before they were logged) is logged
    // anew when the publisher starts (startRecordingChanges). Not on a first start with a
    // publisher (no position kept yet): the changes before it are not published at all.
    ChangeFeed.Kept position = changes == null ? null : ChangeFeed.read(dir);
    // This life's epoch: greater than the last one's even if the clock went back.
    long epoch = Math.max(System.currentTimeMillis(), position == null ? 0 : position.epoch() + 1);
    RecordedChanges recorded =
        changes == null
            ? null
            : new RecordedChanges(
                keyspace,
                engine.stripeLocks(),
                changes.isEmpty() ? null : java.util.Set.copyOf(changes),
                epoch);

    TreeMap<Long, Path> logs = numbered(dir, LOG);
    TreeMap<Long, Path> snapshots = numbered(dir, SNAPSHOT);
    deleteTemporaryFiles(dir);
    int stripes = keyspace.stripeCount();
    long[] cuts = new long[stripes + 1];
    List<String> skipped = new ArrayList<>();
    long snapshotRecords = 0;
    long generation = 1;
    SnapshotStats lastSnapshot = null;
    String snapshotName = null;
    if (!snapshots.isEmpty()) {
      generation = snapshots.lastKey();
      Path newest = snapshots.lastEntry().getValue();
      Snapshot.Loaded loaded = Snapshot.load(newest, keyspace, engine, skipDamage);
      loaded.skipped().forEach(part -> skipped.add(newest.getFileName() + " at " + part));
      cuts = loaded.cuts();
      snapshotRecords = loaded.records();
      snapshotName = newest.getFileName().toString();
      lastSnapshot =
          new SnapshotStats(Files.size(newest), loaded.records(), 0, loaded.takenAtMillis());
    }
    if (recorded != null && position != null) {
      engine.recordChanges(recorded); // after the snapshot, whose profiles changed nothing
    }
    long nextSequence = Arrays.stream(cuts).max().orElse(0);
    long logRecords = 0;
    long tornBytes = 0;
    long goodBytes = 0;
    Journal restorer = keyspace.restorer();
    CatalogListener segments = replayedSegments(engine);
    // Timed changes come back at the times they fell due, before the writes that came after them,
    // so that memberships and the times they began are what they were (docs/architecture.md).
    engine.catchUpTimedChanges(true);
    engine.replayingLog(true);
    long[] skipBelow = cuts;
    List<Path> toPlay = new ArrayList<>(logs.tailMap(generation, true).values());
    // Keyspace records apply on one thread per core by stripe (each stripe's in log order); the
    // rare segment records here, once the stripes' records before them are applied.
    try (StripeAppliers appliers =
        new StripeAppliers(
            (type, payload) ->
                LogRecords.play(type, payload, restorer, segments, clock, logged(recorded)))) {
      for (int i = 0; i < toPlay.size(); i++) {
        Path path = toPlay.get(i);
        LogReader.Result r =
            LogReader.read(
                path,
                LogFormat.MAGIC,
                skipDamage,
                (type, seq, payload) -> {
                  int source = LogRecords.source(type, payload, stripes);
                  if (seq < skipBelow[source]) {
                    return;
                  }
                  if (source == stripes) {
                    // Between the stripes' records before and after it, as it was logged: each
                    // write is evaluated against the segments it met (its changes made again).
                    appliers.barrier();
                    long began = LogRecords.definitionBegan(type, payload);
                    if (began != Long.MIN_VALUE) {
                      // A backfill reads the memberships timed changes made before it.
                      engine.runDueReevaluationsAtTheirTimes(began);
                    }
                    LogRecords.play(type, payload, restorer, segments, clock, null);
                  } else {
                    appliers.apply(source, type, payload);
                  }
                });
        r.skipped().forEach(part -> skipped.add(path.getFileName() + " at " + part));
        if (r.tornBytes() > 0 && i < toPlay.size() - 1 && !skipDamage) {
          throw new CorruptLogException(
              path, r.goodBytes(), "a damaged record at the end of a log that later logs follow");
        }
        logRecords += r.records();
        tornBytes += r.tornBytes();
        goodBytes = r.goodBytes();
        nextSequence = Math.max(nextSequence, r.maxSequence() + 1);
      }
      appliers.finish();
    }
    if (!toPlay.isEmpty()) {
      generation = logs.lastKey();
    }
    engine.catchUpTimedChanges(false);
    engine.replayingLog(false);
    clock.live();
    engine.runDueReevaluationsAtTheirTimes(clock.millis());
    engine.runDueReevaluations();
    // Logs before the snapshot are covered by it; a crash can leave them behind. Those the changes
    // publisher has not passed yet stay (ChangeFeed).
    long kept = Math.min(generation, ChangeFeed.heldGeneration(dir));
    for (Path covered : logs.headMap(kept, false).values()) {
      Files.deleteIfExists(covered);
    }
    for (Path older : snapshots.headMap(generation, false).values()) {
      Files.deleteIfExists(older);
    }
    Recovery recovery =
        new Recovery(
            snapshotRecords,
            logRecords,
            tornBytes,
            (System.nanoTime() - started) / 1e9,
            snapshotName,
            List.copyOf(skipped));
    report.accept(describe(recovery, dir));
    Lock[] stripeLocks = engine.stripeLocks();
    Lock segmentLock = new ReentrantLock();
    Lock[] sources = Arrays.copyOf(stripeLocks, stripeLocks.length + 1);
    sources[stripeLocks.length] = segmentLock;
    DurableLog log =
        new DurableLog(
            logPath(dir, generation),
            fsync,
            sources,
            nextSequence,
            toPlay.isEmpty() ? 0 : goodBytes);
    LogJournal journal = new LogJournal(log, stripeLocks.length, segmentLock);
    keyspace.journal(journal);
    engine.addCatalogListener(journal);
    ChangeFeed feed = null;
    if (recorded != null) {
      // Not recording until the publisher starts (startRecordingChanges): a refill from Kafka in
      // between is not published. What replay made again is kept meanwhile.
      engine.recordChanges(null);
      feed = ChangeFeed.open(dir, log, generation, epoch);
      recorded.logTo(log);
      log.beforeDrain(recorded::flush);
    }
    return new Durability(
        dir,
        lock,
        log,
        keyspace,
        engine,
        segmentLock,
        clock,
        recovery,
        generation,
        lastSnapshot,
        recorded,
        feed);
  }

  /** What replay does with a CHANGES record: the stripe's changes so far were logged. */
  private static java.util.function.IntConsumer logged(RecordedChanges recorded) {
    return recorded == null ? stripe -> {} : recorded::logged;
  }

  /**
   * Segment and dimension records as replay applies them: a define replaces a segment of that name
   * (a dimension definition equal to the one in force is nothing) and a drop of a missing one is
   * nothing, so a record a snapshot already reflects does no harm. Dimension definitions replay in
   * the order they were logged, so they hand out the ids they did live.
   */
  private static CatalogListener replayedSegments(ProfileEngine engine) {
    return new CatalogListener() {
      @Override
      public void defined(String name, String expression) {
        engine.define(name, expression);
      }

      @Override
      public void dropped(String name) {
        engine.drop(name);
      }

      @Override
      public void dimensionDefined(DimensionSpec spec) {
        engine.defineDimension(spec.name(), spec.toJson().getBytes(StandardCharsets.UTF_8));
      }

      @Override
      public void dimensionDropped(String name) {
        engine.dropDimension(name);
      }

      @Override
      public void categoryLearned(int dimension, int category, String value) {
        engine.learnCategory(dimension, category, value);
      }
    };
  }

  private static String describe(Recovery r, Path dir) {
    return String.format(
        Locale.ROOT,
        "recovered %s%d log records from %s in %.1f s%s",
        r.snapshot() == null
            ? ""
            : r.snapshotRecords() + " snapshot records (" + r.snapshot() + ") and ",
        r.logRecords(),
        dir,
        r.seconds(),
        (r.tornBytes() > 0
                ? "; dropped a torn last record (" + r.tornBytes() + " bytes) a crash left"
                : "")
            + (r.skipped().isEmpty()
                ? ""
                : "; SKIPPED DAMAGED PARTS as told (--skip-damaged), their writes are lost: "
                    + String.join(", ", r.skipped())));
  }

  private static TreeMap<Long, Path> numbered(Path dir, Pattern pattern) throws IOException {
    TreeMap<Long, Path> files = new TreeMap<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.forEach(
          p -> {
            Matcher m = pattern.matcher(p.getFileName().toString());
            if (m.matches()) {
              files.put(Long.parseLong(m.group(1)), p);
            }
          });
    }
    return files;
  }

  /** A snapshot that a crash interrupted is worth nothing: the one before it still stands. */
  private static void deleteTemporaryFiles(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      for (Path p : (Iterable<Path>) list::iterator) {
        if (p.getFileName().toString().endsWith(".wsnap.tmp")) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The log files in {@code dir}, by generation. */
  static TreeMap<Long, Path> logFiles(Path dir) throws IOException {
    return numbered(dir, LOG);
  }

  static Path logPath(Path dir, long generation) {
    return dir.resolve(String.format(Locale.ROOT, "log-%012d.wlog", generation));
  }

  static Path snapshotPath(Path dir, long generation) {
    return dir.resolve(String.format(Locale.ROOT, "snapshot-%012d.wsnap", generation));
  }

  /**
   * Takes a snapshot now, on this thread, while the node serves (one at a time: a second caller
   * waits for the first to finish, then takes its own), and deletes the logs and snapshot it
   * covers.
   */
  public SnapshotStats snapshot() throws IOException {
    snapshotting.lock();
    try {
      long next = generation + 1;
      log.rotate(logPath(dir, next));
      // The log is in the next generation now, whatever happens to the snapshot: a failed one is
      // retried under a later number, never over this log.
      generation = next;
      long sequence = log.upcomingSequence();
      Snapshot.Taken taken =
          Snapshot.write(
              snapshotPath(dir, next),
              keyspace,
              engine,
              log,
              segmentLock,
              // Each stripe's changes so far are logged below its cut, beside the writes the
              // snapshot holds: a crash cannot keep the writes and lose their changes.
              recorded == null ? stripe -> {} : recorded::flush,
              clock.millis());
      ChangeFeed held = feed;
      long kept = held == null ? next : Math.min(next, held.heldGeneration());
      for (Path covered : numbered(dir, LOG).headMap(kept, false).values()) {
        Files.deleteIfExists(covered);
      }
      for (Path older : numbered(dir, SNAPSHOT).headMap(next, false).values()) {
        Files.deleteIfExists(older);
      }
      sequenceAtSnapshot = sequence;
      SnapshotStats stats =
          new SnapshotStats(taken.bytes(), taken.records(), taken.nanos(), taken.takenAtMillis());
      lastSnapshot = stats;
      return stats;
    } finally {
      snapshotting.unlock();
    }
  }

  /** {@link #snapshot} on a thread of its own; the future fails with its IOException. */
  public CompletableFuture<SnapshotStats> snapshotInBackground() {
    CompletableFuture<SnapshotStats> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                done.complete(snapshot());
              } catch (IOException | RuntimeException e) {
                done.completeExceptionally(e);
              }
            },
            "whack-snapshot");
    t.setDaemon(true);
    t.start();
    return done;
  }

  /** Whether a snapshot is being written now. */
  public boolean snapshotting() {
    return snapshotting.isLocked();
  }

  /** Log records appended since the last snapshot began (or since start-up). */
  public long writesSinceSnapshot() {
    return log.upcomingSequence() - sequenceAtSnapshot;
  }

  /** The last snapshot taken or loaded, or null. */
  public SnapshotStats lastSnapshot() {
    return lastSnapshot;
  }

  /**
   * Whether a snapshot is due by {@code everySeconds} since the last one (or since start-up) or
   * {@code everyWrites} logged since; 0 turns either off. False while one is being written.
   */
  public boolean snapshotDue(long everySeconds, long everyWrites) {
    if (snapshotting()) {
      return false;
    }
    SnapshotStats last = lastSnapshot;
    long since = last == null ? openedAtMillis : Math.max(openedAtMillis, last.takenAtMillis());
    return (everySeconds > 0 && clock.millis() - since >= everySeconds * 1000)
        || (everyWrites > 0 && writesSinceSnapshot() >= everyWrites);
  }

  /** Whole seconds since the last snapshot was taken, or -1 when there is none. */
  public long snapshotAgeSeconds() {
    SnapshotStats last = lastSnapshot;
    return last == null ? -1 : Math.max(0, (clock.millis() - last.takenAtMillis()) / 1000);
  }

  /** Bytes of log files in the directory now. */
  public long logBytes() {
    long total = 0;
    try {
      for (Path p : numbered(dir, LOG).values()) {
        total += Files.size(p);
      }
    } catch (IOException e) {
      // A file deleted by a snapshot between the listing and its size: counted as gone.
    }
    return total;
  }

  public DurableLog log() {
    return log;
  }

  /**
   * From now on membership changes are logged for the changes publisher (the node was opened to
   * record them); returns the feed that reads them, from where the publisher last stood
   * (docs/kafka.md, "Segment changes out"). Logs it has not passed are kept through snapshots.
   *
   * @throws IllegalStateException when the node was opened without recording changes
   */
  public ChangeFeed startRecordingChanges() {
    if (recorded == null) {
      throw new IllegalStateException("opened without recording membership changes");
    }
    engine.recordChanges(recorded);
    // Each stripe's changes so far (replay's, of writes whose changes a crash lost) logged now,
    // and a mark that tells a later replay to make nothing before it again.
    Lock[] stripeLocks = engine.stripeLocks();
    for (int stripe = 0; stripe < stripeLocks.length; stripe++) {
      stripeLocks[stripe].lock();
      try {
        recorded.mark(stripe);
      } finally {
        stripeLocks[stripe].unlock();
      }
    }
    log.kick();
    return feed;
  }

  public Recovery recovered() {
    return recovery;
  }

  /**
   * Writes and forces what is waiting and closes the log, after a snapshot being written has
   * finished (its files are then complete, and a dropped tenant's directory can be deleted).
   */
  @Override
  public void close() throws IOException {
    snapshotting.lock();
    try {
      log.close();
    } finally {
      try {
        lock.close();
      } finally {
        snapshotting.unlock();
      }
    }
  }
}

package dev.whack.node.durability;

import dev.whack.node.engine.CatalogListener;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Journal;
import dev.whack.node.keyspace.Keyspace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A node's data directory: at start-up, plays the log back into the keyspace and the engine; then
 * logs every change from there on. Snapshots (so that the log can be cut) are still to come: until
 * then the log grows with every write and start-up replays all of it.
 *
 * <p>Concurrency: opened and closed by the node's start and stop; the log it runs is thread-safe.
 */
public final class Durability implements AutoCloseable {
  static final String LOG_FILE = "whack.log";

  private final DurableLog log;
  private final LogReader.Result recovered;

  private Durability(DurableLog log, LogReader.Result recovered) {
    this.log = log;
    this.recovered = recovered;
  }

  /**
   * Recovers what {@code dir} holds into {@code keyspace} and {@code engine} (both empty, no
   * connection open, no timer running), then attaches the log.
   *
   * @param clock the engine's clock, set to each replayed write's time
   * @param report where a line about the recovery goes (records, time, a torn tail dropped)
   * @throws CorruptLogException when the log is damaged before its end: start-up must stop
   */
  public static Durability open(
      Path dir,
      DurableLog.Fsync fsync,
      Keyspace keyspace,
      ProfileEngine engine,
      ReplayClock clock,
      Consumer<String> report)
      throws IOException {
    Files.createDirectories(dir);
    Path path = dir.resolve(LOG_FILE);
    long started = System.nanoTime();
    LogReader.Result recovered;
    if (Files.exists(path)) {
      Journal restorer = keyspace.restorer();
      CatalogListener segments =
          new CatalogListener() {
            @Override
            public void defined(String name, String expression) {
              engine.define(name, expression);
            }

            @Override
            public void dropped(String name) {
              engine.drop(name);
            }
          };
      recovered =
          LogReader.read(
              path,
              (type, seq, payload) -> LogRecords.play(type, payload, restorer, segments, clock));
    } else {
      recovered = new LogReader.Result(0, -1, 0, 0);
    }
    clock.live();
    engine.runDueReevaluations();
    report.accept(
        String.format(
            Locale.ROOT,
            "recovered %d log records from %s in %.1f s%s",
            recovered.records(),
            path,
            (System.nanoTime() - started) / 1e9,
            recovered.tornBytes() > 0
                ? "; dropped a torn last record (" + recovered.tornBytes() + " bytes) a crash left"
                : ""));
    Lock[] stripes = engine.stripeLocks();
    Lock segmentLock = new ReentrantLock();
    Lock[] sources = Arrays.copyOf(stripes, stripes.length + 1);
    sources[stripes.length] = segmentLock;
    DurableLog log =
        new DurableLog(path, fsync, sources, recovered.maxSequence() + 1, recovered.goodBytes());
    LogJournal journal = new LogJournal(log, stripes.length, segmentLock);
    keyspace.journal(journal);
    engine.catalogListener(journal);
    return new Durability(log, recovered);
  }

  public DurableLog log() {
    return log;
  }

  public LogReader.Result recovered() {
    return recovered;
  }

  /** Writes and forces what is waiting and closes the log. */
  @Override
  public void close() throws IOException {
    log.close();
  }
}

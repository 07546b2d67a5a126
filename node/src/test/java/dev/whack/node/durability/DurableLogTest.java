package dev.whack.node.durability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableLogTest {
  @TempDir Path dir;

  /** A record as the tests write it: type, sequence and a payload of its own. */
  private record Rec(byte type, long sequence, byte[] payload) {}

  private static Lock[] locks(int n) {
    Lock[] locks = new Lock[n];
    for (int i = 0; i < n; i++) {
      locks[i] = new ReentrantLock();
    }
    return locks;
  }

  private static byte[] payload(long sequence, Random r) {
    byte[] b = new byte[r.nextInt(300)];
    r.nextBytes(b);
    return ByteBuffer.allocate(8 + b.length).putLong(sequence).put(b).array();
  }

  /** Appends one record to source {@code source} under its lock; returns its sequence. */
  private static Rec append(DurableLog log, Lock[] locks, int source, Random r) {
    locks[source].lock();
    try {
      long seq = log.nextSequence();
      byte[] p = payload(seq, r);
      RecordBuffer b = log.append(source).begin((byte) (seq % 7), seq);
      for (byte x : p) {
        b.putByte(x);
      }
      b.end();
      return new Rec((byte) (seq % 7), seq, p);
    } finally {
      locks[source].unlock();
    }
  }

  private static List<Rec> readAll(Path file, LogReader.Result[] result) throws IOException {
    List<Rec> out = new ArrayList<>();
    result[0] =
        LogReader.read(
            file,
            (type, seq, payload) -> {
              byte[] p = new byte[payload.remaining()];
              payload.get(p);
              out.add(new Rec(type, seq, p));
            });
    return out;
  }

  private static void assertSameRecords(List<Rec> expected, List<Rec> actual) {
    assertEquals(expected.size(), actual.size(), "records");
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).type(), actual.get(i).type(), "type of record " + i);
      assertEquals(expected.get(i).sequence(), actual.get(i).sequence(), "sequence of record " + i);
      assertArrayEquals(expected.get(i).payload(), actual.get(i).payload(), "payload " + i);
    }
  }

  private List<Rec> writeLog(Path file, int records) throws IOException {
    Lock[] locks = locks(1);
    Random r = new Random(7);
    List<Rec> written = new ArrayList<>();
    try (DurableLog log = new DurableLog(file, DurableLog.Fsync.NO, locks, 0, 0)) {
      for (int i = 0; i < records; i++) {
        written.add(append(log, locks, 0, r));
      }
    }
    return written;
  }

  @Test
  void shouldReadBackEveryRecordItWrote() throws IOException {
    Path file = dir.resolve("whack.log");
    List<Rec> written = writeLog(file, 500);
    LogReader.Result[] result = new LogReader.Result[1];
    assertSameRecords(written, readAll(file, result));
    assertEquals(499, result[0].maxSequence());
    assertEquals(Files.size(file), result[0].goodBytes());
    assertEquals(0, result[0].tornBytes());
  }

  @Test
  void shouldRecoverExactlyTheCompleteRecordsWhereverTheFileIsCut() throws IOException {
    Path file = dir.resolve("whack.log");
    List<Rec> written = writeLog(file, 40);
    byte[] whole = Files.readAllBytes(file);
    // Where each record ends, so the expected prefix at any cut is known.
    List<Long> ends = new ArrayList<>();
    readAll(file, new LogReader.Result[1]);
    long pos = LogFormat.FILE_HEADER;
    for (Rec r : written) {
      pos += LogFormat.RECORD_HEADER + LogFormat.BODY_OVERHEAD + r.payload().length;
      ends.add(pos);
    }
    assertEquals(whole.length, pos);
    long from = ends.get(ends.size() - 4); // every byte of the last three records, and the file end
    Path cut = dir.resolve("cut.log");
    for (long at = from; at <= whole.length; at++) {
      Files.write(cut, java.util.Arrays.copyOf(whole, (int) at));
      int complete = 0;
      while (complete < ends.size() && ends.get(complete) <= at) {
        complete++;
      }
      LogReader.Result[] result = new LogReader.Result[1];
      List<Rec> read = readAll(cut, result);
      assertSameRecords(written.subList(0, complete), read);
      assertEquals(at, result[0].goodBytes() + result[0].tornBytes(), "cut at " + at);
    }
  }

  @Test
  void shouldRefuseADamagedRecordWithRecordsAfterIt() throws IOException {
    Path file = dir.resolve("whack.log");
    writeLog(file, 20);
    long at = LogFormat.FILE_HEADER + 3 * 1000 / 20; // somewhere in the first records
    flip(file, at);
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> readAll(file, new LogReader.Result[1]));
    assertTrue(e.getMessage().startsWith(file + " at byte "), e.getMessage());
    assertTrue(e.offset() <= at, "the offset names the damaged record: " + e.getMessage());
  }

  @Test
  void shouldDropADamagedLastRecordAsTorn() throws IOException {
    Path file = dir.resolve("whack.log");
    List<Rec> written = writeLog(file, 20);
    flip(file, Files.size(file) - 2);
    LogReader.Result[] result = new LogReader.Result[1];
    assertSameRecords(written.subList(0, 19), readAll(file, result));
    assertTrue(result[0].tornBytes() > 0);
  }

  @Test
  void shouldDropZerosAfterTheLastRecordAsTorn() throws IOException {
    Path file = dir.resolve("whack.log");
    List<Rec> written = writeLog(file, 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4096), ch.size());
    }
    LogReader.Result[] result = new LogReader.Result[1];
    assertSameRecords(written, readAll(file, result));
    assertEquals(4096, result[0].tornBytes());
  }

  @Test
  void shouldRefuseAFileThatIsNotALog() throws IOException {
    Path file = dir.resolve("whack.log");
    Files.writeString(file, "set k 0 0 1\r\nx\r\nthis is not a log at all");
    CorruptLogException e =
        assertThrows(CorruptLogException.class, () -> readAll(file, new LogReader.Result[1]));
    assertTrue(e.getMessage().contains("not a Whack file (no WHACKLOG header)"), e.getMessage());
  }

  @Test
  void shouldAppendAfterTheLastGoodRecordOnceATornTailIsCut() throws IOException {
    Path file = dir.resolve("whack.log");
    List<Rec> written = new ArrayList<>(writeLog(file, 10));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 5); // the last record torn
    }
    written.remove(written.size() - 1);
    LogReader.Result[] result = new LogReader.Result[1];
    readAll(file, result);
    Lock[] locks = locks(1);
    try (DurableLog log =
        new DurableLog(
            file,
            DurableLog.Fsync.ALWAYS,
            locks,
            result[0].maxSequence() + 1,
            result[0].goodBytes())) {
      Random r = new Random(11);
      for (int i = 0; i < 5; i++) {
        written.add(append(log, locks, 0, r));
      }
    }
    assertSameRecords(written, readAll(file, result));
    assertEquals(13, result[0].maxSequence());
  }

  /**
   * Group commit under {@code always}: writers on four threads and eight sources each wait for
   * their record to be durable; whatever has been acknowledged is in a copy of the file taken at
   * that moment, without closing the log (as a crash would leave it).
   */
  @Test
  void shouldHaveEveryAcknowledgedRecordInTheFileBeforeItIsAcknowledged() throws Exception {
    Path file = dir.resolve("whack.log");
    Lock[] locks = locks(8);
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    List<Long> snapshotAcknowledged = Collections.synchronizedList(new ArrayList<>());
    Path copy = dir.resolve("copy.log");
    try (DurableLog log = new DurableLog(file, DurableLog.Fsync.ALWAYS, locks, 0, 0)) {
      List<Thread> threads = new ArrayList<>();
      CountDownLatch done = new CountDownLatch(4 * 250);
      for (int t = 0; t < 4; t++) {
        int seed = t;
        Thread th =
            new Thread(
                () -> {
                  Random r = new Random(seed);
                  for (int i = 0; i < 250; i++) {
                    Rec rec = append(log, locks, r.nextInt(locks.length), r);
                    log.kick();
                    log.whenDurable(
                        rec.sequence(),
                        () -> {
                          acknowledged.add(rec.sequence());
                          done.countDown();
                        });
                  }
                });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) {
        th.join();
      }
      assertTrue(done.await(30, TimeUnit.SECONDS), "every record acknowledged");
      snapshotAcknowledged.addAll(acknowledged);
      Files.copy(file, copy);
      assertTrue(log.forces() > 0 && log.forces() <= 1000, "forces: " + log.forces());
    }
    Set<Long> inCopy = ConcurrentHashMap.newKeySet();
    LogReader.read(copy, (type, seq, payload) -> inCopy.add(seq));
    assertTrue(
        inCopy.containsAll(snapshotAcknowledged), "acknowledged records missing from the file");
    assertEquals(1000, snapshotAcknowledged.size());
  }

  /**
   * Under {@code everysec} and {@code no} a writer is answered before its record is written, so
   * what a crash leaves must be every record below some sequence, or a client's later write could
   * survive without an earlier one: writers on four threads append to eight sources without
   * waiting, and every copy of the file taken meanwhile (as a crash would leave it) holds the
   * records 0, 1, 2, ... in that order, with none missing.
   */
  @Test
  void shouldLeaveAPrefixOfTheSequencesInOrderWhereverItIsCut() throws Exception {
    Path file = dir.resolve("whack.log");
    Lock[] locks = locks(8);
    List<Path> copies = new ArrayList<>();
    try (DurableLog log = new DurableLog(file, DurableLog.Fsync.NO, locks, 0, 0)) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        Thread th =
            new Thread(
                () -> {
                  Random r = new Random(seed);
                  for (int i = 0; i < 20_000; i++) {
                    append(log, locks, r.nextInt(locks.length), r);
                    if (i % 50 == 0) {
                      log.kick();
                    }
                  }
                });
        threads.add(th);
        th.start();
      }
      for (int i = 0; threads.get(0).isAlive() || i < 3; i++) {
        Path copy = dir.resolve("copy-" + i + ".log");
        Files.copy(file, copy);
        copies.add(copy);
        Thread.sleep(5);
      }
      for (Thread th : threads) {
        th.join();
      }
    }
    copies.add(file);
    for (Path copy : copies) {
      long[] expected = {0};
      LogReader.read(
          copy,
          (type, seq, payload) -> {
            assertEquals(expected[0], seq, "record after " + (expected[0] - 1) + " in " + copy);
            expected[0]++;
          });
      if (copy.equals(file)) {
        assertEquals(80_000, expected[0], "every record in the closed log");
      }
    }
  }

  /**
   * The log's memory is bounded: while records not yet written are over the allowance (here the
   * writer holds its source, so the log thread cannot take them) the log says so, and it tells
   * whoever waits once it has caught up.
   */
  @Test
  void shouldSayWhenItIsTooFarBehindAndWhenItHasCaughtUp() throws Exception {
    Path file = dir.resolve("whack.log");
    Lock[] locks = locks(1);
    try (DurableLog log = new DurableLog(file, DurableLog.Fsync.NO, locks, 0, 0)) {
      CountDownLatch relieved = new CountDownLatch(1);
      locks[0].lock();
      try {
        byte[] big = new byte[1 << 20];
        while (!log.overloaded()) {
          long seq = log.nextSequence();
          log.appended(log.append(0).begin((byte) 1, seq).putBytes(big, 0, big.length).end());
        }
        log.whenRelieved(relieved::countDown);
        Thread.sleep(50);
        assertEquals(1, relieved.getCount(), "not relieved while its records cannot be written");
      } finally {
        locks[0].unlock();
      }
      assertTrue(relieved.await(10, TimeUnit.SECONDS), "relieved once written");
      assertTrue(!log.overloaded());
    }
    assertTrue(Files.size(file) > DurableLog.PENDING_LIMIT);
  }

  private static void flip(Path file, long at) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x10));
      b.rewind();
      ch.write(b, at);
    }
  }
}

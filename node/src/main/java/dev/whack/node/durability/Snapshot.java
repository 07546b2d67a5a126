package dev.whack.node.durability;

import dev.whack.node.engine.EnteredTimes;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentInfo;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.keyspace.Journal;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.StripeImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Lock;
import java.util.function.IntConsumer;

/**
 * A snapshot file: everything the node holds, each stripe as of one cut of the log, written while
 * the node serves. Records in the log's framing (length, CRC32C, type, sequence, payload) behind a
 * {@code WHACKSNP} header:
 *
 * <pre>
 * BEGIN           u32 sources, u64 next cas, u64 oldest live second, u64 taken at (millis)
 * NAMES           as below with the segment source's number for a stripe: every name in use
 *                 when the snapshot began, which a loading node gives the same ids
 * DIMENSION_IDS   u32 next dimension id, u32 2   (when any dimension was ever defined; the 2
 *                 says compact profiles keep their counts day-major, LegacyDimensionSection)
 * DIMENSION       u32 id, name, definition (canonical JSON), u32 n, n x value: each dimension
 *                 in definition order, with the categorical values it had learned (ids 1..n)
 * SEGMENT_DEFINED name, expression               (each segment)
 * CUT             u32 source, u64 sequence       (the segment source's cut)
 * ITEM            as in the log                  (each opaque item of stripe 0)
 * NAMES           stripe, u32 n, n x (u32 id, name), u32 m, m x (u32 id, name): the attribute
 *                 and event names the stripe's compact profiles use, by their ids on this node
 * PROFILE_COMPACT stripe, key, kind, flags, expiry, cas, marks, the engine's compact form, then
 *                 (when the profile is in any segment) u32 n, n x (u32 segment, u32 entered): the
 *                 segments it is in, by their place among the SEGMENT_DEFINED records, each with
 *                 the unsigned second its membership began
 * CUT             u32 0, u64 sequence            ... and so on for every stripe
 * LEARNED         u32 id, u32 n, n x value: each categorical dimension's learned values as they
 *                 are after the last stripe (the DIMENSION record's, grown)
 * END             u64 records before it, u64 oldest live second (again: a delayed flush_all
 *                 during the snapshot counts)
 * </pre>
 *
 * A source's cut is the sequence its next log record got when the snapshot read it, under the
 * source's lock: its records below the cut are in the snapshot, and replay skips them. Under a
 * stripe's lock only references to its items are taken (values and compact profiles are never
 * modified once published); profiles are rendered and records written after it is released, with
 * the engine's names held so the compact forms still read right. No fork and no second copy: the
 * extra memory is one stripe's references, a megabyte of records, and the old versions of what
 * changes while its stripe is being written.
 *
 * <p>Dimensions. Compact profiles name a dimension by its node-local id and a category by its id in
 * the dimension's table, so both are restored as they were: the dimensions under their ids (and the
 * next id, past those of dropped ones whose data a profile may still hold) before the segments that
 * read them, with the values learned when the catalogs were read. A table only grows while the
 * stripes are written, so a profile may count in a value learned later; the LEARNED records after
 * the last stripe list every value any imaged profile can hold, extending the first lists (the load
 * checks they agree). Nothing names a category between the two (a restore installs category ids as
 * they are), and the log's replay comes after both. A dimension defined while the snapshot was
 * written is defined by the log's replay, which hands out the id it had live; its LEARNED list
 * waits for it. A restore adds each profile's counts to its dimensions' population.
 *
 * <p>The entered times trail the compact form, so the format's version stays: a node that does not
 * know them reads the record as before and ignores them (its memberships then begin at the
 * restore), and a snapshot written before them restores every membership as beginning then.
 *
 * <p>A snapshot is valid only whole: written to a temporary file, forced, renamed, the directory
 * forced. Reading one that fails a checksum, is cut short or has no END stops start-up.
 */
final class Snapshot {
  static final byte BEGIN = 20;
  static final byte PROFILE_COMPACT = 21;
  static final byte CUT = 22;
  static final byte END = 23;
  static final byte NAMES = 24;
  static final byte DIMENSION_IDS = 25;
  static final byte DIMENSION = 26;
  static final byte LEARNED = 27;

  /**
   * The dimensions section layout of this node's compact profiles, in the DIMENSION_IDS record: a
   * snapshot whose record lacks it was written before counts were kept day-major, and its profiles
   * are upgraded as they load.
   */
  private static final int DAY_MAJOR_COUNTS = 2;

  /**
   * Threads that apply a snapshot's items and profiles at start-up, each the stripes {@code i} with
   * {@code i % APPLIERS} equal to its number, so no two contend for a stripe's lock and each
   * stripe's records apply in file order; the reading thread checks and hands out records.
   */
  private static final int APPLIERS = Math.max(1, Runtime.getRuntime().availableProcessors());

  /** Above this many buffered bytes the writer writes them out (outside any stripe lock). */
  private static final int WRITE_AT = 1 << 20;

  /** What a snapshot took: its size, records, duration and the time it was taken at. */
  record Taken(long bytes, long records, long nanos, long takenAtMillis) {}

  /**
   * What loading one gave: each source's cut, the records read, when it was taken, and the damaged
   * parts passed over (only when told to skip them).
   */
  record Loaded(long[] cuts, long records, long takenAtMillis, List<String> skipped) {}

  private Snapshot() {}

  /**
   * Writes a snapshot of {@code keyspace} and {@code engine} to {@code target} (by way of {@code
   * target}.tmp), each source cut against {@code log}; sources are the keyspace's stripes and then
   * the segment source, whose lock is {@code segmentLock}.
   */
  static Taken write(
      Path target,
      Keyspace keyspace,
      ProfileEngine engine,
      DurableLog log,
      Lock segmentLock,
      IntConsumer beforeCut,
      long nowMillis)
      throws IOException {
    long started = System.nanoTime();
    long highestCut = 0;
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    int stripes = keyspace.stripeCount();
    long records;
    try (FileChannel out =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      Writer w = new Writer(out);
      w.write(LogFormat.fileHeader(LogFormat.SNAPSHOT_MAGIC));
      RecordBuffer b = w.buffer;
      w.end(
          b.begin(BEGIN, 0)
              .putInt(stripes + 1)
              .putLong(keyspace.nextCas())
              .putLong(keyspace.oldestLiveSeconds())
              .putLong(nowMillis));
      ProfileEngine.NamesHeld names = engine.holdNames();
      w.allNames(stripes, engine);
      // The dimensions and the segments that read them as of one moment, with no definition
      // under way (its record would follow the cut): the log's records from the cut on are
      // exactly the definitions after it.
      long[] segmentCutHeld = new long[1];
      ProfileEngine.EnteredReader[] enteredHeld = new ProfileEngine.EnteredReader[1];
      Map<Integer, Dimension> dimensions = new LinkedHashMap<>();
      engine.withDefinitionsHeld(
          () -> {
            segmentLock.lock();
            try {
              DimensionRegistry.Set inForce = engine.dimensionsInForce();
              if (inForce.nextId() > 0) {
                w.end(b.begin(DIMENSION_IDS, 0).putInt(inForce.nextId()).putInt(DAY_MAJOR_COUNTS));
              }
              for (Dimension d : inForce.all()) {
                dimensions.put(d.id(), d);
                byte[] n = d.name().getBytes(StandardCharsets.UTF_8);
                byte[] json = d.spec().toJson().getBytes(StandardCharsets.UTF_8);
                b.begin(DIMENSION, 0).putInt(d.id()).putBytes(n, 0, n.length);
                w.end(putValues(b.putBytes(json, 0, json.length), d.learned()));
              }
              List<String> segmentNames = new ArrayList<>();
              for (SegmentInfo s : engine.segments()) {
                segmentNames.add(s.name());
                byte[] n = s.name().getBytes(StandardCharsets.UTF_8);
                byte[] e = s.expression().getBytes(StandardCharsets.UTF_8);
                w.end(
                    b.begin(LogRecords.SEGMENT_DEFINED, 0)
                        .putBytes(n, 0, n.length)
                        .putBytes(e, 0, e.length));
              }
              segmentCutHeld[0] = log.upcomingSequence();
              enteredHeld[0] = engine.enteredReader(segmentNames);
            } finally {
              segmentLock.unlock();
            }
          });
      long segmentCut = segmentCutHeld[0];
      ProfileEngine.EnteredReader entered = enteredHeld[0];
      highestCut = segmentCut;
      w.end(b.begin(CUT, 0).putInt(stripes).putLong(segmentCut));
      // Under each stripe's lock only references are taken (values and compact profiles are
      // immutable); rendering and writing follow with no lock held, the names kept meanwhile.
      try {
        List<Captured> captured = new ArrayList<>();
        for (int stripe = 0; stripe < stripes; stripe++) {
          int source = stripe;
          long cut =
              keyspace.image(
                  stripe,
                  capture(captured, entered),
                  () -> {
                    beforeCut.accept(source);
                    return log.upcomingSequence();
                  });
          highestCut = Math.max(highestCut, cut);
          w.names(stripe, captured, engine);
          for (Captured c : captured) {
            w.record(stripe, c);
            w.writeIfFull(WRITE_AT);
          }
          captured.clear();
          w.end(b.begin(CUT, 0).putInt(stripe).putLong(cut));
          w.writeIfFull(WRITE_AT);
        }
      } finally {
        names.close();
      }
      // The categories learned by now: the profiles above may count in values learned after the
      // DIMENSION records were written (the tables only grow, so these lists extend those), and in
      // dimensions defined since (whose definitions the log replays).
      for (Dimension d : engine.dimensionsInForce().all()) {
        dimensions.putIfAbsent(d.id(), d);
      }
      for (Dimension d : dimensions.values()) {
        if (!d.learned().isEmpty()) {
          w.end(putValues(b.begin(LEARNED, 0).putInt(d.id()), d.learned()));
          w.writeIfFull(WRITE_AT);
        }
      }
      records = w.records;
      w.end(b.begin(END, 0).putLong(records).putLong(keyspace.oldestLiveSeconds()));
      w.writeIfFull(-1);
      out.force(true);
    }
    // Visible only once every log record below its cuts is on disk: a crash, even a power cut,
    // then never finds a snapshot past a record the log lost (a changes record of writes it
    // holds, among them).
    log.force(highestCut);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    DurableLog.syncDirectory(target.toAbsolutePath().getParent());
    return new Taken(Files.size(target), records, System.nanoTime() - started, nowMillis);
  }

  /** A count, then each value (UTF-8 with its length). */
  private static RecordBuffer putValues(RecordBuffer b, List<String> values) {
    b.putInt(values.size());
    for (String v : values) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      b.putBytes(bytes, 0, bytes.length);
    }
    return b;
  }

  private static List<String> values(ByteBuffer p) {
    int n = p.getInt();
    List<String> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(LogRecords.text(p));
    }
    return values;
  }

  /** Appends records to a buffer and writes it to the file between stripes. */
  private static final class Writer {
    final FileChannel out;

    /**
     * Made once at a size that holds a flush's worth and a record more, and kept: a buffer grown
     * and shrunk again per megabyte written cost most of a snapshot's time (every new array of that
     * size zeroed, often on freshly committed heap pages).
     */
    final RecordBuffer buffer = new RecordBuffer(2 * WRITE_AT);

    long records;

    Writer(FileChannel out) {
      this.out = out;
    }

    void end(RecordBuffer b) {
      b.end();
      records++;
    }

    /** Writes the buffer out once it holds more than {@code threshold} bytes. */
    void writeIfFull(int threshold) throws IOException {
      if (buffer.size() > threshold) {
        IOException[] failed = new IOException[1];
        buffer.drainTo(
            (bytes, off, len) -> {
              try {
                write(ByteBuffer.wrap(bytes, off, len));
              } catch (IOException e) {
                failed[0] = e;
              }
            });
        if (failed[0] != null) {
          throw failed[0];
        }
      }
    }

    void write(ByteBuffer b) throws IOException {
      while (b.hasRemaining()) {
        out.write(b);
      }
    }

    /**
     * Appends the NAMES record of a stripe: every attribute and event name its captured compact
     * profiles use, by id (read while the names are held, so each id still names what it did).
     */
    void names(int stripe, List<Captured> captured, ProfileEngine engine) {
      BitSet attributes = new BitSet();
      BitSet events = new BitSet();
      for (Captured c : captured) {
        if (c.profile) {
          engine.namesUsedBy(c.bytes, attributes, events);
        }
      }
      RecordBuffer b = buffer.begin(NAMES, 0).putInt(stripe).putInt(attributes.cardinality());
      for (int id = attributes.nextSetBit(0); id >= 0; id = attributes.nextSetBit(id + 1)) {
        byte[] name = engine.attributeName(id).getBytes(StandardCharsets.UTF_8);
        b.putInt(id).putBytes(name, 0, name.length);
      }
      b.putInt(events.cardinality());
      for (int id = events.nextSetBit(0); id >= 0; id = events.nextSetBit(id + 1)) {
        byte[] name = engine.eventName(id).getBytes(StandardCharsets.UTF_8);
        b.putInt(id).putBytes(name, 0, name.length);
      }
      end(b);
    }

    /** Appends the NAMES record of every name in use now, under {@code source}'s number. */
    void allNames(int source, ProfileEngine engine) {
      RecordBuffer b = buffer.begin(NAMES, 0).putInt(source);
      putNames(b, engine::forEachAttributeName);
      putNames(b, engine::forEachEventName);
      end(b);
    }

    /** The names a table lists, with their ids: a count, then (id, name) pairs. */
    private static void putNames(
        RecordBuffer b,
        java.util.function.Consumer<java.util.function.ObjIntConsumer<String>> table) {
      List<String> names = new ArrayList<>();
      List<Integer> ids = new ArrayList<>();
      table.accept(
          (name, id) -> {
            names.add(name);
            ids.add(id);
          });
      b.putInt(names.size());
      for (int i = 0; i < names.size(); i++) {
        byte[] name = names.get(i).getBytes(StandardCharsets.UTF_8);
        b.putInt(ids.get(i)).putBytes(name, 0, name.length);
      }
    }

    /** Appends the record of one captured item (a profile in its compact form, as it is). */
    void record(int stripe, Captured c) {
      RecordBuffer b =
          buffer.begin(c.profile ? PROFILE_COMPACT : LogRecords.ITEM, 0).putInt(stripe);
      b.putBytes(c.key, 0, c.key.length);
      if (c.profile) {
        b.putByte(c.kind).putInt(c.flags).putLong(c.expiresAtSeconds).putLong(c.cas);
        b.putByte(c.marks).putBytes(c.bytes, 0, c.bytes.length);
        if (c.entered.length > 0) {
          b.putInt(c.entered.length / 2);
          for (int v : c.entered) {
            b.putInt(v);
          }
        }
        end(b);
      } else {
        b.putInt(c.flags).putLong(c.expiresAtSeconds).putLong(c.cas).putByte(c.marks);
        end(b.putBytes(c.bytes, 0, c.bytes.length));
      }
    }
  }

  /**
   * An item as a stripe's image gave it: references only (every array is immutable), and a
   * profile's memberships with their entered times as pairs (segment index, unsigned seconds).
   */
  private record Captured(
      boolean profile,
      byte[] key,
      byte kind,
      int flags,
      long expiresAtSeconds,
      long cas,
      int marks,
      byte[] bytes,
      int[] entered) {}

  private static final int[] NO_MEMBERSHIPS = new int[0];

  /**
   * Keeps what the image hands over, under the stripe's lock: no copy, no rendering; a profile's
   * entered times are read there, as of the same moment as the profile.
   */
  private static StripeImage capture(List<Captured> into, ProfileEngine.EnteredReader entered) {
    return new StripeImage() {
      @Override
      public void item(
          byte[] key, int flags, long expiresAtSeconds, long cas, int marks, byte[] value) {
        into.add(
            new Captured(
                false, key, (byte) 0, flags, expiresAtSeconds, cas, marks, value, NO_MEMBERSHIPS));
      }

      @Override
      public void profile(
          byte[] key,
          byte kind,
          int flags,
          long expiresAtSeconds,
          long cas,
          int marks,
          byte[] compact,
          int ordinal) {
        into.add(
            new Captured(
                true,
                key,
                kind,
                flags,
                expiresAtSeconds,
                cas,
                marks,
                compact,
                entered.read(ordinal)));
      }
    };
  }

  /**
   * Loads the snapshot at {@code path} into an empty {@code keyspace} and {@code engine}.
   *
   * @throws CorruptLogException when any record fails its checksum, the file is cut short, or it
   *     was written for another number of stripes
   */
  static Loaded load(Path path, Keyspace keyspace, ProfileEngine engine, boolean skipDamage)
      throws IOException {
    int stripes = keyspace.stripeCount();
    long[] cuts = new long[stripes + 1];
    Arrays.fill(cuts, -1);
    long[] seen = new long[3]; // records before END, END's count (-1 until read), taken at
    seen[1] = -1;
    LogReader.Result result;
    Journal restorer = keyspace.restorer();
    ThreadLocal<Renumbering> renumbering = ThreadLocal.withInitial(() -> new Renumbering(engine));
    // The segments in the order of their records, before any profile (handed to the appliers
    // after it, through their queues); a profile's entered times name them by that place.
    List<String> segmentNames = new ArrayList<>();
    ThreadLocal<EnteredTimes> enteredTimes = ThreadLocal.withInitial(EnteredTimes::new);
    Renumbering held = new Renumbering(engine); // the names as they were numbered, kept to the end
    boolean[] legacyDimensions = {false}; // set before any profile, seen through the queues
    try (StripeAppliers appliers =
        new StripeAppliers(
            (type, p) ->
                applyImage(
                    type,
                    p,
                    keyspace,
                    restorer,
                    renumbering.get(),
                    segmentNames,
                    enteredTimes.get(),
                    legacyDimensions[0] ? engine : null))) {
      result =
          LogReader.read(
              path,
              LogFormat.SNAPSHOT_MAGIC,
              skipDamage,
              (type, sequence, p) -> {
                if (seen[1] >= 0) {
                  throw new IllegalStateException("records after the END record");
                }
                switch (type) {
                  case BEGIN -> {
                    int sources = p.getInt();
                    if (sources != stripes + 1) {
                      throw new IllegalStateException(
                          "written by a node with "
                              + (sources - 1)
                              + " stripes, this node has "
                              + stripes);
                    }
                    keyspace.restoreCounters(p.getLong(), p.getLong());
                    seen[2] = p.getLong();
                  }
                  case DIMENSION_IDS -> {
                    engine.restoreDimensionIds(p.getInt());
                    legacyDimensions[0] = !p.hasRemaining() || p.getInt() != DAY_MAJOR_COUNTS;
                  }
                  case DIMENSION -> {
                    int id = p.getInt();
                    String name = LogRecords.text(p);
                    DimensionSpec spec = DimensionSpec.parse(name, LogRecords.bytes(p));
                    engine.restoreDimension(id, spec, values(p));
                  }
                  case LEARNED -> engine.restoreLearned(p.getInt(), values(p));
                  case LogRecords.SEGMENT_DEFINED -> {
                    String name = LogRecords.text(p);
                    engine.define(name, LogRecords.text(p));
                    segmentNames.add(name);
                  }
                  case NAMES -> {
                    int source = p.getInt(p.position());
                    if (source == stripes) {
                      held.start(p, true); // every name, with its id, before the segments
                    } else {
                      appliers.apply(source, type, p);
                    }
                  }
                  case LogRecords.ITEM, PROFILE_COMPACT ->
                      appliers.apply(p.getInt(p.position()), type, p);
                  case CUT -> {
                    int source = p.getInt(p.position());
                    if (source < stripes) {
                      appliers.apply(source, type, p); // the stripe's names can go
                    }
                    cuts[p.getInt()] = p.getLong();
                  }
                  case END -> {
                    seen[1] = p.getLong();
                    // A delayed flush_all during the snapshot: in effect for the stripes imaged
                    // after it, and replayed from the log for those before.
                    keyspace.restoreCounters(0, p.getLong());
                    return;
                  }
                  default -> throw new IllegalStateException("unknown record type " + type);
                }
                seen[0]++;
              });
      appliers.finish();
    } catch (RuntimeException e) {
      held.finish();
      throw new CorruptLogException(path, -1, "cannot be loaded: " + e.getMessage());
    }
    held.finish();
    if (skipDamage) {
      // What is lost is lost; a source whose cut was lost replays only what follows the latest
      // cut, so that nothing is applied twice (some of its writes may be missing instead).
      long latest = Arrays.stream(cuts).max().orElse(0);
      for (int i = 0; i < cuts.length; i++) {
        if (cuts[i] < 0) {
          cuts[i] = Math.max(0, latest);
        }
      }
      List<String> skipped = new ArrayList<>(result.skipped());
      if (result.tornBytes() > 0) {
        skipped.add(result.goodBytes() + " +" + result.tornBytes() + " (cut short)");
      }
      return new Loaded(cuts, seen[0], seen[2], skipped);
    }
    if (result.tornBytes() > 0) {
      throw new CorruptLogException(
          path, result.goodBytes(), "a damaged or cut-short record (a snapshot is written whole)");
    }
    if (seen[1] < 0) {
      throw new CorruptLogException(path, result.goodBytes(), "ends before its END record");
    }
    if (seen[1] != seen[0]) {
      throw new CorruptLogException(
          path, result.goodBytes(), "holds " + seen[0] + " records, its END says " + seen[1]);
    }
    for (int i = 0; i < cuts.length; i++) {
      if (cuts[i] < 0) {
        throw new CorruptLogException(path, result.goodBytes(), "has no cut for source " + i);
      }
    }
    return new Loaded(cuts, seen[0], seen[2], List.of());
  }

  /**
   * Applies an item, profile, NAMES or CUT record of a snapshot, on its stripe's applier, which
   * meets a stripe's NAMES first, then its items, then its CUT. {@code upgrading}: the engine that
   * rewrites each profile's dimensions section written before counts were day-major, or null.
   */
  private static void applyImage(
      byte type,
      ByteBuffer p,
      Keyspace keyspace,
      Journal restorer,
      Renumbering names,
      List<String> segmentNames,
      EnteredTimes entered,
      ProfileEngine upgrading) {
    switch (type) {
      case LogRecords.ITEM -> LogRecords.play(LogRecords.ITEM, p, restorer, null, null, null);
      case NAMES -> names.start(p, false);
      case CUT -> names.finish();
      default -> {
        int stripe = p.getInt();
        byte[] key = LogRecords.bytes(p);
        byte kind = p.get();
        int flags = p.getInt();
        long expiry = p.getLong();
        long cas = p.getLong();
        int marks = p.get();
        byte[] compact = names.renumber(LogRecords.bytes(p));
        if (upgrading != null) {
          compact = upgrading.upgradeLegacyDimensions(compact);
        }
        entered.clear();
        if (p.hasRemaining()) {
          int n = p.getInt();
          for (int i = 0; i < n; i++) {
            int segment = p.getInt();
            int seconds = p.getInt();
            if (segment < 0 || segment >= segmentNames.size()) {
              throw new IllegalStateException("an entered time of segment " + segment);
            }
            entered.put(segmentNames.get(segment), seconds);
          }
        }
        keyspace.restoreCompactProfile(
            stripe, key, kind, flags, expiry, cas, marks, compact, entered);
      }
    }
  }

  /**
   * One applier's renumbering of the stripe it is restoring: the snapshot's name ids to this
   * node's, each name held (one reference) until the stripe's CUT, so that its id stays while the
   * stripe's profiles take their own references.
   */
  private static final class Renumbering {
    private final ProfileEngine engine;
    private int[] attributes = new int[0];
    private int[] events = new int[0];
    private final List<Integer> heldAttributes = new ArrayList<>();
    private final List<Integer> heldEvents = new ArrayList<>();

    /** Every name of the stripe kept its id: its compact forms install as they are, unread. */
    private boolean sameIds = true;

    Renumbering(ProfileEngine engine) {
      this.engine = engine;
    }

    /**
     * Reads a NAMES record: acquires every name it lists, with the id it had when {@code keepIds}
     * (a snapshot's first NAMES, read before anything else interns a name) and the id is free.
     */
    void start(ByteBuffer p, boolean keepIds) {
      finish();
      p.getInt(); // the stripe
      sameIds = true;
      attributes = read(p, true, keepIds);
      events = read(p, false, keepIds);
    }

    private int[] read(ByteBuffer p, boolean attribute, boolean keepIds) {
      int n = p.getInt();
      int[] ids = new int[0];
      for (int i = 0; i < n; i++) {
        int id = p.getInt();
        String name = LogRecords.text(p);
        int mine =
            attribute
                ? (keepIds ? engine.acquireAttributeAt(name, id) : engine.acquireAttribute(name))
                : (keepIds ? engine.acquireEventAt(name, id) : engine.acquireEvent(name));
        (attribute ? heldAttributes : heldEvents).add(mine);
        sameIds &= mine == id;
        if (id >= ids.length) {
          int old = ids.length;
          ids = Arrays.copyOf(ids, Math.max(id + 1, ids.length * 2));
          Arrays.fill(ids, old, ids.length, -1);
        }
        ids[id] = mine;
      }
      return ids;
    }

    byte[] renumber(byte[] compact) {
      return sameIds ? compact : ProfileEngine.renumber(compact, attributes, events);
    }

    /** The stripe is restored: its profiles hold their names, the renumbering lets go. */
    void finish() {
      heldAttributes.forEach(engine::releaseAttribute);
      heldEvents.forEach(engine::releaseEvent);
      heldAttributes.clear();
      heldEvents.clear();
      attributes = new int[0];
      events = new int[0];
    }
  }
}

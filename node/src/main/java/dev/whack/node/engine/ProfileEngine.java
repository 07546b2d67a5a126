package dev.whack.node.engine;

import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.DayCounts;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionException;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.DimensionSection;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.engine.dimension.DistinctCodec;
import dev.whack.node.engine.dimension.DistinctUnion;
import dev.whack.node.engine.dimension.DistinctWindow;
import dev.whack.node.engine.dimension.LegacyDimensionSection;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.DecodedSeries;
import dev.whack.node.engine.event.WindowResult;
import dev.whack.node.engine.expr.CompiledExpression;
import dev.whack.node.engine.expr.EvalContext;
import dev.whack.node.engine.expr.ExpressionCompiler;
import dev.whack.node.engine.expr.ExpressionException;
import dev.whack.node.engine.expr.MemberSet;
import dev.whack.node.engine.json.JsonFormatException;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.json.ProfileJsonReader;
import dev.whack.node.engine.json.UpdateJson;
import dev.whack.node.engine.json.UpdateJsonReader;
import dev.whack.node.engine.profile.Dictionaries;
import dev.whack.node.engine.profile.InvalidProfileException;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.node.engine.profile.ProfileCodec;
import dev.whack.node.engine.profile.ProfileLimits;
import dev.whack.node.engine.profile.ProfileTable;
import dev.whack.node.engine.profile.ProfileView;
import dev.whack.node.engine.profile.ProfileWriter;
import dev.whack.node.engine.profile.RenderedSize;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.node.engine.profile.StripeNames;
import dev.whack.node.engine.profile.UpdateOps;
import dev.whack.node.engine.profile.UpdateProtobufReader;
import dev.whack.node.engine.profile.ValueType;
import dev.whack.node.engine.segment.ChangeHub;
import dev.whack.node.engine.segment.ChangeRecorder;
import dev.whack.node.engine.segment.PartitionedBitmap;
import dev.whack.node.engine.segment.ReevaluationQueue;
import dev.whack.node.engine.segment.Segment;
import dev.whack.node.engine.segment.SegmentCatalog;
import dev.whack.node.engine.segment.SegmentException;
import dev.whack.node.engine.segment.SegmentQuery;
import dev.whack.node.engine.segment.SegmentRegistry;
import dev.whack.node.engine.segment.Subscription;
import dev.whack.node.engine.segment.UnknownSegmentException;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.roaringbitmap.PeekableIntIterator;
import org.roaringbitmap.RoaringBitmap;

/**
 * The profile and segment engine: typed profiles with partial updates and event series, and segment
 * membership kept exactly right, incrementally. No network code; the memcached front end calls
 * these methods.
 *
 * <h2>Design</h2>
 *
 * A profile is one immutable byte array (see {@link ProfileCodec}) at a dense, recycled ordinal. An
 * update builds the next array and swaps it in, then re-evaluates only the segments whose
 * expressions read an attribute or event the update touched; each segment's members are a
 * partitioned roaring bitmap over ordinals. Time-dependent segments report until when their answer
 * holds, and a {@link ReevaluationQueue} brings each profile back exactly then; {@link
 * #runDueReevaluations()} must be called periodically (for example every 100 ms) to process it.
 *
 * <p>Concurrency: every write to a profile (put, update, remove, backfill, timed re-evaluation)
 * holds the lock stripe of its key ({@link ProfileTable}), so writes to one profile are serial and
 * writes to different stripes run in parallel with no global lock. Membership changes of an ordinal
 * happen only under that stripe, which is what keeps the incremental bitmaps equal to a brute-force
 * evaluation. Readers of profiles take no lock (published arrays are immutable); segment queries
 * lock one bitmap partition at a time for microseconds. Define and drop publish an immutable {@link
 * SegmentCatalog}; an update uses the catalog it reads under its stripe lock, and a definition's
 * backfill takes each profile's stripe lock, so a profile written during a backfill is evaluated
 * either by the write or by the backfill, after the catalog was published. Per-thread scratch
 * (writer, view, evaluation context) lives in a thread-local {@code Worker}.
 *
 * <p>Names: attribute and event ids are references into the {@link Dictionaries} (see {@link
 * NameTable} for the protocol). A profile uses its names while it is published, counted by its
 * stripe ({@link StripeNames}), which holds one reference per name its profiles use; the writer
 * pins a new name before publishing and settles the uses under the stripe lock after it; removal
 * drops them under the stripe lock after unpublishing. So any id read from a profile under its
 * stripe lock has its name, which is why profiles are rendered and event names looked up under that
 * lock. A segment holds the names its expression reads until it is dropped and every stripe has
 * been passed once ({@link ProfileTable#passEveryStripe}), since a write may still be evaluating it
 * from the catalog it read; an ad-hoc filter holds its names while it runs, and evaluates profiles
 * without their locks: an id it holds keeps its name, and a profile read at any moment of the run
 * had that id with that name.
 */
public final class ProfileEngine {
  /** Bytes per profile beyond its array: array header, page slot, ordinal bits. */
  static final int FIXED_OVERHEAD_BYTES = 40;

  private static final int MAX_PAGE = 100_000;

  private final EngineConfig config;
  private final InstantSource clock;
  private final Dictionaries dict;
  private final ProfileTable table;
  private final SegmentRegistry registry;
  private final ChangeHub hub;
  private final ReevaluationQueue timers = new ReevaluationQueue();
  private final PartitionedBitmap all = new PartitionedBitmap();

  /**
   * Serializes definitions (with their backfills) and drops: a segment that reads others is
   * backfilled from their finished members, a redefinition re-evaluates its readers after its own
   * backfill, which concurrent definitions of the segments involved would undo, and the catalog
   * listeners hear definitions and drops in the order they took effect.
   */
  private final ReentrantLock definitions = new ReentrantLock();

  /**
   * While a log is replayed ({@link #catchUpTimedChanges}): each write first re-evaluates its
   * profile's time-dependent segments that fell due before it, at the time they fell due.
   */
  private volatile boolean catchingUp;

  private final ExpressionCompiler compiler;
  private final ThreadLocal<Worker> workers;
  private final java.util.List<CatalogListener> catalogListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Per-thread scratch: reused so that the update path allocates only the new profile array.
   * Static, and built from what it needs rather than from the engine: a thread's map of
   * thread-locals holds its value strongly, so a worker that reached its engine would keep every
   * engine a long-lived thread ever used.
   */
  private static final class Worker {
    final ProfileWriter writer;
    final UpdateOps ops = new UpdateOps();
    final UpdateJsonReader updateReader = new UpdateJsonReader();
    final UpdateProtobufReader protobufReader = new UpdateProtobufReader();
    final ProfileJsonReader profileReader = new ProfileJsonReader();
    final ProfileView view = new ProfileView();
    final EvalContext ctx = new EvalContext();
    final ProfileView oldView = new ProfileView();
    final EvalContext oldCtx = new EvalContext().needValidity(false);
    final int[] due = new int[1024];
    final DayCounts restoredCounts = new DayCounts();
    int[] seen = new int[64];

    /** By segment id, {@link #stamp} when this write must evaluate a segment reading others. */
    int[] pending = new int[64];

    /** By segment id, {@link #stamp} when this write changed a segment some other one reads. */
    int[] changed = new int[64];

    int stamp;
    long minValid;

    Worker(Dictionaries dict, int retentionDays, ProfileLimits limits) {
      writer = new ProfileWriter(dict, retentionDays, limits);
    }
  }

  public ProfileEngine(EngineConfig config) {
    this.config = config.conclude();
    this.clock = config.clock();
    this.dict = Dictionaries.create(config.maxNames(), config.retentionDays());
    this.table = new ProfileTable(config.lockStripes());
    this.registry = new SegmentRegistry(config.maxSegments());
    this.hub =
        new ChangeHub(
            config.changeBufferBytes(), config.changeBufferStripes(), config.maxKeyBytes());
    this.compiler =
        new ExpressionCompiler(
            dict.attributes(), dict.events(), config.retentionDays(), dict.dimensions());
    Dictionaries names = this.dict;
    int retentionDays = this.config.retentionDays();
    ProfileLimits limits = this.config.profileLimits();
    this.workers = ThreadLocal.withInitial(() -> new Worker(names, retentionDays, limits));
  }

  public EngineConfig config() {
    return config;
  }

  /**
   * From now on, tell {@code listener} every segment and dimension definition and drop, and every
   * categorical value a dimension numbers.
   */
  public void addCatalogListener(CatalogListener listener) {
    catalogListeners.add(listener);
    dict.dimensions()
        .onLearned(
            (dimension, category, value) -> {
              for (CatalogListener l : catalogListeners) {
                l.categoryLearned(dimension, category, value);
              }
            });
  }

  /**
   * While a log is replayed, writes number no categorical value: the log's records do ({@link
   * #learnCategory}), in the order the node numbered them live.
   */
  public void replayingLog(boolean on) {
    dict.dimensions().replaying(on);
  }

  /**
   * Numbers a categorical value of dimension {@code dimension} (its id) as a replayed log record
   * says; nothing when the dimension is gone (dropped later in the log, or before the snapshot).
   *
   * @throws IllegalStateException when it contradicts the values numbered already
   */
  public void learnCategory(int dimension, int category, String value) {
    Dimension d = dict.dimensions().current().byId(dimension);
    if (d != null) {
      d.learnAt(category, value);
    }
  }

  /** The name tables, for checks of their reference counts. */
  Dictionaries names() {
    return dict;
  }

  /**
   * For checks of the reference counts: per name id (of the event table when {@code events}, else
   * of the attribute table), how many profiles use it and how many stripes hold a reference on it,
   * as {id: {profiles, stripes}}. Takes each stripe's lock in turn.
   */
  java.util.Map<Integer, int[]> nameUses(boolean events) {
    java.util.Map<Integer, int[]> out = new java.util.TreeMap<>();
    for (int i = 0; i < table.stripeCount(); i++) {
      ProfileTable.Stripe stripe = table.stripeAt(i);
      stripe.lock().lock();
      try {
        StripeNames uses = stripe.names();
        int[] entries = (events ? uses.events() : uses.attributes()).entries();
        for (int e = 0; e < entries.length; e += 2) {
          int[] counts = out.computeIfAbsent(entries[e], id -> new int[2]);
          counts[0] += entries[e + 1];
          counts[1]++;
        }
      } finally {
        stripe.lock().unlock();
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ profiles
  //
  // The engine has no key index: the node's one index (the keyspace's items) finds a key's
  // profile and hands down the key, its hash ({@link ProfileTable#hash}, which picks the stripe)
  // and the profile's ordinal from an earlier {@link WriteResult#ordinal}, or {@link #NO_PROFILE}.
  // The index must serialise every write and removal of a key, so that an ordinal it holds stays
  // its key's: it guards its items with this engine's stripe locks ({@link #stripeLocks}), which
  // every call below takes too (a reentrant acquire when the index already holds it). An ordinal
  // that does not hold the key it is handed with is refused, never written through.

  /** The ordinal of a key that has no profile, for a write that creates one. */
  public static final int NO_PROFILE = -1;

  /**
   * Every stripe's lock, indexed by {@link ProfileTable#stripeIndex}: the node's key index guards a
   * key's item with the lock of the key's stripe, so that the item and the profile change under one
   * lock.
   */
  public ReentrantLock[] stripeLocks() {
    return table.stripeLocks();
  }

  /**
   * Replaces the whole profile (attributes, event series, producer marks), or creates it. The
   * profile is one a read returns as protobuf, so its protobuf rendering must fit in {@link
   * EngineConfig#maxValueBytes}.
   *
   * @param ordinal the key's profile, or {@link #NO_PROFILE}
   * @throws InvalidProfileException when the profile is unacceptable; nothing changes
   * @throws ProfileTooLargeException when its rendering would be over the limit; nothing changes
   */
  public WriteResult put(byte[] key, int hash, int ordinal, Profile profile) {
    checkKey(key);
    Worker w = workers.get();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      long now = clock.millis(); // under the lock: see apply
      byte[] current = current(key, ordinal);
      catchUp(w, ordinal, now); // after current(): the ordinal is the key's
      byte[] next = w.writer.put(key, profile, now, current, stripe.names());
      return install(w, stripe, ordinal, key, current, next, Rendering.PROTOBUF, now);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Replaces the whole profile from Profile JSON (docs/profiles.md), or creates it, streaming the
   * document straight into the compact form (no intermediate message). The document is read from
   * its bytes by this thread's {@link ProfileJsonReader}; one it declines (every malformed or
   * unacceptable one, and a few rare forms) is read again from the start, into a restarted writer,
   * by {@link ProfileJson#parse(byte[], int, int, dev.whack.node.engine.profile.ProfileSink)},
   * which reports the error with its position as always.
   *
   * @param ordinal the key's profile, or {@link #NO_PROFILE}
   * @throws JsonFormatException with position and reason, including unacceptable values
   * @throws ProfileTooLargeException when its JSON rendering would be over {@link
   *     EngineConfig#maxValueBytes} (canonical JSON can be longer than the document given, for
   *     example {@code 1e5} renders as {@code 100000.0}); nothing changes
   */
  public WriteResult putJson(
      byte[] key, int hash, int ordinal, byte[] json, int offset, int length) {
    checkKey(key);
    Worker w = workers.get();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      long now = clock.millis(); // under the lock: see apply
      byte[] current = current(key, ordinal);
      catchUp(w, ordinal, now); // after current(): the ordinal is the key's
      byte[] next;
      try {
        if (!w.profileReader.read(
            json, offset, length, w.writer.startPut(now, current, stripe.names()))) {
          ProfileJson.parse(json, offset, length, w.writer.startPut(now, current, stripe.names()));
        }
        next = w.writer.finishPut(key);
      } catch (RuntimeException e) {
        w.writer.abandon();
        throw e;
      }
      return install(w, stripe, ordinal, key, current, next, Rendering.JSON, now);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Publishes a whole new compact form, which this thread's writer built under the stripe lock the
   * caller holds (so that the names the replaced profile {@code current} shares with it need no new
   * reference), re-evaluates every segment for it and settles the names of both.
   *
   * @throws ProfileTooLargeException when {@code next} rendered as a read returns it would be over
   *     {@link EngineConfig#maxValueBytes}; nothing changes
   */
  private WriteResult install(
      Worker w,
      ProfileTable.Stripe stripe,
      int ord,
      byte[] key,
      byte[] current,
      byte[] next,
      Rendering rendering,
      long now) {
    checkRenderedSize(w, next, rendering);
    boolean created = ord < 0;
    if (created) {
      ord = table.add(next);
      all.add(ord);
    } else {
      table.set(ord, next);
    }
    reevaluateAll(w, registry.catalog(), ord, key, next, now, created);
    w.writer.commit(current);
    return new WriteResult(true, created, next.length + FIXED_OVERHEAD_BYTES, ord, now);
  }

  /**
   * Applies a partial update atomically, creating the profile if it does not exist. A replayed
   * update (producer seq at or below the mark) returns {@code applied == false}.
   *
   * @param ordinal the key's profile, or {@link #NO_PROFILE}
   * @param rendering how a read returns the profile (an update creates a JSON one), which is the
   *     length that must fit in {@link EngineConfig#maxValueBytes}
   * @throws InvalidProfileException on a type clash or bad value; nothing is applied
   * @throws ProfileTooLargeException when the updated profile's rendering would be over the limit;
   *     nothing is applied
   */
  public WriteResult update(byte[] key, int hash, int ordinal, Update update, Rendering rendering) {
    checkKey(key);
    Worker w = workers.get();
    return apply(w, key, hash, ordinal, w.ops.load(update), rendering);
  }

  /**
   * Applies Update JSON (docs/profiles.md), as {@link #update}. The document is read straight into
   * this thread's reusable operations ({@link UpdateJsonReader}), so a typical update allocates
   * only the new profile array; a document that reader declines (every malformed one, and a few
   * rare forms) is read by {@link UpdateJson#parse}, which reports the error with its position as
   * always.
   *
   * @throws JsonFormatException with position and reason
   * @throws InvalidProfileException on a type clash or bad value; nothing is applied
   * @throws ProfileTooLargeException when the updated profile's rendering would be over {@link
   *     EngineConfig#maxValueBytes}; nothing is applied
   */
  public WriteResult updateJson(
      byte[] key, int hash, int ordinal, byte[] json, int offset, int length, Rendering rendering) {
    Worker w = workers.get();
    if (!w.updateReader.read(json, offset, length, w.ops)) {
      return update(
          key,
          hash,
          ordinal,
          UpdateJson.parse(json, offset, length, config.maxAttributesPerProfile()),
          rendering);
    }
    checkKey(key);
    return apply(w, key, hash, ordinal, w.ops, rendering);
  }

  /**
   * Applies a protobuf {@code whack.v1.Update} from its bytes, as {@link #update}. The bytes are
   * read straight into this thread's reusable operations ({@link UpdateProtobufReader}); an update
   * that reader declines (every malformed one, and a few rare forms) is read by protobuf-java,
   * whose answer or error is the reference.
   *
   * @throws IllegalArgumentException when the bytes are not a protobuf Update
   * @throws InvalidProfileException on a type clash or bad value; nothing is applied
   * @throws ProfileTooLargeException when the updated profile's rendering would be over {@link
   *     EngineConfig#maxValueBytes}; nothing is applied
   */
  public WriteResult updateProtobuf(
      byte[] key, int hash, int ordinal, byte[] body, int offset, int length, Rendering rendering) {
    Worker w = workers.get();
    if (!w.protobufReader.read(body, offset, length, w.ops)) {
      return update(key, hash, ordinal, parseProtobufUpdate(body, offset, length), rendering);
    }
    checkKey(key);
    return apply(w, key, hash, ordinal, w.ops, rendering);
  }

  /** Parses a protobuf update with protobuf-java, as {@link #update} takes it. */
  private static Update parseProtobufUpdate(byte[] body, int offset, int length) {
    try {
      return Update.parseFrom(java.nio.ByteBuffer.wrap(body, offset, length));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("not a protobuf whack.v1.Update: " + e.getMessage(), e);
    }
  }

  /** The update path proper: builds the next profile under the stripe and re-evaluates. */
  private WriteResult apply(
      Worker w, byte[] key, int hash, int ord, UpdateOps ops, Rendering rendering) {
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      // Read under the lock, so no evaluation of this profile made under it before (a timed one
      // racing this call) was at a later time than this write's: the bitmaps then hold the old
      // profile's answers as of now, or an expired one whose timed re-evaluation is still pending,
      // which reevaluateChanged relies on.
      long now = clock.millis();
      byte[] current = current(key, ord);
      catchUp(w, ord, now); // after current(): the ordinal is the key's
      byte[] next = w.writer.apply(key, current, ops, now, stripe.names());
      if (next == null) {
        return new WriteResult(
            false, false, current == null ? 0 : current.length + FIXED_OVERHEAD_BYTES, ord, now);
      }
      checkRenderedSize(w, next, rendering);
      SegmentCatalog catalog = registry.catalog();
      if (ord < 0) {
        ord = table.add(next);
        all.add(ord);
        reevaluateAll(w, catalog, ord, key, next, now, true);
        w.writer.commit(null);
        return new WriteResult(true, true, next.length + FIXED_OVERHEAD_BYTES, ord, now);
      }
      table.set(ord, next);
      w.minValid = Long.MAX_VALUE;
      w.ctx.bind(w.writer.describeTo(w.view, next), now);
      w.oldCtx.bind(w.writer.describeOldTo(w.oldView), now);
      if (++w.stamp == Integer.MAX_VALUE) {
        Arrays.fill(w.seen, 0);
        Arrays.fill(w.pending, 0);
        Arrays.fill(w.changed, 0);
        w.stamp = 1;
      }
      if (w.seen.length <= catalog.maxId()) {
        w.seen = Arrays.copyOf(w.seen, catalog.maxId() + 64);
        w.pending = Arrays.copyOf(w.pending, catalog.maxId() + 64);
        w.changed = Arrays.copyOf(w.changed, catalog.maxId() + 64);
      }
      for (int i = 0; i < w.writer.touchedAttributeCount(); i++) {
        for (Segment s : catalog.readingAttribute(w.writer.touchedAttribute(i))) {
          reevaluateChanged(w, catalog, s, ord, key, now);
        }
      }
      for (int i = 0; i < w.writer.touchedEventCount(); i++) {
        for (Segment s : catalog.readingEvent(w.writer.touchedEvent(i))) {
          reevaluateChanged(w, catalog, s, ord, key, now);
        }
      }
      for (int i = 0; i < w.writer.touchedDimensionCount(); i++) {
        for (Segment s : catalog.readingDimension(w.writer.touchedDimension(i))) {
          reevaluateChanged(w, catalog, s, ord, key, now);
        }
      }
      if (catalog.readingSegments().length > 0) {
        reevaluateReaders(w, catalog, ord, key, now);
      }
      timers.schedule(ord, w.minValid);
      w.writer.commit(current);
      return new WriteResult(true, false, next.length + FIXED_OVERHEAD_BYTES, ord, now);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * The profile at {@code ordinal} as protobuf (key included), or null when that ordinal does not
   * hold this key (removed since the index released its lock, or {@link #NO_PROFILE}).
   */
  public Profile get(byte[] key, int hash, int ordinal) {
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock(); // its names stay while the lock keeps the profile published
    try {
      byte[] blob = blobOf(key, ordinal);
      return blob == null ? null : ProfileCodec.toProto(blob, dict);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * The compact form of the profile at {@code ordinal} (never modified once published), or null as
   * {@link #get}. For a snapshot, which takes it under the stripe's lock (the caller holds it) and
   * writes it out later, inside {@link #holdNames}, for {@link #restoreCompact} to install.
   */
  public byte[] compactOf(byte[] key, int hash, int ordinal) {
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      return blobOf(key, ordinal);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * The profile's mark for the producer whose UTF-8 name is {@code producer}: the highest sequence
   * applied from it, or -1 when the profile has no such mark or the ordinal does not hold this key.
   */
  public long producerMark(byte[] key, int hash, int ordinal, byte[] producer) {
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      byte[] blob = blobOf(key, ordinal);
      return blob == null ? -1 : ProfileCodec.producerSeq(blob, producer);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Keeps every attribute and event name in use now until the returned handle is closed (names that
   * lose their last use meanwhile are freed then), so the name ids in compact forms taken meanwhile
   * ({@link #compactOf}) still name what they did when read without a lock.
   */
  public NamesHeld holdNames() {
    dict.attributes().hold();
    dict.events().hold();
    return () -> {
      dict.events().unhold();
      dict.attributes().unhold();
    };
  }

  /**
   * A compact form from a snapshot with its name ids renumbered (snapshot id {@code a} becomes
   * {@code attributes[a]}); the same array when nothing changes.
   */
  public static byte[] renumber(byte[] compact, int[] attributes, int[] events) {
    return ProfileCodec.renumber(compact, attributes, events);
  }

  /** Adds the attribute and event name ids a compact form uses to the two sets. */
  public void namesUsedBy(byte[] compact, java.util.BitSet attributes, java.util.BitSet events) {
    ProfileCodec.namesUsedBy(compact, attributes, events);
  }

  /** The attribute name of an id a held compact form uses ({@link #holdNames}). */
  public String attributeName(int id) {
    return dict.attributes().name(id);
  }

  /** The event name of an id a held compact form uses ({@link #holdNames}). */
  public String eventName(int id) {
    return dict.events().name(id);
  }

  /**
   * This node's id for an attribute name, interned if new, with one reference the caller holds
   * until {@link #releaseAttribute}: how a snapshot's ids are renumbered for {@link
   * #restoreCompact}.
   *
   * @throws InvalidProfileException when the table is full
   */
  public int acquireAttribute(String name) {
    return dict.attributes().acquire(name);
  }

  public int acquireEvent(String name) {
    return dict.events().acquire(name);
  }

  /**
   * {@link #acquireAttribute}, giving a new name the id {@code wanted} when it is free (a
   * snapshot's names keep their ids on the node that loads it, so its compact profiles need no
   * renumbering); returns the id it has.
   */
  public int acquireAttributeAt(String name, int wanted) {
    return dict.attributes().acquireAt(name, wanted);
  }

  public int acquireEventAt(String name, int wanted) {
    return dict.events().acquireAt(name, wanted);
  }

  /** Every attribute name in use with its id (inside {@link #holdNames}, for a snapshot). */
  public void forEachAttributeName(java.util.function.ObjIntConsumer<String> each) {
    dict.attributes().forEach(each);
  }

  /** Every event name in use with its id (inside {@link #holdNames}, for a snapshot). */
  public void forEachEventName(java.util.function.ObjIntConsumer<String> each) {
    dict.events().forEach(each);
  }

  public void releaseAttribute(int id) {
    dict.attributes().release(id);
  }

  public void releaseEvent(int id) {
    dict.events().release(id);
  }

  /**
   * Installs a profile a snapshot kept in compact form, renumbered to this node's name ids (each
   * held by the caller, {@link #acquireAttribute}) and evaluates every segment for it: a restore
   * that neither parses nor encodes. Only for a key with no profile yet (a snapshot holds each key
   * once).
   *
   * @throws IllegalStateException when the key has a profile already
   */
  public WriteResult restoreCompact(byte[] key, int hash, int ordinal, byte[] compact) {
    return restoreCompact(key, hash, ordinal, compact, null);
  }

  /**
   * {@link #restoreCompact(byte[], int, int, byte[])}, giving each membership that still holds the
   * time {@code entered} kept for it (a snapshot's), rather than now; the segments that read it
   * ({@code entered}, {@code time_in}) are evaluated with those times. Null: every one enters now.
   */
  public WriteResult restoreCompact(
      byte[] key, int hash, int ordinal, byte[] compact, EnteredTimes entered) {
    if (ordinal != NO_PROFILE) {
      throw new IllegalStateException("a restored profile's key has a profile already");
    }
    if (!ProfileCodec.keyEquals(compact, key, 0, key.length)) {
      throw new IllegalStateException("a restored profile is under another key");
    }
    Worker w = workers.get();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      long now = clock.millis();
      dict.useHeld(compact, stripe.names());
      DimensionRegistry.Set dimensions = dict.dimensions().current();
      if (!dimensions.isEmpty()) {
        dimensions.countInPopulation(
            compact, ProfileCodec.dimensionsStart(compact), w.restoredCounts);
      }
      int ord = table.add(compact);
      all.add(ord);
      w.minValid = Long.MAX_VALUE;
      w.ctx.bind(w.view.bind(compact), now);
      evaluateBound(w, registry.catalog(), ord, key, now, true, entered);
      return new WriteResult(true, true, compact.length + FIXED_OVERHEAD_BYTES, ord, now);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * {@code compact} (a snapshot's, renumbered) with its dimensions section rewritten from the
   * layout of snapshots written before counts were day-major ({@link LegacyDimensionSection}), read
   * by the dimensions in force (restored before any profile).
   */
  public byte[] upgradeLegacyDimensions(byte[] compact) {
    return LegacyDimensionSection.upgrade(
        compact, ProfileCodec.dimensionsStart(compact), dict.dimensions().current());
  }

  /** A hold on the names ({@link #holdNames}), ended by {@link #close}. */
  public interface NamesHeld extends AutoCloseable {
    @Override
    void close();
  }

  /** {@link #get} as Profile JSON. */
  public byte[] getJson(byte[] key, int hash, int ordinal) {
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock(); // its names stay while the lock keeps the profile published
    try {
      byte[] blob = blobOf(key, ordinal);
      return blob == null ? null : ProfileCodec.toJson(blob, dict);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Window and decay figures of one event series of a profile, chosen at read time (the marketplace
   * read: "last 30 days, half-life 7 days"). Null when the profile is absent (as {@link #get});
   * zeros when it has no such events.
   *
   * @param windowDays 1 to the retention
   * @param halfLifeMillis positive
   */
  public EventStats eventStats(
      byte[] key, int hash, int ordinal, String event, int windowDays, long halfLifeMillis) {
    if (windowDays < 1 || windowDays > config.retentionDays()) {
      throw new IllegalArgumentException(
          "window must be 1.." + config.retentionDays() + " days, was " + windowDays);
    }
    if (halfLifeMillis <= 0) {
      throw new IllegalArgumentException("half-life must be positive, was " + halfLifeMillis);
    }
    byte[] blob;
    int pos;
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      blob = blobOf(key, ordinal);
      if (blob == null) {
        return null;
      }
      // If the profile has this event, its reference keeps the lookup right while the lock is held.
      pos = new ProfileView().bind(blob).series(dict.events().idOf(event));
    } finally {
      stripe.lock().unlock();
    }
    if (pos < 0) {
      return new EventStats(0, 0, Double.NaN, Double.NaN, 0);
    }
    int today = Days.dayOf(clock.millis());
    WindowResult w = new WindowResult();
    DecodedSeries series = new DecodedSeries();
    series.decode(0, blob, pos); // one series, so any id will do to name it

    series.window(0, today, windowDays, w);
    EventStats partial = new EventStats(w.count, w.sum, w.average(), w.variance(), 0);
    series.decayed(
        0, today, today - config.retentionDays(), (double) halfLifeMillis / Days.MILLIS_PER_DAY, w);
    return new EventStats(
        partial.count(), partial.sum(), partial.average(), partial.variance(), w.decayed);
  }

  /**
   * Removes the profile and clears it from every segment (subscribers see it leave). The index
   * calls this when it deletes, expires or evicts the profile. Returns false when the ordinal does
   * not hold this key.
   */
  public boolean remove(byte[] key, int hash, int ordinal) {
    return remove(key, hash, ordinal, true);
  }

  /**
   * Runs {@code work} (a write of {@code key}, a profile another member owned until now: a
   * promotion of a warm copy, a restore of a slot) without telling that key's segment changes: the
   * profiles enter their segments here but never left them in the cluster, as {@link #removeMoved}
   * tells no leave.
   */
  public <T> T withoutTellingChanges(byte[] key, java.util.function.Supplier<T> work) {
    return hub.withoutTelling(key, work);
  }

  /**
   * Removes the profile because another member owns its key now (a Kafka-managed cluster moved the
   * key's slot): it leaves every segment here, but no change is told, since the profile has not
   * left its segments; it lives on at its new owner, which tells its own changes.
   */
  public boolean removeMoved(byte[] key, int hash, int ordinal) {
    return remove(key, hash, ordinal, false);
  }

  private boolean remove(byte[] key, int hash, int ordinal, boolean tellChanges) {
    long now = clock.millis();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      byte[] blob = blobOf(key, ordinal);
      if (blob == null) {
        return false;
      }
      for (Segment s : registry.catalog().all()) {
        if (s.members().remove(ordinal) && tellChanges) {
          hub.publish(s.name(), key, false, now);
        }
        s.removeFromReplaced(ordinal);
      }
      all.remove(ordinal);
      timers.cancel(ordinal);
      table.free(ordinal);
      dict.release(blob, stripe.names());
      return true;
    } finally {
      stripe.lock().unlock();
    }
  }

  /** Number of profiles on the node. */
  public int size() {
    return table.size();
  }

  // ------------------------------------------------------------------ segments

  /**
   * Defines a segment and backfills it over existing profiles before returning. Backfilled members
   * produce no change events; profiles written during the backfill may. Definitions and drops run
   * one at a time (a drop waits for a definition's backfill). Redefining a segment that others read
   * ({@code in_segment}) re-evaluates them after it, silently as a backfill; until then they read
   * the replaced segment's members.
   *
   * @throws ExpressionException with position and reason (also for an {@code in_segment} of an
   *     unknown segment, or one that would make segments read each other in a cycle); nothing is
   *     defined
   * @throws SegmentException when the name is invalid or taken, or too many segments exist
   */
  public SegmentInfo define(String name, String expression) {
    SegmentRegistry.checkName(name);
    CompiledExpression compiled = compiler.compile(expression, true);
    definitions.lock();
    try {
      long began = clock.millis();
      SegmentRegistry.Definition d;
      try {
        d = registry.define(name, compiled);
      } catch (RuntimeException e) {
        compiler.release(compiled);
        throw e;
      }
      if (d.replaced() != null) {
        retire(d.replaced());
      }
      for (CatalogListener l : catalogListeners) {
        l.defining(name);
      }
      // A write that read the catalog before this one was published, under its stripe, may be
      // creating a profile the backfill would find not yet there and skip: wait for every such
      // write to finish, so each profile is evaluated by its write or by the backfill.
      table.passEveryStripe();
      backfill(d.segment(), d.replaced());
      registry.ready(d.segment());
      if (d.replaced() != null) {
        // Those that read the replaced segment read this one from now on; each is evaluated again
        // for every profile, after those it reads, as a definition is (no changes told).
        d.segment().forgetReplaced();
        for (Segment reader : registry.catalog().readersOf(name)) {
          backfill(reader, null);
        }
      }
      for (CatalogListener l : catalogListeners) {
        l.defined(name, expression, began);
      }
      return info(d.segment());
    } finally {
      definitions.unlock();
    }
  }

  /**
   * What defining {@code name} as {@code expression} would give now, defining nothing: this node's
   * profiles that match and the first {@code sample} of their keys (docs/segments.md, "Dry runs").
   * The expression is checked as a definition's is, without interning names.
   *
   * @throws SegmentException a bad segment name
   * @throws ExpressionException a bad expression, with its position
   * @throws IllegalArgumentException a sample outside 0 to {@link SegmentDryRun#MAX_SAMPLE}
   */
  public SegmentDryRun dryRun(String name, String expression, int sample) {
    SegmentRegistry.checkName(name);
    SegmentDryRun.checkSample(sample);
    CompiledExpression e = compiler.compile(expression, false);
    try {
      registry.checkRoom(name);
      registry.checkReads(name, e);
      long count = filterCount(e);
      List<String> keys = sample == 0 ? List.of() : filterMembers(e, 0, sample).keys();
      return new SegmentDryRun(count, keys);
    } finally {
      compiler.release(e);
      workers.get().ctx.clearSegments();
    }
  }

  /**
   * Drops a segment and frees its members; false when it does not exist.
   *
   * @throws SegmentException when the name breaks the segment name rule (no such segment can exist,
   *     and the caller is told why rather than "not found"), or other segments read it ({@link
   *     #drop(String, boolean)} with force drops them too)
   */
  public boolean drop(String name) {
    return !drop(name, false).isEmpty();
  }

  /**
   * Drops a segment and frees its members; with {@code force}, the segments that read it ({@code
   * in_segment}, directly or through others) go too. Returns the names dropped, readers first, each
   * told to the catalog listeners as a drop of its own; empty when the segment does not exist.
   *
   * @throws SegmentException when the name breaks the segment name rule, or others read it and
   *     {@code force} is false
   */
  public List<String> drop(String name, boolean force) {
    SegmentRegistry.checkName(name);
    // A drop waits for a definition in progress (its backfill), so the listeners (the log, the
    // change publisher) hear definitions and drops in the order they took effect: a drop of a
    // segment while its redefinition backfills would otherwise be logged before that definition.
    definitions.lock();
    try {
      List<String> names = new ArrayList<>();
      for (Segment s : registry.drop(name, force)) {
        retire(s);
        names.add(s.name());
        for (CatalogListener l : catalogListeners) {
          l.dropped(s.name());
        }
      }
      return names;
    } finally {
      definitions.unlock();
    }
  }

  /**
   * Gives back the names of a segment no longer in the catalog, once no write can still be
   * evaluating it: writes read the catalog under their stripe lock, and a backfill checks under it
   * that its segment is not dropped.
   */
  private void retire(Segment s) {
    table.passEveryStripe();
    compiler.release(s.expression());
  }

  // ------------------------------------------------------------------ dimensions

  /**
   * Defines dimension {@code name} from its JSON definition (docs/profiles.md, "Preferences"), or
   * replaces the one of that name (the counts profiles kept under the old definition are no longer
   * read); a definition equal to the one in force changes nothing and is not told again.
   *
   * @throws DimensionException a bad name or definition, too many dimensions, or a redefinition of
   *     one that segments read
   */
  public DimensionSpec defineDimension(String name, byte[] definition) {
    DimensionSpec spec = DimensionSpec.parse(name, definition);
    definitions.lock();
    try {
      Dimension old = dict.dimensions().current().byName(name);
      if (old != null && old.spec().equals(spec)) {
        return spec;
      }
      if (old != null) {
        refuseIfRead(old, "redefine");
      }
      dict.dimensions().define(spec);
      for (CatalogListener l : catalogListeners) {
        l.dimensionDefined(spec);
      }
      return spec;
    } finally {
      definitions.unlock();
    }
  }

  /**
   * Drops a dimension; false when none has that name. Profiles keep its counts until their next
   * write, and never show them again.
   *
   * @throws DimensionException a bad name, or segments read it
   */
  public boolean dropDimension(String name) {
    DimensionSpec.checkName(name);
    definitions.lock();
    try {
      Dimension d = dict.dimensions().current().byName(name);
      if (d == null) {
        return false;
      }
      refuseIfRead(d, "drop");
      dict.dimensions().drop(name);
      for (CatalogListener l : catalogListeners) {
        l.dimensionDropped(name);
      }
      return true;
    } finally {
      definitions.unlock();
    }
  }

  private void refuseIfRead(Dimension d, String what) {
    List<String> readers = new ArrayList<>();
    for (Segment s : registry.catalog().all()) {
      if (s.expression().readsDimension(d.id())) {
        readers.add(s.name());
      }
    }
    if (!readers.isEmpty()) {
      throw new DimensionException(
          "dimension "
              + d.name()
              + " is read by segment"
              + (readers.size() > 1 ? "s " : " ")
              + String.join(", ", readers)
              + "; drop those first to "
              + what
              + " it");
    }
  }

  /**
   * The dimensions in force now, with their node-local ids and the next id to be handed out: what a
   * snapshot keeps (each one's {@link Dimension#learned} values too) so that the compact profiles
   * it holds read the same after a restore.
   */
  public DimensionRegistry.Set dimensionsInForce() {
    return dict.dimensions().current();
  }

  /**
   * Restores a dimension a snapshot kept, under the id it had and with the values it had learned
   * (ids 1, 2, ... in order), before the snapshot's segments and profiles; on a node being
   * restored, with no dimension of that name or id. Not told to the catalog listeners: nothing
   * changed.
   *
   * @throws IllegalStateException when the name or the id is taken
   */
  public void restoreDimension(int id, DimensionSpec spec, List<String> learned) {
    dict.dimensions().restore(id, spec).restoreLearned(learned);
  }

  /**
   * Ids handed out from {@code next} on: a snapshot's next id ({@link
   * DimensionRegistry.Set#nextId}), past every dimension it kept, so that no data a restored
   * profile holds for a dropped dimension is read as a new one's.
   */
  public void restoreDimensionIds(int next) {
    dict.dimensions().restoreNextId(next);
  }

  /**
   * The values a snapshot's dimension {@code id} had learned by its end, a first part of which may
   * be restored already ({@link #restoreDimension}); held for a dimension the log defines later
   * (one defined while the snapshot was written).
   *
   * @throws IllegalStateException when they disagree with the values restored
   */
  public void restoreLearned(int id, List<String> learned) {
    dict.dimensions().restoreLearned(id, learned);
  }

  /**
   * Runs {@code action} with no segment or dimension definition or drop under way (one that has
   * begun finishes first, its backfill included): a snapshot reads the dimensions and the segments
   * that read them as of one moment. A definition's catalog listeners run inside, so the caller may
   * take a lock they take (the log's), never the other way round.
   */
  public void withDefinitionsHeld(Runnable action) {
    definitions.lock();
    try {
      action.run();
    } finally {
      definitions.unlock();
    }
  }

  /**
   * How many distinct values the profile had in a distinct dimension over the last {@code
   * windowDays} days (docs/profiles.md, "Distinct counts"), as {@code distinct(dimension, Nd)}
   * reads it; null when the ordinal does not hold this key.
   *
   * @param dimension a distinct dimension's name, or {@code event.property}
   * @throws DimensionException when no distinct dimension has that name
   * @throws IllegalArgumentException when the window is not 1 to the retention
   */
  public DistinctCount distinct(
      byte[] key, int hash, int ordinal, String dimension, int windowDays) {
    checkDistinctWindow(windowDays);
    Dimension d = distinctDimension(dimension);
    byte[] blob;
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock();
    try {
      blob = blobOf(key, ordinal);
    } finally {
      stripe.lock().unlock();
    }
    if (blob == null) {
      return null;
    }
    DistinctWindow w =
        new DistinctWindow()
            .read(blob, distinctPayload(blob, d), Days.dayOf(clock.millis()), windowDays);
    return new DistinctCount(w.value(), w.exact());
  }

  /**
   * The distinct values of {@code name} across the members of a segment query: for a distinct
   * dimension (by name or {@code event.property}), the union of the members' values over the last
   * {@code windowDays} days; otherwise {@code name} is an attribute, and its distinct values across
   * the members now (a set attribute's elements each count; the window is not used). Exact while
   * every input was exact and the union holds at most {@link DistinctUnion#EXACT_LIMIT} values,
   * else an UltraLogLog estimate.
   *
   * @param windowDays 1 to the retention; 0: the whole retention
   * @throws ExpressionException a bad query
   * @throws UnknownSegmentException the query names a segment that is not defined
   */
  public DistinctCount segmentDistinct(String segmentQuery, String name, int windowDays) {
    DistinctUnion u = segmentDistinctUnion(segmentQuery, name, windowDays);
    return new DistinctCount(u.value(), u.exact());
  }

  /**
   * {@link #segmentDistinct}'s union before it is counted: what a node answers a cluster-wide
   * question with, for the asking node to merge ({@link DistinctUnion#encode}).
   */
  public DistinctUnion segmentDistinctUnion(String segmentQuery, String name, int windowDays) {
    if (windowDays == 0) {
      windowDays = config.retentionDays();
    }
    checkDistinctWindow(windowDays);
    int window = windowDays;
    SegmentQuery q = SegmentQuery.parse(segmentQuery, registry.catalog());
    Dimension d = dict.dimensions().current().distinct(name);
    DistinctUnion u = new DistinctUnion();
    int today = Days.dayOf(clock.millis());
    if (d != null) {
      DistinctWindow w = new DistinctWindow();
      forEachMember(q, blob -> w.unionInto(u, blob, distinctPayload(blob, d), today, window));
      return u;
    }
    int attribute = dict.attributes().acquireExisting(name);
    if (attribute < 0) {
      return u; // no profile has it
    }
    try {
      ProfileView view = new ProfileView();
      byte[] digits = new byte[20];
      forEachMember(
          q, blob -> addAttributeValue(u, blob, view.bind(blob).attribute(attribute), digits));
    } finally {
      dict.attributes().release(attribute);
    }
    return u;
  }

  /** Calls {@code each} with the compact form of every profile the query matches now. */
  private void forEachMember(SegmentQuery q, java.util.function.Consumer<byte[]> each) {
    for (int p = 0; p < all.partitionCount(); p++) {
      PeekableIntIterator it = q.partition(p, all).getIntIterator();
      while (it.hasNext()) {
        byte[] blob = table.blob(it.next());
        if (blob != null) {
          each.accept(blob);
        }
      }
    }
  }

  /**
   * Adds an attribute's value at {@code pos} (none when negative) to {@code u}, hashed as a
   * distinct dimension hashes an event property (a string's text, an integer's digits, {@code
   * true}/{@code false}); a set adds each element; a float or timestamp its encoded bytes.
   */
  private static void addAttributeValue(DistinctUnion u, byte[] blob, int pos, byte[] digits) {
    if (pos < 0) {
      return;
    }
    int type = blob[pos];
    switch (type) {
      case ValueType.STRING -> {
        int len = Bytes.varintInt(blob, pos + 1);
        u.add(DistinctCodec.hash(blob, Bytes.next(blob, pos + 1), len));
      }
      case ValueType.SET -> {
        int n = Bytes.varintInt(blob, pos + 1);
        int p = Bytes.next(blob, pos + 1);
        for (int i = 0; i < n; i++) {
          int len = Bytes.varintInt(blob, p);
          int s = Bytes.next(blob, p);
          u.add(DistinctCodec.hash(blob, s, len));
          p = s + len;
        }
      }
      case ValueType.INT, ValueType.TRUE, ValueType.FALSE ->
          u.add(
              (int)
                  Dimension.hashOfValue(
                      type, type == ValueType.INT ? Bytes.zigzag(blob, pos + 1) : 0, digits));
      default -> u.add(DistinctCodec.hash(blob, pos, ProfileCodec.skipValue(blob, pos) - pos));
    }
  }

  private Dimension distinctDimension(String name) {
    Dimension d = dict.dimensions().current().distinct(name);
    if (d == null) {
      throw new DimensionException("no distinct dimension " + name + " is defined");
    }
    return d;
  }

  private static int distinctPayload(byte[] blob, Dimension d) {
    return DimensionSection.findDistinct(blob, ProfileCodec.dimensionsStart(blob), d.id());
  }

  private void checkDistinctWindow(int windowDays) {
    if (windowDays < 1 || windowDays > config.retentionDays()) {
      throw new IllegalArgumentException(
          "window must be 1.." + config.retentionDays() + " days, was " + windowDays);
    }
  }

  /** Every dimension, in the order they were defined. */
  public List<DimensionSpec> dimensions() {
    List<DimensionSpec> out = new ArrayList<>();
    for (Dimension d : dict.dimensions().current().all()) {
      out.add(d.spec());
    }
    return out;
  }

  /**
   * Every segment, each after the segments it reads ({@code in_segment}), else in definition order.
   */
  public List<SegmentInfo> segments() {
    List<SegmentInfo> out = new ArrayList<>();
    for (Segment s : registry.catalog().all()) {
      out.add(info(s));
    }
    return out;
  }

  /**
   * The named segment, or null.
   *
   * @throws SegmentException when the name breaks the segment name rule (no such segment can exist)
   */
  public SegmentInfo segment(String name) {
    SegmentRegistry.checkName(name);
    Segment s = registry.catalog().byName(name);
    return s == null ? null : info(s);
  }

  private static SegmentInfo info(Segment s) {
    return new SegmentInfo(
        s.name(),
        s.expression().source(),
        s.members().cardinality(),
        s.expression().timeDependent(),
        s.ready());
  }

  /**
   * Number of profiles matching a segment query such as {@code a and not b} (operators and, or,
   * xor, not, parentheses; a single name is its size).
   *
   * @throws ExpressionException with position and reason
   * @throws UnknownSegmentException when the query names a segment that is not defined
   */
  public long count(String segmentQuery) {
    return SegmentQuery.parse(segmentQuery, registry.catalog()).count(all);
  }

  /**
   * A page of keys matching a segment query, in ordinal order; a null or blank query pages over
   * every profile on the node.
   *
   * @param cursor null for the first page, else the previous page's {@code nextCursor}
   * @param limit 1..100000 keys
   */
  public MembersPage members(String segmentQuery, String cursor, int limit) {
    checkLimit(limit);
    int from = parseCursor(cursor);
    if (segmentQuery == null || segmentQuery.isBlank()) {
      return page(all, from, limit);
    }
    SegmentQuery q = SegmentQuery.parse(segmentQuery, registry.catalog());
    Segment single = q.single();
    if (single != null) {
      return page(single.members(), from, limit);
    }
    List<String> keys = new ArrayList<>();
    int parts = all.partitionCount();
    for (int p = Math.max(0, from >>> 16); p < parts; p++) {
      RoaringBitmap bits = q.partition(p, all);
      PeekableIntIterator it = bits.getIntIterator();
      it.advanceIfNeeded(from);
      while (it.hasNext()) {
        int ord = it.next();
        addKey(keys, ord);
        if (keys.size() == limit) {
          return new MembersPage(keys, Integer.toString(ord + 1));
        }
      }
    }
    return new MembersPage(keys, null);
  }

  private MembersPage page(PartitionedBitmap bits, int from, int limit) {
    List<String> keys = new ArrayList<>();
    int[] buf = new int[Math.min(limit, 1024)];
    int parts = bits.partitionCount();
    for (int p = Math.max(0, from >>> 16); p < parts; p++) {
      int start = Math.max(from, p << 16);
      while (true) {
        int want = Math.min(buf.length, limit - keys.size());
        int n = bits.page(p, start, buf, want);
        for (int i = 0; i < n; i++) {
          addKey(keys, buf[i]);
        }
        if (n == 0) {
          break;
        }
        start = buf[n - 1] + 1;
        if (keys.size() >= limit) {
          return new MembersPage(keys, Integer.toString(start));
        }
        if (n < want) {
          break;
        }
      }
    }
    return new MembersPage(keys, null);
  }

  private void addKey(List<String> keys, int ord) {
    byte[] blob = table.blob(ord);
    if (blob != null) {
      keys.add(ProfileCodec.keyString(blob));
    }
  }

  /**
   * Whether the profile is in the segment (false when the profile is absent, as {@link #get}).
   *
   * @throws UnknownSegmentException when the segment is not defined
   */
  public boolean inSegment(String segment, byte[] key, int hash, int ordinal) {
    Segment s = registry.catalog().byName(segment);
    if (s == null) {
      throw new UnknownSegmentException(segment);
    }
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock(); // the ordinal stays the key's while the lock is held
    try {
      return blobOf(key, ordinal) != null && s.members().contains(ordinal);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Names of the segments the profile is in, in the catalog's order (empty when the profile is
   * absent, as {@link #get}).
   */
  public List<String> segmentsOf(byte[] key, int hash, int ordinal) {
    List<String> out = new ArrayList<>();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock(); // the ordinal stays the key's while the lock is held
    try {
      if (blobOf(key, ordinal) == null) {
        return out;
      }
      for (Segment s : registry.catalog().all()) {
        if (s.members().contains(ordinal)) {
          out.add(s.name());
        }
      }
      return out;
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * The segments the profile is in with the time it entered each (epoch millis, kept to the
   * second), in the catalog's order; empty when the profile is absent, as {@link #get}.
   */
  public List<SegmentMembership> membershipsOf(byte[] key, int hash, int ordinal) {
    List<SegmentMembership> out = new ArrayList<>();
    ProfileTable.Stripe stripe = table.stripe(hash);
    stripe.lock().lock(); // the ordinal stays the key's while the lock is held
    try {
      if (blobOf(key, ordinal) == null) {
        return out;
      }
      for (Segment s : registry.catalog().all()) {
        long entered = s.members().enteredSeconds(ordinal);
        if (entered != PartitionedBitmap.NOT_MEMBER) {
          out.add(new SegmentMembership(s.name(), entered * 1000));
        }
      }
      return out;
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Reads the entered times of the segments {@code names} (as defined now) for profiles by ordinal:
   * a snapshot's, which calls {@link EnteredReader#read} under the profile's stripe lock.
   */
  public EnteredReader enteredReader(List<String> names) {
    SegmentCatalog catalog = registry.catalog();
    Segment[] segments = new Segment[names.size()];
    for (int i = 0; i < segments.length; i++) {
      segments[i] = catalog.byName(names.get(i));
    }
    return new EnteredReader(segments);
  }

  /**
   * The entered times of a fixed list of segments, by ordinal.
   *
   * <p>Concurrency: immutable; each read locks one bitmap partition per segment.
   */
  public static final class EnteredReader {
    private static final int[] NONE = new int[0];
    private final Segment[] segments;

    EnteredReader(Segment[] segments) {
      this.segments = segments;
    }

    /**
     * The profile at {@code ordinal}'s memberships among the segments, as pairs (index in the list,
     * entered unsigned seconds); the caller holds the profile's stripe lock.
     */
    public int[] read(int ordinal) {
      int[] out = NONE;
      int n = 0;
      for (int i = 0; i < segments.length; i++) {
        Segment s = segments[i];
        long at = s == null ? PartitionedBitmap.NOT_MEMBER : s.members().enteredSeconds(ordinal);
        if (at != PartitionedBitmap.NOT_MEMBER) {
          if (n + 2 > out.length) {
            out = Arrays.copyOf(out, Math.max(8, out.length * 2));
          }
          out[n++] = i;
          out[n++] = (int) at;
        }
      }
      return n == out.length ? out : Arrays.copyOf(out, n);
    }
  }

  /**
   * Number of profiles matching an ad-hoc filter expression (the segment language), evaluated now
   * over every profile without defining anything.
   *
   * @throws ExpressionException with position and reason
   */
  public long filterCount(String filter) {
    CompiledExpression e = compiler.compile(filter, false);
    try {
      return filterCount(e);
    } finally {
      compiler.release(e);
      workers.get().ctx.clearSegments();
    }
  }

  private long filterCount(CompiledExpression e) {
    MemberSet[] segments = resolve(e);
    long now = clock.millis();
    Worker w = workers.get();
    long n = 0;
    int[] buf = new int[4096];
    for (int p = 0; p < all.partitionCount(); p++) {
      int start = p << 16;
      while (true) {
        int got = all.page(p, start, buf, buf.length);
        for (int i = 0; i < got; i++) {
          byte[] blob = table.blob(buf[i]);
          if (blob != null && e.test(bind(w, blob, now).segments(buf[i], segments))) {
            n++;
          }
        }
        if (got < buf.length) {
          break;
        }
        start = buf[got - 1] + 1;
      }
    }
    return n;
  }

  /**
   * The current members of each segment an ad-hoc filter reads with {@code in_segment}.
   *
   * @throws ExpressionException at the {@code in_segment} of a segment that is not defined
   */
  private MemberSet[] resolve(CompiledExpression e) {
    String[] names = e.segments();
    MemberSet[] out = new MemberSet[names.length];
    SegmentCatalog catalog = registry.catalog();
    for (int i = 0; i < names.length; i++) {
      Segment s = catalog.byName(names[i]);
      if (s == null) {
        throw new ExpressionException(
            e.segmentPosition(i), "no segment " + names[i] + " is defined");
      }
      out[i] = s;
    }
    return out;
  }

  /** A page of keys of profiles matching an ad-hoc filter expression. */
  public MembersPage filterMembers(String filter, String cursor, int limit) {
    checkLimit(limit);
    int from = parseCursor(cursor);
    CompiledExpression e = compiler.compile(filter, false);
    try {
      return filterMembers(e, from, limit);
    } finally {
      compiler.release(e);
      workers.get().ctx.clearSegments();
    }
  }

  private MembersPage filterMembers(CompiledExpression e, int from, int limit) {
    MemberSet[] segments = resolve(e);
    long now = clock.millis();
    Worker w = workers.get();
    List<String> keys = new ArrayList<>();
    int[] buf = new int[4096];
    for (int p = from >>> 16; p < all.partitionCount(); p++) {
      int start = Math.max(from, p << 16);
      while (true) {
        int got = all.page(p, start, buf, buf.length);
        for (int i = 0; i < got; i++) {
          byte[] blob = table.blob(buf[i]);
          if (blob != null && e.test(bind(w, blob, now).segments(buf[i], segments))) {
            keys.add(ProfileCodec.keyString(blob));
            if (keys.size() == limit) {
              return new MembersPage(keys, Integer.toString(buf[i] + 1));
            }
          }
        }
        if (got < buf.length) {
          break;
        }
        start = buf[got - 1] + 1;
      }
    }
    return new MembersPage(keys, null);
  }

  /**
   * Subscribes to enter/leave changes of the named segments, from now on. Ingestion never waits:
   * every change of a watched segment is written once into the node's change buffer ({@link
   * EngineConfig#changeBufferBytes}) and each subscription reads it at its own pace; one that falls
   * a whole buffer behind loses the oldest of its changes and is told how many ({@link
   * Subscription#next}, {@link Subscription#takeMissed()}).
   *
   * @param onChange runs on the ingesting thread, inside the write, when a change arrives for a
   *     subscription that {@link Subscription#arm armed} itself; it must not block and must not
   *     call back into the engine (it holds the profile's lock); a typical listener wakes the
   *     consumer's event loop. May be null.
   */
  public Subscription subscribe(Collection<String> segments, Runnable onChange) {
    return hub.subscribe(segments, onChange);
  }

  /**
   * From now on every membership change is told to {@code recorder} as it happens, under the
   * profile's stripe lock (null: to none). A node with a data directory attaches its log's after
   * recovery, so replayed changes are not recorded again.
   */
  public void recordChanges(ChangeRecorder recorder) {
    hub.recordTo(recorder);
  }

  /**
   * Re-evaluates the time-dependent memberships that are due by the clock; returns how many
   * profiles were looked at. Call periodically from one scheduler thread.
   */
  public int runDueReevaluations() {
    return runDueReevaluations(Integer.MAX_VALUE);
  }

  /**
   * Like {@link #runDueReevaluations()} but stops after about {@code maxProfiles} profiles, so a
   * scheduler can spread a large batch (every profile whose window changes at midnight) over
   * several turns; memberships lag the clock until the rest is processed.
   */
  public int runDueReevaluations(int maxProfiles) {
    long now = clock.millis();
    Worker w = workers.get();
    int total = 0;
    int n;
    while (total < maxProfiles && (n = timers.pollDue(now, w.due)) > 0) {
      for (int i = 0; i < n; i++) {
        reevaluateTimed(w, w.due[i], now);
      }
      total += n;
    }
    return total;
  }

  /**
   * For a log's replay, which sets the clock to each write's time: while {@code on}, a write first
   * re-evaluates its profile's time-dependent segments that fell due before it, at the time each
   * fell due (as the node's timer did, about then, when the write was first made), so that the
   * memberships it changes, and their entered times, are what they were.
   */
  public void catchUpTimedChanges(boolean on) {
    catchingUp = on;
  }

  /**
   * {@link #catchUpTimedChanges}: the profile's due re-evaluations before a write at {@code now}.
   */
  private void catchUp(Worker w, int ord, long now) {
    if (!catchingUp || ord < 0) {
      return;
    }
    long due;
    for (int i = 0; i < 64 && (due = timers.takeIfDue(ord, now)) != Long.MAX_VALUE; i++) {
      reevaluateTimed(w, ord, due);
    }
  }

  /**
   * Re-evaluates every time-dependent membership due by {@code untilMillis} in the order they fell
   * due, each at the time it fell due rather than now: after a log's replay, what the node's timer
   * did between the last writes and the crash (and its entered times) comes back as it was.
   */
  public int runDueReevaluationsAtTheirTimes(long untilMillis) {
    Worker w = workers.get();
    int total = 0;
    long due;
    while ((due = timers.nextDue()) <= untilMillis) {
      int n = timers.pollDue(due, w.due);
      for (int i = 0; i < n; i++) {
        reevaluateTimed(w, w.due[i], due);
      }
      total += n;
    }
    return total;
  }

  /** Epoch millis of the earliest pending time-based re-evaluation, or Long.MAX_VALUE. */
  public long nextReevaluationMillis() {
    return timers.nextDue();
  }

  /** Segment enter and leave changes since start (backfills excluded). */
  public long membershipChanges() {
    return hub.publishedCount();
  }

  /**
   * Estimated heap bytes of the attribute and event names in use: memory that belongs to the
   * profiles using them but is shared between them, which the node charges against its memory cap
   * beside the items (a profile's own footprint counts only its compact form).
   */
  public long nameBytes() {
    return dict.bytesInUse();
  }

  public EngineStats stats() {
    return new EngineStats(
        table.size(),
        registry.catalog().all().length,
        dict.attributes().size(),
        dict.events().size(),
        dict.bytesInUse(),
        timers.pending(),
        hub.subscriberCount());
  }

  // ------------------------------------------------------------------ internals

  private void checkKey(byte[] key) {
    if (key.length == 0) {
      throw new InvalidProfileException("profile key is empty");
    }
    if (key.length > config.maxKeyBytes()) {
      throw new InvalidProfileException(
          "profile key is longer than " + config.maxKeyBytes() + " bytes");
    }
  }

  /**
   * Refuses a new compact form, built by the writer of {@code w} and not yet published, whose
   * rendering would be longer than a read may return; the writer's pins are given back at once,
   * under the stripe lock that guards them. For a typical profile it costs one multiplication
   * ({@link RenderedSize}).
   */
  private void checkRenderedSize(Worker w, byte[] next, Rendering rendering) {
    int limit = config.maxValueBytes();
    long over = RenderedSize.lengthIfOver(next, dict, rendering, limit);
    if (over >= 0) {
      w.writer.abandon();
      throw new ProfileTooLargeException(over, rendering, limit);
    }
  }

  private static void checkLimit(int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE + ", was " + limit);
    }
  }

  private static int parseCursor(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return 0;
    }
    try {
      int c = Integer.parseInt(cursor);
      if (c < 0) {
        throw new InvalidCursorException();
      }
      return c;
    } catch (NumberFormatException e) {
      throw new InvalidCursorException();
    }
  }

  /** The profile at {@code ordinal} if it is this key's, else null. Caller holds the stripe. */
  private byte[] blobOf(byte[] key, int ordinal) {
    byte[] blob = ordinal < 0 ? null : table.blob(ordinal);
    return blob != null && ProfileCodec.keyEquals(blob, key) ? blob : null;
  }

  /**
   * The profile a write replaces: the one at {@code ordinal}, or none for {@link #NO_PROFILE}.
   * Caller holds the stripe.
   *
   * @throws IllegalStateException when the ordinal does not hold this key: the index lost track of
   *     its profile, and writing through would corrupt another key's
   */
  private byte[] current(byte[] key, int ordinal) {
    if (ordinal < 0) {
      return null;
    }
    byte[] blob = blobOf(key, ordinal);
    if (blob == null) {
      throw new IllegalStateException("ordinal " + ordinal + " does not hold the key written");
    }
    return blob;
  }

  private EvalContext bind(Worker w, byte[] blob, long now) {
    w.minValid = Long.MAX_VALUE;
    return w.ctx.bind(w.view.bind(blob), now);
  }

  /**
   * Evaluates every segment for one profile. Caller holds the profile's stripe. A fresh ordinal is
   * in no segment (removal clears every bit before the ordinal is freed), so for it only the
   * segments it enters touch a bitmap: most of the 50 or so evaluations of a bulk load then take no
   * lock at all.
   */
  private void reevaluateAll(
      Worker w, SegmentCatalog catalog, int ord, byte[] key, byte[] blob, long now, boolean fresh) {
    w.minValid = Long.MAX_VALUE;
    w.ctx.bind(w.writer.describeTo(w.view, blob), now);
    evaluateBound(w, catalog, ord, key, now, fresh);
  }

  /** {@link #reevaluateAll} for the profile {@code w.ctx} is bound to. */
  private void evaluateBound(
      Worker w, SegmentCatalog catalog, int ord, byte[] key, long now, boolean fresh) {
    evaluateBound(w, catalog, ord, key, now, fresh, null);
  }

  /**
   * {@link #evaluateBound}, a fresh profile entering each segment {@code kept} names at the time it
   * gives (a restore), before the segments that read it are evaluated.
   */
  private void evaluateBound(
      Worker w,
      SegmentCatalog catalog,
      int ord,
      byte[] key,
      long now,
      boolean fresh,
      EnteredTimes kept) {
    for (Segment s : catalog.all()) {
      if (fresh) {
        CompiledExpression e = s.expression();
        boolean in = test(catalog, s, w.ctx, ord);
        if (e.timeDependent()) {
          w.minValid = Math.min(w.minValid, w.ctx.validUntil());
        }
        long at = kept == null ? PartitionedBitmap.NOT_MEMBER : kept.secondsOf(s.name());
        if (in
            && s.members().add(ord, at == PartitionedBitmap.NOT_MEMBER ? seconds(now) : (int) at)) {
          hub.publish(s.name(), key, true, now);
        }
      } else {
        reevaluate(w, catalog, s, ord, key, now);
      }
    }
    timers.schedule(ord, w.minValid);
  }

  /**
   * Evaluates {@code s} for the profile {@code ctx} is bound to, handing an expression that reads
   * other segments ({@code in_segment}) their members as {@code catalog} resolves them.
   */
  private static boolean test(SegmentCatalog catalog, Segment s, EvalContext ctx, int ord) {
    CompiledExpression e = s.expression();
    if (!e.readsSegments()) {
      return e.test(ctx);
    }
    ctx.segments(ord, catalog.reads(s));
    boolean in = e.test(ctx);
    ctx.clearSegments(); // a dropped or replaced segment's members are not kept by a thread
    return in;
  }

  /**
   * Re-evaluates one segment after an update, touching its bitmap only when the answer for the new
   * profile differs from the answer for the old one (both at {@code now}). Most updates change no
   * membership, and the bitmap access (a partition lock and, on a large node, a cache miss) costs
   * more than a second evaluation over bytes already in cache. The bitmap equals the old answer
   * except where a time-dependent answer expired and its timed re-evaluation is still pending; that
   * re-evaluation then corrects it. Caller holds the stripe.
   */
  private void reevaluateChanged(
      Worker w, SegmentCatalog catalog, Segment s, int ord, byte[] key, long now) {
    if (w.seen[s.id()] == w.stamp) {
      return;
    }
    w.seen[s.id()] = w.stamp;
    CompiledExpression e = s.expression();
    if (e.readsSegments()) {
      // The old profile's answer would read the segments' members as they are now, not as they
      // were: it is evaluated against its own bit instead, once those it reads are up to date.
      w.pending[s.id()] = w.stamp;
      return;
    }
    boolean in = e.test(w.ctx);
    if (e.timeDependent()) {
      w.minValid = Math.min(w.minValid, w.ctx.validUntil());
    }
    if (in == e.test(w.oldCtx)) {
      return;
    }
    boolean changed = in ? s.members().add(ord, seconds(now)) : s.members().remove(ord);
    if (changed) {
      hub.publish(s.name(), key, in, now);
      if (catalog.isRead(s)) {
        w.changed[s.id()] = w.stamp;
      }
    }
  }

  /**
   * After an update's own segments: evaluates the segments that read others ({@code in_segment})
   * and either read what the update touched or read a segment whose membership it changed, in
   * dependency order, so each sees those it reads already up to date. Caller holds the stripe.
   */
  private void reevaluateReaders(Worker w, SegmentCatalog catalog, int ord, byte[] key, long now) {
    for (Segment s : catalog.readingSegments()) {
      boolean due = w.pending[s.id()] == w.stamp;
      for (MemberSet read : catalog.reads(s)) {
        if (due) {
          break;
        }
        due = read instanceof Segment r && w.changed[r.id()] == w.stamp;
      }
      if (due && reevaluate(w, catalog, s, ord, key, now) && catalog.isRead(s)) {
        w.changed[s.id()] = w.stamp;
      }
    }
  }

  /**
   * Evaluates one segment for the bound profile and applies the change; true when its membership
   * changed. Caller holds the stripe.
   */
  private boolean reevaluate(
      Worker w, SegmentCatalog catalog, Segment s, int ord, byte[] key, long now) {
    CompiledExpression e = s.expression();
    boolean in = test(catalog, s, w.ctx, ord);
    if (e.timeDependent()) {
      w.minValid = Math.min(w.minValid, w.ctx.validUntil());
    }
    boolean changed = in ? s.members().add(ord, seconds(now)) : s.members().remove(ord);
    if (changed) {
      hub.publish(s.name(), key, in, now);
    }
    return changed;
  }

  private void reevaluateTimed(Worker w, int ord, long now) {
    byte[] seen = table.blob(ord);
    if (seen == null) {
      return;
    }
    int keyOff = ProfileCodec.keyStart(seen);
    int keyLen = ProfileCodec.keyLength(seen);
    ProfileTable.Stripe stripe = table.stripe(ProfileTable.hash(seen, keyOff, keyLen));
    stripe.lock().lock();
    try {
      byte[] blob = table.blob(ord);
      if (blob == null || (blob != seen && !ProfileCodec.keyEquals(blob, seen, keyOff, keyLen))) {
        return; // removed, or the ordinal now belongs to another key with its own schedule
      }
      bind(w, blob, now);
      byte[] key = null; // copied only for a change to publish
      SegmentCatalog catalog = registry.catalog();
      for (Segment s : catalog.timeDependent()) {
        CompiledExpression e = s.expression();
        boolean in = test(catalog, s, w.ctx, ord);
        if (e.timeDependent()) {
          w.minValid = Math.min(w.minValid, w.ctx.validUntil());
        }
        if (in ? s.members().add(ord, seconds(now)) : s.members().remove(ord)) {
          if (key == null) {
            key = ProfileCodec.key(blob);
          }
          hub.publish(s.name(), key, in, now);
        }
      }
      timers.schedule(ord, w.minValid);
    } finally {
      stripe.lock().unlock();
    }
  }

  /**
   * Evaluates {@code s} for every profile. A new member enters now, except that one that was a
   * member of {@code replaced} (the segment of that name this one redefines, or null) keeps the
   * time it entered that one: a redefinition is no entry. A profile written during the backfill
   * that entered by that write keeps the write's time.
   */
  private void backfill(Segment s, Segment replaced) {
    Worker w = workers.get();
    int limit = table.ordinalLimit();
    for (int ord = 0; ord < limit && !s.dropped(); ord++) {
      byte[] seen = table.blob(ord);
      if (seen == null) {
        continue;
      }
      // The key is hashed and compared where it lies in the profile: no copy per profile.
      int keyOff = ProfileCodec.keyStart(seen);
      int keyLen = ProfileCodec.keyLength(seen);
      ProfileTable.Stripe stripe = table.stripe(ProfileTable.hash(seen, keyOff, keyLen));
      stripe.lock().lock();
      try {
        if (s.dropped()) {
          return; // checked under the lock: a retired segment's names may be gone (see retire)
        }
        byte[] blob = table.blob(ord);
        if (blob == null || (blob != seen && !ProfileCodec.keyEquals(blob, seen, keyOff, keyLen))) {
          continue;
        }
        long now = clock.millis();
        bind(w, blob, now);
        CompiledExpression e = s.expression();
        if (test(registry.catalog(), s, w.ctx, ord)) {
          long kept =
              replaced == null
                  ? PartitionedBitmap.NOT_MEMBER
                  : replaced.members().enteredSeconds(ord);
          s.members().add(ord, kept == PartitionedBitmap.NOT_MEMBER ? seconds(now) : (int) kept);
        } else {
          s.members().remove(ord);
        }
        if (e.timeDependent()) {
          timers.schedule(ord, w.ctx.validUntil());
        }
      } finally {
        stripe.lock().unlock();
      }
    }
  }

  /** Epoch millis as a membership's entered time is kept: whole unsigned seconds. */
  private static int seconds(long millis) {
    return PartitionedBitmap.seconds(millis);
  }

  /**
   * The bytes of a key as the engine hands keys out (member pages, changes): one char per byte,
   * ISO-8859-1, so that any key, UTF-8 or not, survives the round trip.
   */
  public static byte[] key(String key) {
    return key.getBytes(StandardCharsets.ISO_8859_1);
  }
}

package dev.whack.node.engine.profile;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.DayCounts;
import dev.whack.node.engine.dimension.Dimension;
import dev.whack.node.engine.dimension.DimensionBuilder;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.dimension.DimensionSection;
import dev.whack.node.engine.dimension.DistinctBuilder;
import dev.whack.node.engine.dimension.DistinctCodec;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.SeriesBuilder;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.DimensionCounts;
import dev.whack.proto.DimensionDay;
import dev.whack.proto.EventSeries;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;

/**
 * Builds the next compact form of a profile: from a whole {@link Profile}, or by applying an update
 * ({@link UpdateOps}, or a protobuf {@link Update} loaded into one) to the current form. The
 * current bytes are never modified; every check runs before the new array exists, so a rejected
 * update leaves nothing half-applied.
 *
 * <p>Unchanged attributes and event series are copied as byte slices of the old form; only the
 * parts an update touches are re-encoded, into a reused scratch buffer.
 *
 * <p>Names: a profile uses each of its attribute and event names once, counted by its lock stripe
 * ({@link StripeNames}), which holds the names' references in the {@link NameTable}s. A name the
 * old profile already has is used through a plain lookup, which the stripe's reference makes safe
 * while the caller holds its lock; any other name gets a new use (a plain count when the stripe
 * uses it already, else an acquire), which the write <em>pins</em> until the new profile is
 * published. After publishing, {@link #commit} hands the pins to the new profile and drops the uses
 * of the names the old one had and the new one does not; a write that is not published (rejected, a
 * replay, abandoned for a restart) drops its pins ({@link #abandon}, which every new write does
 * first). An update of names the profile has, or a put that keeps them, changes no count; creating
 * a profile changes only the stripe's plain counts for names other profiles of the stripe use. The
 * limits of {@link ProfileLimits} are checked before a name is used, so a write past them interns
 * nothing.
 *
 * <p>Concurrency: not thread-safe. Each writing thread owns one writer (the engine keeps one per
 * thread); the caller holds the profile's stripe lock while an update runs and from publishing to
 * {@link #commit}.
 */
public final class ProfileWriter {
  private static final int FROM_OLD = 0;
  private static final int FROM_SCRATCH = 1;

  private final Dictionaries dict;
  private final int retentionDays;
  private final ProfileLimits limits;

  private byte[] old;
  private final ByteSink scratch = new ByteSink(256);
  private final ByteSink out = new ByteSink(16); // writes into each new array in place

  private int attrCount;
  private int[] attrName = new int[32];
  private int[] attrSource = new int[32];
  private int[] attrOff = new int[32];
  private int[] attrLen = new int[32];

  private int seriesCount;
  private int[] seriesEvent = new int[8];
  private int[] seriesOff = new int[8];
  private int[] seriesLen = new int[8];
  private int[] seriesBuilder = new int[8];
  private SeriesBuilder[] builders = new SeriesBuilder[0];
  private int buildersUsed;

  // producer marks: the producer's UTF-8 name (a slice of the old form or of scratch), its seq and
  // the second it last advanced
  private int markCount;
  private int[] markSource = new int[4];
  private int[] markOff = new int[4];
  private int[] markLen = new int[4];
  private long[] markSeq = new long[4];
  private long[] markSecond = new long[4];
  private long nowSecond;

  // dimensions (DimensionSection): the entries of the new profile; a distinct one is an old payload
  // slice or a builder, a counting one a builder. The old counts (DayCounts) are copied as they
  // are unless a write counts in any dimension: then all are decoded into builders at once, since
  // their days interleave. The counts to add to the population once the write is published.
  private DimensionRegistry.Set dimensions = DimensionRegistry.Set.EMPTY;
  private int dimCount;
  private int[] dimId = new int[4];
  private int[] dimOff = new int[4];
  private int[] dimLen = new int[4];
  private int[] dimBuilder = new int[4];
  private DimensionBuilder[] dimBuilders = new DimensionBuilder[0];
  private int dimBuildersUsed;
  private int[] dimDistinct = new int[4]; // a distinct entry's builder, or -1
  private int oldCounts; // where the old profile's counts start, or -1 when there is no old profile
  private boolean countsDecoded;
  private final DayCounts countsCursor = new DayCounts();
  private DimensionBuilder[] keptCounts = new DimensionBuilder[4]; // encode: by ascending id
  private int[] keptIds = new int[4];
  private int[] keptAt = new int[4];
  private int keptCount;
  private DistinctBuilder[] distinctBuilders = new DistinctBuilder[0];
  private int distinctBuildersUsed;
  private int touchedDimCount;
  private int[] touchedDims = new int[4];
  private int countedCount;
  private Dimension[] countedDim = new Dimension[4];
  private int[] countedDay = new int[4];
  private int[] countedCategory = new int[4];
  private final byte[] digits = new byte[20];

  private int oldAttrCount;
  private int[] oldAttrName = new int[32];
  private int[] oldAttrPos = new int[32];
  private int oldSeriesCount;
  private int[] oldSeriesEvent = new int[8];
  private int[] oldSeriesPos = new int[8];

  private int[] outAttrPos = new int[32];
  private int outSeriesCount;
  private int[] outSeriesEvent = new int[8];
  private int[] outSeriesPos = new int[8];

  private int touchedAttrCount;
  private int[] touchedAttrs = new int[16];
  private int touchedEventCount;
  private int[] touchedEvents = new int[8];

  // the names of the stripe being written, which count every profile's use of a name
  private StripeNames uses;
  // uses this write added (names the old profile does not have), per table
  private int attrPinCount;
  private int[] attrPins = new int[8];
  private int eventPinCount;
  private int[] eventPins = new int[8];
  // attribute ids of the old profile that this update unset
  private int unsetOldCount;
  private int[] unsetOld = new int[4];
  private boolean putting;

  public ProfileWriter(Dictionaries dict, int retentionDays, ProfileLimits limits) {
    this.dict = dict;
    this.retentionDays = retentionDays;
    this.limits = limits;
  }

  /**
   * Settles the names of the write whose array was just published, replacing {@code replaced} (the
   * profile it replaced, or null; for an update, the {@code current} it was applied to): the new
   * profile keeps the references it needs, everything else this write pinned and every name only
   * the replaced profile had is released. Call under the profile's stripe lock, once nothing reads
   * {@code replaced} through its name ids any more.
   */
  public void commit(byte[] replaced) {
    countInPopulation(replaced);
    for (int i = 0; i < attrPinCount && !putting; i++) { // a put removes no attribute it pinned
      if (find(attrPins[i]) < 0) {
        uses.attributes().drop(dict.attributes(), attrPins[i]);
      }
    }
    for (int i = 0; i < eventPinCount; i++) {
      if (!inNewSeries(eventPins[i])) {
        uses.events().drop(dict.events(), eventPins[i]);
      }
    }
    attrPinCount = 0;
    eventPinCount = 0;
    if (putting) {
      if (replaced != replacing) {
        throw new IllegalArgumentException("a put replaces the profile it was started with");
      }
      replacing = null;
      for (int i = 0; i < replacedAttrCount && replaced != null; i++) {
        int id = replacedAttrIds[i];
        if (replacedAttr[id] == replacedStamp) {
          uses.attributes().drop(dict.attributes(), id); // not in the new profile
        }
      }
      for (int i = 0; i < replacedEventCount && replaced != null; i++) {
        int id = replacedEventIds[i];
        if (replacedEvent[id] == replacedStamp || !inNewSeries(id)) {
          uses.events()
              .drop(dict.events(), id); // not taken over, or taken over and pruned to nothing
        }
      }
      return;
    }
    if (replaced != old) {
      throw new IllegalArgumentException("an update replaces the profile it was applied to");
    }
    for (int i = 0; i < unsetOldCount; i++) {
      if (find(unsetOld[i]) < 0) {
        uses.attributes().drop(dict.attributes(), unsetOld[i]);
      }
    }
    unsetOldCount = 0;
    for (int i = 0; i < seriesCount; i++) {
      if (seriesOff[i] >= 0 && seriesBuilder[i] >= 0 && builders[seriesBuilder[i]].size() == 0) {
        uses.events().drop(dict.events(), seriesEvent[i]); // an old series pruned to nothing
      }
    }
  }

  /**
   * Releases what the current write pinned, for a write that will not be published (rejected, a
   * replay, or restarted). Every new write calls it first, so a write abandoned by an exception is
   * released at the latest by the thread's next one; callers release it at once.
   */
  public void abandon() {
    for (int i = 0; i < attrPinCount; i++) {
      uses.attributes().drop(dict.attributes(), attrPins[i]);
    }
    for (int i = 0; i < eventPinCount; i++) {
      uses.events().drop(dict.events(), eventPins[i]);
    }
    attrPinCount = 0;
    eventPinCount = 0;
    unsetOldCount = 0;
    countedCount = 0;
  }

  private boolean inNewSeries(int eventId) {
    for (int i = 0; i < outSeriesCount; i++) {
      if (outSeriesEvent[i] == eventId) {
        return true;
      }
    }
    return false;
  }

  /**
   * Binds {@code view} to {@code blob}, the array the last {@link #put} or {@link #apply} returned,
   * from the layout the writer already knows (saves re-scanning the new profile).
   */
  public ProfileView describeTo(ProfileView view, byte[] blob) {
    return view.bindKnown(
        blob, attrCount, attrName, outAttrPos, outSeriesCount, outSeriesEvent, outSeriesPos);
  }

  /**
   * Binds {@code view} to the profile the last {@link #apply} started from (its {@code current}
   * argument, which must not have been null), from the layout read then.
   */
  public ProfileView describeOldTo(ProfileView view) {
    return view.bindKnown(
        old, oldAttrCount, oldAttrName, oldAttrPos, oldSeriesCount, oldSeriesEvent, oldSeriesPos);
  }

  /** Attribute ids the last {@link #apply} may have changed. */
  public int touchedAttributeCount() {
    return touchedAttrCount;
  }

  public int touchedAttribute(int i) {
    return touchedAttrs[i];
  }

  /** Event ids the last {@link #apply} added to. */
  public int touchedEventCount() {
    return touchedEventCount;
  }

  public int touchedEvent(int i) {
    return touchedEvents[i];
  }

  /** Dimension ids the last {@link #apply} counted in. */
  public int touchedDimensionCount() {
    return touchedDimCount;
  }

  public int touchedDimension(int i) {
    return touchedDims[i];
  }

  /**
   * The compact form of {@code profile} under {@code key}: the profile replaces everything,
   * producer marks included. Buckets older than the retention are dropped.
   *
   * @param current the profile it replaces (null: none), whose names it may keep without taking new
   *     references; the caller holds its stripe lock until {@link #commit}
   * @throws InvalidProfileException when any part is unacceptable; nothing stays pinned
   */
  public byte[] put(byte[] key, Profile profile, long nowMillis, byte[] current, StripeNames uses) {
    try {
      return putOrThrow(key, profile, nowMillis, current, uses);
    } catch (RuntimeException e) {
      abandon();
      throw e;
    }
  }

  private byte[] putOrThrow(
      byte[] key, Profile profile, long nowMillis, byte[] current, StripeNames uses) {
    ProfileSink sink = startPut(nowMillis, current, uses);
    for (Attribute a : profile.getAttributesList()) {
      Value v = a.getValue();
      sink.attribute(a.getName());
      switch (v.getKindCase()) {
        case STRING_VALUE -> sink.stringValue(v.getStringValue());
        case INT_VALUE -> sink.intValue(v.getIntValue());
        case FLOAT_VALUE -> sink.floatValue(v.getFloatValue());
        case BOOL_VALUE -> sink.boolValue(v.getBoolValue());
        case TIMESTAMP_MILLIS -> sink.timestampValue(v.getTimestampMillis());
        case STRING_SET -> {
          sink.startSet();
          for (String e : v.getStringSet().getValuesList()) {
            sink.element(e);
          }
          sink.endSet();
        }
        case KIND_NOT_SET ->
            throw new InvalidProfileException(
                "attribute \"" + a.getName() + "\" has a value without a type");
      }
    }
    HashSet<String> seriesNames = new HashSet<>();
    for (EventSeries s : profile.getEventsList()) {
      if (!seriesNames.add(s.getName())) {
        throw new InvalidProfileException("event series \"" + s.getName() + "\" appears twice");
      }
      sink.event(s.getName());
      if (s.hasFirstMillis() != s.hasLastMillis()) {
        throw new InvalidProfileException(
            "event series \""
                + s.getName()
                + "\" has first_millis or last_millis without the other");
      }
      if (s.hasFirstMillis()) {
        sink.times(s.getFirstMillis(), s.getLastMillis());
      }
      for (DayBucket d : s.getBucketsList()) {
        if (d.hasMin() != d.hasMax()) {
          throw new InvalidProfileException(
              "event series \""
                  + s.getName()
                  + "\" has min or max without the other on day "
                  + d.getDay());
        }
        if (d.hasMin()) {
          sink.bucket(
              d.getDay(), d.getCount(), d.getSum(), d.getSumSquares(), d.getMin(), d.getMax());
        } else {
          sink.bucket(d.getDay(), d.getCount(), d.getSum(), d.getSumSquares());
        }
      }
      if (s.getBucketsCount() == 0) {
        Names.check("event", s.getName());
      }
    }
    for (DimensionCounts d : profile.getDimensionsList()) {
      for (DimensionDay day : d.getDaysList()) {
        for (var c : day.getCountsMap().entrySet()) {
          sink.dimensionCount(d.getDimension(), day.getDay(), c.getKey(), c.getValue());
        }
        if (!day.getSketch().isEmpty()) {
          sink.dimensionSketch(d.getDimension(), day.getDay(), day.getSketch().toByteArray());
        }
      }
    }
    for (ProducerMark m : profile.getProducersList()) {
      sink.producer(m.getProducer(), m.getSeq());
    }
    return finishPut(key);
  }

  /**
   * Starts a whole-profile write fed piece by piece through the returned sink (a parser streams
   * into it); {@link #finishPut} returns the compact form. Calling it again abandons a write begun
   * before, whatever the sink had received.
   *
   * @param current the profile the write replaces (null: none): a name it has is used under its
   *     reference, which the new profile takes over at {@link #commit}, so a put that keeps its
   *     names changes no count; the caller holds its stripe lock until {@link #commit}
   */
  public ProfileSink startPut(long nowMillis, byte[] current, StripeNames uses) {
    reset(null, nowMillis, uses);
    putting = true;
    replacing = current;
    if (current != null) {
      markReplacedNames(current);
    }
    return putSink;
  }

  /**
   * Lists the names of the profile a put replaces and marks each as not yet taken over, in {@link
   * #replacedAttr} and {@link #replacedEvent} (by id, this write's stamp).
   */
  private void markReplacedNames(byte[] current) {
    if (++replacedStamp == Integer.MAX_VALUE) {
      Arrays.fill(replacedAttr, 0);
      Arrays.fill(replacedEvent, 0);
      replacedStamp = 1;
    }
    int pos = ProfileCodec.attributesStart(current);
    int n = Bytes.varintInt(current, pos);
    pos = Bytes.next(current, pos);
    replacedAttrCount = 0;
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(current, pos);
      pos = ProfileCodec.skipValue(current, Bytes.next(current, pos));
      replacedAttrIds = append(replacedAttrIds, replacedAttrCount++, id);
      replacedAttr = stamp(replacedAttr, id);
    }
    n = Bytes.varintInt(current, pos);
    pos = Bytes.next(current, pos);
    replacedEventCount = 0;
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(current, pos);
      pos = SeriesCodec.skip(current, Bytes.next(current, pos));
      replacedEventIds = append(replacedEventIds, replacedEventCount++, id);
      replacedEvent = stamp(replacedEvent, id);
    }
  }

  /** {@code marks} with this write's stamp at {@code id}, grown when too short. */
  private int[] stamp(int[] marks, int id) {
    if (id >= marks.length) {
      marks = Arrays.copyOf(marks, Math.max(id + 1, marks.length * 2));
    }
    marks[id] = replacedStamp;
    return marks;
  }

  /**
   * Whether the profile a put replaces has name {@code id} (found by a lookup) and no earlier piece
   * of this put took it over; if so this piece takes it over.
   */
  private static boolean takeOver(int[] marks, int id, int stamp) {
    if (id >= 0 && id < marks.length && marks[id] == stamp) {
      marks[id] = 0;
      return true;
    }
    return false;
  }

  /** Ends the write begun by {@link #startPut}. */
  public byte[] finishPut(byte[] key) {
    return encode(key);
  }

  private int today;

  // the profile a put replaces, its names, and which of them (by id) this put has not taken over
  private byte[] replacing;
  private int replacedAttrCount;
  private int[] replacedAttrIds = new int[32];
  private int replacedEventCount;
  private int[] replacedEventIds = new int[8];
  private int replacedStamp;
  private int[] replacedAttr = new int[64];
  private int[] replacedEvent = new int[16];

  private final PutSink putSink = new PutSink();

  /**
   * The sink of a whole-profile write. A name is only held until its piece is complete, and then
   * checked and interned: after the value has been read, as the reference reader has always done,
   * so that a document rejected at a value has interned exactly the names it did before. Each name
   * is either a Java string or a UTF-8 slice (the other is null).
   */
  private final class PutSink implements ProfileSink {
    private String nameString;
    private byte[] nameBytes;
    private int nameOff;
    private int nameLen;

    private String eventString;
    private byte[] eventBytes;
    private int eventOff;
    private int eventLen;
    private boolean eventChecked;
    private int eventSeries; // its series entry, -1 until its first bucket
    private boolean timesGiven; // the series' first and last times, when the document gives them
    private long firstGiven;
    private long lastGiven;

    // the elements of the set being given: a varint length and the UTF-8 bytes each
    private final ByteSink elements = new ByteSink(64);
    private int elementCount;
    private int[] elementRecord = new int[16]; // where each starts in elements
    private int[] elementOff = new int[16];
    private int[] elementLen = new int[16];

    @Override
    public void attribute(byte[] utf8, int off, int len) {
      nameString = null;
      nameBytes = utf8;
      nameOff = off;
      nameLen = len;
    }

    @Override
    public void attribute(String name) {
      nameString = name;
      nameBytes = null;
    }

    /**
     * Checks the pending attribute name, rejects a second value for it or one attribute too many,
     * and pins it.
     */
    private int attributeId() {
      NameTable table = dict.attributes();
      if (nameString != null) {
        Names.checkAttribute(nameString);
      } else {
        Names.checkAttribute(nameBytes, nameOff, nameLen);
      }
      checkAttributeRoom();
      int id =
          nameString != null ? table.idOf(nameString) : table.idOf(nameBytes, nameOff, nameLen);
      if (replacing != null && takeOver(replacedAttr, id, replacedStamp)) {
        return id; // the replaced profile's use, whose reference kept the lookup right, passes on
      }
      id = uses.attributes().use(table, id, nameString, nameBytes, nameOff, nameLen);
      if (find(id) >= 0) {
        uses.attributes().drop(table, id);
        throw new InvalidProfileException("attribute \"" + name() + "\" appears twice");
      }
      pinAttribute(id);
      return id;
    }

    private String name() {
      return text(nameString, nameBytes, nameOff, nameLen);
    }

    private void add(int id, int start) {
      addAttr(id, FROM_SCRATCH, start, scratch.size() - start);
    }

    @Override
    public void stringValue(byte[] utf8, int off, int len) {
      int id = attributeId();
      int start = scratch.size();
      scratch.writeByte(ValueType.STRING);
      scratch.writeVarint(len);
      scratch.writeBytes(utf8, off, len);
      add(id, start);
    }

    @Override
    public void stringValue(String value) {
      int id = attributeId();
      int start = scratch.size();
      scratch.writeByte(ValueType.STRING);
      scratch.writeString(value);
      add(id, start);
    }

    @Override
    public void intValue(long value) {
      int id = attributeId();
      int start = scratch.size();
      scratch.writeByte(ValueType.INT);
      scratch.writeZigzag(value);
      add(id, start);
    }

    @Override
    public void floatValue(double value) {
      int id = attributeId();
      if (!Double.isFinite(value)) {
        throw new InvalidProfileException("attribute \"" + name() + "\" is not a finite float");
      }
      int start = scratch.size();
      scratch.writeByte(ValueType.FLOAT);
      scratch.writeDouble(value);
      add(id, start);
    }

    @Override
    public void boolValue(boolean value) {
      int id = attributeId();
      int start = scratch.size();
      scratch.writeByte(value ? ValueType.TRUE : ValueType.FALSE);
      add(id, start);
    }

    @Override
    public void timestampValue(long epochMillis) {
      int id = attributeId();
      try {
        Timestamps.checkRange(epochMillis);
      } catch (IllegalArgumentException e) {
        throw new InvalidProfileException("attribute \"" + name() + "\": " + e.getMessage());
      }
      int start = scratch.size();
      scratch.writeByte(ValueType.TIMESTAMP);
      scratch.writeZigzag(epochMillis);
      add(id, start);
    }

    @Override
    public void startSet() {
      elements.clear();
      elementCount = 0;
    }

    private void nextElement() {
      if (elementCount == elementRecord.length) {
        int cap = elementCount * 2;
        elementRecord = Arrays.copyOf(elementRecord, cap);
        elementOff = Arrays.copyOf(elementOff, cap);
        elementLen = Arrays.copyOf(elementLen, cap);
      }
      elementRecord[elementCount++] = elements.size();
    }

    @Override
    public void element(byte[] utf8, int off, int len) {
      nextElement();
      elements.writeVarint(len);
      elements.writeBytes(utf8, off, len);
    }

    @Override
    public void element(String value) {
      nextElement();
      elements.writeString(value);
    }

    @Override
    public void endSet() {
      int id = attributeId();
      int n = elementCount;
      byte[] buf = elements.array(); // complete: no more writes while it is read
      for (int k = 0; k < n; k++) {
        int record = elementRecord[k];
        elementLen[k] = Bytes.varintInt(buf, record);
        elementOff[k] = Bytes.next(buf, record);
      }
      int unique = firstOccurrences(buf, elementOff, elementLen, 0, n);
      int start = scratch.size();
      scratch.writeByte(ValueType.SET);
      scratch.writeVarint(unique);
      for (int k = 0; k < n; k++) {
        if (flags[k]) {
          int record = elementRecord[k];
          scratch.writeBytes(buf, record, elementOff[k] + elementLen[k] - record);
        }
      }
      add(id, start);
    }

    @Override
    public void event(byte[] utf8, int off, int len) {
      eventString = null;
      eventBytes = utf8;
      eventOff = off;
      eventLen = len;
      eventChecked = false;
      eventSeries = -1;
      timesGiven = false;
    }

    @Override
    public void event(String name) {
      eventString = name;
      eventBytes = null;
      eventChecked = false;
      eventSeries = -1;
      timesGiven = false;
    }

    private String eventName() {
      return text(eventString, eventBytes, eventOff, eventLen);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares) {
      checkBucket(day, count, sum, sumSquares);
      int kind = SeriesCodec.kindWithout(count, sum, sumSquares);
      seriesBuilder().add(day, count, kind, sum, sumSquares, sum, sum);
    }

    @Override
    public void bucket(int day, long count, double sum, double sumSquares, double min, double max) {
      checkBucket(day, count, sum, sumSquares);
      if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
        throw new InvalidProfileException(
            "event series \""
                + eventName()
                + "\" has a min above its max, or one not finite, on day "
                + day);
      }
      seriesBuilder()
          .add(day, count, SeriesCodec.kindWith(sum, min, max), sum, sumSquares, min, max);
    }

    @Override
    public void times(long firstMillis, long lastMillis) {
      if (firstMillis > lastMillis
          || firstMillis < Timestamps.MIN_MILLIS
          || lastMillis > Timestamps.MAX_MILLIS) {
        throw new InvalidProfileException(
            "event series \""
                + eventName()
                + "\" has a first time after its last, or one outside years 0000..9999");
      }
      timesGiven = true;
      firstGiven = firstMillis;
      lastGiven = lastMillis;
      if (eventSeries >= 0) {
        builderFor(eventSeries).times(firstMillis, lastMillis);
      }
    }

    private SeriesBuilder seriesBuilder() {
      if (eventSeries < 0) {
        eventSeries = seriesOf(eventString, eventBytes, eventOff, eventLen);
        if (timesGiven) {
          builderFor(eventSeries).times(firstGiven, lastGiven);
        }
      }
      return builderFor(eventSeries);
    }

    private void checkBucket(int day, long count, double sum, double sumSquares) {
      if (!eventChecked) {
        check("event", eventString, eventBytes, eventOff, eventLen);
        eventChecked = true;
      }
      if (count < 0) {
        throw new InvalidProfileException(
            "event series \"" + eventName() + "\" has a negative count on day " + day);
      }
      if (count > SeriesCodec.MAX_COUNT) {
        throw new InvalidProfileException(
            "event series \""
                + eventName()
                + "\" has a count above "
                + SeriesCodec.MAX_COUNT
                + " on day "
                + day);
      }
      if (!Double.isFinite(sum) || !Double.isFinite(sumSquares)) {
        throw new InvalidProfileException(
            "event series \"" + eventName() + "\" has a non-finite sum on day " + day);
      }
      if (day > today + 1) {
        throw new InvalidProfileException(
            "event series \""
                + eventName()
                + "\" has day "
                + day
                + ", more than a day in the future");
      }
    }

    @Override
    public void producer(byte[] utf8, int off, int len, long seq) {
      producer(null, utf8, off, len, seq);
    }

    @Override
    public void producer(String producer, long seq) {
      producer(producer, null, 0, 0, seq);
    }

    @Override
    public void dimensionCount(String dimension, int day, String category, long count) {
      if (count < 0) {
        throw new InvalidProfileException(
            "dimension \"" + dimension + "\" has a negative count on day " + day);
      }
      if (day > today + 1) {
        throw new InvalidProfileException(
            "dimension \"" + dimension + "\" has day " + day + ", more than a day in the future");
      }
      Dimension d = dimensions.byName(dimension);
      if (d != null && d.isDistinct()) {
        throw new InvalidProfileException(
            "dimension \"" + dimension + "\" counts distinct values: a day of it is a \"$sketch\"");
      }
      int c = d == null ? -1 : d.categoryOfLabel(category);
      if (c < 0 || count == 0) {
        return; // a dimension this node does not define, or a bucket it does not have: not kept
      }
      decodeCounts();
      int e = findDimension(d.id());
      if (e < 0) {
        e = addDimension(d.id(), -1, 0);
      }
      dimensionBuilder(e).add(day, c, count);
    }

    @Override
    public void dimensionSketch(String dimension, int day, byte[] body) {
      if (day > today + 1) {
        throw new InvalidProfileException(
            "dimension \"" + dimension + "\" has day " + day + ", more than a day in the future");
      }
      Dimension d = dimensions.byName(dimension);
      if (d == null) {
        return; // a dimension this node does not define: not kept
      }
      if (!d.isDistinct()) {
        throw new InvalidProfileException(
            "dimension \""
                + dimension
                + "\" is "
                + d.spec().kind().label()
                + ": a day of it is counts");
      }
      String bad = DistinctCodec.check(body, d.precision());
      if (bad != null) {
        throw new InvalidProfileException(
            "dimension \"" + dimension + "\" has " + bad + " on day " + day);
      }
      distinctBuilder(d).addBody(day, body);
    }

    private void producer(String string, byte[] utf8, int off, int len, long seq) {
      check("producer", string, utf8, off, len);
      if (seq < 0) {
        throw new InvalidProfileException(
            "producer \"" + text(string, utf8, off, len) + "\" has a negative seq");
      }
      if (string != null) {
        utf8 = string.getBytes(StandardCharsets.UTF_8);
        off = 0;
        len = utf8.length;
      }
      if (findMark(utf8, off, len) >= 0) {
        throw new InvalidProfileException(
            "producer \"" + text(string, utf8, off, len) + "\" appears twice");
      }
      if (markCount >= limits.producers()) {
        throw new InvalidProfileException(
            "too many producers: a profile holds at most "
                + limits.producers()
                + " producer marks");
      }
      addNewMark(utf8, off, len, seq);
    }
  }

  // ---- names given as a Java string (when not null) or as UTF-8

  private static void check(String what, String string, byte[] utf8, int off, int len) {
    if (string != null) {
      Names.check(what, string);
    } else {
      Names.check(what, utf8, off, len);
    }
  }

  private static String text(String string, byte[] utf8, int off, int len) {
    return string != null ? string : new String(utf8, off, len, StandardCharsets.UTF_8);
  }

  /**
   * The compact form after applying {@code update} to {@code current} (null: a new profile), or
   * null when the update is a replay (its seq is at or below the producer's mark).
   *
   * @throws InvalidProfileException when any part is unacceptable; nothing is applied
   */
  public byte[] apply(byte[] key, byte[] current, Update update, long nowMillis, StripeNames uses) {
    if (protoOps == null) {
      protoOps = new UpdateOps();
    }
    return apply(key, current, protoOps.load(update), nowMillis, uses);
  }

  private UpdateOps protoOps;

  /**
   * {@link #apply(byte[], byte[], Update, long)} for operations already in flat form (read from
   * Update JSON, or loaded from protobuf). Checks run in the documented order (producer, set,
   * unset, incr, add, remove, events), each before anything is written, so the first unacceptable
   * part is the one reported. Allocates only the new array (and, once, each new name).
   *
   * @throws InvalidProfileException when any part is unacceptable; nothing is applied
   */
  public byte[] apply(byte[] key, byte[] current, UpdateOps u, long nowMillis, StripeNames uses) {
    try {
      return applyOrThrow(key, current, u, nowMillis, uses);
    } catch (RuntimeException e) {
      abandon();
      throw e;
    }
  }

  private byte[] applyOrThrow(
      byte[] key, byte[] current, UpdateOps u, long nowMillis, StripeNames uses) {
    reset(current, nowMillis, uses);
    if (u.setCount + u.unsetCount + u.incrCount + u.addCount + u.removeCount
        > limits.attributes()) {
      throw new InvalidProfileException(
          "too many attributes: an update holds at most "
              + limits.attributes()
              + " attribute operations");
    }
    boolean producing = u.hasSeq || u.hasProducer();
    int mark = -1;
    if (producing) {
      if (!u.hasProducer() || !u.hasSeq) {
        throw new InvalidProfileException("\"producer\" and \"seq\" go together");
      }
      if (u.seq < 0) {
        throw new InvalidProfileException("\"seq\" must not be negative");
      }
      checkName("producer", u, u.producer);
      mark = findMark(u.text, u.textOff[u.producer], u.textLen[u.producer]);
      if (mark >= 0 && markExpired(mark)) {
        mark = -1; // forgotten: a new mark takes its place, and encode drops the expired one
      }
      if (mark >= 0 && u.seq <= markSeq[mark]) {
        return null;
      }
    }
    for (int i = 0; i < u.setCount; i++) {
      int name = u.setName[i];
      checkAttribute(u, name);
      int id = writtenAttribute(u, name);
      int start = encodeValue(u, i);
      replaceAttr(id, start, scratch.size() - start);
    }
    for (int i = 0; i < u.unsetCount; i++) {
      int id = idOf(dict.attributes(), u, u.unsetName[i]);
      int a = id < 0 ? -1 : find(id); // found: pinned by the old profile or this write
      if (a >= 0) {
        removeAttr(a);
        touchAttr(id);
        if (heldByOld(id)) {
          unsetOld = append(unsetOld, unsetOldCount++, id);
        }
      }
    }
    for (int i = 0; i < u.incrCount; i++) {
      increment(u, i);
    }
    for (int i = 0; i < u.addCount; i++) {
      changeSet(u, u.addName[i], u.addFirst[i], u.addSize[i], true);
    }
    for (int i = 0; i < u.removeCount; i++) {
      changeSet(u, u.removeName[i], u.removeFirst[i], u.removeSize[i], false);
    }
    for (int i = 0; i < u.eventCount; i++) {
      record(u, i, nowMillis);
    }
    if (producing) {
      if (mark >= 0) {
        markSeq[mark] = u.seq;
        markSecond[mark] = nowSecond;
      } else {
        makeRoomForMark();
        addNewMark(u.text, u.textOff[u.producer], u.textLen[u.producer], u.seq);
      }
    }
    return encode(key);
  }

  // ---- references

  /**
   * The id of an attribute that {@code set}, {@code incr} or {@code add} writes: a name the profile
   * has, or one it does not have yet, checked against the attribute limit and pinned unless the old
   * profile holds it (an attribute unset earlier in the same update).
   */
  private int writtenAttribute(UpdateOps u, int t) {
    NameTable table = dict.attributes();
    int id = idOf(table, u, t);
    if (id >= 0 && find(id) >= 0) {
      return id; // pinned by the old profile or by this write, so the lookup is right
    }
    checkAttributeRoom();
    if (id >= 0 && (heldByOld(id) || pinned(attrPins, attrPinCount, id))) {
      return id;
    }
    id = uses.attributes().use(table, id, u.textJava[t], u.text, u.textOff[t], u.textLen[t]);
    pinAttribute(id);
    return id;
  }

  private void checkAttributeRoom() {
    if (attrCount >= limits.attributes()) {
      throw new InvalidProfileException(
          "too many attributes: a profile holds at most " + limits.attributes());
    }
  }

  /**
   * The series entry of an event named by a string (when not null) or UTF-8, adding a new one,
   * checked against the series limit and pinned, when the profile has none yet.
   */
  private int seriesOf(String string, byte[] utf8, int off, int len) {
    NameTable table = dict.events();
    int id = string != null ? table.idOf(string) : table.idOf(utf8, off, len);
    int i = id >= 0 ? findSeries(id) : -1;
    if (i >= 0) {
      return i; // every series in the list is pinned (old or this write): the lookup is right
    }
    checkSeriesRoom();
    if (replacing != null && takeOver(replacedEvent, id, replacedStamp)) {
      return addSeries(id, -1, 0); // the replaced profile's use passes to this series
    }
    id = uses.events().use(table, id, string, utf8, off, len);
    pinEvent(id);
    return addSeries(id, -1, 0);
  }

  /**
   * Rejects one event series too many. Series whose every bucket is past the retention do not
   * count: they are pruned here, and dropped when the profile is written.
   */
  private void checkSeriesRoom() {
    if (seriesCount < limits.eventSeries()) {
      return;
    }
    int live = 0;
    for (int i = 0; i < seriesCount; i++) {
      SeriesBuilder b = builderFor(i);
      b.prune(today - retentionDays);
      live += b.size() > 0 ? 1 : 0;
    }
    if (live >= limits.eventSeries()) {
      throw new InvalidProfileException(
          "too many event series: a profile holds at most " + limits.eventSeries());
    }
  }

  private boolean heldByOld(int attributeId) {
    for (int i = 0; i < oldAttrCount; i++) {
      if (oldAttrName[i] == attributeId) {
        return true;
      }
    }
    return false;
  }

  private static boolean pinned(int[] pins, int count, int id) {
    for (int i = 0; i < count; i++) {
      if (pins[i] == id) {
        return true;
      }
    }
    return false;
  }

  private void pinAttribute(int id) {
    attrPins = append(attrPins, attrPinCount++, id);
  }

  private void pinEvent(int id) {
    eventPins = append(eventPins, eventPinCount++, id);
  }

  /** {@code a} with {@code value} at {@code i}, grown when full. */
  private static int[] append(int[] a, int i, int value) {
    if (i == a.length) {
      a = Arrays.copyOf(a, i * 2);
    }
    a[i] = value;
    return a;
  }

  // ---- names of an update (a Java caller's string as such, else the UTF-8 bytes)

  private static void checkAttribute(UpdateOps u, int t) {
    String java = u.textJava[t];
    if (java != null) {
      Names.checkAttribute(java);
    } else {
      Names.checkAttribute(u.text, u.textOff[t], u.textLen[t]);
    }
  }

  private static void checkName(String what, UpdateOps u, int t) {
    String java = u.textJava[t];
    if (java != null) {
      Names.check(what, java);
    } else {
      Names.check(what, u.text, u.textOff[t], u.textLen[t]);
    }
  }

  private static int idOf(NameTable table, UpdateOps u, int t) {
    String java = u.textJava[t];
    return java != null ? table.idOf(java) : table.idOf(u.text, u.textOff[t], u.textLen[t]);
  }

  /** Starts a write: releases what an unfinished one pinned and reads {@code current}. */
  private void reset(byte[] current, long nowMillis, StripeNames uses) {
    abandon();
    this.uses = uses;
    putting = false;
    replacing = null;
    today = Days.dayOf(nowMillis);
    nowSecond = Math.floorDiv(nowMillis, 1000);
    old = current;
    scratch.clear();
    attrCount = 0;
    seriesCount = 0;
    buildersUsed = 0;
    markCount = 0;
    touchedAttrCount = 0;
    touchedEventCount = 0;
    dimensions = dict.dimensions().current();
    dimCount = 0;
    dimBuildersUsed = 0;
    distinctBuildersUsed = 0;
    oldCounts = -1;
    countsDecoded = false;
    touchedDimCount = 0;
    countedCount = 0;
    if (current == null) {
      oldAttrCount = 0;
      oldSeriesCount = 0;
      return;
    }
    int pos = ProfileCodec.attributesStart(current);
    int n = Bytes.varintInt(current, pos);
    pos = Bytes.next(current, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(current, pos);
      pos = Bytes.next(current, pos);
      int end = ProfileCodec.skipValue(current, pos);
      addAttr(id, FROM_OLD, pos, end - pos);
      pos = end;
    }
    n = Bytes.varintInt(current, pos);
    pos = Bytes.next(current, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(current, pos);
      pos = Bytes.next(current, pos);
      int end = SeriesCodec.skip(current, pos);
      addSeries(id, pos, end - pos);
      pos = end;
    }
    n = Bytes.varintInt(current, pos);
    pos = Bytes.next(current, pos);
    for (int i = 0; i < n; i++) {
      int len = Bytes.varintInt(current, pos);
      int off = Bytes.next(current, pos);
      pos = off + len;
      long seq = Bytes.varint(current, pos);
      pos = Bytes.next(current, pos);
      addMark(FROM_OLD, off, len, seq, Bytes.zigzag(current, pos));
      pos = Bytes.next(current, pos);
    }
    n = DimensionSection.distinctCount(current, pos);
    pos = DimensionSection.firstDistinct(current, pos);
    for (int i = 0; i < n; i++) {
      addDimension(
          DimensionSection.id(current, pos),
          DimensionSection.payload(current, pos),
          DimensionSection.payloadLength(current, pos));
      pos = DimensionSection.next(current, pos);
    }
    oldCounts = pos;
    // Keep the old layout so the caller can evaluate the old profile without re-scanning it.
    if (oldAttrName.length < attrCount) {
      oldAttrName = new int[attrName.length];
      oldAttrPos = new int[attrName.length];
    }
    oldAttrCount = attrCount;
    System.arraycopy(attrName, 0, oldAttrName, 0, attrCount);
    System.arraycopy(attrOff, 0, oldAttrPos, 0, attrCount);
    if (oldSeriesEvent.length < seriesCount) {
      oldSeriesEvent = new int[seriesEvent.length];
      oldSeriesPos = new int[seriesEvent.length];
    }
    oldSeriesCount = seriesCount;
    System.arraycopy(seriesEvent, 0, oldSeriesEvent, 0, seriesCount);
    System.arraycopy(seriesOff, 0, oldSeriesPos, 0, seriesCount);
  }

  // ---- attributes

  private int find(int nameId) {
    for (int i = 0; i < attrCount; i++) {
      if (attrName[i] == nameId) {
        return i;
      }
    }
    return -1;
  }

  private void addAttr(int id, int source, int off, int len) {
    if (attrCount == attrName.length) {
      int cap = attrCount * 2;
      attrName = Arrays.copyOf(attrName, cap);
      attrSource = Arrays.copyOf(attrSource, cap);
      attrOff = Arrays.copyOf(attrOff, cap);
      attrLen = Arrays.copyOf(attrLen, cap);
    }
    attrName[attrCount] = id;
    attrSource[attrCount] = source;
    attrOff[attrCount] = off;
    attrLen[attrCount] = len;
    attrCount++;
  }

  private void replaceAttr(int id, int scratchOff, int len) {
    touchAttr(id);
    int i = find(id);
    if (i < 0) {
      addAttr(id, FROM_SCRATCH, scratchOff, len);
    } else {
      attrSource[i] = FROM_SCRATCH;
      attrOff[i] = scratchOff;
      attrLen[i] = len;
    }
  }

  private void removeAttr(int i) {
    int tail = attrCount - i - 1;
    System.arraycopy(attrName, i + 1, attrName, i, tail);
    System.arraycopy(attrSource, i + 1, attrSource, i, tail);
    System.arraycopy(attrOff, i + 1, attrOff, i, tail);
    System.arraycopy(attrLen, i + 1, attrLen, i, tail);
    attrCount--;
  }

  private byte[] source(int i) {
    return attrSource[i] == FROM_OLD ? old : scratch.array();
  }

  private void touchAttr(int id) {
    for (int i = 0; i < touchedAttrCount; i++) {
      if (touchedAttrs[i] == id) {
        return;
      }
    }
    if (touchedAttrCount == touchedAttrs.length) {
      touchedAttrs = Arrays.copyOf(touchedAttrs, touchedAttrCount * 2);
    }
    touchedAttrs[touchedAttrCount++] = id;
  }

  /**
   * Encodes set operation {@code i}'s value into scratch after validating it; returns its start.
   */
  private int encodeValue(UpdateOps u, int i) {
    int start = scratch.size();
    switch (u.setKind[i]) {
      case ValueType.STRING -> {
        int t = u.setFirst[i];
        scratch.writeByte(ValueType.STRING);
        scratch.writeVarint(u.textLen[t]);
        scratch.writeBytes(u.text, u.textOff[t], u.textLen[t]);
      }
      case ValueType.INT -> {
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(u.setBits[i]);
      }
      case ValueType.FLOAT -> {
        double d = Double.longBitsToDouble(u.setBits[i]);
        if (!Double.isFinite(d)) {
          throw new InvalidProfileException(
              "attribute \"" + u.string(u.setName[i]) + "\" is not a finite float");
        }
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(d);
      }
      case ValueType.TRUE, ValueType.FALSE -> scratch.writeByte(u.setKind[i]);
      case ValueType.TIMESTAMP -> {
        try {
          Timestamps.checkRange(u.setBits[i]);
        } catch (IllegalArgumentException e) {
          throw new InvalidProfileException(
              "attribute \"" + u.string(u.setName[i]) + "\": " + e.getMessage());
        }
        scratch.writeByte(ValueType.TIMESTAMP);
        scratch.writeZigzag(u.setBits[i]);
      }
      case ValueType.SET -> {
        int first = u.setFirst[i];
        int n = u.setSize[i];
        int unique = firstOccurrences(u.text, u.textOff, u.textLen, first, n);
        scratch.writeByte(ValueType.SET);
        scratch.writeVarint(unique);
        for (int k = 0; k < n; k++) {
          if (flags[k]) {
            int t = first + k;
            scratch.writeVarint(u.textLen[t]);
            scratch.writeBytes(u.text, u.textOff[t], u.textLen[t]);
          }
        }
      }
      default ->
          throw new InvalidProfileException(
              "attribute \"" + u.string(u.setName[i]) + "\" has a value without a type");
    }
    return start;
  }

  /** Reused per-element marks: first occurrences, kept elements, fresh elements. */
  private boolean[] flags = new boolean[16];

  private boolean[] flags2 = new boolean[16];
  private final SliceSet slices = new SliceSet();

  /** Below this many comparisons a set operation compares pairwise; above, it hashes. */
  private static final int PAIRWISE_LIMIT = 256;

  /**
   * Marks in {@link #flags} which of the {@code n} slices of {@code text} from {@code first} (at
   * {@code off[i]}, {@code len[i]} bytes) are the first with their bytes; returns how many are.
   */
  private int firstOccurrences(byte[] text, int[] off, int[] len, int first, int n) {
    if (flags.length < n) {
      flags = new boolean[Math.max(n, flags.length * 2)];
    }
    int unique = 0;
    if ((long) n * n <= PAIRWISE_LIMIT) {
      for (int k = 0; k < n; k++) {
        int ko = off[first + k];
        int kl = len[first + k];
        boolean fresh = true;
        for (int j = first; j < first + k && fresh; j++) {
          fresh = len[j] != kl || !Arrays.equals(text, off[j], off[j] + kl, text, ko, ko + kl);
        }
        flags[k] = fresh;
        unique += fresh ? 1 : 0;
      }
    } else {
      slices.reset(text, n);
      for (int k = 0; k < n; k++) {
        flags[k] = slices.add(off[first + k], len[first + k]);
        unique += flags[k] ? 1 : 0;
      }
    }
    return unique;
  }

  private void increment(UpdateOps u, int k) {
    int nameText = u.incrName[k];
    checkAttribute(u, nameText);
    int id = writtenAttribute(u, nameText);
    boolean floatDelta = u.incrFloat[k];
    long intDelta = u.incrBits[k];
    double floatValue = Double.longBitsToDouble(intDelta);
    if (floatDelta && !Double.isFinite(floatValue)) {
      throw new InvalidProfileException(
          "increment of \"" + u.string(nameText) + "\" is not a finite number");
    }
    int i = find(id);
    int start = scratch.size();
    if (i < 0) {
      if (floatDelta) {
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(floatValue);
      } else {
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(intDelta);
      }
    } else {
      byte[] src = source(i);
      int pos = attrOff[i];
      int type = src[pos];
      if (type == ValueType.INT) {
        if (floatDelta) {
          throw new InvalidProfileException(
              "cannot increment integer attribute \""
                  + u.string(nameText)
                  + "\" by a float; send an integer delta");
        }
        long next;
        try {
          next = Math.addExact(Bytes.zigzag(src, pos + 1), intDelta);
        } catch (ArithmeticException e) {
          throw new InvalidProfileException(
              "incrementing \"" + u.string(nameText) + "\" overflows 64 bits");
        }
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(next);
      } else if (type == ValueType.FLOAT) {
        double next = Bytes.float64(src, pos + 1) + (floatDelta ? floatValue : (double) intDelta);
        if (!Double.isFinite(next)) {
          throw new InvalidProfileException(
              "incrementing \"" + u.string(nameText) + "\" overflows a float");
        }
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(next);
      } else {
        throw new InvalidProfileException(
            "cannot increment attribute \""
                + u.string(nameText)
                + "\": it holds "
                + ValueType.describe(type));
      }
    }
    replaceAttr(id, start, scratch.size() - start);
  }

  /**
   * Adds the {@code m} texts from {@code first} to (or removes them from) set attribute {@code
   * nameText}: old elements keep their order, new ones follow in delta order, duplicates dropped.
   */
  private void changeSet(UpdateOps u, int nameText, int first, int m, boolean add) {
    checkAttribute(u, nameText);
    int id = add ? writtenAttribute(u, nameText) : idOf(dict.attributes(), u, nameText);
    int i = id < 0 ? -1 : find(id); // removing: found only when pinned, so the lookup is right
    if (i < 0 && !add) {
      return;
    }
    byte[] src = null;
    int n = 0;
    int elements = 0;
    if (i >= 0) {
      src = source(i);
      int pos = attrOff[i];
      if (src[pos] != ValueType.SET) {
        throw new InvalidProfileException(
            "cannot "
                + (add ? "add to" : "remove from")
                + " attribute \""
                + u.string(nameText)
                + "\": it holds "
                + ValueType.describe(src[pos]));
      }
      n = Bytes.varintInt(src, pos + 1);
      elements = Bytes.next(src, pos + 1);
    }
    // keep[e]: old element e stays; fresh[k]: delta element k is new (and its first occurrence)
    if (flags.length < m) {
      flags = new boolean[Math.max(m, flags.length * 2)];
    }
    if (flags2.length < n) {
      flags2 = new boolean[Math.max(n, flags2.length * 2)];
    }
    boolean[] fresh = flags;
    boolean[] keep = flags2;
    int count = 0;
    boolean pairwise = (long) n * m + (long) m * m <= PAIRWISE_LIMIT;
    if (!add) {
      if (!pairwise) {
        slices.reset(u.text, m);
        for (int k = 0; k < m; k++) {
          slices.add(u.textOff[first + k], u.textLen[first + k]);
        }
      }
      int p = elements;
      for (int e = 0; e < n; e++) {
        int len = Bytes.varintInt(src, p);
        int s = Bytes.next(src, p);
        boolean inDelta = false;
        if (pairwise) {
          for (int k = 0; k < m && !inDelta; k++) {
            int t = first + k;
            inDelta =
                Arrays.equals(src, s, s + len, u.text, u.textOff[t], u.textOff[t] + u.textLen[t]);
          }
        } else {
          inDelta = slices.contains(src, s, len);
        }
        keep[e] = !inDelta;
        count += inDelta ? 0 : 1;
        p = s + len;
      }
    } else {
      for (int e = 0; e < n; e++) {
        keep[e] = true;
      }
      count = n;
      if (pairwise) {
        for (int k = 0; k < m; k++) {
          int t = first + k;
          int to = u.textOff[t];
          int tl = u.textLen[t];
          boolean present = false;
          int p = elements;
          for (int e = 0; e < n && !present; e++) {
            int len = Bytes.varintInt(src, p);
            int s = Bytes.next(src, p);
            present = Arrays.equals(src, s, s + len, u.text, to, to + tl);
            p = s + len;
          }
          for (int j = 0; j < k && !present; j++) {
            present = fresh[j] && u.sameText(first + j, t);
          }
          fresh[k] = !present;
          count += present ? 0 : 1;
        }
      } else {
        // Index the old elements, then add each delta element that is not there yet; the index
        // holds slices of two arrays, so old elements go in as copies of their positions in src.
        slices.reset(src, n + m);
        int p = elements;
        for (int e = 0; e < n; e++) {
          int len = Bytes.varintInt(src, p);
          int s = Bytes.next(src, p);
          slices.add(s, len);
          p = s + len;
        }
        for (int k = 0; k < m; k++) {
          int t = first + k;
          fresh[k] = slices.addForeign(u.text, u.textOff[t], u.textLen[t]);
          count += fresh[k] ? 1 : 0;
        }
      }
    }
    int start = scratch.size();
    scratch.writeByte(ValueType.SET);
    scratch.writeVarint(count);
    int p = elements;
    for (int e = 0; e < n; e++) {
      int end = Bytes.skipString(src, p);
      if (keep[e]) {
        scratch.writeBytes(src, p, end - p);
      }
      p = end;
    }
    if (add) {
      for (int k = 0; k < m; k++) {
        if (fresh[k]) {
          int t = first + k;
          scratch.writeVarint(u.textLen[t]);
          scratch.writeBytes(u.text, u.textOff[t], u.textLen[t]);
        }
      }
    }
    replaceAttr(id, start, scratch.size() - start);
  }

  // ---- events

  private int findSeries(int eventId) {
    for (int i = 0; i < seriesCount; i++) {
      if (seriesEvent[i] == eventId) {
        return i;
      }
    }
    return -1;
  }

  private int addSeries(int eventId, int off, int len) {
    if (seriesCount == seriesEvent.length) {
      int cap = seriesCount * 2;
      seriesEvent = Arrays.copyOf(seriesEvent, cap);
      seriesOff = Arrays.copyOf(seriesOff, cap);
      seriesLen = Arrays.copyOf(seriesLen, cap);
      seriesBuilder = Arrays.copyOf(seriesBuilder, cap);
    }
    seriesEvent[seriesCount] = eventId;
    seriesOff[seriesCount] = off;
    seriesLen[seriesCount] = len;
    seriesBuilder[seriesCount] = -1;
    return seriesCount++;
  }

  /** The builder of series entry {@code i}, decoding the old bytes on first use. */
  private SeriesBuilder builderFor(int i) {
    if (seriesBuilder[i] >= 0) {
      return builders[seriesBuilder[i]];
    }
    if (buildersUsed == builders.length) {
      builders = Arrays.copyOf(builders, Math.max(4, buildersUsed * 2));
    }
    if (builders[buildersUsed] == null) {
      builders[buildersUsed] = new SeriesBuilder();
    }
    SeriesBuilder b = builders[buildersUsed];
    if (seriesOff[i] >= 0) {
      b.load(old, seriesOff[i]);
    } else {
      b.clear();
    }
    seriesBuilder[i] = buildersUsed++;
    return b;
  }

  private void record(UpdateOps u, int k, long nowMillis) {
    int nameText = u.eventName[k];
    checkName("event", u, nameText);
    long time = u.eventHasTime[k] ? u.eventTime[k] : nowMillis;
    int day = Days.dayOf(time);
    if (day > today + 1) {
      throw new InvalidProfileException(
          "event \""
              + u.string(nameText)
              + "\" at "
              + time
              + " ms is more than a day in the future");
    }
    double value = u.eventValue[k];
    if (u.eventHasValue[k] && !Double.isFinite(value * value)) {
      throw new InvalidProfileException(
          "event \"" + u.string(nameText) + "\" has a value too large to square");
    }
    if (day < today - retentionDays) {
      return; // older than retention: acknowledged, nothing to keep
    }
    int i = seriesOf(u.textJava[nameText], u.text, u.textOff[nameText], u.textLen[nameText]);
    int id = seriesEvent[i];
    builderFor(i).addEvent(day, time, u.eventHasValue[k], value);
    if (u.eventPropCount[k] > 0 && !dimensions.isEmpty()) {
      countProperties(u, k, day);
    }
    for (int t = 0; t < touchedEventCount; t++) {
      if (touchedEvents[t] == id) {
        return;
      }
    }
    if (touchedEventCount == touchedEvents.length) {
      touchedEvents = Arrays.copyOf(touchedEvents, touchedEventCount * 2);
    }
    touchedEvents[touchedEventCount++] = id;
  }

  // ---- dimensions

  /** Counts event {@code k}'s properties in the dimensions that count them, on {@code day}. */
  private void countProperties(UpdateOps u, int k, int day) {
    int event = u.eventName[k];
    for (int p = u.eventPropFirst[k]; p < u.eventPropFirst[k] + u.eventPropCount[k]; p++) {
      int name = u.propName[p];
      int value = u.propFirst[p];
      for (Dimension d : dimensions.countingProperty(u.text, u.textOff[name], u.textLen[name])) {
        if (!d.isProperty(u.text, u.textOff[name], u.textLen[name])
            || !d.countsEvent(u.text, u.textOff[event], u.textLen[event])) {
          continue;
        }
        if (d.isDistinct()) {
          // touched only when its data changed: a value seen that day already changes no answer,
          // so it re-evaluates no segment. Distinct dimensions have no population counts.
          long hash =
              d.hashOf(
                  u.propKind[p], u.propBits[p], u.text, u.textOff[value], u.textLen[value], digits);
          if (hash >= 0 && distinctBuilder(d).add(day, (int) hash)) {
            touchDimension(d.id());
          }
          continue;
        }
        int category =
            d.categoryOf(
                u.propKind[p], u.propBits[p], u.text, u.textOff[value], u.textLen[value], digits);
        if (category >= 0) {
          count(d, day, category, 1);
        }
      }
    }
  }

  /** The builder of distinct dimension {@code d}'s entry, made (or decoded) on first use. */
  private DistinctBuilder distinctBuilder(Dimension d) {
    int e = findDimension(d.id());
    if (e < 0) {
      e = addDimension(d.id(), -1, 0);
    }
    if (dimDistinct[e] >= 0) {
      return distinctBuilders[dimDistinct[e]];
    }
    if (distinctBuildersUsed == distinctBuilders.length) {
      distinctBuilders = Arrays.copyOf(distinctBuilders, Math.max(4, distinctBuildersUsed * 2));
    }
    if (distinctBuilders[distinctBuildersUsed] == null) {
      distinctBuilders[distinctBuildersUsed] = new DistinctBuilder();
    }
    DistinctBuilder b = distinctBuilders[distinctBuildersUsed];
    if (dimOff[e] >= 0) {
      b.load(d.precision(), old, dimOff[e]);
    } else {
      b.clear(d.precision());
    }
    dimDistinct[e] = distinctBuildersUsed++;
    return b;
  }

  private void touchDimension(int id) {
    for (int t = 0; t < touchedDimCount; t++) {
      if (touchedDims[t] == id) {
        return;
      }
    }
    touchedDims = append(touchedDims, touchedDimCount++, id);
  }

  /** Counts {@code n} of {@code category} on {@code day} in dimension {@code d}. */
  private void count(Dimension d, int day, int category, long n) {
    decodeCounts();
    int e = findDimension(d.id());
    if (e < 0) {
      e = addDimension(d.id(), -1, 0);
    }
    dimensionBuilder(e).add(day, category, n);
    if (countedCount == countedDim.length) {
      int cap = countedCount * 2;
      countedDim = Arrays.copyOf(countedDim, cap);
      countedDay = Arrays.copyOf(countedDay, cap);
      countedCategory = Arrays.copyOf(countedCategory, cap);
    }
    countedDim[countedCount] = d;
    countedDay[countedCount] = day;
    countedCategory[countedCount++] = category;
    for (int t = 0; t < touchedDimCount; t++) {
      if (touchedDims[t] == d.id()) {
        return;
      }
    }
    touchedDims = append(touchedDims, touchedDimCount++, d.id());
  }

  /**
   * Adds the counts of the write just published to the population's: an update's events, or every
   * count of a put that created its profile (a put over an existing profile adds none: its counts
   * are mostly the ones it replaces).
   */
  private void countInPopulation(byte[] replaced) {
    for (int i = 0; i < countedCount; i++) {
      countedDim[i].countInPopulation(countedDay[i], countedCategory[i], 1);
    }
    countedCount = 0;
    if (putting && replaced == null) {
      for (int e = 0; e < dimCount; e++) {
        Dimension d = dimensions.byId(dimId[e]);
        if (d != null && dimBuilder[e] >= 0) {
          DimensionBuilder b = dimBuilders[dimBuilder[e]];
          for (int i = 0; i < b.size(); i++) {
            d.countInPopulation(b.day(i), b.category(i), b.count(i));
          }
        }
      }
    }
  }

  /** Adds counting entry {@code e} to those encoded, keeping them by ascending id. */
  private void keep(int e) {
    if (keptCount == keptIds.length) {
      int cap = keptCount * 2;
      keptIds = Arrays.copyOf(keptIds, cap);
      keptCounts = Arrays.copyOf(keptCounts, cap);
      keptAt = new int[cap];
    }
    int i = keptCount++;
    while (i > 0 && keptIds[i - 1] > dimId[e]) {
      keptIds[i] = keptIds[i - 1];
      keptCounts[i] = keptCounts[i - 1];
      i--;
    }
    keptIds[i] = dimId[e];
    keptCounts[i] = dimBuilders[dimBuilder[e]];
  }

  private int findDimension(int id) {
    for (int i = 0; i < dimCount; i++) {
      if (dimId[i] == id) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Adds an entry for dimension {@code id}: the old payload at {@code off}, or none ({@code -1}).
   */
  private int addDimension(int id, int off, int len) {
    if (dimCount == dimId.length) {
      int cap = dimCount * 2;
      dimId = Arrays.copyOf(dimId, cap);
      dimOff = Arrays.copyOf(dimOff, cap);
      dimLen = Arrays.copyOf(dimLen, cap);
      dimBuilder = Arrays.copyOf(dimBuilder, cap);
      dimDistinct = Arrays.copyOf(dimDistinct, cap);
    }
    dimId[dimCount] = id;
    dimOff[dimCount] = off;
    dimLen[dimCount] = len;
    dimBuilder[dimCount] = -1;
    dimDistinct[dimCount] = -1;
    return dimCount++;
  }

  /** The builder of counting dimension entry {@code e}, empty when made. */
  private DimensionBuilder dimensionBuilder(int e) {
    if (dimBuilder[e] >= 0) {
      return dimBuilders[dimBuilder[e]];
    }
    if (dimBuildersUsed == dimBuilders.length) {
      dimBuilders = Arrays.copyOf(dimBuilders, Math.max(4, dimBuildersUsed * 2));
    }
    if (dimBuilders[dimBuildersUsed] == null) {
      dimBuilders[dimBuildersUsed] = new DimensionBuilder();
    }
    DimensionBuilder b = dimBuilders[dimBuildersUsed];
    b.clear();
    dimBuilder[e] = dimBuildersUsed++;
    return b;
  }

  /**
   * Decodes the old profile's counts into a builder per dimension, once per write: before the first
   * count, and before encoding when they hold a dimension dropped since.
   */
  private void decodeCounts() {
    if (countsDecoded) {
      return;
    }
    countsDecoded = true;
    if (oldCounts < 0) {
      return;
    }
    DayCounts c = countsCursor.reset(old, oldCounts);
    while (c.nextEntry()) {
      int e = findDimension(c.id());
      DimensionBuilder b = dimensionBuilder(e < 0 ? addDimension(c.id(), -1, 0) : e);
      while (c.nextPair()) {
        b.append(c.day(), c.category(), c.count()); // days come oldest first, so order holds
      }
    }
  }

  /** Whether the old profile's counts name only dimensions in force (and can be copied as are). */
  private boolean oldCountsCurrent() {
    DayCounts c = countsCursor.reset(old, oldCounts);
    while (c.nextEntry()) {
      if (dimensions.byId(c.id()) == null) {
        return false;
      }
    }
    return true;
  }

  /** Whether entry {@code e} goes into the new profile, its builder (if any) pruned already. */
  private boolean dimensionKept(int e) {
    return dimensions.byId(dimId[e]) != null
        && (dimBuilder[e] < 0 || dimBuilders[dimBuilder[e]].size() > 0)
        && (dimDistinct[e] < 0 || distinctBuilders[dimDistinct[e]].size() > 0);
  }

  // ---- producer marks

  /** The mark of the producer whose UTF-8 name is {@code utf8[off, off + len)}, or -1. */
  private int findMark(byte[] utf8, int off, int len) {
    for (int i = 0; i < markCount; i++) {
      int mo = markOff[i];
      if (markLen[i] == len && Arrays.equals(markSource(i), mo, mo + len, utf8, off, off + len)) {
        return i;
      }
    }
    return -1;
  }

  private byte[] markSource(int i) {
    return markSource[i] == FROM_OLD ? old : scratch.array();
  }

  /** Whether mark {@code i} has not advanced for longer than the limit's age: it is forgotten. */
  private boolean markExpired(int i) {
    return nowSecond - markSecond[i] > limits.producerMarkAgeSeconds();
  }

  /**
   * Makes room for one more mark: when the profile holds the most marks that are not expired,
   * forgets the one advanced least recently (the first of those, on a tie).
   */
  private void makeRoomForMark() {
    int live = 0;
    int stalest = -1;
    for (int i = 0; i < markCount; i++) {
      if (!markExpired(i)) {
        live++;
        if (stalest < 0 || markSecond[i] < markSecond[stalest]) {
          stalest = i;
        }
      }
    }
    if (live >= limits.producers()) {
      int tail = markCount - stalest - 1;
      System.arraycopy(markSource, stalest + 1, markSource, stalest, tail);
      System.arraycopy(markOff, stalest + 1, markOff, stalest, tail);
      System.arraycopy(markLen, stalest + 1, markLen, stalest, tail);
      System.arraycopy(markSeq, stalest + 1, markSeq, stalest, tail);
      System.arraycopy(markSecond, stalest + 1, markSecond, stalest, tail);
      markCount--;
    }
  }

  /** Adds a mark advanced now, copying the producer's name into scratch. */
  private void addNewMark(byte[] utf8, int off, int len, long seq) {
    int start = scratch.size();
    scratch.writeBytes(utf8, off, len);
    addMark(FROM_SCRATCH, start, len, seq, nowSecond);
  }

  private void addMark(int source, int off, int len, long seq, long second) {
    if (markCount == markOff.length) {
      int cap = markCount * 2;
      markSource = Arrays.copyOf(markSource, cap);
      markOff = Arrays.copyOf(markOff, cap);
      markLen = Arrays.copyOf(markLen, cap);
      markSeq = Arrays.copyOf(markSeq, cap);
      markSecond = Arrays.copyOf(markSecond, cap);
    }
    markSource[markCount] = source;
    markOff[markCount] = off;
    markLen[markCount] = len;
    markSeq[markCount] = seq;
    markSecond[markCount] = second;
    markCount++;
  }

  // ---- output

  private static final byte[] NO_BYTES = new byte[0];

  /**
   * Writes the new compact form straight into an array of its exact size, measured first: the array
   * handed out is the only one allocated, and nothing is copied into it twice.
   */
  private byte[] encode(byte[] key) {
    int oldest = today - retentionDays;
    int size = ByteSink.varintSize(key.length) + key.length + ByteSink.varintSize(attrCount);
    for (int i = 0; i < attrCount; i++) {
      size += ByteSink.varintSize(attrName[i]) + attrLen[i];
    }
    int live = 0;
    for (int i = 0; i < seriesCount; i++) {
      int bytes;
      if (seriesBuilder[i] >= 0) {
        SeriesBuilder b = builders[seriesBuilder[i]];
        b.prune(oldest);
        if (b.size() == 0) {
          continue;
        }
        bytes = b.encodedSize();
      } else {
        bytes = seriesLen[i];
      }
      size += ByteSink.varintSize(seriesEvent[i]) + bytes;
      live++;
    }
    int marks = 0;
    for (int i = 0; i < markCount; i++) {
      if (!markExpired(i)) {
        marks++;
        size +=
            ByteSink.varintSize(markLen[i])
                + markLen[i]
                + ByteSink.varintSize(markSeq[i])
                + ByteSink.varintSize(zigzag(markSecond[i]));
      }
    }
    size += ByteSink.varintSize(live) + ByteSink.varintSize(marks);
    if (!countsDecoded
        && oldCounts >= 0
        && oldCounts < old.length
        && dimensions.anyDropped()
        && !oldCountsCurrent()) {
      decodeCounts(); // a dimension was dropped: its counts go
    }
    int distinct = 0;
    keptCount = 0;
    for (int e = 0; e < dimCount; e++) {
      if (dimBuilder[e] >= 0) {
        dimBuilders[dimBuilder[e]].prune(oldest);
        if (dimensionKept(e)) {
          keep(e);
        }
        continue;
      }
      if (dimDistinct[e] >= 0) {
        DistinctBuilder b = distinctBuilders[dimDistinct[e]];
        b.prune(oldest);
        dimLen[e] = b.encodedSize();
      }
      if (dimensionKept(e)) {
        distinct++;
        size += ByteSink.varintSize(dimId[e]) + ByteSink.varintSize(dimLen[e]) + dimLen[e];
      }
    }
    int counts =
        countsDecoded
            ? DayCounts.encode(keptCounts, keptIds, keptCount, keptAt, null)
            : oldCounts < 0 ? 0 : old.length - oldCounts;
    if (distinct > 0 || counts > 0) {
      size += ByteSink.varintSize(distinct) + counts;
    }
    byte[] blob = new byte[size];
    out.wrap(blob);
    out.writeVarint(key.length);
    out.writeBytes(key, 0, key.length);
    out.writeVarint(attrCount);
    if (outAttrPos.length < attrCount) {
      outAttrPos = new int[attrName.length];
    }
    for (int i = 0; i < attrCount; i++) {
      out.writeVarint(attrName[i]);
      outAttrPos[i] = out.size();
      out.writeBytes(source(i), attrOff[i], attrLen[i]);
    }
    out.writeVarint(live);
    if (outSeriesEvent.length < live) {
      outSeriesEvent = new int[seriesEvent.length];
      outSeriesPos = new int[seriesEvent.length];
    }
    outSeriesCount = 0;
    for (int i = 0; i < seriesCount; i++) {
      if (seriesBuilder[i] >= 0) {
        SeriesBuilder b = builders[seriesBuilder[i]];
        if (b.size() > 0) {
          out.writeVarint(seriesEvent[i]);
          outSeriesEvent[outSeriesCount] = seriesEvent[i];
          outSeriesPos[outSeriesCount++] = out.size();
          b.encode(out);
        }
      } else {
        out.writeVarint(seriesEvent[i]);
        outSeriesEvent[outSeriesCount] = seriesEvent[i];
        outSeriesPos[outSeriesCount++] = out.size();
        out.writeBytes(old, seriesOff[i], seriesLen[i]);
      }
    }
    out.writeVarint(marks);
    for (int i = 0; i < markCount; i++) {
      if (!markExpired(i)) {
        out.writeVarint(markLen[i]);
        out.writeBytes(markSource(i), markOff[i], markLen[i]);
        out.writeVarint(markSeq[i]);
        out.writeZigzag(markSecond[i]);
      }
    }
    if (distinct > 0 || counts > 0) {
      out.writeVarint(distinct);
      for (int e = 0; e < dimCount; e++) {
        if (dimBuilder[e] < 0 && dimensionKept(e)) {
          out.writeVarint(dimId[e]);
          out.writeVarint(dimLen[e]);
          if (dimDistinct[e] >= 0) {
            distinctBuilders[dimDistinct[e]].encode(out);
          } else {
            out.writeBytes(old, dimOff[e], dimLen[e]);
          }
        }
      }
      if (countsDecoded) {
        DayCounts.encode(keptCounts, keptIds, keptCount, keptAt, out);
      } else if (counts > 0) {
        out.writeBytes(old, oldCounts, counts);
      }
    }
    int written = out.size();
    boolean inPlace = out.array() == blob;
    out.wrap(NO_BYTES); // the array is about to be published: never write to it again
    if (written != size || !inPlace) {
      throw new IllegalStateException(
          "encoded "
              + written
              + " bytes"
              + (inPlace ? "" : " past the array")
              + ", measured "
              + size);
    }
    return blob;
  }

  private static long zigzag(long v) {
    return (v << 1) ^ (v >> 63);
  }
}

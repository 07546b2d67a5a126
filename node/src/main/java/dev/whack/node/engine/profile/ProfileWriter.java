package dev.whack.node.engine.profile;

import dev.whack.node.engine.codec.ByteSink;
import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.event.Days;
import dev.whack.node.engine.event.SeriesBuilder;
import dev.whack.node.engine.event.SeriesCodec;
import dev.whack.proto.Attribute;
import dev.whack.proto.DayBucket;
import dev.whack.proto.Event;
import dev.whack.proto.EventSeries;
import dev.whack.proto.Increment;
import dev.whack.proto.ProducerMark;
import dev.whack.proto.Profile;
import dev.whack.proto.SetDelta;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * Builds the next compact form of a profile: from a whole {@link Profile}, or by applying an {@link
 * Update} to the current form. The current bytes are never modified; every check runs before the
 * new array exists, so a rejected update leaves nothing half-applied.
 *
 * <p>Unchanged attributes and event series are copied as byte slices of the old form; only the
 * parts an update touches are re-encoded, into a reused scratch buffer.
 *
 * <p>Concurrency: not thread-safe. Each writing thread owns one writer (the engine keeps one per
 * thread); the caller holds the profile's stripe lock while it runs.
 */
public final class ProfileWriter {
  private static final int FROM_OLD = 0;
  private static final int FROM_SCRATCH = 1;

  private final Dictionaries dict;
  private final int retentionDays;

  private byte[] old;
  private final ByteSink scratch = new ByteSink(256);
  private final ByteSink out = new ByteSink(512);

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

  private int markCount;
  private int[] markProducer = new int[4];
  private long[] markSeq = new long[4];

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

  public ProfileWriter(Dictionaries dict, int retentionDays) {
    this.dict = dict;
    this.retentionDays = retentionDays;
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

  /**
   * The compact form of {@code profile} under {@code key}: the profile replaces everything,
   * producer marks included. Buckets older than the retention are dropped.
   *
   * @throws InvalidProfileException when any part is unacceptable
   */
  public byte[] put(byte[] key, Profile profile, long nowMillis) {
    ProfileSink sink = startPut(nowMillis);
    for (Attribute a : profile.getAttributesList()) {
      Value v = a.getValue();
      switch (v.getKindCase()) {
        case STRING_VALUE -> sink.stringAttribute(a.getName(), v.getStringValue());
        case INT_VALUE -> sink.intAttribute(a.getName(), v.getIntValue());
        case FLOAT_VALUE -> sink.floatAttribute(a.getName(), v.getFloatValue());
        case BOOL_VALUE -> sink.boolAttribute(a.getName(), v.getBoolValue());
        case TIMESTAMP_MILLIS -> sink.timestampAttribute(a.getName(), v.getTimestampMillis());
        case STRING_SET -> sink.setAttribute(a.getName(), v.getStringSet().getValuesList());
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
      for (DayBucket d : s.getBucketsList()) {
        sink.bucket(s.getName(), d.getDay(), d.getCount(), d.getSum(), d.getSumSquares());
      }
      if (s.getBucketsCount() == 0) {
        Names.check("event", s.getName());
      }
    }
    for (ProducerMark m : profile.getProducersList()) {
      sink.producer(m.getProducer(), m.getSeq());
    }
    return finishPut(key);
  }

  /**
   * Starts a whole-profile write fed piece by piece through the returned sink (a parser streams
   * into it); {@link #finishPut} returns the compact form.
   */
  public ProfileSink startPut(long nowMillis) {
    reset(null);
    putToday = Days.dayOf(nowMillis);
    return putSink;
  }

  /** Ends the write begun by {@link #startPut}. */
  public byte[] finishPut(byte[] key) {
    return encode(key, putToday);
  }

  private int putToday;

  private final ProfileSink putSink =
      new ProfileSink() {
        private int attribute(String name) {
          Names.checkAttribute(name);
          int id = dict.attributes().intern(name);
          if (find(id) >= 0) {
            throw new InvalidProfileException("attribute \"" + name + "\" appears twice");
          }
          return id;
        }

        private void add(int id, int start) {
          addAttr(id, FROM_SCRATCH, start, scratch.size() - start);
        }

        @Override
        public void stringAttribute(String name, String value) {
          int id = attribute(name);
          int start = scratch.size();
          scratch.writeByte(ValueType.STRING);
          scratch.writeString(value);
          add(id, start);
        }

        @Override
        public void intAttribute(String name, long value) {
          int id = attribute(name);
          int start = scratch.size();
          scratch.writeByte(ValueType.INT);
          scratch.writeZigzag(value);
          add(id, start);
        }

        @Override
        public void floatAttribute(String name, double value) {
          int id = attribute(name);
          if (!Double.isFinite(value)) {
            throw new InvalidProfileException("attribute \"" + name + "\" is not a finite float");
          }
          int start = scratch.size();
          scratch.writeByte(ValueType.FLOAT);
          scratch.writeDouble(value);
          add(id, start);
        }

        @Override
        public void boolAttribute(String name, boolean value) {
          int id = attribute(name);
          int start = scratch.size();
          scratch.writeByte(value ? ValueType.TRUE : ValueType.FALSE);
          add(id, start);
        }

        @Override
        public void timestampAttribute(String name, long epochMillis) {
          int id = attribute(name);
          try {
            Timestamps.checkRange(epochMillis);
          } catch (IllegalArgumentException e) {
            throw new InvalidProfileException("attribute \"" + name + "\": " + e.getMessage());
          }
          int start = scratch.size();
          scratch.writeByte(ValueType.TIMESTAMP);
          scratch.writeZigzag(epochMillis);
          add(id, start);
        }

        @Override
        public void setAttribute(String name, List<String> values) {
          int id = attribute(name);
          if (values.size() > 1 && new HashSet<>(values).size() != values.size()) {
            values = List.copyOf(new java.util.LinkedHashSet<>(values));
          }
          int start = scratch.size();
          scratch.writeByte(ValueType.SET);
          scratch.writeVarint(values.size());
          for (String v : values) {
            scratch.writeString(v);
          }
          add(id, start);
        }

        @Override
        public void bucket(String event, int day, long count, double sum, double sumSquares) {
          Names.check("event", event);
          if (count < 0) {
            throw new InvalidProfileException(
                "event series \"" + event + "\" has a negative count on day " + day);
          }
          if (!Double.isFinite(sum) || !Double.isFinite(sumSquares)) {
            throw new InvalidProfileException(
                "event series \"" + event + "\" has a non-finite sum on day " + day);
          }
          if (day > putToday + 1) {
            throw new InvalidProfileException(
                "event series \""
                    + event
                    + "\" has day "
                    + day
                    + ", more than a day in the future");
          }
          int id = dict.events().intern(event);
          int i = findSeries(id);
          if (i < 0) {
            i = addSeries(id, -1, 0);
          }
          builderFor(i).add(day, count, sum, sumSquares);
        }

        @Override
        public void producer(String producer, long seq) {
          Names.check("producer", producer);
          if (seq < 0) {
            throw new InvalidProfileException("producer \"" + producer + "\" has a negative seq");
          }
          int id = dict.producers().intern(producer);
          if (findMark(id) >= 0) {
            throw new InvalidProfileException("producer \"" + producer + "\" appears twice");
          }
          addMark(id, seq);
        }
      };

  /**
   * The compact form after applying {@code update} to {@code current} (null: a new profile), or
   * null when the update is a replay (its seq is at or below the producer's mark).
   *
   * @throws InvalidProfileException when any part is unacceptable; nothing is applied
   */
  public byte[] apply(byte[] key, byte[] current, Update update, long nowMillis) {
    reset(current);
    int producer = -1;
    if (update.hasSeq() || !update.getProducer().isEmpty()) {
      if (update.getProducer().isEmpty() || !update.hasSeq()) {
        throw new InvalidProfileException("\"producer\" and \"seq\" go together");
      }
      if (update.getSeq() < 0) {
        throw new InvalidProfileException("\"seq\" must not be negative");
      }
      Names.check("producer", update.getProducer());
      producer = dict.producers().intern(update.getProducer());
      int m = findMark(producer);
      if (m >= 0 && update.getSeq() <= markSeq[m]) {
        return null;
      }
    }
    for (Attribute a : update.getSetList()) {
      Names.checkAttribute(a.getName());
      int id = dict.attributes().intern(a.getName());
      int start = encodeValue(a.getName(), a.getValue());
      replaceAttr(id, start, scratch.size() - start);
    }
    for (String name : update.getUnsetList()) {
      int id = dict.attributes().idOf(name);
      int i = id < 0 ? -1 : find(id);
      if (i >= 0) {
        removeAttr(i);
        touchAttr(id);
      }
    }
    for (Increment inc : update.getIncrList()) {
      increment(inc);
    }
    for (SetDelta d : update.getAddList()) {
      changeSet(d, true);
    }
    for (SetDelta d : update.getRemoveList()) {
      changeSet(d, false);
    }
    int today = Days.dayOf(nowMillis);
    for (Event e : update.getEventsList()) {
      record(e, nowMillis, today);
    }
    if (producer >= 0) {
      int m = findMark(producer);
      if (m >= 0) {
        markSeq[m] = update.getSeq();
      } else {
        addMark(producer, update.getSeq());
      }
    }
    return encode(key, today);
  }

  private void reset(byte[] current) {
    old = current;
    scratch.clear();
    attrCount = 0;
    seriesCount = 0;
    buildersUsed = 0;
    markCount = 0;
    touchedAttrCount = 0;
    touchedEventCount = 0;
    if (current == null) {
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
      int id = Bytes.varintInt(current, pos);
      pos = Bytes.next(current, pos);
      addMark(id, Bytes.varint(current, pos));
      pos = Bytes.next(current, pos);
    }
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

  /** Encodes a value into scratch after validating it; returns its start. */
  private int encodeValue(String name, Value v) {
    int start = scratch.size();
    switch (v.getKindCase()) {
      case STRING_VALUE -> {
        scratch.writeByte(ValueType.STRING);
        scratch.writeString(v.getStringValue());
      }
      case INT_VALUE -> {
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(v.getIntValue());
      }
      case FLOAT_VALUE -> {
        if (!Double.isFinite(v.getFloatValue())) {
          throw new InvalidProfileException("attribute \"" + name + "\" is not a finite float");
        }
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(v.getFloatValue());
      }
      case BOOL_VALUE -> scratch.writeByte(v.getBoolValue() ? ValueType.TRUE : ValueType.FALSE);
      case TIMESTAMP_MILLIS -> {
        try {
          Timestamps.checkRange(v.getTimestampMillis());
        } catch (IllegalArgumentException e) {
          throw new InvalidProfileException("attribute \"" + name + "\": " + e.getMessage());
        }
        scratch.writeByte(ValueType.TIMESTAMP);
        scratch.writeZigzag(v.getTimestampMillis());
      }
      case STRING_SET -> {
        List<String> values = v.getStringSet().getValuesList();
        if (values.size() > 1 && new HashSet<>(values).size() != values.size()) {
          values = List.copyOf(new java.util.LinkedHashSet<>(values));
        }
        scratch.writeByte(ValueType.SET);
        scratch.writeVarint(values.size());
        for (String s : values) {
          scratch.writeString(s);
        }
      }
      case KIND_NOT_SET ->
          throw new InvalidProfileException(
              "attribute \"" + name + "\" has a value without a type");
    }
    return start;
  }

  private void increment(Increment inc) {
    String name = inc.getName();
    Names.checkAttribute(name);
    int id = dict.attributes().intern(name);
    boolean floatDelta = inc.getDeltaCase() == Increment.DeltaCase.FLOAT_DELTA;
    if (floatDelta && !Double.isFinite(inc.getFloatDelta())) {
      throw new InvalidProfileException("increment of \"" + name + "\" is not a finite number");
    }
    int i = find(id);
    int start = scratch.size();
    if (i < 0) {
      if (floatDelta) {
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(inc.getFloatDelta());
      } else {
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(inc.getIntDelta());
      }
    } else {
      byte[] src = source(i);
      int pos = attrOff[i];
      int type = src[pos];
      if (type == ValueType.INT) {
        if (floatDelta) {
          throw new InvalidProfileException(
              "cannot increment integer attribute \""
                  + name
                  + "\" by a float; send an integer delta");
        }
        long next;
        try {
          next = Math.addExact(Bytes.zigzag(src, pos + 1), inc.getIntDelta());
        } catch (ArithmeticException e) {
          throw new InvalidProfileException("incrementing \"" + name + "\" overflows 64 bits");
        }
        scratch.writeByte(ValueType.INT);
        scratch.writeZigzag(next);
      } else if (type == ValueType.FLOAT) {
        double next =
            Bytes.float64(src, pos + 1)
                + (floatDelta ? inc.getFloatDelta() : (double) inc.getIntDelta());
        if (!Double.isFinite(next)) {
          throw new InvalidProfileException("incrementing \"" + name + "\" overflows a float");
        }
        scratch.writeByte(ValueType.FLOAT);
        scratch.writeDouble(next);
      } else {
        throw new InvalidProfileException(
            "cannot increment attribute \"" + name + "\": it holds " + ValueType.describe(type));
      }
    }
    replaceAttr(id, start, scratch.size() - start);
  }

  private void changeSet(SetDelta d, boolean add) {
    String name = d.getName();
    Names.checkAttribute(name);
    int id = add ? dict.attributes().intern(name) : dict.attributes().idOf(name);
    int i = id < 0 ? -1 : find(id);
    if (i < 0 && !add) {
      return;
    }
    byte[][] delta = new byte[d.getValuesCount()][];
    for (int k = 0; k < delta.length; k++) {
      delta[k] = d.getValues(k).getBytes(StandardCharsets.UTF_8);
    }
    byte[] src = null;
    int n = 0;
    int first = 0;
    if (i >= 0) {
      src = source(i);
      int pos = attrOff[i];
      if (src[pos] != ValueType.SET) {
        throw new InvalidProfileException(
            "cannot "
                + (add ? "add to" : "remove from")
                + " attribute \""
                + name
                + "\": it holds "
                + ValueType.describe(src[pos]));
      }
      n = Bytes.varintInt(src, pos + 1);
      first = Bytes.next(src, pos + 1);
    }
    // Which old elements stay, and which delta elements are new.
    boolean[] keep = new boolean[n];
    boolean[] fresh = new boolean[delta.length];
    int count = 0;
    int p = first;
    for (int e = 0; e < n; e++) {
      int len = Bytes.varintInt(src, p);
      int s = Bytes.next(src, p);
      boolean inDelta = false;
      for (byte[] x : delta) {
        if (Arrays.equals(src, s, s + len, x, 0, x.length)) {
          inDelta = true;
          break;
        }
      }
      keep[e] = add || !inDelta;
      count += keep[e] ? 1 : 0;
      p = s + len;
    }
    if (add) {
      for (int k = 0; k < delta.length; k++) {
        boolean present = false;
        p = first;
        for (int e = 0; e < n && !present; e++) {
          int len = Bytes.varintInt(src, p);
          int s = Bytes.next(src, p);
          present = Arrays.equals(src, s, s + len, delta[k], 0, delta[k].length);
          p = s + len;
        }
        for (int j = 0; j < k && !present; j++) {
          present = fresh[j] && Arrays.equals(delta[j], delta[k]);
        }
        fresh[k] = !present;
        count += fresh[k] ? 1 : 0;
      }
    }
    int start = scratch.size();
    scratch.writeByte(ValueType.SET);
    scratch.writeVarint(count);
    p = first;
    for (int e = 0; e < n; e++) {
      int end = Bytes.skipString(src, p);
      if (keep[e]) {
        scratch.writeBytes(src, p, end - p);
      }
      p = end;
    }
    for (int k = 0; k < delta.length; k++) {
      if (fresh[k]) {
        scratch.writeVarint(delta[k].length);
        scratch.writeBytes(delta[k], 0, delta[k].length);
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

  private void record(Event e, long nowMillis, int today) {
    Names.check("event", e.getName());
    long time = e.hasTimeMillis() ? e.getTimeMillis() : nowMillis;
    int day = Days.dayOf(time);
    if (day > today + 1) {
      throw new InvalidProfileException(
          "event \"" + e.getName() + "\" at " + time + " ms is more than a day in the future");
    }
    double sum = 0;
    double squares = 0;
    if (e.hasValue()) {
      sum = e.getValue();
      squares = sum * sum;
      if (!Double.isFinite(squares)) {
        throw new InvalidProfileException(
            "event \"" + e.getName() + "\" has a value too large to square");
      }
    }
    if (day < today - retentionDays) {
      return; // older than retention: acknowledged, nothing to keep
    }
    int id = dict.events().intern(e.getName());
    int i = findSeries(id);
    if (i < 0) {
      i = addSeries(id, -1, 0);
    }
    builderFor(i).add(day, 1, sum, squares);
    for (int k = 0; k < touchedEventCount; k++) {
      if (touchedEvents[k] == id) {
        return;
      }
    }
    if (touchedEventCount == touchedEvents.length) {
      touchedEvents = Arrays.copyOf(touchedEvents, touchedEventCount * 2);
    }
    touchedEvents[touchedEventCount++] = id;
  }

  // ---- producer marks

  private int findMark(int producer) {
    for (int i = 0; i < markCount; i++) {
      if (markProducer[i] == producer) {
        return i;
      }
    }
    return -1;
  }

  private void addMark(int producer, long seq) {
    if (markCount == markProducer.length) {
      markProducer = Arrays.copyOf(markProducer, markCount * 2);
      markSeq = Arrays.copyOf(markSeq, markCount * 2);
    }
    markProducer[markCount] = producer;
    markSeq[markCount] = seq;
    markCount++;
  }

  // ---- output

  private byte[] encode(byte[] key, int today) {
    out.clear();
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
    int oldest = today - retentionDays;
    int live = 0;
    for (int i = 0; i < seriesCount; i++) {
      if (seriesBuilder[i] >= 0) {
        SeriesBuilder b = builders[seriesBuilder[i]];
        b.prune(oldest);
        if (b.size() == 0) {
          continue;
        }
      }
      live++;
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
    out.writeVarint(markCount);
    for (int i = 0; i < markCount; i++) {
      out.writeVarint(markProducer[i]);
      out.writeVarint(markSeq[i]);
    }
    return out.toArray();
  }
}

package dev.whack.node.engine.profile;

import dev.whack.proto.Attribute;
import dev.whack.proto.Event;
import dev.whack.proto.Increment;
import dev.whack.proto.SetDelta;
import dev.whack.proto.StringSet;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;

/**
 * The operations of one partial update in a flat, reusable form: what {@link ProfileWriter#apply}
 * executes. The Update JSON reader fills it straight from the request bytes, and a protobuf {@link
 * Update} is loaded into it ({@link #load}), so both forms run the same code; one instance per
 * writing thread, cleared and refilled for every update, so that steady state allocates nothing.
 *
 * <p>Every string (names, string values, set elements) is a numbered <em>text</em>: a UTF-8 slice
 * of one growing buffer. A name that came from a Java caller also keeps its {@code String}, so the
 * name tables see exactly that string (it may hold unpaired surrogates, which UTF-8 cannot carry).
 * Values are not validated here: the writer checks everything in the documented order.
 *
 * <p>Concurrency: not thread-safe; owned by one thread.
 */
public final class UpdateOps {
  /** Kind of a {@code set} value that came without a type (protobuf only); rejected on apply. */
  public static final int UNTYPED = -1;

  // texts
  byte[] text = new byte[256];
  int textSize;
  int textCount;
  int[] textOff = new int[32];
  int[] textLen = new int[32];
  String[] textJava = new String[32];

  // set: kind is a ValueType (TRUE/FALSE for booleans) or UNTYPED
  int setCount;
  int[] setName = new int[8];
  int[] setKind = new int[8];
  long[] setBits = new long[8]; // integer, timestamp millis or raw float bits
  int[] setFirst = new int[8]; // STRING: the text; SET: the first element's text
  int[] setSize = new int[8]; // SET: number of elements (consecutive texts)

  int unsetCount;
  int[] unsetName = new int[4];

  int incrCount;
  int[] incrName = new int[4];
  boolean[] incrFloat = new boolean[4];
  long[] incrBits = new long[4];

  int addCount;
  int[] addName = new int[4];
  int[] addFirst = new int[4];
  int[] addSize = new int[4];

  int removeCount;
  int[] removeName = new int[4];
  int[] removeFirst = new int[4];
  int[] removeSize = new int[4];

  int eventCount;
  int[] eventName = new int[4];
  boolean[] eventHasTime = new boolean[4];
  long[] eventTime = new long[4];
  boolean[] eventHasValue = new boolean[4];
  double[] eventValue = new double[4];
  int[] eventPropFirst = new int[4]; // the event's properties: [first, first + count)
  int[] eventPropCount = new int[4];

  // event properties, in event order; kind and payload as for set
  int propCount;
  int[] propName = new int[4];
  int[] propKind = new int[4];
  long[] propBits = new long[4];
  int[] propFirst = new int[4];
  int[] propSize = new int[4];
  int propsClaimed; // properties before this one belong to an event already

  int producer = -1;
  boolean hasSeq;
  long seq;

  /** Forgets the previous update. */
  public UpdateOps clear() {
    if (textCount > 0) {
      Arrays.fill(textJava, 0, textCount, null);
    }
    textSize = 0;
    textCount = 0;
    setCount = 0;
    unsetCount = 0;
    incrCount = 0;
    addCount = 0;
    removeCount = 0;
    eventCount = 0;
    propCount = 0;
    propsClaimed = 0;
    producer = -1;
    hasSeq = false;
    seq = 0;
    return this;
  }

  // ------------------------------------------------------------------ texts

  /** Adds well-formed UTF-8 bytes as the next text; returns its number. */
  public int text(byte[] utf8, int off, int len) {
    int t = newText(len);
    System.arraycopy(utf8, off, text, textOff[t], len);
    return t;
  }

  /**
   * Adds the next text with room for {@code len} bytes at {@link #textBuffer()}{@code [}{@link
   * #textOffset}{@code (t)]}, for a caller that decodes into place; returns its number.
   */
  public int newText(int len) {
    if (textCount == textOff.length) {
      int cap = textCount * 2;
      textOff = Arrays.copyOf(textOff, cap);
      textLen = Arrays.copyOf(textLen, cap);
      textJava = Arrays.copyOf(textJava, cap);
    }
    if (textSize + len > text.length) {
      text = Arrays.copyOf(text, Math.max(text.length * 2, textSize + len));
    }
    textOff[textCount] = textSize;
    textLen[textCount] = len;
    textSize += len;
    return textCount++;
  }

  /** Shortens the last text (after decoding escapes into room that was an upper bound). */
  public void shortenLastText(int len) {
    int t = textCount - 1;
    textSize = textOff[t] + len;
    textLen[t] = len;
  }

  /** Adds a name as given by a Java caller (kept as the string itself). */
  public int name(String name) {
    int t = utf8(name);
    textJava[t] = name;
    return t;
  }

  /** Adds a string value as its UTF-8 bytes (unpaired surrogates become '?', as String does). */
  public int utf8(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return text(b, 0, b.length);
      }
    }
    int t = newText(n);
    int off = textOff[t];
    for (int i = 0; i < n; i++) {
      text[off + i] = (byte) s.charAt(i);
    }
    return t;
  }

  public byte[] textBuffer() {
    return text;
  }

  public int textOffset(int t) {
    return textOff[t];
  }

  public int textLength(int t) {
    return textLen[t];
  }

  /** Number of texts added so far (the number the next one gets). */
  public int textCount() {
    return textCount;
  }

  /** Whether two texts hold the same bytes. */
  public boolean sameText(int a, int b) {
    int la = textLen[a];
    return la == textLen[b]
        && Arrays.equals(text, textOff[a], textOff[a] + la, text, textOff[b], textOff[b] + la);
  }

  /** Whether text {@code t} holds exactly the ASCII characters of {@code s}. */
  public boolean textIs(int t, String s) {
    int len = textLen[t];
    if (len != s.length()) {
      return false;
    }
    int off = textOff[t];
    for (int i = 0; i < len; i++) {
      if (text[off + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** The text as a string (the caller's own string for a Java name). */
  public String string(int t) {
    String s = textJava[t];
    return s != null ? s : new String(text, textOff[t], textLen[t], StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ operations

  private int nextSet() {
    if (setCount == setName.length) {
      int cap = setCount * 2;
      setName = Arrays.copyOf(setName, cap);
      setKind = Arrays.copyOf(setKind, cap);
      setBits = Arrays.copyOf(setBits, cap);
      setFirst = Arrays.copyOf(setFirst, cap);
      setSize = Arrays.copyOf(setSize, cap);
    }
    return setCount++;
  }

  private void set(int name, int kind, long bits, int first, int size) {
    int i = nextSet();
    setName[i] = name;
    setKind[i] = kind;
    setBits[i] = bits;
    setFirst[i] = first;
    setSize[i] = size;
  }

  public void setString(int name, int value) {
    set(name, ValueType.STRING, 0, value, 0);
  }

  public void setInt(int name, long value) {
    set(name, ValueType.INT, value, 0, 0);
  }

  public void setFloat(int name, double value) {
    set(name, ValueType.FLOAT, Double.doubleToRawLongBits(value), 0, 0);
  }

  public void setBool(int name, boolean value) {
    set(name, value ? ValueType.TRUE : ValueType.FALSE, 0, 0, 0);
  }

  public void setTimestamp(int name, long epochMillis) {
    set(name, ValueType.TIMESTAMP, epochMillis, 0, 0);
  }

  /** A string set of the {@code count} consecutive texts from {@code first}; duplicates allowed. */
  public void setSet(int name, int first, int count) {
    set(name, ValueType.SET, 0, first, count);
  }

  public int setCount() {
    return setCount;
  }

  public int setName(int i) {
    return setName[i];
  }

  /**
   * Drops the {@code set} operations from {@code setCount} on and the texts from {@code textCount}
   * on (a reader that only validated them, such as event properties).
   */
  public void truncate(int setCount, int textCount) {
    this.setCount = setCount;
    if (textCount < this.textCount) {
      Arrays.fill(textJava, textCount, this.textCount, null);
      textSize = textCount == 0 ? 0 : textOff[textCount - 1] + textLen[textCount - 1];
      this.textCount = textCount;
    }
  }

  public void unset(int name) {
    if (unsetCount == unsetName.length) {
      unsetName = Arrays.copyOf(unsetName, unsetCount * 2);
    }
    unsetName[unsetCount++] = name;
  }

  private int nextIncr() {
    if (incrCount == incrName.length) {
      int cap = incrCount * 2;
      incrName = Arrays.copyOf(incrName, cap);
      incrFloat = Arrays.copyOf(incrFloat, cap);
      incrBits = Arrays.copyOf(incrBits, cap);
    }
    return incrCount++;
  }

  public void incrInt(int name, long delta) {
    int i = nextIncr();
    incrName[i] = name;
    incrFloat[i] = false;
    incrBits[i] = delta;
  }

  public void incrFloat(int name, double delta) {
    int i = nextIncr();
    incrName[i] = name;
    incrFloat[i] = true;
    incrBits[i] = Double.doubleToRawLongBits(delta);
  }

  public int incrCount() {
    return incrCount;
  }

  public int incrName(int i) {
    return incrName[i];
  }

  /** Adds the {@code count} consecutive texts from {@code first} to set attribute {@code name}. */
  public void add(int name, int first, int count) {
    if (addCount == addName.length) {
      int cap = addCount * 2;
      addName = Arrays.copyOf(addName, cap);
      addFirst = Arrays.copyOf(addFirst, cap);
      addSize = Arrays.copyOf(addSize, cap);
    }
    addName[addCount] = name;
    addFirst[addCount] = first;
    addSize[addCount++] = count;
  }

  public int addCount() {
    return addCount;
  }

  public int addName(int i) {
    return addName[i];
  }

  /** Removes the {@code count} consecutive texts from {@code first} from attribute {@code name}. */
  public void remove(int name, int first, int count) {
    if (removeCount == removeName.length) {
      int cap = removeCount * 2;
      removeName = Arrays.copyOf(removeName, cap);
      removeFirst = Arrays.copyOf(removeFirst, cap);
      removeSize = Arrays.copyOf(removeSize, cap);
    }
    removeName[removeCount] = name;
    removeFirst[removeCount] = first;
    removeSize[removeCount++] = count;
  }

  public int removeCount() {
    return removeCount;
  }

  public int removeName(int i) {
    return removeName[i];
  }

  /**
   * An event.
   *
   * @param hasTime false: at the node's current time
   * @param hasValue false: counts without adding to sum and sum of squares
   */
  public void event(int name, boolean hasTime, long timeMillis, boolean hasValue, double value) {
    if (eventCount == eventName.length) {
      int cap = eventCount * 2;
      eventName = Arrays.copyOf(eventName, cap);
      eventHasTime = Arrays.copyOf(eventHasTime, cap);
      eventTime = Arrays.copyOf(eventTime, cap);
      eventHasValue = Arrays.copyOf(eventHasValue, cap);
      eventValue = Arrays.copyOf(eventValue, cap);
      eventPropFirst = Arrays.copyOf(eventPropFirst, cap);
      eventPropCount = Arrays.copyOf(eventPropCount, cap);
    }
    eventName[eventCount] = name;
    eventHasTime[eventCount] = hasTime;
    eventTime[eventCount] = timeMillis;
    eventHasValue[eventCount] = hasValue;
    eventValue[eventCount] = value;
    eventPropFirst[eventCount] = propsClaimed;
    eventPropCount[eventCount++] = propCount - propsClaimed;
    propsClaimed = propCount;
  }

  /**
   * A property of the next event ({@link #event} claims the properties added since the previous
   * one), typed as a {@code set} value is: {@code kind} a {@link ValueType}, {@code bits} an
   * integer, timestamp or raw float bits, {@code first} and {@code size} the text (STRING) or the
   * element texts (SET).
   */
  public void eventProperty(int name, int kind, long bits, int first, int size) {
    if (propCount == propName.length) {
      int cap = propCount * 2;
      propName = Arrays.copyOf(propName, cap);
      propKind = Arrays.copyOf(propKind, cap);
      propBits = Arrays.copyOf(propBits, cap);
      propFirst = Arrays.copyOf(propFirst, cap);
      propSize = Arrays.copyOf(propSize, cap);
    }
    propName[propCount] = name;
    propKind[propCount] = kind;
    propBits[propCount] = bits;
    propFirst[propCount] = first;
    propSize[propCount++] = size;
  }

  /**
   * Turns the {@code set} operations from {@code from} on into properties of the next event (a
   * reader that parsed the event's properties as it parses attributes).
   */
  public void setsToEventProperties(int from) {
    for (int i = from; i < setCount; i++) {
      eventProperty(setName[i], setKind[i], setBits[i], setFirst[i], setSize[i]);
    }
    setCount = from;
  }

  /** The producer of a sequenced update; an empty name means none, as in protobuf. */
  public void producer(int name) {
    producer = name;
  }

  public void seq(long seq) {
    this.hasSeq = true;
    this.seq = seq;
  }

  boolean hasProducer() {
    return producer >= 0 && textLen[producer] > 0;
  }

  // ------------------------------------------------------------------ protobuf

  /** Clears, then loads a protobuf update (every check is left to the writer). */
  public UpdateOps load(Update u) {
    clear();
    for (int i = 0; i < u.getSetCount(); i++) {
      Attribute a = u.getSet(i);
      load(name(a.getName()), a.getValue());
    }
    for (int i = 0; i < u.getUnsetCount(); i++) {
      unset(name(u.getUnset(i)));
    }
    for (int i = 0; i < u.getIncrCount(); i++) {
      Increment inc = u.getIncr(i);
      if (inc.getDeltaCase() == Increment.DeltaCase.FLOAT_DELTA) {
        incrFloat(name(inc.getName()), inc.getFloatDelta());
      } else {
        incrInt(name(inc.getName()), inc.getIntDelta());
      }
    }
    for (int i = 0; i < u.getAddCount(); i++) {
      SetDelta d = u.getAdd(i);
      int name = name(d.getName());
      int first = textCount;
      for (int k = 0; k < d.getValuesCount(); k++) {
        utf8(d.getValues(k));
      }
      add(name, first, d.getValuesCount());
    }
    for (int i = 0; i < u.getRemoveCount(); i++) {
      SetDelta d = u.getRemove(i);
      int name = name(d.getName());
      int first = textCount;
      for (int k = 0; k < d.getValuesCount(); k++) {
        utf8(d.getValues(k));
      }
      remove(name, first, d.getValuesCount());
    }
    for (int i = 0; i < u.getEventsCount(); i++) {
      Event e = u.getEvents(i);
      for (int k = 0; k < e.getPropertiesCount(); k++) {
        Attribute a = e.getProperties(k);
        int from = setCount;
        load(name(a.getName()), a.getValue());
        setsToEventProperties(from);
      }
      event(name(e.getName()), e.hasTimeMillis(), e.getTimeMillis(), e.hasValue(), e.getValue());
    }
    if (!u.getProducer().isEmpty()) {
      producer(name(u.getProducer()));
    }
    if (u.hasSeq()) {
      seq(u.getSeq());
    }
    return this;
  }

  /** A protobuf attribute value as a {@code set} operation of attribute text {@code name}. */
  private void load(int name, Value v) {
    switch (v.getKindCase()) {
      case STRING_VALUE -> setString(name, utf8(v.getStringValue()));
      case INT_VALUE -> setInt(name, v.getIntValue());
      case FLOAT_VALUE -> setFloat(name, v.getFloatValue());
      case BOOL_VALUE -> setBool(name, v.getBoolValue());
      case TIMESTAMP_MILLIS -> setTimestamp(name, v.getTimestampMillis());
      case STRING_SET -> {
        StringSet s = v.getStringSet();
        int first = textCount;
        for (int k = 0; k < s.getValuesCount(); k++) {
          utf8(s.getValues(k));
        }
        setSet(name, first, s.getValuesCount());
      }
      case KIND_NOT_SET -> set(name, UNTYPED, 0, 0, 0);
    }
  }

  /**
   * These operations as a protobuf update, for tests and diagnostics: set elements and deltas
   * without duplicates (as the JSON reader has always given them).
   */
  public Update toProto() {
    Update.Builder b = Update.newBuilder();
    for (int i = 0; i < setCount; i++) {
      b.addSet(
          Attribute.newBuilder()
              .setName(string(setName[i]))
              .setValue(value(setKind[i], setBits[i], setFirst[i], setSize[i])));
    }
    for (int i = 0; i < unsetCount; i++) {
      b.addUnset(string(unsetName[i]));
    }
    for (int i = 0; i < incrCount; i++) {
      Increment.Builder inc = Increment.newBuilder().setName(string(incrName[i]));
      if (incrFloat[i]) {
        inc.setFloatDelta(Double.longBitsToDouble(incrBits[i]));
      } else {
        inc.setIntDelta(incrBits[i]);
      }
      b.addIncr(inc);
    }
    for (int i = 0; i < addCount; i++) {
      b.addAdd(
          SetDelta.newBuilder()
              .setName(string(addName[i]))
              .addAllValues(strings(addFirst[i], addSize[i])));
    }
    for (int i = 0; i < removeCount; i++) {
      b.addRemove(
          SetDelta.newBuilder()
              .setName(string(removeName[i]))
              .addAllValues(strings(removeFirst[i], removeSize[i])));
    }
    for (int i = 0; i < eventCount; i++) {
      Event.Builder e = Event.newBuilder().setName(string(eventName[i]));
      if (eventHasTime[i]) {
        e.setTimeMillis(eventTime[i]);
      }
      if (eventHasValue[i]) {
        e.setValue(eventValue[i]);
      }
      for (int k = eventPropFirst[i]; k < eventPropFirst[i] + eventPropCount[i]; k++) {
        e.addProperties(
            Attribute.newBuilder()
                .setName(string(propName[k]))
                .setValue(value(propKind[k], propBits[k], propFirst[k], propSize[k])));
      }
      b.addEvents(e);
    }
    if (producer >= 0) {
      b.setProducer(string(producer));
    }
    if (hasSeq) {
      b.setSeq(seq);
    }
    return b.build();
  }

  private Value value(int kind, long bits, int first, int size) {
    Value.Builder v = Value.newBuilder();
    switch (kind) {
      case ValueType.STRING -> v.setStringValue(string(first));
      case ValueType.INT -> v.setIntValue(bits);
      case ValueType.FLOAT -> v.setFloatValue(Double.longBitsToDouble(bits));
      case ValueType.TRUE, ValueType.FALSE -> v.setBoolValue(kind == ValueType.TRUE);
      case ValueType.TIMESTAMP -> v.setTimestampMillis(bits);
      case ValueType.SET ->
          v.setStringSet(StringSet.newBuilder().addAllValues(strings(first, size)));
      default -> {
        // untyped: an empty Value
      }
    }
    return v.build();
  }

  private LinkedHashSet<String> strings(int first, int count) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (int k = first; k < first + count; k++) {
      out.add(string(k));
    }
    return out;
  }

  @Override
  public String toString() {
    return toProto().toString();
  }
}

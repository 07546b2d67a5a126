package dev.whack.node.engine.profile;

/**
 * Receives a whole profile piece by piece, so that a parser can feed the compact writer directly
 * without building an intermediate message. Implementations validate as they go and throw {@link
 * InvalidProfileException} on the first unacceptable piece.
 *
 * <p>The calls follow the shape of Profile JSON, as a JSON generator's do: {@code attribute} names
 * the attribute that the next value sets, exactly one value follows (a scalar, or {@code startSet},
 * any number of {@code element}s and {@code endSet}); {@code event} names the series the {@code
 * bucket}s that follow belong to; {@code producer} is whole. So names are given once and a set
 * needs no list.
 *
 * <p>Text comes in two forms. A reader of bytes passes slices of well-formed UTF-8, which stay
 * unchanged until the call that completes their piece (the value after a name, the buckets after an
 * event) returns; nothing is decoded to a {@code String}. A Java caller passes strings, kept as
 * they are for names (a Java string may hold unpaired surrogates, which UTF-8 cannot carry; see
 * {@link NameTable}).
 */
public interface ProfileSink {
  /** Names the attribute the next value sets. */
  void attribute(byte[] utf8, int off, int len);

  /** Names the attribute the next value sets. */
  void attribute(String name);

  void stringValue(byte[] utf8, int off, int len);

  void stringValue(String value);

  void intValue(long value);

  void floatValue(double value);

  void boolValue(boolean value);

  void timestampValue(long epochMillis);

  /** Starts a string set value: its elements follow, then {@link #endSet}. */
  void startSet();

  /** An element of the set being given; duplicates are dropped. */
  void element(byte[] utf8, int off, int len);

  /** An element of the set being given; duplicates are dropped. */
  void element(String value);

  void endSet();

  /** Names the event series the next buckets belong to. */
  void event(byte[] utf8, int off, int len);

  /** Names the event series the next buckets belong to. */
  void event(String name);

  /**
   * One day bucket of the current event series without min and max (docs/profiles.md says what that
   * means); days of one series may come in any order.
   */
  void bucket(int day, long count, double sum, double sumSquares);

  /**
   * A count of the profile in a dimension: {@code count} events of {@code category} on {@code day}.
   * A dimension the node does not define (or a numeric bucket it does not have) is not kept.
   */
  void dimensionCount(String dimension, int day, String category, long count);

  /** One day bucket with the min and max of its valued events. */
  void bucket(int day, long count, double sum, double sumSquares, double min, double max);

  /** The current event series' first and last event times, epoch ms. */
  void times(long firstMillis, long lastMillis);

  /**
   * A day of the profile's values in a distinct dimension: {@code body} is the day's encoded set or
   * sketch ({@link dev.whack.node.engine.dimension.DistinctCodec}). A dimension the node does not
   * define is not kept; a day given twice keeps the union.
   */
  void dimensionSketch(String dimension, int day, byte[] body);

  void producer(byte[] utf8, int off, int len, long seq);

  void producer(String producer, long seq);
}

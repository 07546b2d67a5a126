package dev.whack.node.engine.profile;

import java.util.List;

/**
 * Receives a whole profile piece by piece, so that a parser can feed the compact writer directly
 * without building an intermediate message. Implementations validate as they go and throw {@link
 * InvalidProfileException} on the first unacceptable piece.
 */
public interface ProfileSink {
  void stringAttribute(String name, String value);

  void intAttribute(String name, long value);

  void floatAttribute(String name, double value);

  void boolAttribute(String name, boolean value);

  void timestampAttribute(String name, long epochMillis);

  /** A string set; {@code values} may hold duplicates, which are dropped. */
  void setAttribute(String name, List<String> values);

  /** One day bucket of an event series; days of one series may come in any order. */
  void bucket(String event, int day, long count, double sum, double sumSquares);

  void producer(String producer, long seq);
}

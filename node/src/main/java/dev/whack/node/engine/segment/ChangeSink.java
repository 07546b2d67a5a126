package dev.whack.node.engine.segment;

/** Receives what {@link Subscription#next} reads: one change, or how many were lost before it. */
public interface ChangeSink {
  /**
   * A segment change. {@code key} holds the profile key in its first {@code keyLength} bytes and is
   * reused after the call returns.
   */
  void change(
      String segment,
      byte[] segmentUtf8,
      byte[] key,
      int keyLength,
      boolean enter,
      long timeMillis);

  /** {@code count} changes of the watched segments were dropped here: the reader was lapped. */
  void missed(long count);
}

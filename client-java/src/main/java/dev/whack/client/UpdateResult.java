package dev.whack.client;

/** What the node did with an update. */
public enum UpdateResult {
  /** Applied ({@code UPDATED}). */
  UPDATED,
  /**
   * Acknowledged and not applied again: its producer's sequence was at or below the high-water mark
   * for this profile ({@code IGNORED}).
   */
  IGNORED
}

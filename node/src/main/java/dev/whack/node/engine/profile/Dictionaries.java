package dev.whack.node.engine.profile;

import dev.whack.node.engine.codec.Bytes;
import dev.whack.node.engine.dimension.DimensionRegistry;
import dev.whack.node.engine.event.SeriesCodec;

/**
 * The node's two name tables, attributes and events, and its dimensions. Ids are node-local and
 * never written outside the node: every external form (JSON, protobuf) carries names. Producer
 * names are not interned: each profile keeps its producers' names in its own marks.
 *
 * <p>Concurrency: see {@link NameTable}; this holder is immutable.
 */
public record Dictionaries(NameTable attributes, NameTable events, DimensionRegistry dimensions) {
  /**
   * @param maxNames most attribute names in use at once, and separately most event names
   * @param retentionDays days of event history kept (the dimensions' population keeps as many)
   */
  public static Dictionaries create(int maxNames, int retentionDays) {
    return new Dictionaries(
        new NameTable("attribute", maxNames),
        new NameTable("event", maxNames),
        new DimensionRegistry(retentionDays));
  }

  /** With the default retention (60 days). */
  public static Dictionaries create(int maxNames) {
    return create(maxNames, 60);
  }

  /** Estimated heap bytes of the names in use in both tables ({@link NameTable#bytesInUse}). */
  public long bytesInUse() {
    return attributes.bytesInUse() + events.bytesInUse();
  }

  /**
   * Counts the uses a compact profile makes of its names in {@code uses}, its stripe's (the reverse
   * of {@link #release}), for a profile installed as it is: its names are held by the caller, so
   * their ids stay theirs. Under the stripe's lock.
   */
  public void useHeld(byte[] profile, StripeNames uses) {
    count(profile, uses, true);
  }

  /**
   * Gives back the uses a compact profile made of its names (one per attribute and per event
   * series), counted in {@code uses}, the names of its stripe: call once the profile is no longer
   * published, under that stripe's lock.
   */
  public void release(byte[] profile, StripeNames uses) {
    count(profile, uses, false);
  }

  /** One use more ({@code use}) or fewer of every name a compact profile holds. */
  private void count(byte[] profile, StripeNames uses, boolean use) {
    int pos = ProfileCodec.attributesStart(profile);
    int n = Bytes.varintInt(profile, pos);
    pos = Bytes.next(profile, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(profile, pos);
      if (use) {
        uses.attributes().useHeld(attributes, id);
      } else {
        uses.attributes().drop(attributes, id);
      }
      pos = ProfileCodec.skipValue(profile, Bytes.next(profile, pos));
    }
    n = Bytes.varintInt(profile, pos);
    pos = Bytes.next(profile, pos);
    for (int i = 0; i < n; i++) {
      int id = Bytes.varintInt(profile, pos);
      if (use) {
        uses.events().useHeld(events, id);
      } else {
        uses.events().drop(events, id);
      }
      pos = SeriesCodec.skip(profile, Bytes.next(profile, pos));
    }
  }
}

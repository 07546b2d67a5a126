package dev.whack.node.durability;

import dev.whack.node.engine.CatalogListener;
import dev.whack.node.engine.dimension.DimensionSpec;
import dev.whack.node.keyspace.Journal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The log's record types and their payloads, both ways: {@link LogJournal} writes a {@link Journal}
 * call as a record, {@link #play} reads one back into a {@link Journal} (on start-up, the
 * keyspace's restorer). Every keyspace record starts with the stripe it was logged under.
 *
 * <pre>
 * ITEM            stripe, key, flags, expiry, cas, marks, value
 * PROFILE_PUT     stripe, key, kind, flags, expiry, cas, marks, time, document
 * PROFILE_UPDATE  stripe, key, cas, time, protobuf, document
 * PROFILE_MARKED  stripe, key, cas, expiry, marks
 * EXPIRY          stripe, key, expiry
 * REMOVED         stripe, key
 * FLUSHED         stripe, oldest live second, oldest live cas
 * SEGMENT_DEFINED name, expression (UTF-8), u64 the time it began (millis; absent in older logs)
 * SEGMENT_DROPPED name
 * CHANGES         stripe, epoch, count, then count times: segment, key, enter, time
 * DIMENSION_DEFINED name, definition (its canonical JSON, UTF-8)
 * DIMENSION_DROPPED name
 * CATEGORY_LEARNED  dimension id, category id, value (UTF-8): a categorical value numbered
 * </pre>
 *
 * (u32 stripe, flags and count, u64 expiry, cas, time and epoch, u8 kind, marks, protobuf and
 * enter; byte strings with a u32 length.) Dimension records are logged under the segment source, in
 * the order the definitions took effect, so a replay hands out the same dimension ids as the live
 * node did (a snapshot's profiles name dimensions by id). CHANGES records are the membership
 * changes the stripe's writes made ({@link RecordedChanges}), for the changes publisher ({@link
 * ChangeFeed}); replay passes over them, as it rebuilds membership from the profiles.
 */
final class LogRecords {
  static final byte ITEM = 1;
  static final byte PROFILE_PUT = 2;
  static final byte PROFILE_UPDATE = 3;
  static final byte PROFILE_MARKED = 4;
  static final byte EXPIRY = 5;
  static final byte REMOVED = 6;
  static final byte FLUSHED = 7;
  static final byte SEGMENT_DEFINED = 8;
  static final byte SEGMENT_DROPPED = 9;
  static final byte CHANGES = 10;
  static final byte DIMENSION_DEFINED = 11;
  static final byte DIMENSION_DROPPED = 12;
  static final byte CATEGORY_LEARNED = 13;

  private LogRecords() {}

  /**
   * Plays one record into the keyspace's journal (and the segment and dimension records into {@code
   * segments}), setting {@code clock} to a profile write's time first; a CHANGES record only tells
   * {@code changesLogged} its stripe (replay makes the changes again from the writes).
   *
   * @throws IllegalArgumentException on a record this node does not know
   */
  static void play(
      byte type,
      ByteBuffer p,
      Journal keyspace,
      CatalogListener segments,
      ReplayClock clock,
      java.util.function.IntConsumer changesLogged) {
    switch (type) {
      case ITEM ->
          keyspace.item(
              p.getInt(), bytes(p), p.getInt(), p.getLong(), p.getLong(), p.get(), bytes(p));
      case PROFILE_PUT -> {
        int stripe = p.getInt();
        byte[] key = bytes(p);
        byte kind = p.get();
        int flags = p.getInt();
        long expiry = p.getLong();
        long cas = p.getLong();
        int marks = p.get();
        long at = p.getLong();
        byte[] document = bytes(p);
        clock.replayAt(at);
        keyspace.profilePut(
            stripe, key, kind, flags, expiry, cas, marks, at, document, 0, document.length);
      }
      case PROFILE_UPDATE -> {
        int stripe = p.getInt();
        byte[] key = bytes(p);
        long cas = p.getLong();
        long at = p.getLong();
        boolean protobuf = p.get() != 0;
        byte[] document = bytes(p);
        clock.replayAt(at);
        keyspace.profileUpdate(stripe, key, cas, at, protobuf, document, 0, document.length);
      }
      case PROFILE_MARKED ->
          keyspace.profileMarked(p.getInt(), bytes(p), p.getLong(), p.getLong(), p.get());
      case EXPIRY -> keyspace.expiry(p.getInt(), bytes(p), p.getLong());
      case REMOVED -> keyspace.removed(p.getInt(), bytes(p));
      case FLUSHED -> keyspace.flushed(p.getInt(), p.getLong(), p.getLong());
      case SEGMENT_DEFINED -> {
        String name = text(p);
        String expression = text(p);
        if (p.hasRemaining()) {
          clock.replayAt(p.getLong()); // its backfill's members entered then
        }
        segments.defined(name, expression);
      }
      case SEGMENT_DROPPED -> segments.dropped(text(p));
      case CHANGES -> changesLogged.accept(p.getInt());
      case DIMENSION_DEFINED -> {
        String name = text(p);
        segments.dimensionDefined(DimensionSpec.parse(name, bytes(p)));
      }
      case DIMENSION_DROPPED -> segments.dimensionDropped(text(p));
      case CATEGORY_LEARNED -> segments.categoryLearned(p.getInt(), p.getInt(), text(p));
      default -> throw new IllegalArgumentException("unknown record type " + type);
    }
  }

  /**
   * The source a record was logged under: its stripe (a keyspace record's first field), or {@code
   * stripes} for segment and dimension records.
   */
  static int source(byte type, ByteBuffer payload, int stripes) {
    return type == SEGMENT_DEFINED
            || type == SEGMENT_DROPPED
            || type == DIMENSION_DEFINED
            || type == DIMENSION_DROPPED
            || type == CATEGORY_LEARNED
        ? stripes
        : payload.getInt(payload.position());
  }

  /**
   * The time a SEGMENT_DEFINED record's definition began, or Long.MIN_VALUE (another record, or one
   * from before the time was logged); leaves the payload's position alone.
   */
  static long definitionBegan(byte type, ByteBuffer payload) {
    if (type != SEGMENT_DEFINED) {
      return Long.MIN_VALUE;
    }
    ByteBuffer p = payload.duplicate();
    p.position(p.position() + 4 + p.getInt(p.position()));
    p.position(p.position() + 4 + p.getInt(p.position()));
    return p.remaining() >= 8 ? p.getLong() : Long.MIN_VALUE;
  }

  static byte[] bytes(ByteBuffer p) {
    byte[] b = new byte[p.getInt()];
    p.get(b);
    return b;
  }

  static String text(ByteBuffer p) {
    return new String(bytes(p), StandardCharsets.UTF_8);
  }
}

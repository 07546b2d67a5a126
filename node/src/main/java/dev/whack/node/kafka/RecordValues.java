package dev.whack.node.kafka;

import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.Status;
import java.nio.ByteBuffer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A consumed record's value as the consumer hands it over ({@code ByteBufferDeserializer}): a view
 * of its bytes in the fetch's buffer, read where it is, so a record costs no copy of its value (a
 * refill's profiles are most of what crosses the consumer). The view's position is never moved.
 *
 * <p>Records are held across polls, so this relies on the client never reusing a fetch's buffer
 * (kafka-clients 4.4 allocates each response and each decompressed record afresh): RecordValuesTest
 * pins that, for plain and compressed batches.
 */
final class RecordValues {
  private RecordValues() {}

  /**
   * The value as a view of an array (the consumer's buffers are on the heap; a direct one is
   * copied), or null for a tombstone.
   */
  static ByteBuffer onHeap(ByteBuffer value) {
    if (value == null || value.hasArray()) {
      return value;
    }
    return ByteBuffer.wrap(copy(value));
  }

  /**
   * Applies the record as its source's {@code producer} at its offset ({@link
   * KeyspaceSession#applySourced}), its key and value read where they are.
   */
  static Status applySourced(
      KeyspaceSession session,
      ConsumerRecord<byte[], ByteBuffer> record,
      byte[] producer,
      SourcedKind kind,
      KeyspaceSession.SourcedWrite how,
      Outcome outcome) {
    byte[] key = record.key();
    ByteBuffer value = onHeap(record.value());
    return session.applySourced(
        key,
        0,
        key.length,
        producer,
        record.offset(),
        kind,
        value == null ? null : value.array(),
        value == null ? 0 : offset(value),
        value == null ? 0 : value.remaining(),
        how,
        outcome);
  }

  /** Where the value's bytes start in {@code value.array()}. */
  static int offset(ByteBuffer value) {
    return value.arrayOffset() + value.position();
  }

  /** The value's bytes in an array of their own, or null for a tombstone. */
  static byte[] copy(ByteBuffer value) {
    if (value == null) {
      return null;
    }
    byte[] bytes = new byte[value.remaining()];
    value.duplicate().get(bytes);
    return bytes;
  }
}

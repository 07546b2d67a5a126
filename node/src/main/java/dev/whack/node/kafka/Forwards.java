package dev.whack.node.kafka;

import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One poll's records of keys other members own, as a batch of {@code sourced} commands per owner
 * (docs/protocol.md, "Records from Kafka"), in the order they were read.
 *
 * <p>Concurrency: the consumer's thread only.
 */
final class Forwards {
  private static final byte[][] KINDS = {
    ascii("update-json"),
    ascii("update-protobuf"),
    ascii("profile-json"),
    ascii("profile-protobuf"),
    ascii("delete")
  };
  private static final byte[] EMPTY = new byte[0];

  private final Map<String, OwnerBatch> byOwner = new LinkedHashMap<>();

  void add(
      String owner, ConsumerRecord<byte[], ByteBuffer> record, SourcedKind kind, byte[] producer) {
    byOwner.computeIfAbsent(owner, OwnerBatch::new).add(record, kind, producer);
  }

  boolean isEmpty() {
    return byOwner.isEmpty();
  }

  Collection<OwnerBatch> batches() {
    return byOwner.values();
  }

  void clear() {
    byOwner.clear();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** The commands for one owner and the records they carry, in the same order. */
  static final class OwnerBatch {
    final String owner;
    final List<ConsumerRecord<byte[], ByteBuffer>> records = new ArrayList<>();
    private final ByteArrayOutputStream commands = new ByteArrayOutputStream();

    OwnerBatch(String owner) {
      this.owner = owner;
    }

    /** "sourced <key> <producer> <seq> <kind> <bytes>\r\n<value>\r\n". */
    void add(ConsumerRecord<byte[], ByteBuffer> record, SourcedKind kind, byte[] producer) {
      byte[] value = record.value() == null ? EMPTY : RecordValues.copy(record.value());
      commands.writeBytes(ascii("sourced "));
      commands.writeBytes(record.key());
      commands.write(' ');
      commands.writeBytes(producer);
      commands.writeBytes(ascii(" " + record.offset() + " "));
      commands.writeBytes(KINDS[kind.ordinal()]);
      commands.writeBytes(ascii(" " + value.length + "\r\n"));
      commands.writeBytes(value);
      commands.writeBytes(ascii("\r\n"));
      records.add(record);
    }

    byte[] commands() {
      return commands.toByteArray();
    }

    /**
     * The owner's answer lines, one per record.
     *
     * @throws IllegalStateException when the answer has another number of lines
     */
    List<String> answers(byte[] reply) {
      String text = new String(reply, StandardCharsets.UTF_8);
      List<String> lines = new ArrayList<>(records.size());
      int from = 0;
      for (int end = text.indexOf("\r\n"); end >= 0; end = text.indexOf("\r\n", from)) {
        lines.add(text.substring(from, end));
        from = end + 2;
      }
      if (lines.size() != records.size()) {
        throw new IllegalStateException(
            owner + " answered " + lines.size() + " lines to " + records.size() + " records");
      }
      return lines;
    }
  }
}

package dev.whack.node.kafka;

import dev.whack.node.engine.json.JsonWriting;
import dev.whack.proto.SegmentChange;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** The changes topic's records, as both publishers write them (docs/kafka.md). */
final class ChangeMessages {
  private ChangeMessages() {}

  /** A change's value: a {@code SegmentChange} as JSON or protobuf. */
  static byte[] value(
      boolean json,
      String segment,
      byte[] key,
      boolean enter,
      long timeMillis,
      long epoch,
      long seq) {
    if (!json) {
      return SegmentChange.newBuilder()
          .setKind(enter ? SegmentChange.Kind.ENTER : SegmentChange.Kind.LEAVE)
          .setSegment(segment)
          .setKey(new String(key, StandardCharsets.UTF_8))
          .setTimeMillis(timeMillis)
          .setEpoch(epoch)
          .setSeq(seq)
          .build()
          .toByteArray();
    }
    return JsonWriting.write(
        96 + key.length,
        g -> {
          g.writeStartObject();
          g.writeStringField("segment", segment);
          g.writeStringField("key", new String(key, StandardCharsets.UTF_8));
          g.writeStringField("kind", enter ? "enter" : "leave");
          g.writeNumberField("time", timeMillis);
          g.writeNumberField("epoch", epoch);
          g.writeNumberField("seq", seq);
          g.writeEndObject();
        });
  }

  /**
   * A gap marker: no key, the header {@link ChangePublisher#GAP_HEADER} with the count (or {@code
   * unknown}), and a JSON value with the count, the epoch and, when given, the reason.
   *
   * @param count changes lost, or -1 when not known
   */
  static ProducerRecord<byte[], byte[]> gap(String topic, long count, long epoch, String reason) {
    RecordHeaders headers = new RecordHeaders();
    String told = count < 0 ? "unknown" : Long.toString(count);
    headers.add(ChangePublisher.GAP_HEADER, told.getBytes(StandardCharsets.US_ASCII));
    byte[] value =
        JsonWriting.write(
            96 + (reason == null ? 0 : reason.length()),
            g -> {
              g.writeStartObject();
              if (count < 0) {
                g.writeStringField("gap", "unknown");
              } else {
                g.writeNumberField("gap", count);
              }
              g.writeNumberField("epoch", epoch);
              if (reason != null) {
                g.writeStringField("reason", reason);
              }
              g.writeEndObject();
            });
    return new ProducerRecord<>(topic, null, (byte[]) null, value, headers);
  }
}

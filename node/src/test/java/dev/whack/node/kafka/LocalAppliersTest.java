package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.Keyspace;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The apply lanes under failure: whatever one lane throws (an error as well as an exception) comes
 * out of {@link LocalAppliers#run} on the consumer's thread once every lane is done, and the next
 * round runs, instead of the barrier waiting for ever for a lane that died.
 */
class LocalAppliersTest {
  private static ConsumerRecord<byte[], ByteBuffer> record(int i) {
    return new ConsumerRecord<>(
        "t", 0, i, ("k" + i).getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(0));
  }

  @Test
  void shouldThrowWhatALaneThrewAndGoOnWithTheNextRound() {
    Keyspace keyspace =
        new Keyspace(Clock.systemUTC(), 1 << 20, 1 << 20, new ProfileEngine(new EngineConfig()));
    Set<Long> applied = ConcurrentHashMap.newKeySet();
    Error boom = new Error("boom");
    try (LocalAppliers appliers =
        new LocalAppliers(
            keyspace,
            4,
            (pending, session, outcome) -> {
              if (pending.record().offset() == 13 && !applied.contains(-1L)) {
                applied.add(-1L);
                throw boom;
              }
              applied.add(pending.record().offset());
            })) {
      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () -> {
            for (int i = 0; i < 100; i++) {
              appliers.add(new LocalAppliers.Pending(record(i), null, null, null));
            }
            assertSame(boom, assertThrows(Error.class, appliers::run));
            for (int round = 0; round < 3; round++) {
              for (int i = 0; i < 100; i++) {
                appliers.add(new LocalAppliers.Pending(record(i), null, null, null));
              }
              appliers.run();
            }
          });
    }
    assertEquals(101, applied.size(), "every record applied once the lane failed, and the mark");
  }
}

package dev.whack.node.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.KafkaBroker;
import dev.whack.node.testing.NodeProcess;
import dev.whack.node.testing.RawConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under {@code kill -9}: a node process consuming a stream of increments (with {@code
 * --fsync everysec} and snapshots during the stream) is killed mid-stream and restarted on its data
 * directory; once the topic is read to its end every counter equals the increments sent to it, not
 * one more, and a segment on the counters equals a brute-force count.
 */
class KafkaKillNineTest {
  private static final int KEYS = 40;
  private static final int RECORDS = 40_000;

  @TempDir Path dir;

  @Test
  void shouldCountEveryRecordOnceAcrossAKillNine() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String topic = "killed";
    broker.createTopic(topic, 4, false);
    List<String> kafka = List.of(broker.bootstrap(), topic, "kill-test");
    long[] sent = new long[KEYS];
    AtomicLong produced = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    Thread producer =
        new Thread(
            () -> {
              try (KafkaProducer<byte[], byte[]> p = broker.producer()) {
                byte[] incr = "{\"incr\":{\"n\":1}}".getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < RECORDS && !stop.get(); i++) {
                  int k = (i * 7) % KEYS;
                  p.send(new ProducerRecord<>(topic, key(k), incr));
                  sent[k]++;
                  produced.incrementAndGet();
                  if (i % 500 == 499) {
                    p.flush();
                    Thread.sleep(40); // a stream, not one batch: the kill lands in the middle
                  }
                }
                p.flush();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    try (NodeProcess node = NodeProcess.start(dir, "everysec", 7000, kafka)) {
      String expr = "n >= 500";
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        c.send("segdef big " + expr.length() + "\r\n" + expr + "\r\n");
        assertEquals("DEFINED 0\r\n", c.readLine());
      }
      producer.start();
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (total(node) < RECORDS / 3 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      node.kill();
    }
    long atKill = produced.get();
    assertTrue(atKill < RECORDS, "the kill came before the stream ended: " + atKill);
    producer.join();
    try (NodeProcess node = NodeProcess.start(dir, "everysec", 7000, kafka)) {
      long deadline = System.nanoTime() + 90_000_000_000L;
      while (total(node) < RECORDS && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      Thread.sleep(1500); // anything read twice would show now
      try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
        long big = 0;
        for (int k = 0; k < KEYS; k++) {
          long n = counter(c, k);
          assertEquals(sent[k], n, "counter " + k);
          big += n >= 500 ? 1 : 0;
        }
        c.send("segcount 3\r\nbig\r\n");
        assertEquals("COUNT " + big + "\r\n", c.readLine());
      }
    }
  }

  private static byte[] key(int k) {
    return ("k" + k).getBytes(StandardCharsets.UTF_8);
  }

  private static long total(NodeProcess node) {
    try (RawConnection c = new RawConnection("127.0.0.1", node.port())) {
      long total = 0;
      for (int k = 0; k < KEYS; k++) {
        total += counter(c, k);
      }
      return total;
    }
  }

  private static long counter(RawConnection c, int k) {
    return Counters.counter(c, "k" + k); // through any member: a get is forwarded
  }
}

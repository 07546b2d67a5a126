package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.whack.client.Item;
import dev.whack.client.WhackClient;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.client.grpc.ItemRefusedException;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.proto.Attribute;
import dev.whack.proto.Increment;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Java client's gRPC bulk writer against a real node over real sockets: what it reports
 * acknowledged is exactly what the node holds (read back through the memcached port), a refused
 * item is named by its id and code while the rest apply, and several threads share one bounded
 * writer.
 */
class GrpcBulkWriterNodeTest {
  private EmbeddedNode node;
  private WhackClient memcached;
  private String grpcTarget;

  @BeforeEach
  void start() {
    int grpcPort = FreePorts.take(1)[0];
    node = EmbeddedNode.start(c -> c.grpcPort(grpcPort));
    grpcTarget = "127.0.0.1:" + grpcPort;
    memcached =
        WhackClient.builder()
            .servers(node.address())
            .requestTimeout(Duration.ofSeconds(5))
            .discoverCluster(false)
            .build();
  }

  @AfterEach
  void stop() {
    memcached.close();
    node.close();
  }

  private GrpcBulkWriter.Builder writer() {
    return GrpcBulkWriter.builder(grpcTarget)
        .connectTimeout(Duration.ofSeconds(10))
        .answerTimeout(Duration.ofSeconds(30));
  }

  private static Update add(String key, long delta) {
    return Update.newBuilder()
        .setKey(key)
        .addIncr(Increment.newBuilder().setName("n").setIntDelta(delta))
        .build();
  }

  /**
   * The profile's attributes as the memcached port reads them back, by name: a profile written over
   * gRPC is a protobuf Profile (flags 0x77680001); one an update created may be either.
   */
  private Map<String, Value> attributes(String key) {
    Item item = memcached.blocking().get(key).orElseThrow(() -> new AssertionError(key));
    Profile profile;
    try {
      profile =
          item.flags() == WhackClient.PROFILE_PROTOBUF_FLAGS
              ? Profile.parseFrom(item.value())
              : ProfileJson.parse(item.value());
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(key + ": " + e.getMessage(), e);
    }
    Map<String, Value> out = new TreeMap<>();
    for (Attribute a : profile.getAttributesList()) {
      out.put(a.getName(), a.getValue());
    }
    return out;
  }

  @Test
  void shouldHoldExactlyWhatWasAcknowledgedAfterManyUpdates() {
    int keys = 200;
    int rounds = 50;
    try (GrpcBulkWriter writer = writer().maxInFlight(256).open()) {
      for (int k = 0; k < keys; k++) {
        writer.setProfile(
            Profile.newBuilder()
                .setKey("user:" + k)
                .addAttributes(
                    Attribute.newBuilder()
                        .setName("country")
                        .setValue(Value.newBuilder().setStringValue(k % 2 == 0 ? "DK" : "SE")))
                .build());
      }
      for (int round = 1; round <= rounds; round++) {
        for (int k = 0; k < keys; k++) {
          writer.update(add("user:" + k, round));
        }
      }
      writer.flush();
      assertEquals(keys + (long) keys * rounds, writer.succeeded());
      assertEquals(0, writer.failed(), () -> writer.failures().toString());
    }
    long sum = (long) rounds * (rounds + 1) / 2; // 1 + 2 + ... + rounds
    for (int k = 0; k < keys; k++) {
      Map<String, Value> profile = attributes("user:" + k);
      assertEquals(sum, profile.get("n").getIntValue(), "user:" + k);
      assertEquals(k % 2 == 0 ? "DK" : "SE", profile.get("country").getStringValue());
    }
  }

  @Test
  void shouldNameEachRefusedItemByIdAndCodeWhileTheRestApply() {
    memcached.blocking().set("plain", "not a profile".getBytes(StandardCharsets.UTF_8));
    List<GrpcBulkWriter.Failure> told = new CopyOnWriteArrayList<>();
    Map<Long, String> badIds = new TreeMap<>();
    try (GrpcBulkWriter writer = writer().onFailure(told::add).open()) {
      long id = 0;
      for (int i = 0; i < 30; i++) {
        writer.update(add("good:" + i % 3, 1));
        id++;
        switch (i) {
          case 5 -> {
            writer.update(add("a key", 1)); // memcached could not name it
            badIds.put(++id, "a key INVALID_ARGUMENT");
          }
          case 12 -> {
            writer.update(add("plain", 1)); // a plain memcached value, not a profile
            badIds.put(++id, "plain FAILED_PRECONDITION");
          }
          case 20 -> {
            writer.update(add("_whack/x", 1));
            badIds.put(++id, "_whack/x INVALID_ARGUMENT");
          }
          default -> {}
        }
      }
      writer.flush();
      assertEquals(30, writer.succeeded());
      assertEquals(3, writer.failed());
    }
    Map<Long, String> reported = new TreeMap<>();
    for (GrpcBulkWriter.Failure f : told) {
      ItemRefusedException refused = (ItemRefusedException) f.cause();
      assertEquals(f.id(), refused.id());
      assertTrue(!refused.serverMessage().isEmpty(), refused.toString());
      reported.put(f.id(), f.key() + " " + refused.code());
    }
    assertEquals(badIds, reported, told::toString);
    assertEquals(
        "not a profile: the value is not a JSON object",
        told.stream()
            .filter(f -> f.key().equals("plain"))
            .map(f -> ((ItemRefusedException) f.cause()).serverMessage())
            .findFirst()
            .orElseThrow());
    for (int k = 0; k < 3; k++) {
      assertEquals(10, attributes("good:" + k).get("n").getIntValue(), "good:" + k);
    }
    assertEquals(
        "not a profile",
        memcached.blocking().get("plain").orElseThrow().valueAsString(),
        "the refused update changed nothing");
  }

  @Test
  void shouldCountEveryUpdateOnceWithSeveralThreadsThroughOneSmallBound() throws Exception {
    int threads = 4;
    int perThread = 2_000;
    int bound = 8;
    AtomicInteger mostInFlight = new AtomicInteger();
    try (GrpcBulkWriter writer = writer().maxInFlight(bound).open()) {
      List<Thread> loaders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Thread loader =
            new Thread(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    writer.update(add("shared:" + i % 10, 1));
                    mostInFlight.accumulateAndGet(writer.inFlight(), Math::max);
                  }
                });
        loaders.add(loader);
        loader.start();
      }
      for (Thread loader : loaders) {
        loader.join(60_000);
      }
      writer.flush();
      assertEquals((long) threads * perThread, writer.succeeded());
      assertEquals(0, writer.failed(), () -> writer.failures().toString());
    }
    assertTrue(mostInFlight.get() <= bound, "in flight at most the bound: " + mostInFlight);
    for (int k = 0; k < 10; k++) {
      assertEquals(
          threads * perThread / 10,
          attributes("shared:" + k).get("n").getIntValue(),
          "shared:" + k);
    }
  }

  @Test
  void shouldStoreAProfileThatReadsBackAsSentThroughTheMemcachedPort() {
    Profile sent =
        ProfileJson.parse(
                "{\"country\":\"DK\",\"age\":31,\"tags\":[\"vip\",\"new\"]}"
                    .getBytes(StandardCharsets.UTF_8))
            .toBuilder()
            .setKey("user:42")
            .build();
    try (GrpcBulkWriter writer = writer().open()) {
      writer.setProfile(sent);
      writer.flush();
      assertEquals(1, writer.succeeded(), () -> writer.failures().toString());
    }
    assertEquals(
        WhackClient.PROFILE_PROTOBUF_FLAGS,
        memcached.blocking().get("user:42").orElseThrow().flags(),
        "stored as the protobuf Profile it came as");
    Map<String, Value> expected = new TreeMap<>();
    for (Attribute a : sent.getAttributesList()) {
      expected.put(a.getName(), a.getValue());
    }
    assertEquals(expected, attributes("user:42"));
  }
}

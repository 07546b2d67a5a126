package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.BlockingWhackClient;
import dev.whack.client.BulkWriter;
import dev.whack.client.ServerErrorException;
import dev.whack.client.UpdateResult;
import dev.whack.client.WhackClient;
import dev.whack.client.WhackException;
import dev.whack.client.model.AttributeType;
import dev.whack.client.model.DayTotals;
import dev.whack.client.model.EventHistory;
import dev.whack.client.model.ProfileData;
import dev.whack.client.model.ProfileUpdate;
import dev.whack.client.model.UpdateEvent;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The typed profile API against a real node: what {@link ProfileData} and {@link ProfileUpdate}
 * send is stored exactly as the equivalent hand-written JSON is, their JSON is the node's own
 * canonical JSON, and {@link ProfileData#parse} reads back what the node returns.
 */
class ClientTypedProfilesTest {
  /** 2026-11-22T00:00:00Z: event days below are within the node's 60-day retention. */
  private final ManualClock clock = new ManualClock(EmbeddedNode.TEST_EPOCH_MILLIS);

  private EmbeddedNode node;
  private WhackClient client;
  private BlockingWhackClient blocking;

  @BeforeEach
  void start() {
    node = EmbeddedNode.startWithClock(clock, config -> {});
    client =
        WhackClient.builder()
            .servers(node.address())
            .requestTimeout(Duration.ofSeconds(5))
            .ioThreads(1)
            .build();
    blocking = client.blocking();
  }

  @AfterEach
  void stop() {
    client.close();
    node.close();
  }

  private static final String HAND_WRITTEN_PROFILE =
      "{\"country\": \"DK\", \"age\": 31, \"score\": 0.75, \"vip\": true,"
          + " \"tags\": [\"vip\", \"newsletter\"], \"last_seen\": \"2026-11-20T10:00:00Z\","
          + " \"note\": {\"$string\": \"2026-11-20T10:00:00Z\"},"
          + " \"$events\": {\"purchase\": {\"$first\": \"2026-11-19T08:12:00.250Z\","
          + " \"$last\": \"2026-11-20T09:00:00Z\","
          + " \"2026-11-19\": [2, 99.0, 4900.5, 49.5, 49.5], \"2026-11-20\": [1]},"
          + " \"view\": {\"2026-11-21\": [1, 3.5, 12.25]}},"
          + " \"$producers\": {\"shop-1\": 42}}";

  private static ProfileData typedProfile() {
    return ProfileData.builder()
        .set("country", "DK")
        .set("age", 31)
        .set("score", 0.75)
        .set("vip", true)
        .stringSet("tags", "vip", "newsletter", "vip")
        .set("last_seen", Instant.parse("2026-11-20T10:00:00Z"))
        .set("note", "2026-11-20T10:00:00Z")
        .event(
            "purchase",
            EventHistory.builder()
                .times(
                    Instant.parse("2026-11-19T08:12:00.250Z"),
                    Instant.parse("2026-11-20T09:00:00Z"))
                .day(LocalDate.parse("2026-11-19"), DayTotals.ofValues(0, 49.5, 49.5))
                .day(LocalDate.parse("2026-11-20"), DayTotals.count(1))
                .build())
        .event(
            "view",
            EventHistory.builder()
                .day(LocalDate.parse("2026-11-21"), DayTotals.of(1, 3.5, 12.25))
                .build())
        .producer("shop-1", 42)
        .build();
  }

  @Test
  void shouldStoreATypedProfileExactlyAsTheHandWrittenJsonIsStored() {
    blocking.setProfile("typed", typedProfile());
    blocking.setProfile("by-hand", HAND_WRITTEN_PROFILE);

    String stored = blocking.getProfile("typed").orElseThrow();
    assertEquals(blocking.getProfile("by-hand").orElseThrow(), stored);
    // What the builder renders is the node's canonical JSON, byte for byte.
    assertEquals(stored, typedProfile().toJson());
    assertEquals(typedProfile(), blocking.getProfileData("typed").orElseThrow());
    assertEquals(typedProfile(), ProfileData.parse(HAND_WRITTEN_PROFILE));
  }

  @Test
  void shouldReadEveryTypeBackThroughTheTypedAccessors() {
    blocking.setProfile("user:42", typedProfile());
    ProfileData read = blocking.getProfileData("user:42").orElseThrow();

    assertEquals(Optional.of("DK"), read.string("country"));
    assertEquals(31, read.longValue("age").orElseThrow());
    assertEquals(0.75, read.doubleValue("score").orElseThrow());
    assertEquals(Optional.of(true), read.booleanValue("vip"));
    assertEquals(Optional.of(Instant.parse("2026-11-20T10:00:00Z")), read.timestamp("last_seen"));
    // A timestamp-shaped string stays a string through the node.
    assertEquals(Optional.of("2026-11-20T10:00:00Z"), read.string("note"));
    assertEquals(List.of("vip", "newsletter"), List.copyOf(read.stringSet("tags").orElseThrow()));
    assertEquals(Optional.of(AttributeType.DOUBLE), read.type("score"));
    assertEquals(
        List.of("country", "age", "score", "vip", "tags", "last_seen", "note"),
        List.copyOf(read.attributes().keySet()));
    IllegalStateException wrongType =
        assertThrows(IllegalStateException.class, () -> read.longValue("score"));
    assertEquals("attribute score is a DOUBLE, not a LONG", wrongType.getMessage());

    EventHistory purchase = read.event("purchase").orElseThrow();
    assertEquals(3, purchase.totalCount());
    DayTotals day = purchase.days().get(LocalDate.parse("2026-11-19"));
    assertEquals(99.0, day.sum());
    assertEquals(49.5, day.min().orElseThrow());
    // [1, 3.5, 12.25]: one valued event, whose value is its min and max.
    assertEquals(
        3.5,
        read.event("view").orElseThrow().days().values().iterator().next().max().orElseThrow());
    assertEquals(42L, read.producers().get("shop-1"));
    assertEquals(Optional.empty(), blocking.getProfileData("nobody"));
  }

  @Test
  void shouldApplyATypedUpdateExactlyAsTheHandWrittenJsonIsApplied() {
    String base = "{\"visits\": 1, \"tags\": [\"trial\", \"a\"], \"trial_ends\": 5, \"w\": 1.5}";
    blocking.setProfile("typed", base);
    blocking.setProfile("by-hand", base);
    ProfileUpdate typed =
        ProfileUpdate.of()
            .set("country", "DK")
            .set("seen", Instant.parse("2026-11-21T10:00:00.125Z"))
            .unset("trial_ends")
            .incr("visits", 1)
            .incr("w", 0.25)
            .add("tags", "vip")
            .remove("tags", "trial")
            .event("purchase", 49.5, Instant.parse("2026-11-21T10:00:00Z"))
            .event(
                UpdateEvent.named("view")
                    .time(Instant.parse("2026-11-21T11:00:00Z"))
                    .property("sku", "A-1")
                    .property("n", 2))
            .producer("shop-1", 7);
    String byHand =
        "{\"set\":{\"country\":\"DK\",\"seen\":\"2026-11-21T10:00:00.125Z\"},"
            + "\"unset\":[\"trial_ends\"],\"incr\":{\"visits\":1,\"w\":0.25},"
            + "\"add\":{\"tags\":[\"vip\"]},\"remove\":{\"tags\":[\"trial\"]},"
            + "\"events\":[{\"name\":\"purchase\",\"value\":49.5,\"time\":\"2026-11-21T10:00:00Z\"},"
            + "{\"name\":\"view\",\"time\":\"2026-11-21T11:00:00Z\","
            + "\"properties\":{\"sku\":\"A-1\",\"n\":2}}],"
            + "\"producer\":\"shop-1\",\"seq\":7}";
    assertEquals(byHand, typed.toJson());

    assertEquals(UpdateResult.UPDATED, blocking.update("typed", typed));
    assertEquals(UpdateResult.UPDATED, blocking.update("by-hand", byHand));
    assertEquals(blocking.getProfile("by-hand"), blocking.getProfile("typed"));
    // The same producer and sequence again: acknowledged, not applied.
    assertEquals(UpdateResult.IGNORED, blocking.update("typed", typed));

    ProfileData read = blocking.getProfileData("typed").orElseThrow();
    assertEquals(2, read.longValue("visits").orElseThrow());
    assertEquals(1.75, read.doubleValue("w").orElseThrow());
    assertFalse(read.has("trial_ends"));
    assertEquals(Set.of("a", "vip"), read.stringSet("tags").orElseThrow());
    assertEquals(1, read.event("view").orElseThrow().totalCount());
    assertEquals(
        Instant.parse("2026-11-21T10:00:00Z"), read.event("purchase").orElseThrow().first());
  }

  @Test
  void shouldSendStringsThatNeedEscapingIntactThroughTheNode() {
    List<String> awkward =
        List.of(
            "quote \" backslash \\ slash /",
            "control \u0000 \u0001 \u001f tab\t newline\n",
            "héllo wörld 日本語 😀",
            "\u2028\u2029",
            "2026-11-20T10:00:00+02:00",
            "2026-11-20",
            "");
    ProfileData.Builder b = ProfileData.builder();
    for (int i = 0; i < awkward.size(); i++) {
      b.set("s" + i, awkward.get(i));
    }
    b.set("set", awkward);
    b.set("name with \"quotes\" and é", 1);
    ProfileData profile = b.build();
    blocking.setProfile("strings", profile);
    assertEquals(profile, blocking.getProfileData("strings").orElseThrow());
    assertEquals(profile.toJson(), blocking.getProfile("strings").orElseThrow());

    blocking.update("strings", ProfileUpdate.of().set("s0", "\"\\\u0000é😀").add("set", "x\"y"));
    ProfileData updated = blocking.getProfileData("strings").orElseThrow();
    assertEquals("\"\\\u0000é😀", updated.string("s0").orElseThrow());
    assertTrue(updated.stringSet("set").orElseThrow().contains("x\"y"));
  }

  @Test
  void shouldFailAnUpdateTheNodeRefusesWithItsReasonAndChangeNothing() {
    blocking.setProfile("user:1", ProfileData.builder().set("age", 31).build());
    // An integer attribute does not take a float delta (docs/profiles.md, "incr").
    ServerErrorException refused =
        assertThrows(
            ServerErrorException.class,
            () -> blocking.update("user:1", ProfileUpdate.of().set("x", 1).incr("age", 0.5)));
    assertTrue(refused.serverMessage().contains("age"), refused.serverMessage());
    assertEquals(
        ProfileData.builder().set("age", 31).build(),
        blocking.getProfileData("user:1").orElseThrow());
  }

  /**
   * Regression (issue 20): the Javadoc promised failures "not wrapped in a CompletionException"
   * while {@code join()} wraps them, as the JDK defines it. The future itself is failed with the
   * exception; join and get wrap it; the blocking facade throws it as it is.
   */
  @Test
  void shouldFailTheFutureWithTheExceptionItselfWhichJoinAndGetWrap() throws Exception {
    String notAProfile = "{\"age\": null}";
    java.util.concurrent.CompletableFuture<Void> future = client.setProfile("user:1", notAProfile);
    java.util.concurrent.atomic.AtomicReference<Throwable> seen =
        new java.util.concurrent.atomic.AtomicReference<>();
    future
        .exceptionally(
            e -> {
              seen.set(e);
              return null;
            })
        .get(5, java.util.concurrent.TimeUnit.SECONDS);
    assertInstanceOf(ServerErrorException.class, seen.get());

    java.util.concurrent.CompletionException joined =
        assertThrows(java.util.concurrent.CompletionException.class, future::join);
    assertInstanceOf(ServerErrorException.class, joined.getCause());
    java.util.concurrent.ExecutionException got =
        assertThrows(java.util.concurrent.ExecutionException.class, future::get);
    assertInstanceOf(ServerErrorException.class, got.getCause());
    assertInstanceOf(ServerErrorException.class, WhackException.unwrap(joined));
    // A stage derived from it fails with the JDK's wrapper around the same exception.
    java.util.concurrent.CompletionException derived =
        assertThrows(
            java.util.concurrent.CompletionException.class, () -> future.thenApply(v -> 1).join());
    assertInstanceOf(ServerErrorException.class, derived.getCause());

    assertThrows(ServerErrorException.class, () -> blocking.setProfile("user:1", notAProfile));
  }

  @Test
  void shouldRefuseToReadAnOpaqueValueAsTypedProfile() {
    blocking.set("page:7", "not json".getBytes(StandardCharsets.UTF_8));
    WhackException e = assertThrows(WhackException.class, () -> blocking.getProfileData("page:7"));
    assertTrue(e.getMessage().startsWith("page:7 does not hold Profile JSON"), e.getMessage());
    assertInstanceOf(IllegalArgumentException.class, e.getCause());
  }

  @Test
  void shouldWriteTypedProfilesAndUpdatesThroughTheBulkWriter() {
    try (BulkWriter writer = client.orderedBulkWriter(100, null)) {
      for (int i = 0; i < 50; i++) {
        writer.setProfile("bulk:" + i, ProfileData.builder().set("n", i).build());
        writer.update("bulk:" + i, ProfileUpdate.of().incr("n", 1000).add("tags", "loaded"));
      }
      writer.flush();
      assertEquals(0, writer.failed(), () -> writer.failures().toString());
      assertEquals(100, writer.succeeded());
    }
    for (int i = 0; i < 50; i++) {
      ProfileData p = blocking.getProfileData("bulk:" + i).orElseThrow();
      assertEquals(1000 + i, p.longValue("n").orElseThrow());
      assertEquals(Set.of("loaded"), p.stringSet("tags").orElseThrow());
    }
  }
}

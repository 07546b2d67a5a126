package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Profile calls against a scripted node: the bytes and flags sent, and each reply's meaning. */
class ProfileCallsTest {
  private FakeServer server;
  private WhackClient client;

  @BeforeEach
  void start() {
    FakeServer.Responder memcached = FakeServer.memcached();
    server =
        FakeServer.start(
            (cmd, reply) -> {
              if (cmd.verb().equals("update")) {
                String key = cmd.tokens()[1];
                reply.write(
                    switch (key) {
                      case "replayed" -> "IGNORED\r\n";
                      case "opaque" -> "CLIENT_ERROR not a profile\r\n";
                      case "clash" -> "CLIENT_ERROR bad update: cannot increment a string\r\n";
                      default -> "UPDATED\r\n";
                    });
              } else if (cmd.verb().equals("set") && cmd.blockText().contains("broken")) {
                reply.write("CLIENT_ERROR bad profile: expected a value at 9\r\n");
              } else {
                memcached.respond(cmd, reply);
              }
            });
    client = Clients.client(server);
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void shouldStoreProfileJsonWithTheJsonProfileFlagsAndReadItBack() {
    String json = "{\"country\":\"DK\",\"age\":31}";
    Await.value(client.setProfile("user:42", json));
    // The flags ask the node to refuse what is not a profile rather than keep it as a value.
    assertEquals(List.of("set user:42 2003304450 0 " + json.length()), server.received());
    assertEquals(Optional.of(json), Await.value(client.getProfile("user:42")));
    assertEquals(Optional.empty(), Await.value(client.getProfile("user:43")));
  }

  @Test
  void shouldStoreProtobufProfilesWithTheProfileFlags() {
    byte[] profile = {0x0a, 0x02, 'D', 'K'};
    Await.value(client.setProfileProtobuf("user:1", profile));
    assertEquals(List.of("set user:1 2003304449 0 4"), server.received());
    assertArrayEquals(profile, Await.value(client.getProfileProtobuf("user:1")).orElseThrow());
    WhackException e = Await.failure(client.getProfile("user:1"), WhackException.class);
    assertEquals(
        "user:1 holds a protobuf profile (flags 0x77680001); read it with getProfileProtobuf",
        e.getMessage());
  }

  @Test
  void shouldRefuseProfileOrUpdateJsonThatIsNotAnObject() {
    IllegalArgumentException e =
        Await.failure(client.setProfile("k", "[1,2]"), IllegalArgumentException.class);
    assertEquals("profile JSON is an object and starts with '{'; got: [1,2]", e.getMessage());
    Await.failure(client.update("k", "42"), IllegalArgumentException.class);
    assertThrows(
        IllegalArgumentException.class, () -> client.blocking().setProfile("k", (String) null));
    assertEquals(List.of(), server.received());
    Await.value(client.setProfile("k", " \n {}"));
  }

  @Test
  void shouldReportAProfileTheNodeRejects() {
    ServerErrorException e =
        Await.failure(client.setProfile("user:1", "{\"broken\":}"), ServerErrorException.class);
    assertEquals("bad profile: expected a value at 9", e.serverMessage());
    assertEquals(
        "CLIENT_ERROR bad profile: expected a value at 9 (from " + server.address() + ")",
        e.getMessage());
  }

  @Test
  void shouldReportUpdatedIgnoredAndRejectedUpdates() {
    String update = "{\"incr\":{\"visits\":1},\"producer\":\"shop-1\",\"seq\":42}";
    assertEquals(UpdateResult.UPDATED, Await.value(client.update("user:42", update)));
    assertEquals(
        "update user:42 " + update.getBytes(StandardCharsets.UTF_8).length,
        server.received().get(0));
    assertEquals(UpdateResult.IGNORED, client.blocking().update("replayed", update));
    assertEquals(
        "not a profile",
        Await.failure(client.update("opaque", update), ServerErrorException.class).serverMessage());
    assertEquals(
        "bad update: cannot increment a string",
        assertThrows(ServerErrorException.class, () -> client.blocking().update("clash", update))
            .serverMessage());
    assertEquals(
        UpdateResult.UPDATED, Await.value(client.updateProtobuf("user:42", new byte[] {8, 1})));
  }

  @Test
  void shouldDeleteAProfile() {
    Await.value(client.setProfile("user:1", "{}"));
    assertTrue(Await.value(client.deleteProfile("user:1")));
    assertFalse(client.blocking().deleteProfile("user:1"));
    assertEquals(
        List.of("set user:1 2003304450 0 2", "delete user:1", "delete user:1"), server.received());
  }
}

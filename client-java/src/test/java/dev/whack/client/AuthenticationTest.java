package dev.whack.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whack.client.testing.Await;
import dev.whack.client.testing.FakeServer;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The client's authentication against scripted servers, byte for byte: {@code mn} first,
 * memcached's {@code set}-form authentication only to a node that asks for it, requests held until
 * it is accepted, and a refusal that fails the connect naming the user and sends nothing else.
 */
class AuthenticationTest {
  /** A node with an auth file whose one user is alice with the password {@code s3cret pw}. */
  private static FakeServer.Responder node() {
    boolean[] authenticated = {false};
    return (cmd, out) -> {
      if (!authenticated[0]) {
        if (cmd.verb().equals("set") && cmd.blockText().equals("alice s3cret pw")) {
          authenticated[0] = true;
          out.write("STORED\r\n");
        } else if (cmd.verb().equals("set")) {
          out.write("CLIENT_ERROR authentication failure\r\n");
        } else {
          out.write("CLIENT_ERROR unauthenticated\r\n");
        }
        return;
      }
      out.write("END\r\n");
    };
  }

  @Test
  void shouldAuthenticateBeforeTheFirstRequest() {
    try (FakeServer server = FakeServer.start(node());
        WhackClient client = Clients.builder(server).credentials("alice", "s3cret pw").build()) {
      assertEquals(Optional.empty(), Await.value(client.get("k")));
      assertEquals(List.of("mn", "set auth 0 0 15", "get k"), server.received());
    }
  }

  @Test
  void shouldSendNoPasswordToANodeThatAsksForNone() {
    try (FakeServer server =
            FakeServer.start(
                (cmd, out) -> out.write(cmd.verb().equals("mn") ? "MN\r\n" : "END\r\n"));
        WhackClient client = Clients.builder(server).credentials("alice", "s3cret pw").build()) {
      assertEquals(Optional.empty(), Await.value(client.get("k")));
      assertEquals(List.of("mn", "get k"), server.received());
    }
  }

  @Test
  void shouldFailTheConnectNamingTheUserAndSendNothingElse() {
    try (FakeServer server = FakeServer.start(node());
        WhackClient client = Clients.builder(server).credentials("alice", "wrong").build()) {
      NodeUnavailableException e = Await.failure(client.get("k"), NodeUnavailableException.class);
      assertEquals(server.address() + " is down: authentication failed for alice", e.getMessage());
      AuthenticationException cause = assertInstanceOf(AuthenticationException.class, e.getCause());
      assertEquals("alice", cause.user());
      // The probes that follow (the node is down) authenticate again; no request is ever sent.
      assertEquals(List.of("mn", "set auth 0 0 11"), server.received().subList(0, 2));
      assertFalse(server.received().contains("get k"), server.received()::toString);
    }
  }

  @Test
  void shouldRefuseCredentialsNoProtocolCanCarry() {
    for (String[] bad :
        new String[][] {{"", "pw"}, {"al ice", "pw"}, {"al:ice", "pw"}, {"alice", "p\nw"}}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> WhackClient.builder().credentials(bad[0], bad[1]),
          String.join("|", bad));
    }
  }
}

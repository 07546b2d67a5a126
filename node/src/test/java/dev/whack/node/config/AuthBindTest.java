package dev.whack.node.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * With an auth file, the node listens beyond loopback only over TLS or when told to in plain text.
 */
class AuthBindTest {
  private static final Path USERS = Path.of("users");

  @Test
  void shouldRefuseANonLoopbackAddressWithAuthAndNoTls() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new NodeConfig().authFile(USERS).bind("0.0.0.0").conclude());
    assertEquals(
        "with --auth-file the node listens on 0.0.0.0 only with TLS, or with --insecure-plaintext"
            + " to send passwords and data in the clear; or bind a loopback address (127.0.0.1)",
        e.getMessage());
  }

  @Test
  void shouldListenAnywhereWhenToldToInPlainText() {
    assertDoesNotThrow(
        () -> new NodeConfig().authFile(USERS).bind("0.0.0.0").insecurePlaintext(true).conclude());
  }

  @Test
  void shouldListenOnLoopbackWithAuth() {
    for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"}) {
      assertDoesNotThrow(
          () -> new NodeConfig().authFile(USERS).bind(loopback).conclude(), loopback);
    }
  }

  @Test
  void shouldChangeNothingWithoutAuth() {
    assertDoesNotThrow(() -> new NodeConfig().bind("0.0.0.0").conclude());
  }

  @Test
  void shouldTakeTheHttpAndGrpcPortsWithAuth() {
    assertDoesNotThrow(() -> new NodeConfig().authFile(USERS).httpPort(9280).conclude());
    assertDoesNotThrow(() -> new NodeConfig().authFile(USERS).grpcPort(9290).conclude());
  }

  @Test
  void shouldRefuseAClusterWithAuthButNoMemberCredentials() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new NodeConfig()
                    .authFile(USERS)
                    .port(11211)
                    .peers(java.util.List.of("127.0.0.1:11211", "127.0.0.1:11212"))
                    .conclude());
    assertEquals(
        "--auth-file in a cluster needs --member-user and --member-password-file: the user, of"
            + " role admin, this node authenticates as to the other members (docs/security.md)",
        e.getMessage());
    assertDoesNotThrow(
        () ->
            new NodeConfig()
                .authFile(USERS)
                .port(11211)
                .peers(java.util.List.of("127.0.0.1:11211", "127.0.0.1:11212"))
                .memberCredentials("member", Path.of("member-password"))
                .conclude());
  }

  @Test
  void shouldRefuseMemberCredentialsWithoutAuth() {
    // A node that checks nobody would forward anyone's requests as the member (admin).
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new NodeConfig()
                .port(11211)
                .peers(java.util.List.of("127.0.0.1:11211", "127.0.0.1:11212"))
                .memberCredentials("member", Path.of("member-password"))
                .conclude());
  }
}

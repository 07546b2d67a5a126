package dev.whack.node.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.AuthenticationException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.ServerErrorException;
import dev.whack.client.WhackClient;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.TestUsers;
import dev.whack.proto.Increment;
import dev.whack.proto.Update;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java client's credentials against a node with an auth file, over its memcached and gRPC
 * ports: good ones work, a wrong password fails the connect naming the user, none get the node's
 * refusal, a reader cannot write, and a node without an auth file is sent no password.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientAuthTest {
  private EmbeddedNode node;
  private EmbeddedNode open;

  @BeforeAll
  void start(@TempDir Path dir) {
    Path users = TestUsers.write(dir);
    node = EmbeddedNode.start(c -> c.authFile(users).grpcPort(FreePorts.take(1)[0]));
    open = EmbeddedNode.start();
  }

  @AfterAll
  void stop() {
    node.close();
    open.close();
  }

  private WhackClient client(EmbeddedNode to, String user, String password) {
    WhackClient.Builder b =
        WhackClient.builder()
            .servers(to.address())
            .requestTimeout(Duration.ofSeconds(5))
            .discoverCluster(false);
    if (user != null) {
      b.credentials(user, password);
    }
    return b.build();
  }

  @Test
  void shouldAuthenticateEveryConnectionBeforeItsFirstRequest() {
    try (WhackClient writer = client(node, "writer", "writer-pw")) {
      writer.blocking().set("a", "1".getBytes(StandardCharsets.UTF_8));
      assertEquals("1", writer.blocking().get("a").orElseThrow().valueAsString());
    }
  }

  @Test
  void shouldFailTheConnectNamingTheUserForAWrongPassword() {
    try (WhackClient wrong = client(node, "writer", "not-it")) {
      NodeUnavailableException e =
          assertThrows(NodeUnavailableException.class, () -> wrong.blocking().get("a"));
      assertEquals(node.address() + " is down: authentication failed for writer", e.getMessage());
      assertInstanceOf(AuthenticationException.class, e.getCause());
    }
  }

  @Test
  void shouldGetTheNodesRefusalWithoutCredentials() {
    try (WhackClient none = client(node, null, null)) {
      ServerErrorException e =
          assertThrows(ServerErrorException.class, () -> none.blocking().get("a"));
      assertEquals("unauthenticated", e.serverMessage());
    }
  }

  @Test
  void shouldNotLetAReaderWrite() {
    try (WhackClient reader = client(node, "reader", "reader-pw")) {
      ServerErrorException e =
          assertThrows(
              ServerErrorException.class,
              () -> reader.blocking().set("r", "1".getBytes(StandardCharsets.UTF_8)));
      assertEquals("unauthorized: the write role is required", e.serverMessage());
      assertFalse(reader.blocking().get("r").isPresent());
    }
  }

  @Test
  void shouldSendNoPasswordToANodeThatAsksForNone() {
    try (WhackClient c = client(open, "writer", "writer-pw")) {
      c.blocking().set("k", "v".getBytes(StandardCharsets.UTF_8));
      assertEquals("v", c.blocking().get("k").orElseThrow().valueAsString());
      // memcached's set-form authentication would have been stored as the item "auth"
      assertFalse(c.blocking().get("auth").isPresent());
    }
  }

  private static Update increment(String key) {
    return Update.newBuilder()
        .setKey(key)
        .addIncr(Increment.newBuilder().setName("n").setIntDelta(1))
        .build();
  }

  private GrpcBulkWriter.Builder grpcWriter() {
    return GrpcBulkWriter.builder("127.0.0.1:" + node.node().grpcPort())
        .connectTimeout(Duration.ofSeconds(5));
  }

  @Test
  void shouldIngestOverGrpcWithCredentials() throws Exception {
    try (GrpcBulkWriter writer = grpcWriter().credentials("writer", "writer-pw").open()) {
      writer.update(increment("g")).get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldFailTheGrpcOpenForAWrongPassword() {
    NodeUnavailableException e =
        assertThrows(
            NodeUnavailableException.class,
            () -> grpcWriter().credentials("writer", "not-it").open().close());
    assertInstanceOf(AuthenticationException.class, e.getCause());
    assertEquals(
        "127.0.0.1:" + node.node().grpcPort() + " is down: authentication failed for writer",
        e.getMessage());
  }

  /**
   * A reader's Ingest stream is refused: when the open, or the first write, meets the refusal
   * depends on how soon the node answers the stream (its credentials may be remembered), so either
   * is right, and neither says the node is down.
   */
  @Test
  void shouldNotLetAReaderIngestOverGrpc() throws Exception {
    String refusal = "PERMISSION_DENIED: unauthorized: the write role";
    GrpcBulkWriter writer;
    try {
      writer = grpcWriter().credentials("reader", "reader-pw").open();
    } catch (dev.whack.client.WhackException refused) {
      assertFalse(refused instanceof NodeUnavailableException, refused.toString());
      assertTrue(refused.getMessage().contains(refusal), refused.getMessage());
      return;
    }
    try (writer) {
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () -> writer.update(increment("g2")).get(10, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains(refusal), e.getCause().getMessage());
    }
  }
}

package dev.whack.node.grpc;

import static dev.whack.node.grpc.GrpcCalls.assertCode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whack.node.security.BasicCredentials;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.TestUsers;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.DropSegmentRequest;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.SegmentDefinition;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC port with an auth file, with grpc-java's own client: {@code authorization: Basic ...}
 * metadata checked by the node's users, UNAUTHENTICATED without or with bad credentials,
 * PERMISSION_DENIED below the method's role (GrpcAuth.ROLES), health checking open.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrpcAuthTest {
  private EmbeddedNode node;
  private ManagedChannel channel;

  @BeforeAll
  void start(@TempDir Path dir) {
    Path users = TestUsers.write(dir);
    node = EmbeddedNode.start(c -> c.authFile(users).grpcPort(FreePorts.take(1)[0]));
    channel = GrpcCalls.channel(node.node().grpcPort());
  }

  @AfterAll
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    node.close();
  }

  private WhackGrpc.WhackBlockingStub blocking(String authorization) {
    return WhackGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(authorization)))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private WhackGrpc.WhackStub async(String authorization) {
    return WhackGrpc.newStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers(authorization)));
  }

  private static Metadata headers(String authorization) {
    Metadata headers = new Metadata();
    if (authorization != null) {
      headers.put(GrpcAuth.AUTHORIZATION, authorization);
    }
    return headers;
  }

  private static String as(String user) {
    return BasicCredentials.header(user, TestUsers.password(user));
  }

  private static DefineSegmentRequest define(String name, boolean dryRun) {
    return DefineSegmentRequest.newBuilder()
        .setSegment(SegmentDefinition.newBuilder().setName(name).setExpression("n > 0"))
        .setDryRun(dryRun)
        .build();
  }

  @Test
  void shouldRefuseACallWithoutCredentials() {
    StatusRuntimeException e =
        assertCode(
            Status.Code.UNAUTHENTICATED,
            () -> blocking(null).listSegments(ListSegmentsRequest.getDefaultInstance()));
    assertEquals(
        "this node requires authentication: send the metadata authorization: Basic"
            + " base64(user:password) of a user of its auth file (docs/security.md)",
        e.getStatus().getDescription());
  }

  @Test
  void shouldRefuseABadPasswordAnUnknownUserAndAnotherScheme() {
    for (String authorization :
        List.of(
            BasicCredentials.header("reader", "wrong"),
            BasicCredentials.header("nobody", "reader-pw"),
            "Bearer token")) {
      assertCode(
          Status.Code.UNAUTHENTICATED,
          () -> blocking(authorization).listSegments(ListSegmentsRequest.getDefaultInstance()));
    }
  }

  @Test
  void shouldLetAReaderReadAndDryRunButNotWriteOrDefine() throws Exception {
    blocking(as("reader")).listSegments(ListSegmentsRequest.getDefaultInstance());
    blocking(as("reader")).getProfiles(GetProfilesRequest.newBuilder().addKeys("p").build());
    blocking(as("reader")).defineSegment(define("readers", true));
    StatusRuntimeException define =
        assertCode(
            Status.Code.PERMISSION_DENIED,
            () -> blocking(as("reader")).defineSegment(define("readers", false)));
    assertEquals("unauthorized: the admin role is required", define.getStatus().getDescription());
    assertCode(
        Status.Code.PERMISSION_DENIED,
        () ->
            blocking(as("reader"))
                .dropSegment(DropSegmentRequest.newBuilder().setName("x").build()));
    ExecutionException ingest =
        assertThrows(
            ExecutionException.class,
            () -> GrpcCalls.ingest(async(as("reader")), List.of(GrpcCalls.add(1, "r", 1)), 1));
    Status status = Status.fromThrowable(ingest.getCause());
    assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
    assertEquals("unauthorized: the write role is required", status.getDescription());
    assertEquals(
        0,
        blocking(as("admin"))
            .getProfiles(GetProfilesRequest.newBuilder().addKeys("r").build())
            .getProfiles(0)
            .getJson()
            .length(),
        "nothing was written");
  }

  @Test
  void shouldLetAWriterIngestButNotDefine() throws Exception {
    GrpcCalls.Ingested done =
        GrpcCalls.ingest(async(as("writer")), List.of(GrpcCalls.add(1, "w", 5)), 1);
    assertEquals(List.of(1L), done.acked());
    assertCode(
        Status.Code.PERMISSION_DENIED,
        () -> blocking(as("writer")).defineSegment(define("writers", false)));
  }

  @Test
  void shouldLetAnAdminDefineAndDrop() {
    blocking(as("admin")).defineSegment(define("admins", false));
    assertEquals(
        "admins",
        blocking(as("reader"))
            .listSegments(ListSegmentsRequest.getDefaultInstance())
            .getSegments(0)
            .getName());
    blocking(as("admin")).dropSegment(DropSegmentRequest.newBuilder().setName("admins").build());
  }

  @Test
  void shouldAnswerHealthChecksWithoutCredentials() {
    assertEquals(
        ServingStatus.SERVING,
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("whack.v1.Whack").build())
            .getStatus());
  }
}

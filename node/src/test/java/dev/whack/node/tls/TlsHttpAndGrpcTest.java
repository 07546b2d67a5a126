package dev.whack.node.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.client.NodeUnavailableException;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.client.tls.ClientTls;
import dev.whack.node.config.TlsOptions;
import dev.whack.node.config.TlsOptions.ClientAuth;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.TlsCertificates;
import dev.whack.node.testing.TlsCertificates.Ca;
import dev.whack.node.testing.TlsCertificates.Issued;
import dev.whack.proto.Profile;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the HTTP and gRPC ports, with client certificates required: real HTTP and gRPC clients
 * with the test CA are served; plaintext clients get the HTTP port's 400 or a quick gRPC failure,
 * never a hang; a reload reaches the gRPC port's new connections too; the Java client's gRPC bulk
 * writer speaks TLS with a CA and a client certificate, and fails its open naming the handshake
 * when the node's certificate is not trusted or does not name the host.
 */
class TlsHttpAndGrpcTest {
  @TempDir static Path dir;
  private static Ca ca;
  private static Issued client;
  private static Path certFile;
  private static Path keyFile;
  private static EmbeddedNode node;

  @BeforeAll
  static void start() {
    ca = TlsCertificates.ca("Ports CA", dir);
    client = ca.client("app");
    certFile = dir.resolve("node.pem");
    keyFile = dir.resolve("node.key");
    ca.node("node").writeTo(certFile, keyFile);
    node =
        EmbeddedNode.start(
            c ->
                c.httpPort(freePort())
                    .grpcPort(freePort())
                    .tls(new TlsOptions(certFile, keyFile, ca.file(), ClientAuth.REQUIRE)));
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  private static int freePort() {
    return dev.whack.node.testing.FreePorts.take(1)[0];
  }

  @Test
  void shouldAnswerHttpsWithTheTestCaAndAClientCertificate() throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(TlsCertificates.clientContext(ca, client))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + node.node().httpPort() + "/health"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode());
    assertTrue(health.body().contains("\"status\":\"ok\""), health.body());
  }

  @Test
  void shouldRefuseHttpsWithoutTheRequiredClientCertificate() {
    HttpClient http =
        HttpClient.newBuilder()
            .sslContext(TlsCertificates.clientContext(ca, null))
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    assertThrows(
        IOException.class,
        () ->
            http.send(
                HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + node.node().httpPort() + "/health"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void shouldTellAPlaintextHttpClientToUseHttpsAndClose() throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", node.node().httpPort()), 2000);
      socket.setSoTimeout(5000);
      socket
          .getOutputStream()
          .write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
      assertTrue(answer.endsWith("\r\n\r\nthis port requires TLS: use https://\n"), answer);
    }
  }

  private static ManagedChannel tlsChannel(Issued presented) throws IOException {
    var ssl = GrpcSslContexts.forClient().trustManager(ca.certificate());
    if (presented != null) {
      ssl.keyManager(presented.keys().getPrivate(), presented.certificate());
    }
    return NettyChannelBuilder.forAddress("127.0.0.1", node.node().grpcPort())
        .sslContext(ssl.build())
        .build();
  }

  private static ServingStatus health(ManagedChannel channel) {
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService("whack.v1.Whack").build())
        .getStatus();
  }

  @Test
  void shouldServeGrpcOverTlsWithTheTestCaAndAClientCertificate() throws Exception {
    ManagedChannel channel = tlsChannel(client);
    try {
      assertEquals(ServingStatus.SERVING, health(channel));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldRefuseGrpcWithoutTheRequiredClientCertificate() throws Exception {
    ManagedChannel channel = tlsChannel(null);
    try {
      StatusRuntimeException refused =
          assertThrows(StatusRuntimeException.class, () -> health(channel));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldFailAPlaintextGrpcClientQuicklyRatherThanHang() throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", node.node().grpcPort()).usePlaintext().build();
    try {
      long start = System.nanoTime();
      StatusRuntimeException refused =
          assertThrows(StatusRuntimeException.class, () -> health(channel));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
      assertTrue(
          System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "waited for the deadline");
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static GrpcBulkWriter.Builder writer(int grpcPort, ClientTls tls) {
    return GrpcBulkWriter.builder("127.0.0.1:" + grpcPort)
        .tls(tls)
        .connectTimeout(Duration.ofSeconds(3));
  }

  @Test
  void shouldIngestThroughTheJavaBulkWriterOverTlsWithAClientCertificate() {
    ClientTls tls =
        ClientTls.builder()
            .trustCa(ca.file())
            .certificate(client.certFile(), client.keyFile())
            .build();
    try (GrpcBulkWriter writer = writer(node.node().grpcPort(), tls).open()) {
      writer.setProfile(Profile.newBuilder().setKey("grpc:tls").build()).join();
      assertEquals(1, writer.succeeded());
    }
  }

  @Test
  void shouldFailTheBulkWritersOpenWithTheHandshakeWhenTheNodeIsNotTrusted() {
    Ca other = TlsCertificates.ca("Other CA", dir);
    Issued stranger = other.client("stranger");
    ClientTls tls =
        ClientTls.builder()
            .trustCa(other.file())
            .certificate(stranger.certFile(), stranger.keyFile())
            .build();
    NodeUnavailableException down =
        assertThrows(
            NodeUnavailableException.class, () -> writer(node.node().grpcPort(), tls).open());
    assertTrue(down.getMessage().contains("TLS handshake failed"), down.getMessage());
  }

  @Test
  void shouldFailTheBulkWritersOpenWhenTheCertificateDoesNotNameTheHost() throws Exception {
    Issued elsewhere = ca.nodeNaming("elsewhere", java.util.List.of("10.9.9.9"));
    int grpcPort = freePort();
    EmbeddedNode misnamed =
        EmbeddedNode.start(
            c ->
                c.grpcPort(grpcPort)
                    .tls(
                        new TlsOptions(
                            elsewhere.certFile(), elsewhere.keyFile(), null, ClientAuth.NONE)));
    try {
      ClientTls tls = ClientTls.builder().trustCa(ca.file()).build();
      NodeUnavailableException down =
          assertThrows(NodeUnavailableException.class, () -> writer(grpcPort, tls).open());
      assertTrue(down.getMessage().contains("TLS handshake failed"), down.getMessage());
    } finally {
      misnamed.close();
    }
  }

  @Test
  void shouldServeAReloadedCertificateOnTheGrpcAndHttpPorts() throws Exception {
    Issued second = ca.node("second");
    second.writeTo(certFile, keyFile);
    assertTrue(node.node().reloadTls());
    BigInteger serial = second.certificate().getSerialNumber();
    assertEquals(serial, servedSerial(node.node().grpcPort(), "h2"));
    assertEquals(serial, servedSerial(node.node().httpPort(), "http/1.1"));
    assertEquals(serial, servedSerial(node.port(), null));
  }

  private static BigInteger servedSerial(int port, String alpn) throws IOException {
    SSLSocket socket =
        (SSLSocket) TlsCertificates.clientContext(ca, client).getSocketFactory().createSocket();
    try (socket) {
      if (alpn != null) {
        SSLParameters parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {alpn});
        socket.setSSLParameters(parameters);
      }
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      socket.setSoTimeout(5000);
      socket.startHandshake();
      return TlsCertificates.serverCertificate(socket).getSerialNumber();
    }
  }
}

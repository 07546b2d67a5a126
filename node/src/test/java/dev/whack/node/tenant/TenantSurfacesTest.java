package dev.whack.node.tenant;

import static dev.whack.node.tenant.Conversations.ask;
import static dev.whack.node.tenant.Conversations.line;
import static dev.whack.node.tenant.Conversations.update;
import static dev.whack.node.testing.BinaryPacket.bytes;
import static dev.whack.node.testing.BinaryPacket.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.security.BasicCredentials;
import dev.whack.node.security.Role;
import dev.whack.node.testing.BinaryPacket;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.node.testing.TestUsers;
import dev.whack.proto.Attribute;
import dev.whack.proto.CountRequest;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IngestReply;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import dev.whack.proto.WhackGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants on every surface of a real node (binary SASL, HTTP, gRPC), their quotas, the fair share
 * over every port, a drop (its gRPC streams included), and a restart from the data directory.
 */
class TenantSurfacesTest {
  @TempDir Path dir;
  private EmbeddedNode node;
  private Path users;
  private Path data;

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private void start(int httpPort, int grpcPort) throws IOException {
    if (users == null) {
      users = TestUsers.write(dir);
      StringBuilder more = new StringBuilder();
      for (String tenant : List.of("shop", "blog", "tiny")) {
        for (Role role : Role.values()) {
          String user = tenant + "-" + role.word();
          more.append(TestUsers.line(user, TestUsers.password(user), role))
              .append(" tenant=")
              .append(tenant)
              .append('\n');
        }
      }
      Files.writeString(users, Files.readString(users) + more);
      data = dir.resolve("data");
    }
    node =
        EmbeddedNode.start(
            c -> c.authFile(users).dataDir(data).httpPort(httpPort).grpcPort(grpcPort));
  }

  private void createTenants(String... definitions) {
    try (RawConnection admin = login("admin")) {
      for (String definition : definitions) {
        assertEquals("CREATED", ask(admin, "tenant create " + definition + "\r\n"), definition);
      }
    }
  }

  @Test
  void shouldServeEachTenantsUsersTheirOwnDataOnEveryPort() throws Exception {
    int[] ports = FreePorts.take(2);
    start(ports[0], ports[1]);
    createTenants("shop memory=8388608", "blog memory=8388608");
    try (RawConnection shop = login("shop-admin")) {
      assertEquals("UPDATED", ask(shop, update("p", "{\"set\": {\"age\": 40}}")));
      assertEquals("DEFINED 1", ask(shop, "segdef old 8\r\nage > 30\r\n"));
    }
    // Binary SASL into shop sees shop's profile; a blog user over binary does not.
    try (RawConnection shop = binaryLogin("shop-read");
        RawConnection blog = binaryLogin("blog-read")) {
      assertEquals(0, binaryGet(shop, "p").status());
      assertEquals(1, binaryGet(blog, "p").status(), "key not found in blog");
    }
    // HTTP: the profile and the segment list are shop's alone.
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    assertEquals(200, httpGet(http, ports[0], "/profiles/p", "shop-read").statusCode());
    assertEquals(404, httpGet(http, ports[0], "/profiles/p", "blog-read").statusCode());
    assertEquals(404, httpGet(http, ports[0], "/profiles/p", "reader").statusCode());
    assertTrue(httpGet(http, ports[0], "/segments", "shop-read").body().contains("\"old\""));
    assertEquals("[]", httpGet(http, ports[0], "/segments", "blog-read").body().strip());
    // gRPC likewise.
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", ports[1]).usePlaintext().build();
    try {
      assertEquals(
          1,
          grpc(channel, "shop-read")
              .listSegments(ListSegmentsRequest.getDefaultInstance())
              .getSegmentsCount());
      assertEquals(
          0,
          grpc(channel, "blog-read")
              .listSegments(ListSegmentsRequest.getDefaultInstance())
              .getSegmentsCount());
      assertEquals(
          1,
          grpc(channel, "shop-read")
              .count(CountRequest.newBuilder().setExpression("old").build())
              .getCount());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldHoldEachTenantToItsQuotas() throws Exception {
    start(0, 0);
    createTenants(
        "shop memory=8388608 rate=20", "blog memory=8388608 segments=2", "tiny memory=2097152");
    // Rate: past 20 requests in a second, shop's are refused; blog's are not.
    try (RawConnection shop = login("shop-write");
        RawConnection blog = login("blog-write")) {
      int refused = 0;
      for (int i = 0; i < 60; i++) {
        String reply = ask(shop, "get k\r\n");
        if (reply.startsWith("SERVER_ERROR")) {
          assertEquals("SERVER_ERROR tenant shop is over its request rate of 20/s", reply);
          refused++;
        } else {
          assertEquals("END", reply);
        }
        assertEquals("END", ask(blog, "get k\r\n"));
      }
      assertTrue(refused >= 60 - 3 * 20, "refused " + refused + " of 60");
      String metrics = node.node().metrics().scrape();
      assertTrue(
          metrics.contains("whack_tenant_over_rate{tenant=\"shop\"} " + refused + ".0"), metrics);
      assertTrue(metrics.contains("whack_tenant_over_rate{tenant=\"blog\"} 0.0"), metrics);
      assertTrue(metrics.contains("whack_tenant_connections{tenant=\"shop\"} 1.0"), metrics);
    }
    // Segments: two, then no more.
    try (RawConnection blog = login("blog-admin")) {
      assertEquals("DEFINED 0", ask(blog, "segdef a 5\r\nx > 1\r\n"));
      assertEquals("DEFINED 0", ask(blog, "segdef b 5\r\nx > 1\r\n"));
      assertEquals(
          "CLIENT_ERROR at most 2 segments may be defined here (the node's limit, or its tenant's"
              + " quota)",
          ask(blog, "segdef c 5\r\nx > 1\r\n"));
    }
    // Memory: tiny evicts its own items to stay under 2 MiB; the default tenant's stay.
    try (RawConnection plain = login("writer");
        RawConnection tiny = login("tiny-write")) {
      assertEquals("STORED", ask(plain, "set keep 0 0 4\r\nkeep\r\n"));
      String value = "v".repeat(10_000);
      for (int i = 0; i < 1000; i++) {
        assertEquals("STORED", ask(tiny, "set k" + i + " 0 0 10000\r\n" + value + "\r\n"));
      }
      assertEquals("END", ask(tiny, "get k0\r\n"), "the oldest of tiny's items was evicted");
      assertTrue(ask(tiny, "get k999\r\n").startsWith("VALUE"));
      assertEquals("VALUE keep 0 4", ask(plain, "get keep\r\n"));
    }
  }

  @Test
  void shouldCarveEachTenantsMemoryOutOfTheNodes() throws Exception {
    users = null;
    start(0, 0);
    long memory = node.node().config().memoryBytes();
    try (RawConnection admin = login("admin");
        RawConnection plain = login("writer")) {
      String value = "v".repeat(100_000);
      for (int i = 0; i < 200; i++) { // 20 MB in the default tenant
        assertEquals("STORED", ask(plain, "set d" + i + " 0 0 100000\r\n" + value + "\r\n"));
      }
      long carved = memory - (8 << 20);
      assertEquals("CREATED", ask(admin, "tenant create shop memory=" + carved + "\r\n"));
      assertEquals(
          "CLIENT_ERROR memory=8388608 for tenant blog does not fit: the node's --memory is "
              + memory
              + " bytes, other tenants have "
              + carved
              + " of it and the default tenant keeps at least 1048576",
          ask(admin, "tenant create blog memory=8388608\r\n"));
      admin.send("tenant list\r\n");
      String defaults = line(admin);
      assertTrue(defaults.contains(" limit_maxbytes=" + (8 << 20) + " "), defaults);
      long bytes = Long.parseLong(defaults.replaceAll(".* bytes=([0-9]+) .*", "$1"));
      assertTrue(
          bytes <= 8 << 20, "the default tenant's items were evicted down to its cap: " + defaults);
      line(admin);
      assertEquals("END", line(admin));
      assertEquals("END", ask(plain, "get d0\r\n"), "the oldest went first");
      assertEquals("DROPPED", ask(admin, "tenant drop shop\r\n"));
      admin.send("tenant list\r\n");
      assertTrue(line(admin).contains(" limit_maxbytes=" + memory + " "), "given back");
      assertEquals("END", line(admin));
    }
  }

  @Test
  void shouldMakeAFloodingTenantYieldToAnotherThatWorks() throws Exception {
    start(0, 0);
    createTenants("shop memory=8388608", "blog memory=8388608");
    try (RawConnection flood = login("shop-write");
        RawConnection steady = login("blog-write");
        RawConnection admin = login("admin")) {
      // Half a million pipelined gets from shop, read back by a thread of their own.
      int floodRequests = 500_000;
      Thread reader =
          new Thread(
              () -> {
                for (int i = 0; i < floodRequests; i++) {
                  line(flood);
                }
              });
      reader.start();
      byte[] batch = "get k\r\n".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
      Thread writer =
          new Thread(
              () -> {
                for (int i = 0; i < floodRequests / 10_000; i++) {
                  flood.send(batch);
                }
              });
      writer.start();
      // Meanwhile blog asks one request at a time, as a steady client does.
      while (writer.isAlive() || reader.isAlive()) {
        assertEquals("END", ask(steady, "get k\r\n"));
      }
      writer.join();
      reader.join();
      admin.send("tenant list\r\n");
      String defaults = line(admin);
      String blog = line(admin);
      String shop = line(admin);
      assertEquals("END", line(admin));
      assertTrue(defaults.startsWith("TENANT default "), defaults);
      assertTrue(blog.endsWith(" paused=0"), blog);
      assertTrue(!shop.endsWith(" paused=0"), "the flood yielded its turn: " + shop);
    }
  }

  @Test
  void shouldCountATenantsHttpFloodAgainstItsFairShare() throws Exception {
    int[] ports = FreePorts.take(1);
    start(ports[0], 0);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    assertFloodOverOtherPortsMakesShopYield(
        () ->
            assertEquals(200, httpGet(http, ports[0], "/profiles/big", "shop-read").statusCode()));
  }

  @Test
  void shouldCountATenantsGrpcFloodAgainstItsFairShare() throws Exception {
    int[] ports = FreePorts.take(1);
    start(0, ports[0]);
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", ports[0]).usePlaintext().build();
    try {
      GetProfilesRequest request =
          GetProfilesRequest.newBuilder().addAllKeys(Collections.nCopies(20, "big")).build();
      assertFloodOverOtherPortsMakesShopYield(
          () ->
              assertEquals(20, grpc(channel, "shop-read").getProfiles(request).getProfilesCount()));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Floods shop with {@code request} (a read of a profile of 1,000 attributes, over HTTP or gRPC)
   * from two threads, while blog's memcached client asks one get at a time and shop's own sends 40
   * pipelined gets every 30 ms: far less than blog's work, so they yield their turn (shop's {@code
   * paused}) only when the flood's time counts against shop's share.
   */
  private void assertFloodOverOtherPortsMakesShopYield(Request request) throws Exception {
    createTenants("shop memory=8388608", "blog memory=8388608");
    StringBuilder attributes = new StringBuilder("{\"set\": {");
    for (int i = 0; i < 1000; i++) {
      attributes
          .append(i == 0 ? "" : ", ")
          .append("\"a")
          .append(i)
          .append("\": \"value ")
          .append(i)
          .append('"');
    }
    try (RawConnection shop = login("shop-write");
        RawConnection steady = login("blog-write");
        RawConnection admin = login("admin")) {
      assertEquals("UPDATED", ask(shop, update("big", attributes + "}}")));
      AtomicBoolean flooding = new AtomicBoolean(true);
      ExecutorService flood = Executors.newFixedThreadPool(2);
      List<Future<?>> floods = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        floods.add(
            flood.submit(
                () -> {
                  while (flooding.get()) {
                    request.send();
                  }
                  return null;
                }));
      }
      byte[] batch = "get k\r\n".repeat(40).getBytes(StandardCharsets.US_ASCII);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      long nextBatch = 0;
      try {
        while (paused(admin, "shop") == 0 && System.nanoTime() < deadline) {
          if (System.nanoTime() >= nextBatch) {
            shop.send(batch);
            for (int i = 0; i < 40; i++) {
              assertEquals("END", line(shop));
            }
            nextBatch = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30);
          }
          assertEquals("END", ask(steady, "get k\r\n"));
        }
      } finally {
        flooding.set(false);
        flood.shutdown();
      }
      for (Future<?> f : floods) {
        f.get(10, TimeUnit.SECONDS); // the flood's requests were all answered
      }
      assertTrue(paused(admin, "shop") > 0, "shop's memcached client yielded to blog's");
    }
  }

  /** One request of a flood. */
  @FunctionalInterface
  private interface Request {
    void send() throws Exception;
  }

  /** A tenant's {@code paused} count in {@code tenant list}. */
  private static long paused(RawConnection admin, String tenant) {
    admin.send("tenant list\r\n");
    long paused = -1;
    for (String l = line(admin); !l.equals("END"); l = line(admin)) {
      if (l.startsWith("TENANT " + tenant + " ")) {
        paused = Long.parseLong(l.substring(l.lastIndexOf(" paused=") + " paused=".length()));
      }
    }
    return paused;
  }

  @Test
  void shouldCloseADroppedTenantsConnectionsAndKeepTheOthersAcrossARestart() throws Exception {
    start(0, 0);
    createTenants("shop memory=8388608", "blog memory=8388608");
    try (RawConnection shop = login("shop-write");
        RawConnection blog = login("blog-write")) {
      assertEquals("STORED", ask(shop, "set k 0 0 4\r\nshop\r\n"));
      assertEquals("STORED", ask(blog, "set k 0 0 4\r\nblog\r\n"));
      try (RawConnection admin = login("admin")) {
        assertEquals("DROPPED", ask(admin, "tenant drop shop\r\n"));
        assertEquals("NOT_FOUND", ask(admin, "tenant drop shop\r\n"));
        assertEquals(
            "CLIENT_ERROR the default tenant cannot be dropped",
            ask(admin, "tenant drop default\r\n"));
      }
      shop.send("get k\r\n");
      assertTrue(shop.isClosedByPeer(), "the dropped tenant's connection was closed");
    }
    try (RawConnection again = node.connect()) {
      again.send(TestUsers.textAuth("shop-write"));
      assertEquals("CLIENT_ERROR authentication failure", line(again), "shop is gone");
    }
    node.close();
    node = null;
    start(0, 0);
    try (RawConnection blog = login("blog-read");
        RawConnection admin = login("admin")) {
      assertEquals("VALUE k 0 4", ask(blog, "get k\r\n"));
      assertEquals("blog", line(blog));
      assertEquals("END", line(blog));
      admin.send("tenant list\r\n");
      assertTrue(line(admin).startsWith("TENANT default "));
      assertTrue(line(admin).startsWith("TENANT blog memory=8388608 segments=0 rate=0 items=1 "));
      assertEquals("END", line(admin));
    }
  }

  @Test
  void shouldEndADroppedTenantsIngestStreamAtOnce() throws Exception {
    int[] ports = FreePorts.take(1);
    start(0, ports[0]);
    createTenants("shop memory=8388608");
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", ports[0]).usePlaintext().build();
    try {
      BlockingQueue<IngestReply> replies = new LinkedBlockingQueue<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      StreamObserver<IngestRequest> items =
          grpcAsync(channel, "shop-write")
              .ingest(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(IngestReply reply) {
                      replies.add(reply);
                    }

                    @Override
                    public void onError(Throwable t) {
                      ended.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                      ended.complete(null);
                    }
                  });
      items.onNext(setAge(1, "p", 40));
      IngestReply first = replies.poll(10, TimeUnit.SECONDS);
      assertTrue(first != null && first.getAckedCount() == 1, "the stream is open: " + first);
      try (RawConnection admin = login("admin")) {
        assertEquals("DROPPED", ask(admin, "tenant drop shop\r\n"));
      }
      // The client never ends its stream: the node does, and says why.
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> ended.get(5, TimeUnit.SECONDS));
      Status status = Status.fromThrowable(e.getCause());
      assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
      assertEquals("tenant shop was dropped", status.getDescription());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static BinaryPacket binaryGet(RawConnection c, String key) {
    c.send(request(0x00, 9, 0, new byte[0], bytes(key), new byte[0]));
    return BinaryPacket.read(c);
  }

  private static HttpResponse<String> httpGet(HttpClient http, int port, String path, String user)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Authorization", BasicCredentials.header(user, TestUsers.password(user)))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static WhackGrpc.WhackBlockingStub grpc(ManagedChannel channel, String user) {
    return WhackGrpc.newBlockingStub(channel)
        .withInterceptors(as(user))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static WhackGrpc.WhackStub grpcAsync(ManagedChannel channel, String user) {
    return WhackGrpc.newStub(channel).withInterceptors(as(user));
  }

  /** Sends {@code user}'s credentials with every call. */
  private static ClientInterceptor as(String user) {
    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        BasicCredentials.header(user, TestUsers.password(user)));
    return MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  /** An Ingest item setting {@code key}'s attribute {@code age}. */
  private static IngestRequest setAge(long id, String key, long age) {
    return IngestRequest.newBuilder()
        .setId(id)
        .setUpdate(
            Update.newBuilder()
                .setKey(key)
                .addSet(
                    Attribute.newBuilder()
                        .setName("age")
                        .setValue(Value.newBuilder().setIntValue(age))))
        .build();
  }

  private RawConnection login(String user) {
    return Conversations.login(node, user);
  }

  private RawConnection binaryLogin(String user) {
    return Conversations.binaryLogin(node, user);
  }
}

package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.FreePorts;
import dev.whack.node.testing.RawConnection;
import dev.whack.proto.CountRequest;
import dev.whack.proto.DropSegmentRequest;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.MembersRequest;
import dev.whack.proto.ProfileFormat;
import dev.whack.proto.ProfileResult;
import dev.whack.proto.SegmentChange;
import dev.whack.proto.SegmentsOfRequest;
import dev.whack.proto.SubscribeReply;
import dev.whack.proto.SubscribeRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three static members, each with a gRPC port: whichever node a call goes to answers for the whole
 * cluster, as its memcached port does. Items go to their keys' owners, reads come from them,
 * segment questions and definitions reach every member, and a subscriber on one node hears the
 * changes of keys the others own.
 */
class GrpcClusterTest {
  private static final int PROFILES = 300;

  private final List<EmbeddedNode> nodes = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (EmbeddedNode n : nodes) {
      n.close();
    }
  }

  @Test
  void shouldAnswerForTheWholeClusterFromAnyNode() throws Exception {
    int[] ports = FreePorts.take(6);
    List<String> members = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      members.add("127.0.0.1:" + ports[i]);
    }
    for (int i = 0; i < 3; i++) {
      int port = ports[i];
      int grpc = ports[3 + i];
      nodes.add(EmbeddedNode.start(c -> c.port(port).grpcPort(grpc).peers(members)));
      channels.add(GrpcCalls.channel(grpc));
    }
    awaitConnected();
    WhackGrpc.WhackBlockingStub[] blocking = new WhackGrpc.WhackBlockingStub[3];
    for (int i = 0; i < 3; i++) {
      blocking[i] = WhackGrpc.newBlockingStub(channels.get(i));
    }

    // Every item through node 0: each key's three increments reach its owner in order.
    List<IngestRequest> items = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (int p = 0; p < PROFILES; p++) {
        items.add(GrpcCalls.add(items.size(), "c" + p, 1));
      }
    }
    GrpcCalls.Ingested ingested =
        GrpcCalls.ingest(WhackGrpc.newStub(channels.get(0)), items, items.size());
    assertEquals(items.size(), ingested.acked().size(), ingested.errors().toString());
    Set<Integer> holders = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      if (nodes.get(i).node().keyspace().itemCount() > 0) {
        holders.add(i);
      }
    }
    assertEquals(Set.of(0, 1, 2), holders, "the keys spread over every member");

    // Defined through node 1; counted, listed and read through node 2.
    GrpcStreamsTest.define(blocking[1], "three", "n == 3");
    assertEquals(
        PROFILES,
        blocking[2].count(CountRequest.newBuilder().setExpression("three").build()).getCount());
    assertEquals(
        PROFILES,
        blocking[2]
            .listSegments(ListSegmentsRequest.getDefaultInstance())
            .getSegments(0)
            .getSize());
    GetProfilesRequest.Builder ask = GetProfilesRequest.newBuilder();
    for (int p = 0; p < PROFILES; p++) {
      ask.addKeys("c" + p);
    }
    GetProfilesReply profiles = blocking[2].getProfiles(ask.build());
    for (ProfileResult r : profiles.getProfilesList()) {
      assertTrue(r.getFound() && r.getJson().contains("\"n\":3"), r.toString());
    }
    assertEquals(
        List.of("three"),
        blocking[1]
            .segmentsOf(SegmentsOfRequest.newBuilder().setKey("c7").build())
            .getSegmentsList());
    // Entered times too, the same through every member (the owner's, forwarded as segof since).
    var entered = blocking[0].segmentsOf(SegmentsOfRequest.newBuilder().setKey("c7").build());
    assertEquals("three", entered.getMemberships(0).getSegment());
    assertTrue(entered.getMemberships(0).getEnteredMillis() > 0, entered.toString());
    for (var b : blocking) {
      assertEquals(entered, b.segmentsOf(SegmentsOfRequest.newBuilder().setKey("c7").build()));
    }
    Set<String> listed = new HashSet<>();
    blocking[1]
        .members(MembersRequest.newBuilder().setExpression("three").setPageSize(50).build())
        .forEachRemaining(page -> listed.addAll(page.getKeysList()));
    assertEquals(PROFILES, listed.size());

    // Protobuf profiles read from their owners carry their keys.
    GetProfilesReply protobuf =
        blocking[0].getProfiles(ask.setFormat(ProfileFormat.PROFILE_FORMAT_PROTOBUF).build());
    for (ProfileResult r : protobuf.getProfilesList()) {
      assertEquals(r.getKey(), r.getProfile().getKey());
    }

    // Each key's items apply in the order sent, whoever owns the key: the last value wins.
    List<IngestRequest> ordered = new ArrayList<>();
    for (int round = 1; round <= 20; round++) {
      for (int p = 0; p < 30; p++) {
        ordered.add(GrpcCalls.setLast(ordered.size(), "c" + p, round));
      }
    }
    GrpcCalls.ingest(WhackGrpc.newStub(channels.get(1)), ordered, ordered.size());
    GrpcStreamsTest.define(blocking[0], "last20", "last == 20");
    assertEquals(
        30,
        blocking[2].count(CountRequest.newBuilder().setExpression("last20").build()).getCount(),
        "every key's last item applied last");

    // A name or cursor that would break a member's command line is refused, and nothing ran.
    long held = 0;
    for (EmbeddedNode n : nodes) {
      held += n.node().keyspace().itemCount();
    }
    GrpcCalls.assertCode(
        Status.Code.INVALID_ARGUMENT,
        () ->
            blocking[0].dropSegment(
                DropSegmentRequest.newBuilder().setName("x\r\nflush_all").build()));
    GrpcCalls.assertCode(
        Status.Code.INVALID_ARGUMENT,
        () ->
            blocking[0]
                .members(
                    MembersRequest.newBuilder()
                        .setExpression("three")
                        .setCursor("1:0\r\nset injected 0 0 3")
                        .build())
                .hasNext());
    long after = 0;
    for (EmbeddedNode n : nodes) {
      after += n.node().keyspace().itemCount();
    }
    assertEquals(held, after, "no member flushed or stored anything");

    // A subscriber on node 2 gets the cluster's members first, then hears every key leave,
    // whoever owns it.
    Iterator<SubscribeReply> changes =
        blocking[2].subscribe(
            SubscribeRequest.newBuilder().addSegments("three").setSnapshot(true).build());
    Set<String> snapshot = new HashSet<>();
    for (SubscribeReply r = changes.next(); !r.getSnapshotDone(); r = changes.next()) {
      r.getSnapshotList().forEach(m -> snapshot.addAll(m.getKeysList()));
    }
    assertEquals(PROFILES, snapshot.size(), "the snapshot covers every member");
    List<IngestRequest> leave = new ArrayList<>();
    for (int p = 0; p < PROFILES; p++) {
      leave.add(GrpcCalls.add(p, "c" + p, 1));
    }
    GrpcCalls.ingest(WhackGrpc.newStub(channels.get(1)), leave, PROFILES);
    Set<String> left = new HashSet<>();
    while (left.size() < PROFILES) {
      for (SegmentChange c : changes.next().getChangesList()) {
        assertEquals(SegmentChange.Kind.LEAVE, c.getKind());
        left.add(c.getKey());
      }
    }
    assertEquals(
        0, blocking[0].count(CountRequest.newBuilder().setExpression("three").build()).getCount());

    // An update of a key holding an opaque value is refused for the key's state, here or at the
    // owner alike.
    List<IngestRequest> updates = new ArrayList<>();
    try (RawConnection c = nodes.get(0).connect()) {
      for (int p = 0; p < 12; p++) {
        c.send("set plain" + p + " 0 0 5\r\nhello\r\n");
        assertEquals("STORED\r\n", c.readLine());
        updates.add(GrpcCalls.add(p, "plain" + p, 1));
      }
    }
    GrpcCalls.Ingested refused = GrpcCalls.ingest(WhackGrpc.newStub(channels.get(2)), updates, 12);
    assertEquals(12, refused.errors().size());
    for (var e : refused.errors()) {
      assertEquals("FAILED_PRECONDITION", e.getCode(), e.toString());
      assertTrue(e.getMessage().startsWith("not a profile"), e.toString());
    }
  }

  private void awaitConnected() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    for (EmbeddedNode node : nodes) {
      while (!node.node().cluster().downPeers().isEmpty()) {
        assertTrue(System.nanoTime() < deadline, "peers still down");
        Thread.sleep(20);
      }
    }
  }
}

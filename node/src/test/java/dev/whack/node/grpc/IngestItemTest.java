package dev.whack.node.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.whack.proto.Increment;
import dev.whack.proto.IngestRequest;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The Ingest request read as bytes agrees with protobuf-java's reading of the same bytes. */
class IngestItemTest {
  @Test
  void shouldReadTheIdTheItemsBytesAndItsKey() throws IOException {
    Update update =
        Update.newBuilder()
            .setKey("user:é")
            .addIncr(Increment.newBuilder().setName("n").setIntDelta(3))
            .setProducer("p")
            .setSeq(9)
            .build();
    byte[] message =
        IngestRequest.newBuilder().setId(1L << 40).setUpdate(update).build().toByteArray();
    IngestItem item = IngestItem.read(message).get(0);
    assertEquals(1L << 40, item.id());
    assertEquals(IngestItem.Kind.UPDATE, item.kind());
    assertArrayEquals(update.toByteArray(), item.body());
    assertArrayEquals("user:é".getBytes(StandardCharsets.UTF_8), item.key());

    Profile profile = Profile.newBuilder().setKey("k").build();
    IngestItem whole =
        IngestItem.read(
                IngestRequest.newBuilder().setId(2).setProfile(profile).build().toByteArray())
            .get(0);
    assertEquals(IngestItem.Kind.PROFILE, whole.kind());
    assertArrayEquals(profile.toByteArray(), whole.body());
  }

  @Test
  void shouldTakeTheLastItemAsProtobufMergesAOneofAndSkipUnknownFields() throws IOException {
    byte[] a =
        IngestRequest.newBuilder()
            .setId(1)
            .setUpdate(Update.newBuilder().setKey("a"))
            .build()
            .toByteArray();
    byte[] b =
        IngestRequest.newBuilder()
            .setProfile(Profile.newBuilder().setKey("b"))
            .build()
            .toByteArray();
    byte[] unknown = {(byte) 0xA8, 0x06, 0x01}; // field 101, varint 1
    byte[] message = concat(a, unknown, b);
    IngestItem item = IngestItem.read(message).get(0);
    IngestRequest reference = IngestRequest.parseFrom(message);
    assertEquals(reference.getId(), item.id());
    assertEquals(IngestItem.Kind.PROFILE, item.kind());
    assertArrayEquals(reference.getProfile().toByteArray(), item.body());
    assertArrayEquals("b".getBytes(StandardCharsets.UTF_8), item.key());
  }

  @Test
  void shouldReadAnEmptyRequestAsNoItemAndRefuseBytesThatAreNotProtobuf() throws IOException {
    IngestItem none =
        IngestItem.read(IngestRequest.newBuilder().setId(5).build().toByteArray()).get(0);
    assertEquals(IngestItem.Kind.NONE, none.kind());
    assertNull(none.key());
    assertArrayEquals(
        new byte[0],
        IngestItem.read(
                IngestRequest.newBuilder()
                    .setId(6)
                    .setUpdate(Update.getDefaultInstance())
                    .build()
                    .toByteArray())
            .get(0)
            .key());
    byte[] truncated =
        Arrays.copyOf(
            IngestRequest.newBuilder()
                .setId(1)
                .setUpdate(Update.newBuilder().setKey("abc"))
                .build()
                .toByteArray(),
            5);
    assertThrows(IOException.class, () -> IngestItem.read(truncated));
  }

  @Test
  void shouldReadABatchOfItemsAfterTheRequestsOwnEachWithItsId() throws IOException {
    IngestRequest request =
        IngestRequest.newBuilder()
            .setId(1)
            .setUpdate(Update.newBuilder().setKey("own"))
            .addItems(
                dev.whack.proto.IngestItem.newBuilder()
                    .setId(2)
                    .setUpdate(Update.newBuilder().setKey("a")))
            .addItems(
                dev.whack.proto.IngestItem.newBuilder()
                    .setId(3)
                    .setProfile(Profile.newBuilder().setKey("b")))
            .build();
    var items = IngestItem.read(request.toByteArray());
    assertEquals(3, items.size());
    assertEquals(
        java.util.List.of("1 UPDATE own", "2 UPDATE a", "3 PROFILE b"),
        items.stream()
            .map(i -> i.id() + " " + i.kind() + " " + new String(i.key(), StandardCharsets.UTF_8))
            .toList());
    assertArrayEquals(request.getItems(0).getUpdate().toByteArray(), items.get(1).body());
    assertEquals(3, items.get(0).request().unanswered, "one request, three items to answer");

    // A batch alone: the request's own id carries nothing and is not an item.
    var only =
        IngestItem.read(
            IngestRequest.newBuilder()
                .addItems(
                    dev.whack.proto.IngestItem.newBuilder()
                        .setId(9)
                        .setUpdate(Update.newBuilder().setKey("c")))
                .build()
                .toByteArray());
    assertEquals(1, only.size());
    assertEquals(9, only.get(0).id());
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}

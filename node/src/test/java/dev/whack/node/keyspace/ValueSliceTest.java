package dev.whack.node.keyspace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.KeyspaceSession.SourcedWrite;
import dev.whack.proto.Attribute;
import dev.whack.proto.Profile;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * A value given as a slice of a larger array (a Kafka record's value in its fetch buffer) is read
 * from its offset for its length: the bytes around it, which would break the profile or change the
 * opaque value if they were taken in, are never read.
 */
class ValueSliceTest {
  private static final byte[] PRODUCER = "topic-0".getBytes(StandardCharsets.US_ASCII);

  private final Keyspace keyspace =
      new Keyspace(Clock.systemUTC(), 1 << 24, 1 << 20, new ProfileEngine(new EngineConfig()));
  private final KeyspaceSession session = keyspace.session();
  private final Outcome out = new Outcome();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code inner} with junk on both sides; the slice starts at 5. */
  private static byte[] framed(byte[] inner) {
    byte[] framed = new byte[inner.length + 9];
    java.util.Arrays.fill(framed, (byte) '}');
    System.arraycopy(inner, 0, framed, 5, inner.length);
    return framed;
  }

  private String json(String key) {
    byte[] k = utf8(key);
    return new String(session.profileJson(k, 0, k.length), StandardCharsets.UTF_8);
  }

  @Test
  void shouldStoreAProfileFromTheSliceOnly() {
    byte[] key = utf8("p");
    byte[] doc = utf8("{\"country\":\"DK\"}");
    Status status =
        session.store(
            StoreMode.SET,
            key,
            0,
            key.length,
            Keyspace.JSON_PROFILE_FLAGS,
            0,
            framed(doc),
            5,
            doc.length,
            0,
            false,
            false,
            out);
    assertEquals(Status.STORED, status);
    assertEquals("{\"country\":\"DK\"}", json("p"));
  }

  @Test
  void shouldKeepAnOpaqueValueOfTheSliceOnly() {
    byte[] key = utf8("o");
    byte[] value = utf8("plain bytes");
    assertEquals(
        Status.STORED,
        session.store(
            StoreMode.SET,
            key,
            0,
            key.length,
            0,
            0,
            framed(value),
            5,
            value.length,
            0,
            false,
            false,
            out));
    session.get(key, 0, key.length, out);
    assertArrayEquals(value, out.value);
  }

  @Test
  void shouldApplySourcedProfilesAndUpdatesFromTheSliceOnly() {
    byte[] key = utf8("s");
    byte[] whole = utf8("{\"country\":\"DK\"}");
    assertEquals(
        Status.STORED,
        session.applySourced(
            key,
            0,
            key.length,
            PRODUCER,
            1,
            SourcedKind.PROFILE_JSON,
            framed(whole),
            5,
            whole.length,
            SourcedWrite.PLAIN,
            out));
    byte[] update = utf8("{\"set\":{\"city\":\"Aarhus\"}}");
    assertEquals(
        Status.STORED,
        session.applySourced(
            key,
            0,
            key.length,
            PRODUCER,
            2,
            SourcedKind.UPDATE_JSON,
            framed(update),
            5,
            update.length,
            SourcedWrite.PLAIN,
            out));
    assertEquals(
        "{\"country\":\"DK\",\"city\":\"Aarhus\",\"$producers\":{\"topic-0\":2}}", json("s"));

    byte[] protobuf =
        Profile.newBuilder()
            .addAttributes(
                Attribute.newBuilder()
                    .setName("country")
                    .setValue(Value.newBuilder().setStringValue("SE")))
            .build()
            .toByteArray();
    assertEquals(
        Status.STORED,
        session.applySourced(
            key,
            0,
            key.length,
            PRODUCER,
            3,
            SourcedKind.PROFILE_PROTOBUF,
            framed(protobuf),
            5,
            protobuf.length,
            SourcedWrite.PLAIN,
            out));
    assertEquals("{\"country\":\"SE\",\"$producers\":{\"topic-0\":3}}", json("s"));
  }
}

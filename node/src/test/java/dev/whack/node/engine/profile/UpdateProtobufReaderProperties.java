package dev.whack.node.engine.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.proto.Attribute;
import dev.whack.proto.Event;
import dev.whack.proto.Increment;
import dev.whack.proto.SetDelta;
import dev.whack.proto.StringSet;
import dev.whack.proto.Update;
import dev.whack.proto.Value;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The byte-level protobuf Update reader never disagrees with protobuf-java: an update it accepts
 * reads as the same operations protobuf-java's parse gives ({@link UpdateOps#load}), and it accepts
 * every plain update (each field once, typed values); on any other bytes (mangled, cut, or forms it
 * leaves to protobuf-java) it declines.
 */
class UpdateProtobufReaderProperties {
  private static final String[] WORDS = {"a", "é", "😀", "", "country", "x".repeat(300), "tags"};

  private final UpdateProtobufReader reader = new UpdateProtobufReader();

  @Property(tries = 2000)
  void acceptsEveryPlainUpdateAndReadsItAsProtobufJavaDoes(@ForAll long seed) throws Exception {
    Random r = new Random(seed);
    Update update = plain(r);
    byte[] bytes = update.toByteArray();
    UpdateOps fast = new UpdateOps();
    assertTrue(reader.read(bytes, 0, bytes.length, fast), update.toString());
    assertEquals(new UpdateOps().load(Update.parseFrom(bytes)).toProto(), fast.toProto());
  }

  @Property(tries = 3000)
  void agreesWithProtobufJavaOnMangledBytes(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] bytes = plain(r).toByteArray();
    byte[] framed = new byte[bytes.length + 4];
    System.arraycopy(bytes, 0, framed, 2, bytes.length);
    int length = bytes.length;
    switch (r.nextInt(4)) {
      case 0 -> {
        if (length > 0) {
          framed[2 + r.nextInt(length)] = (byte) r.nextInt(256); // a byte changed
        }
      }
      case 1 -> length = length == 0 ? 0 : r.nextInt(length); // cut short
      case 2 -> {
        byte[] extra = forms(r).toByteArray(); // a form it may leave to protobuf-java, appended
        framed = java.util.Arrays.copyOf(framed, 2 + length + extra.length);
        System.arraycopy(extra, 0, framed, 2 + length, extra.length);
        length += extra.length;
      }
      default -> {
        if (length > 1) {
          int a = r.nextInt(length);
          framed[2 + a] ^= (byte) (1 << r.nextInt(8)); // a bit flipped
        }
      }
    }
    UpdateOps fast = new UpdateOps();
    boolean accepted = reader.read(framed, 2, length, fast);
    Update reference;
    try {
      reference = Update.parseFrom(java.nio.ByteBuffer.wrap(framed, 2, length));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      assertTrue(!accepted, "accepted bytes protobuf-java refuses: " + e.getMessage());
      return;
    }
    if (accepted) {
      assertEquals(new UpdateOps().load(reference).toProto(), fast.toProto());
    }
  }

  /** An update of every operation, each field once, with typed values. */
  private static Update plain(Random r) {
    Update.Builder u = Update.newBuilder();
    if (r.nextBoolean()) {
      u.setKey("user:" + r.nextInt(100));
    }
    for (int i = r.nextInt(4); i > 0; i--) {
      Value.Builder v = Value.newBuilder();
      switch (r.nextInt(6)) {
        case 0 -> v.setStringValue(word(r));
        case 1 -> v.setIntValue(r.nextLong() >> r.nextInt(64));
        case 2 -> v.setFloatValue(r.nextDouble() * 1000 - 500);
        case 3 -> v.setBoolValue(r.nextBoolean());
        case 4 -> v.setTimestampMillis(1_700_000_000_000L + r.nextInt(1_000_000));
        default -> {
          StringSet.Builder s = StringSet.newBuilder();
          for (int k = r.nextInt(4); k > 0; k--) {
            s.addValues(word(r));
          }
          v.setStringSet(s);
        }
      }
      u.addSet(Attribute.newBuilder().setName("a" + r.nextInt(5)).setValue(v));
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      u.addUnset(word(r));
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      Increment.Builder inc = Increment.newBuilder().setName("n" + r.nextInt(3));
      if (r.nextBoolean()) {
        inc.setIntDelta(r.nextInt(2000) - 1000);
      } else {
        inc.setFloatDelta(r.nextDouble());
      }
      u.addIncr(inc);
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      SetDelta.Builder d = SetDelta.newBuilder().setName("tags");
      for (int k = r.nextInt(3); k > 0; k--) {
        d.addValues(word(r));
      }
      if (r.nextBoolean()) {
        u.addAdd(d);
      } else {
        u.addRemove(d);
      }
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      Event.Builder e = Event.newBuilder().setName(r.nextBoolean() ? "view" : "purchase");
      if (r.nextBoolean()) {
        e.setTimeMillis(1_700_000_000_000L + r.nextInt(1_000_000));
      }
      if (r.nextBoolean()) {
        e.setValue(r.nextDouble() * 100);
      }
      for (int k = r.nextInt(3); k > 0; k--) {
        Value.Builder v = Value.newBuilder();
        switch (r.nextInt(3)) {
          case 0 -> v.setStringValue(word(r));
          case 1 -> v.setIntValue(r.nextInt(30_000));
          default -> v.setFloatValue(r.nextDouble());
        }
        e.addProperties(Attribute.newBuilder().setName("p" + r.nextInt(4)).setValue(v));
      }
      u.addEvents(e);
    }
    if (r.nextBoolean()) {
      u.setProducer("p" + r.nextInt(3)).setSeq(r.nextInt(1000));
    }
    return u.build();
  }

  /** Forms the reader may decline: a property without a kind, a value without one, no name. */
  private static Update forms(Random r) {
    Update.Builder u = Update.newBuilder();
    switch (r.nextInt(4)) {
      case 0 ->
          u.addEvents(
              Event.newBuilder().setName("e").addProperties(Attribute.newBuilder().setName("c")));
      case 1 -> u.addSet(Attribute.newBuilder().setName("untyped"));
      case 2 -> u.addIncr(Increment.newBuilder().setName("n"));
      default -> u.setProducer("again").setSeq(r.nextInt(5));
    }
    return u.build();
  }

  private static String word(Random r) {
    return r.nextInt(3) == 0 ? WORDS[r.nextInt(WORDS.length)] : "w" + r.nextInt(20);
  }

  @Property(tries = 2000)
  void checksUtf8AsProtobufDoes(@ForAll long seed) {
    Random r = new Random(seed);
    byte[] s = new byte[1 + r.nextInt(6)];
    r.nextBytes(s);
    if (r.nextBoolean()) {
      byte[] valid = word(r).getBytes(StandardCharsets.UTF_8);
      s = java.util.Arrays.copyOf(valid, valid.length + (r.nextBoolean() ? 0 : 1));
    }
    assertEquals(
        com.google.protobuf.ByteString.copyFrom(s).isValidUtf8(),
        UpdateProtobufReader.validUtf8(s, 0, s.length),
        java.util.HexFormat.of().formatHex(s));
  }
}

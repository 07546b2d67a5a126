package dev.whack.node.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A binary-protocol response as it came off the wire, and the request encoding tests send: the
 * 24-byte header of memcached's binary protocol, then extras, key and value.
 */
public record BinaryPacket(
    int opcode, int status, int opaque, long cas, byte[] extras, byte[] key, byte[] value) {

  public String keyText() {
    return new String(key, UTF_8);
  }

  public String valueText() {
    return new String(value, UTF_8);
  }

  /** The value as the 8-byte big-endian number counts and sizes are answered with. */
  public long valueLong() {
    assertEquals(8, value.length, this::toString);
    return ByteBuffer.wrap(value).getLong();
  }

  /** Whether this is the empty response that ends a multi-response answer. */
  public boolean isEmpty() {
    return key.length == 0 && value.length == 0 && extras.length == 0;
  }

  @Override
  public String toString() {
    return String.format(
        "opcode 0x%02x status 0x%04x opaque 0x%x extras %d key '%s' value '%s'",
        opcode, status, opaque, extras.length, keyText(), valueText());
  }

  /** Reads one response, checking its magic. */
  public static BinaryPacket read(RawConnection c) {
    ByteBuffer h = ByteBuffer.wrap(c.read(24));
    assertEquals((byte) 0x81, h.get(0), "response magic");
    int keyLength = h.getShort(2) & 0xffff;
    int extrasLength = h.get(4) & 0xff;
    int bodyLength = h.getInt(8);
    byte[] body = c.read(bodyLength);
    return new BinaryPacket(
        h.get(1) & 0xff,
        h.getShort(6) & 0xffff,
        h.getInt(12),
        h.getLong(16),
        Arrays.copyOfRange(body, 0, extrasLength),
        Arrays.copyOfRange(body, extrasLength, extrasLength + keyLength),
        Arrays.copyOfRange(body, extrasLength + keyLength, bodyLength));
  }

  /** One request's bytes. */
  public static byte[] request(
      int opcode, int opaque, long cas, byte[] extras, byte[] key, byte[] value) {
    ByteBuffer b = ByteBuffer.allocate(24 + extras.length + key.length + value.length);
    b.put((byte) 0x80).put((byte) opcode).putShort((short) key.length).put((byte) extras.length);
    b.put((byte) 0).putShort((short) 0).putInt(extras.length + key.length + value.length);
    b.putInt(opaque).putLong(cas).put(extras).put(key).put(value);
    return b.array();
  }

  public static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }

  /** A 4-byte big-endian extra (a page limit, flags). */
  public static byte[] int4(int n) {
    return ByteBuffer.allocate(4).putInt(n).array();
  }
}

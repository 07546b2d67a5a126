package dev.whack.client;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An opaque item as a dump gives it ({@code itemdump}): its key's bytes, its value byte for byte,
 * its flags and the seconds it had left when its page was read. The arrays are not copied: do not
 * change them.
 *
 * @param keyBytes the key as stored; one stored through the binary protocol or a base64 meta key
 *     may be any bytes, see {@link #keyIsText()}
 * @param ttlSeconds seconds left before it expires (at least 1), or 0 for never
 */
public record DumpedItem(byte[] keyBytes, byte[] value, int flags, long ttlSeconds) {
  /** The key as text (UTF-8, the encoding this client writes keys in). */
  public String key() {
    return new String(keyBytes, StandardCharsets.UTF_8);
  }

  /**
   * Whether the key's bytes are UTF-8 text, so that {@link #key()} gives them back exactly; a key
   * that is not cannot be written again through this client's String keys.
   */
  public boolean keyIsText() {
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(keyBytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DumpedItem other
        && Arrays.equals(keyBytes, other.keyBytes)
        && Arrays.equals(value, other.value)
        && flags == other.flags
        && ttlSeconds == other.ttlSeconds;
  }

  @Override
  public int hashCode() {
    return (31 * Arrays.hashCode(keyBytes) + Arrays.hashCode(value)) * 31 + flags;
  }

  @Override
  public String toString() {
    return "DumpedItem["
        + key()
        + ", "
        + value.length
        + " bytes, flags "
        + Integer.toUnsignedString(flags)
        + ", ttl "
        + ttlSeconds
        + "]";
  }
}

package dev.whack.client;

import java.util.Arrays;

/**
 * An opaque item as a dump gives it ({@code itemdump}): its key, its value byte for byte, its flags
 * and the seconds it had left when its page was read. The array is not copied: do not change it.
 *
 * @param ttlSeconds seconds left before it expires (at least 1), or 0 for never
 */
public record DumpedItem(String key, byte[] value, int flags, long ttlSeconds) {
  @Override
  public boolean equals(Object o) {
    return o instanceof DumpedItem other
        && key.equals(other.key)
        && Arrays.equals(value, other.value)
        && flags == other.flags
        && ttlSeconds == other.ttlSeconds;
  }

  @Override
  public int hashCode() {
    return (31 * key.hashCode() + Arrays.hashCode(value)) * 31 + flags;
  }

  @Override
  public String toString() {
    return "DumpedItem["
        + key
        + ", "
        + value.length
        + " bytes, flags "
        + Integer.toUnsignedString(flags)
        + ", ttl "
        + ttlSeconds
        + "]";
  }
}

package dev.whack.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A stored value and its memcached flags. The array is not copied: do not change it. */
public record Item(byte[] value, int flags) {
  public String valueAsString() {
    return new String(value, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Item other && flags == other.flags && Arrays.equals(value, other.value);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(value) + flags;
  }

  @Override
  public String toString() {
    return "Item[" + value.length + " bytes, flags=" + Integer.toUnsignedString(flags) + "]";
  }
}

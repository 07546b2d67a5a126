package dev.whack.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A whole profile as a dump gives it: its key and its canonical Profile JSON, with the event series
 * ({@code $events}) and producer marks ({@code $producers}) that a refill needs. The array is not
 * copied: do not change it.
 */
public record DumpedProfile(String key, byte[] json) {
  public String jsonAsString() {
    return new String(json, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DumpedProfile other
        && key.equals(other.key)
        && Arrays.equals(json, other.json);
  }

  @Override
  public int hashCode() {
    return 31 * key.hashCode() + Arrays.hashCode(json);
  }

  @Override
  public String toString() {
    return "DumpedProfile[" + key + ", " + jsonAsString() + "]";
  }
}

package dev.whack.node.engine;

import dev.whack.node.engine.segment.PartitionedBitmap;
import java.util.Arrays;

/**
 * The entered times a restore gives back to one profile's memberships ({@link
 * ProfileEngine#restoreCompact(byte[], int, int, byte[], EnteredTimes)}): segment names with the
 * unsigned seconds each membership began at. A profile is in a few segments, so a lookup is a scan.
 *
 * <p>Concurrency: filled by one thread, then read by the restoring one (the same, in a snapshot's
 * applier).
 */
public final class EnteredTimes {
  private String[] names = new String[4];
  private int[] seconds = new int[4];
  private int size;

  /** Forgets every time, to be filled again for the next profile. */
  public EnteredTimes clear() {
    Arrays.fill(names, 0, size, null);
    size = 0;
    return this;
  }

  /** The membership of {@code segment} began at {@code enteredSeconds} (unsigned seconds). */
  public EnteredTimes put(String segment, int enteredSeconds) {
    if (size == names.length) {
      names = Arrays.copyOf(names, size * 2);
      seconds = Arrays.copyOf(seconds, size * 2);
    }
    names[size] = segment;
    seconds[size++] = enteredSeconds;
    return this;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** The kept seconds of {@code segment}, or {@link PartitionedBitmap#NOT_MEMBER}. */
  long secondsOf(String segment) {
    for (int i = 0; i < size; i++) {
      if (names[i].equals(segment)) {
        return Integer.toUnsignedLong(seconds[i]);
      }
    }
    return PartitionedBitmap.NOT_MEMBER;
  }
}

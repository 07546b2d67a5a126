package dev.whack.node.engine.segment;

/**
 * Told every membership change as it happens, watched or not, for a record that outlives the
 * process (a node with a data directory logs them for its changes publisher: docs/kafka.md).
 *
 * <p>Concurrency: called on the thread that made the change, which holds the lock of the profile's
 * stripe (the keyspace stripe the key belongs to); it must not block.
 */
@FunctionalInterface
public interface ChangeRecorder {
  /**
   * @param key the profile key; the array is the caller's, valid only during the call
   */
  void changed(String segment, byte[] key, boolean enter, long timeMillis);
}

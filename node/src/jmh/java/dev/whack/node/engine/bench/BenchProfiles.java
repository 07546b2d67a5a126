package dev.whack.node.engine.bench;

import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.WriteResult;
import dev.whack.node.engine.profile.ProfileTable;
import dev.whack.node.engine.profile.Rendering;
import dev.whack.proto.Profile;
import dev.whack.proto.Update;
import java.util.Arrays;

/**
 * Profiles 0..n-1 of a benchmark, each with its key, the key's hash and its engine ordinal: what
 * the node's index (the keyspace's items) hands the engine, kept here in arrays so that a benchmark
 * measures the engine alone. Writes to different profiles may run on different threads.
 */
final class BenchProfiles {
  final ProfileEngine engine;
  final byte[][] keys;
  private final int[] hashes;
  private final int[] ordinals;

  BenchProfiles(ProfileEngine engine, int n) {
    this.engine = engine;
    keys = new byte[n][];
    hashes = new int[n];
    ordinals = new int[n];
    for (int i = 0; i < n; i++) {
      keys[i] = BenchData.key(i);
      hashes[i] = ProfileTable.hash(keys[i]);
    }
    Arrays.fill(ordinals, ProfileEngine.NO_PROFILE);
  }

  WriteResult put(int i, Profile profile) {
    return remember(i, engine.put(keys[i], hashes[i], ordinals[i], profile));
  }

  WriteResult putJson(int i, byte[] doc) {
    return remember(i, engine.putJson(keys[i], hashes[i], ordinals[i], doc, 0, doc.length));
  }

  WriteResult update(int i, Update update) {
    return remember(i, engine.update(keys[i], hashes[i], ordinals[i], update, Rendering.JSON));
  }

  WriteResult updateJson(int i, byte[] doc) {
    return remember(
        i, engine.updateJson(keys[i], hashes[i], ordinals[i], doc, 0, doc.length, Rendering.JSON));
  }

  private WriteResult remember(int i, WriteResult r) {
    if (r.ordinal() >= 0) {
      ordinals[i] = r.ordinal();
    }
    return r;
  }
}

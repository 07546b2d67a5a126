package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.profile.NameTable;
import dev.whack.node.engine.profile.ProfileTable;
import dev.whack.node.engine.profile.Rendering;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;

/**
 * CPU time to intern and free names, the cost that once locked a node (issue 13: the old table
 * copied itself for every new name, 89 us per name at 2k names and 517 us at 30k), and the time a
 * node spends refusing an update of 100k new attribute names. Thread CPU time on one thread.
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.NameCost
 * </pre>
 */
public final class NameCost {
  private NameCost() {}

  public static void main(String[] args) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 3; round++) { // the first rounds warm up
      for (int n : new int[] {2_000, 30_000, 65_536}) {
        byte[][] names = new byte[n][];
        for (int i = 0; i < n; i++) {
          names[i] = ("attribute-" + i).getBytes(StandardCharsets.UTF_8);
        }
        NameTable table = new NameTable("attribute", 65_536);
        long cpu0 = threads.getCurrentThreadCpuTime();
        for (byte[] name : names) {
          table.acquire(name, 0, name.length);
        }
        long cpu1 = threads.getCurrentThreadCpuTime();
        for (int id = 0; id < n; id++) {
          table.release(id);
        }
        long cpu2 = threads.getCurrentThreadCpuTime();
        if (round == 2) {
          System.out.printf(
              "name-cost names=%d intern_ns_per_name=%.0f free_ns_per_name=%.0f%n",
              n, (cpu1 - cpu0) / (double) n, (cpu2 - cpu1) / (double) n);
        }
      }
    }
    StringBuilder json = new StringBuilder("{\"set\":{");
    for (int i = 0; i < 100_000; i++) {
      json.append(i == 0 ? "" : ",").append('"').append(Integer.toString(i, 36)).append("\":0");
    }
    byte[] update = json.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    ProfileEngine engine = new ProfileEngine(new EngineConfig());
    byte[] key = BenchData.key(1);
    long best = Long.MAX_VALUE;
    for (int round = 0; round < 20; round++) {
      long cpu0 = threads.getCurrentThreadCpuTime();
      try {
        engine.updateJson(
            key,
            ProfileTable.hash(key),
            ProfileEngine.NO_PROFILE,
            update,
            0,
            update.length,
            Rendering.JSON);
        throw new IllegalStateException("an update of 100k new names was accepted");
      } catch (EngineException refused) {
        best = Math.min(best, threads.getCurrentThreadCpuTime() - cpu0);
      }
    }
    System.out.printf(
        "name-cost refuse_update_of_100k_new_names_ms=%.1f (%d bytes, best of 20)"
            + " attribute_names_after=%d%n",
        best / 1e6, update.length, engine.stats().attributeNames());
  }
}

package dev.whack.node.engine.bench;

import dev.whack.node.engine.EngineConfig;
import dev.whack.node.engine.ProfileEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Bytes per profile (target P4): heap used by N profiles of 20 attributes with their event series
 * and 50 segments, measured as the heap after full GCs before and after loading.
 *
 * <pre>java -Xmx4g -cp node/target/whack-node-benchmarks.jar \
 *     dev.whack.node.engine.bench.ProfileFootprint 4000000</pre>
 */
public final class ProfileFootprint {
  private ProfileFootprint() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    long before = usedAfterGc();
    ProfileEngine engine = new ProfileEngine(new EngineConfig());
    List<String> segments = BenchData.segments();
    for (int i = 0; i < segments.size(); i++) {
      engine.define("seg" + i, segments.get(i));
    }
    SplittableRandom r = new SplittableRandom(42);
    long now = System.currentTimeMillis();
    long start = System.nanoTime();
    long blobBytes = 0;
    BenchProfiles keyed = new BenchProfiles(engine, n);
    for (int i = 0; i < n; i++) {
      blobBytes += keyed.put(i, BenchData.profile(r, now)).footprintBytes();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long after = usedAfterGc();
    long members = 0;
    for (var s : engine.segments()) {
      members += s.size();
    }
    System.out.printf(
        "profiles=%d load_seconds=%.1f puts_per_second=%.0f%n", n, seconds, n / seconds);
    System.out.printf("segment_memberships=%d (%.1f per profile)%n", members, (double) members / n);
    System.out.printf("engine_footprint_estimate_bytes_per_profile=%.1f%n", (double) blobBytes / n);
    System.out.printf("heap_bytes_per_profile=%.1f%n", (double) (after - before) / n);
    System.out.printf("heap_total_mb=%d rss_mb=%d%n", (after - before) >> 20, rssMb());
    if (engine.size() != n) {
      throw new IllegalStateException("lost profiles");
    }
  }

  private static long usedAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static long rssMb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
      }
    }
    return -1;
  }
}

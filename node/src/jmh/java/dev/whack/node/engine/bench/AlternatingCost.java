package dev.whack.node.engine.bench;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Arrays;
import java.util.function.IntToLongFunction;

/**
 * Two builds of the engine in one JVM, in alternating rounds: the steady way to compare them on a
 * machine shared with other work. Run one after the other, the same build's CPU per operation
 * differs by 20 to 30% between runs here (the neighbours' load comes and goes, and takes the caches
 * and the core's other hardware thread with it); rounds of a few hundred milliseconds alternating
 * A, B, B, A, ... see the same neighbours, and the median of the per-pair ratio B/A is steady to a
 * few percent. Each build runs {@link EngineWork} (this jar's copy, loaded once per build against
 * that build's engine), so a build needs only the same public engine API.
 *
 * <pre>
 * java -cp node/target/whack-node-benchmarks.jar dev.whack.node.engine.bench.AlternatingCost \
 *     A.jar B.jar update|update-json|put|put-new [profiles] [operations per round] [rounds]
 * </pre>
 *
 * where {@code A.jar} and {@code B.jar} are benchmark jars (or any class path holding the engine
 * and its dependencies) of the two builds. Give the same jar twice to see the harness's own bias
 * (about 3% here).
 */
public final class AlternatingCost {
  private static final String BENCH_PACKAGE = "dev.whack.node.engine.bench.";

  private AlternatingCost() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println(
          "usage: AlternatingCost A.jar B.jar update|update-json|put|put-new"
              + " [profiles] [operations per round] [rounds]");
      System.exit(2);
    }
    String kind = args[2];
    int profiles = args.length > 3 ? Integer.parseInt(args[3]) : 200_000;
    int operations = args.length > 4 ? Integer.parseInt(args[4]) : 100_000;
    int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 21;
    IntToLongFunction[] sides = new IntToLongFunction[2];
    for (int s = 0; s < 2; s++) {
      sides[s] = work(new File(args[s]), kind, profiles);
    }
    for (int warm = 0; warm < 6; warm++) {
      sides[0].applyAsLong(operations);
      sides[1].applyAsLong(operations);
    }
    double[] a = new double[rounds];
    double[] b = new double[rounds];
    double[] ratio = new double[rounds];
    for (int round = 0; round < rounds; round++) {
      int first = round & 1; // A, B, then B, A: neither side always runs right after a pause
      long[] cpu = new long[2];
      cpu[first] = sides[first].applyAsLong(operations);
      cpu[1 - first] = sides[1 - first].applyAsLong(operations);
      a[round] = cpu[0] / (double) operations;
      b[round] = cpu[1] / (double) operations;
      ratio[round] = b[round] / a[round];
    }
    Arrays.sort(a);
    Arrays.sort(b);
    Arrays.sort(ratio);
    System.out.printf(
        "alternating-cost %s profiles=%d A_cpu_ns=%.0f B_cpu_ns=%.0f B_over_A=%.3f"
            + " (quartiles %.3f..%.3f, %d rounds)%n",
        kind,
        profiles,
        a[rounds / 2],
        b[rounds / 2],
        ratio[rounds / 2],
        ratio[rounds / 4],
        ratio[3 * rounds / 4],
        rounds);
  }

  /**
   * This jar's {@link EngineWork} and the other bench classes, defined by a loader that finds
   * everything else (the engine, protobuf) in {@code build}.
   */
  private static IntToLongFunction work(File build, String kind, int profiles) throws Exception {
    URLClassLoader engine =
        new URLClassLoader(new URL[] {build.toURI().toURL()}, ClassLoader.getPlatformClassLoader());
    ClassLoader bench = new BenchLoader(engine);
    return (IntToLongFunction)
        bench
            .loadClass(BENCH_PACKAGE + "EngineWork")
            .getConstructor(String.class, int.class)
            .newInstance(kind, profiles);
  }

  /** Defines the bench package's classes from this jar, and delegates the rest to one build. */
  private static final class BenchLoader extends ClassLoader {
    BenchLoader(ClassLoader build) {
      super(build);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith(BENCH_PACKAGE)) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          byte[] bytes = classBytes(name);
          c = defineClass(name, bytes, 0, bytes.length);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }

    private static byte[] classBytes(String name) throws ClassNotFoundException {
      String resource = name.replace('.', '/') + ".class";
      try (InputStream in = AlternatingCost.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new ClassNotFoundException(name);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

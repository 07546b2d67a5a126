package dev.whack.bench;

/** Splitting a preload across connections: one thread per contiguous range of profile numbers. */
final class Ranges {
  private Ranges() {}

  /** Loads profile numbers {@code [from, to)}. */
  @FunctionalInterface
  interface RangeLoad {
    void load(int from, int to) throws Exception;
  }

  /**
   * Runs {@code load} over {@code total} numbers split into {@code parts} contiguous ranges, one
   * thread each, and waits for all; the first failure is rethrown. The ranges depend only on {@code
   * total} and {@code parts}, so two systems preloaded alike get the same profiles.
   */
  static void inParallel(int total, int parts, RangeLoad load) throws Exception {
    Thread[] threads = new Thread[parts];
    Exception[] failure = new Exception[1];
    for (int t = 0; t < parts; t++) {
      int from = (int) ((long) total * t / parts);
      int to = (int) ((long) total * (t + 1) / parts);
      threads[t] =
          new Thread(
              () -> {
                try {
                  load.load(from, to);
                } catch (Exception e) {
                  synchronized (failure) {
                    if (failure[0] == null) {
                      failure[0] = e;
                    }
                  }
                }
              });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure[0] != null) {
      throw failure[0];
    }
  }
}

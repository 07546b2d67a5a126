package dev.whack.node.engine.dimension;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How often each category of one dimension was counted on this node, per day, over the retention:
 * the population's preferences that {@link Distribution#affinity} uses as its prior. Counts only
 * grow within a day (a deleted or evicted profile does not take its counts back); a restart
 * rebuilds them from the profiles it restores.
 *
 * <p>Concurrency: adds and reads take no lock (atomic cells); the first add of a new day clears
 * that day's row under this object's monitor, once.
 */
final class Population {
  private final int categories;
  private final int days;
  private final AtomicLongArray counts;
  private final AtomicIntegerArray rowDay;

  Population(int categories, int retentionDays) {
    this.categories = categories;
    this.days = retentionDays + 2; // the oldest kept day through tomorrow (events may be future)
    this.counts = new AtomicLongArray(days * categories);
    this.rowDay = new AtomicIntegerArray(days);
    for (int r = 0; r < days; r++) {
      rowDay.set(r, Integer.MIN_VALUE);
    }
  }

  void add(int day, int category, long n) {
    int row = Math.floorMod(day, days);
    int held = rowDay.get(row);
    if (held != day) {
      if (held > day) {
        return; // a day older than the ring keeps: past the retention
      }
      synchronized (this) {
        if (rowDay.get(row) < day) {
          for (int c = 0; c < categories; c++) {
            counts.set(row * categories + c, 0);
          }
          rowDay.set(row, day);
        }
      }
    }
    counts.addAndGet(row * categories + category, n);
  }

  /**
   * Adds to {@code weights} (one per category) each category's count on every day from {@code today
   * - window + 1} to {@code today}, weighted as {@link Distribution#weight} weighs a day of that
   * age; returns the total weight added.
   */
  double weigh(int today, int window, double halfLifeDays, double[] weights) {
    double total = 0;
    for (int day = today - window + 1; day <= today; day++) {
      int row = Math.floorMod(day, days);
      if (rowDay.get(row) != day) {
        continue;
      }
      double w = Distribution.weight(today - day, halfLifeDays);
      for (int c = 0; c < categories; c++) {
        long n = counts.get(row * categories + c);
        if (n != 0) {
          weights[c] += n * w;
          total += n * w;
        }
      }
    }
    return total;
  }
}

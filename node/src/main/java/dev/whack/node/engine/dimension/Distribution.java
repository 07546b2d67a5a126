package dev.whack.node.engine.dimension;

import java.util.Arrays;

/**
 * A profile's counts in one dimension over a window, each day weighted by its age: the weight of a
 * day {@code age} whole days old (today: 0) is {@code 2^(-age / halfLife)}, or 1 without a
 * half-life. Shares are weights over their total. Reused: {@link #read} starts afresh.
 *
 * <p>A window of N days is today and the N-1 days before it (UTC), as event windows are; an event
 * dated tomorrow counts from tomorrow on. Since every day's weight shrinks by the same factor from
 * one midnight to the next, shares and the top category change only when a day leaves the window or
 * a future day enters it ({@link #nextChangeDay}).
 *
 * <p>Concurrency: not thread-safe; each reading thread owns one.
 */
public final class Distribution {
  private final DayCounts cursor = new DayCounts();
  private double[] weights = new double[16];
  private int categories;
  private double total;
  private int nextChangeDay;

  /** The weight of a day {@code age} days old; {@code halfLifeDays <= 0}: no decay. */
  public static double weight(int age, double halfLifeDays) {
    return halfLifeDays <= 0 || age <= 0 ? 1 : Math.pow(2, -age / halfLifeDays);
  }

  /**
   * Reads dimension {@code id}'s counts (a categorical or numeric one's) from the profile's counts
   * at {@code countsStart} ({@link DayCounts}) over the last {@code window} days.
   */
  public Distribution read(
      int categoryCount,
      byte[] blob,
      int countsStart,
      int id,
      int today,
      int window,
      double halfLifeDays) {
    reset(categoryCount);
    int oldest = today - window + 1;
    DayCounts counts = cursor.reset(blob, countsStart);
    while (counts.nextEntry()) {
      int d = counts.day();
      if (counts.id() != id) {
        continue;
      }
      if (d >= oldest && d <= today) {
        nextChangeDay = Math.min(nextChangeDay, d + window); // the day it leaves the window
        double w = weight(today - d, halfLifeDays);
        while (counts.nextPair()) {
          int c = counts.category();
          if (c < categories) {
            double n = counts.count() * w;
            weights[c] += n;
            total += n;
          }
        }
      } else if (d > today) {
        nextChangeDay = Math.min(nextChangeDay, d); // the day it enters
      }
    }
    return this;
  }

  /** The population's counts on this node over the window, weighted the same way. */
  public Distribution readPopulation(Dimension d, int today, int window, double halfLifeDays) {
    reset(d.categories());
    total = d.population().weigh(today, window, halfLifeDays, weights);
    return this;
  }

  private void reset(int categoryCount) {
    if (weights.length < categoryCount) {
      weights = new double[Math.max(categoryCount, weights.length * 2)];
    }
    Arrays.fill(weights, 0, Math.max(categories, categoryCount), 0);
    categories = categoryCount;
    total = 0;
    nextChangeDay = Integer.MAX_VALUE;
  }

  public int categories() {
    return categories;
  }

  /** The sum of the weights (the number of events counted, without a half-life). */
  public double total() {
    return total;
  }

  /** The weight of category {@code c} (0 for one out of range). */
  public double weight(int c) {
    return c >= 0 && c < categories ? weights[c] : 0;
  }

  /** Category {@code c}'s share of the total; NaN when nothing was counted. */
  public double share(int c) {
    return total == 0 ? Double.NaN : weight(c) / total;
  }

  /**
   * The category with the largest weight (the lowest id among equals), or -1 when nothing was
   * counted.
   */
  public int top() {
    int best = -1;
    for (int c = 0; c < categories; c++) {
      if (weights[c] > 0 && (best < 0 || weights[c] > weights[best])) {
        best = c;
      }
    }
    return best;
  }

  /**
   * The first day (days since the epoch) on which the distribution read can change without a write:
   * a counted day leaves the window, or a future-dated day enters it; MAX_VALUE: never.
   */
  public int nextChangeDay() {
    return nextChangeDay;
  }
}

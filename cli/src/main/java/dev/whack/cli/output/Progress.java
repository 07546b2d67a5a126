package dev.whack.cli.output;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A progress line redrawn in place on a terminal's stderr: a bar and percentage when the total is
 * known, the count, the rate over the last few seconds and the time left.
 *
 * <pre>
 * [=========>          ]  47%  1,880,000 records  214,310/s  1.21 GiB of 2.59 GiB  ETA 9 s
 * </pre>
 *
 * <p>Concurrency: one daemon thread reads the suppliers (which must be thread-safe) and draws;
 * {@link #close} stops it and clears the line, after which nothing more is drawn.
 */
public final class Progress implements AutoCloseable {
  private static final long REDRAW_MILLIS = 200;
  private static final int BAR_WIDTH = 24;

  /** Rate window: the rate shown is over about the last this many redraws. */
  private static final int WINDOW = 15;

  private final PrintStream err;
  private final String noun;
  private final LongSupplier done;
  private final LongSupplier doneBytes;
  private final long totalBytes;
  private final LongSupplier totalCount;
  private final Thread thread;
  private final long[] windowCount = new long[WINDOW];
  private final long[] windowNanos = new long[WINDOW];
  private int drawn;
  private int lastWidth;
  private volatile boolean stopped;

  /**
   * @param noun what is counted ("records", "profiles")
   * @param done how many so far
   * @param doneBytes bytes so far, for the bar when {@code totalBytes} is known (else null)
   * @param totalBytes the bytes in all, or -1 when unknown
   * @param totalCount how many in all, or null/-1 when unknown (used when bytes are unknown)
   */
  public Progress(
      PrintStream err,
      String noun,
      LongSupplier done,
      LongSupplier doneBytes,
      long totalBytes,
      LongSupplier totalCount) {
    this.err = err;
    this.noun = noun;
    this.done = done;
    this.doneBytes = doneBytes;
    this.totalBytes = totalBytes;
    this.totalCount = totalCount;
    this.thread = new Thread(this::loop, "whack-progress");
    this.thread.setDaemon(true);
  }

  public Progress start() {
    thread.start();
    return this;
  }

  private void loop() {
    while (!stopped) {
      try {
        Thread.sleep(REDRAW_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        if (!stopped) {
          draw();
        }
      }
    }
  }

  private void draw() {
    long now = System.nanoTime();
    long count = done.getAsLong();
    int slot = drawn % WINDOW;
    int oldest = drawn < WINDOW ? 0 : (drawn + 1) % WINDOW;
    windowCount[slot] = count;
    windowNanos[slot] = now;
    drawn++;
    double rate =
        drawn < 2
            ? 0
            : (count - windowCount[oldest]) * 1e9 / Math.max(1, now - windowNanos[oldest]);

    double fraction = -1;
    long bytes = doneBytes == null ? -1 : doneBytes.getAsLong();
    long all = totalCount == null ? -1 : totalCount.getAsLong();
    if (totalBytes > 0 && bytes >= 0) {
      fraction = Math.min(1.0, (double) bytes / totalBytes);
    } else if (all > 0) {
      fraction = Math.min(1.0, (double) count / all);
    }
    StringBuilder line = new StringBuilder();
    if (fraction >= 0) {
      int filled = (int) (fraction * BAR_WIDTH);
      line.append('[').append("=".repeat(filled));
      if (filled < BAR_WIDTH) {
        line.append('>').append(" ".repeat(BAR_WIDTH - filled - 1));
      }
      line.append(String.format(Locale.ROOT, "] %3d%%  ", (int) (fraction * 100)));
    }
    line.append(Human.count(count)).append(' ').append(noun);
    line.append("  ").append(Human.rate(rate)).append("/s");
    if (totalBytes > 0 && bytes >= 0) {
      line.append("  ").append(Human.bytes(bytes)).append(" of ").append(Human.bytes(totalBytes));
    }
    if (fraction > 0 && fraction < 1 && rate > 0) {
      double left;
      if (totalBytes > 0 && bytes > 0) {
        double bytesPerRecord = (double) bytes / Math.max(1, count);
        left = (totalBytes - bytes) / bytesPerRecord / rate;
      } else {
        left = (all - count) / rate;
      }
      line.append("  ETA ").append(Human.seconds(left));
    }
    String text = line.toString();
    int pad = Math.max(0, lastWidth - text.length());
    err.print("\r" + text + " ".repeat(pad));
    err.flush();
    lastWidth = text.length();
  }

  /** Stops drawing and clears the line. */
  @Override
  public void close() {
    synchronized (this) {
      stopped = true;
      if (lastWidth > 0) {
        err.print("\r" + " ".repeat(lastWidth) + "\r");
        err.flush();
      }
    }
    thread.interrupt();
  }
}

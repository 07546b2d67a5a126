package dev.whack.node.engine.segment;

import java.util.Arrays;

/**
 * When each profile's time-dependent memberships must be looked at again: a min-heap of (valid
 * until, ordinal) plus, per ordinal, the one wake-up time that counts.
 *
 * <p>An evaluation of a time-dependent segment says until when its answer holds. The profile keeps
 * only its earliest such time: a later one is ignored, because the earlier wake-up re-evaluates
 * every time-dependent segment of the profile and reschedules from there. Entries in the heap whose
 * time no longer matches the profile's wake-up time are stale and skipped. So the engine
 * re-evaluates a profile only when an answer can change, never by scanning.
 *
 * <p>Concurrency: the heap is guarded by this object's monitor; each operation is a few heap steps
 * (O(log n)). The per-ordinal wake-up times are written under the monitor with release semantics
 * and read without it by {@link #schedule}'s fast path, which returns when an earlier or equal
 * wake-up is already set: the common case on the update path, which therefore takes no shared lock.
 * A stale read there is harmless: the only writer that raises a wake-up is {@link #pollDue}, and
 * the ordinal it returns is re-evaluated, under the profile's stripe lock, after the update that
 * read the stale value, and that re-evaluation reschedules every time-dependent segment of the
 * profile.
 */
public final class ReevaluationQueue {
  private static final int PAGE_SHIFT = 14;
  private static final int PAGE_SIZE = 1 << PAGE_SHIFT;
  private static final long NONE = Long.MAX_VALUE;

  private long[] times = new long[64];
  private int[] ordinals = new int[64];
  private int size;
  private static final java.lang.invoke.VarHandle WAKE =
      java.lang.invoke.MethodHandles.arrayElementVarHandle(long[].class);

  private volatile long[][] wake = new long[0][];

  /** Ordinals whose wake-up is set; the heap holds at least these plus stale entries. */
  private int active;

  /**
   * Asks for {@code ordinal} to be re-evaluated at {@code atMillis} unless an earlier time is set.
   */
  public void schedule(int ordinal, long atMillis) {
    if (atMillis == NONE) {
      return;
    }
    long[][] pages = wake;
    int p = ordinal >>> PAGE_SHIFT;
    int i = ordinal & (PAGE_SIZE - 1);
    if (p < pages.length && atMillis >= (long) WAKE.getAcquire(pages[p], i)) {
      return;
    }
    synchronized (this) {
      long[] page = page(ordinal);
      if (atMillis >= page[i]) {
        return;
      }
      if (page[i] == NONE) {
        active++;
      }
      WAKE.setRelease(page, i, atMillis);
      push(atMillis, ordinal);
      if (size > 2 * active + 4096) {
        rebuild();
      }
    }
  }

  /** Forgets {@code ordinal}'s wake-up (the profile is gone). */
  public synchronized void cancel(int ordinal) {
    int p = ordinal >>> PAGE_SHIFT;
    if (p < wake.length && wake[p][ordinal & (PAGE_SIZE - 1)] != NONE) {
      WAKE.setRelease(wake[p], ordinal & (PAGE_SIZE - 1), NONE);
      active--;
    }
  }

  /**
   * Removes and returns up to {@code out.length} ordinals due at {@code nowMillis}; each returned
   * ordinal's wake-up is cleared, to be set again by its re-evaluation.
   */
  public synchronized int pollDue(long nowMillis, int[] out) {
    int n = 0;
    while (size > 0 && times[0] <= nowMillis && n < out.length) {
      long t = times[0];
      int ord = ordinals[0];
      pop();
      long[] page = wake[ord >>> PAGE_SHIFT];
      int i = ord & (PAGE_SIZE - 1);
      if (page[i] == t) {
        WAKE.setRelease(page, i, NONE);
        active--;
        out[n++] = ord;
      }
    }
    return n;
  }

  /**
   * Clears and returns {@code ordinal}'s wake-up if it is due at {@code nowMillis}, else
   * Long.MAX_VALUE: for a caller that re-evaluates that one profile now (its heap entry goes
   * stale).
   */
  public synchronized long takeIfDue(int ordinal, long nowMillis) {
    int p = ordinal >>> PAGE_SHIFT;
    if (p >= wake.length) {
      return NONE;
    }
    long[] page = wake[p];
    int i = ordinal & (PAGE_SIZE - 1);
    long t = page[i];
    if (t == NONE || t > nowMillis) {
      return NONE;
    }
    WAKE.setRelease(page, i, NONE);
    active--;
    return t;
  }

  /** Earliest pending time, or Long.MAX_VALUE. */
  public synchronized long nextDue() {
    return size == 0 ? NONE : times[0];
  }

  public synchronized int pending() {
    return size;
  }

  /**
   * Drops stale entries (superseded by an earlier wake-up, or left by removed profiles) once they
   * outnumber the live ones, so the heap stays within a small multiple of the profiles that have a
   * wake-up however many come and go.
   */
  private void rebuild() {
    size = 0;
    long[][] pages = wake;
    for (int p = 0; p < pages.length; p++) {
      long[] page = pages[p];
      for (int i = 0; i < PAGE_SIZE; i++) {
        if (page[i] != NONE) {
          push(page[i], (p << PAGE_SHIFT) | i);
        }
      }
    }
  }

  private long[] page(int ordinal) {
    int p = ordinal >>> PAGE_SHIFT;
    if (p >= wake.length) {
      long[][] grown = Arrays.copyOf(wake, p + 1);
      for (int i = wake.length; i <= p; i++) {
        grown[i] = new long[PAGE_SIZE];
        Arrays.fill(grown[i], NONE);
      }
      wake = grown;
    }
    return wake[p];
  }

  private void push(long t, int ord) {
    if (size == times.length) {
      times = Arrays.copyOf(times, size * 2);
      ordinals = Arrays.copyOf(ordinals, size * 2);
    }
    int i = size++;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (times[parent] <= t) {
        break;
      }
      times[i] = times[parent];
      ordinals[i] = ordinals[parent];
      i = parent;
    }
    times[i] = t;
    ordinals[i] = ord;
  }

  private void pop() {
    size--;
    if (size == 0) {
      return;
    }
    long t = times[size];
    int ord = ordinals[size];
    int i = 0;
    while (true) {
      int child = 2 * i + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && times[child + 1] < times[child]) {
        child++;
      }
      if (times[child] >= t) {
        break;
      }
      times[i] = times[child];
      ordinals[i] = ordinals[child];
      i = child;
    }
    times[i] = t;
    ordinals[i] = ord;
  }
}

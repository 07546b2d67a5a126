package dev.whack.node.engine.segment;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One subscriber's view of the change stream: a bounded buffer that ingestion offers to and never
 * waits on. When the buffer is full the oldest change is dropped and counted; {@link #takeMissed()}
 * tells the subscriber how many it lost, as a lapped reader is told in a broadcast buffer.
 *
 * <p>Concurrency: any number of ingestion threads offer; one consumer thread polls. The buffer is
 * an {@link ArrayBlockingQueue} whose non-blocking {@code offer} holds its lock for a few
 * nanoseconds; the missed count is atomic.
 */
public final class Subscription implements AutoCloseable {
  private final Set<String> segments;
  private final ArrayBlockingQueue<SegmentChange> buffer;
  private final AtomicLong missed = new AtomicLong();
  private final AtomicLong listenerFailures = new AtomicLong();
  private final Runnable onChange;
  private final ChangeHub hub;
  private volatile boolean closed;

  Subscription(ChangeHub hub, Set<String> segments, int capacity, Runnable onChange) {
    this.hub = hub;
    this.segments = segments;
    this.buffer = new ArrayBlockingQueue<>(capacity);
    this.onChange = onChange;
  }

  public Set<String> segments() {
    return segments;
  }

  void offer(SegmentChange change) {
    if (closed) {
      return;
    }
    // Full: the oldest change is dropped and counted, so the subscriber keeps the newest ones.
    while (!buffer.offer(change)) {
      if (buffer.poll() != null) {
        missed.incrementAndGet();
      }
    }
    if (onChange != null) {
      try {
        onChange.run();
      } catch (RuntimeException listenerFailure) {
        // The listener runs on an ingesting thread inside a write; its failure must not undo or
        // interrupt that write. The change itself is buffered either way.
        listenerFailures.incrementAndGet();
      }
    }
  }

  /** The next change, or null when none is buffered. */
  public SegmentChange poll() {
    return buffer.poll();
  }

  /** The next change, waiting up to {@code timeout}; null on timeout. */
  public SegmentChange poll(long timeout, TimeUnit unit) throws InterruptedException {
    return buffer.poll(timeout, unit);
  }

  /** Moves up to {@code max} buffered changes into {@code out}; returns how many. */
  public int drainTo(Collection<? super SegmentChange> out, int max) {
    return buffer.drainTo(out, max);
  }

  /** Changes dropped because the buffer was full since the last call, and resets the count. */
  public long takeMissed() {
    return missed.getAndSet(0);
  }

  /** How many times the onChange listener threw (each swallowed to protect ingestion). */
  public long listenerFailures() {
    return listenerFailures.get();
  }

  public int buffered() {
    return buffer.size();
  }

  public boolean isClosed() {
    return closed;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      hub.unsubscribe(this);
    }
  }
}

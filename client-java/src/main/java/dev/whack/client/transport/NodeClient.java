package dev.whack.client.transport;

import dev.whack.client.ConnectionClosedException;
import dev.whack.client.NodeUnavailableException;
import dev.whack.client.WhackException;
import dev.whack.client.protocol.Request;
import dev.whack.client.protocol.VersionRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The client's view of one node: a few pipelined connections and whether the node is up.
 *
 * <p>Health. A node starts up. It is marked down when a connection to it cannot be made (refused,
 * or no answer within the connect timeout) or when it does not answer a request within the request
 * timeout: a bounded time either way, or when a connection it closed is replaced and the
 * replacement is closed again within {@code reconnectMin}. While it is down every call for it fails
 * at once with {@link NodeUnavailableException} ({@code "127.0.0.1:11212 is down: ..."}), and a
 * probe reconnects in the background, waiting {@code reconnectMin} at first and doubling up to
 * {@code reconnectMax}; the probe sends {@code version}, and when that is answered the node is up
 * again and its connections are reopened. A connection that ends for another reason (the node
 * closed it, a corrupt reply) is replaced at once; if the replacement cannot connect, the node is
 * down.
 *
 * <p>Concurrency: {@link #send} reads the volatile health and a slot without locking. Health
 * changes, slot replacement and probing happen under this object's monitor, which is never held
 * while waiting for anything (opening and ending connections do not block).
 */
public final class NodeClient implements AutoCloseable {
  public enum Health {
    UP,
    DOWN,
    CLOSED
  }

  private final NodeAddress address;
  private final IoResources io;
  private final TransportSettings settings;
  private final AtomicReferenceArray<Connection> slots;
  private final AtomicInteger nextSlot = new AtomicInteger();

  /** Every connection, slot or probe, reports here; only a connection in a slot counts. */
  private final Connection.Listener listener = this::connectionEnded;

  private volatile Health health = Health.UP;
  private volatile Throwable downCause;
  private final long[] reopenedAtNanos; // guarded by this: when each slot was last replaced
  private long backoffNanos; // guarded by this
  private ScheduledFuture<?> probe; // guarded by this
  private Connection probing; // guarded by this
  private final java.util.function.Supplier<? extends dev.whack.client.protocol.Request<?>>
      probeRequest;

  /** Whether the connections carry the binary protocol (they authenticate with SASL PLAIN). */
  private final boolean binary;

  public NodeClient(NodeAddress address, IoResources io) {
    this(address, io, VersionRequest::new);
  }

  /**
   * @param probeRequest what a probe sends to see whether the node is back, a text request: the
   *     connections carry the text protocol (for the binary one, {@link #binary})
   */
  public NodeClient(
      NodeAddress address,
      IoResources io,
      java.util.function.Supplier<? extends dev.whack.client.protocol.Request<?>> probeRequest) {
    this(address, io, probeRequest, false);
  }

  /**
   * A node's connections that carry the binary protocol: they authenticate with SASL PLAIN, and a
   * probe sends {@code probeRequest}, a binary NoOp (a node picks a connection's protocol from its
   * first byte, and the probe's connection is kept).
   */
  public static NodeClient binary(
      NodeAddress address,
      IoResources io,
      java.util.function.Supplier<? extends dev.whack.client.protocol.Request<?>> probeRequest) {
    return new NodeClient(address, io, probeRequest, true);
  }

  private NodeClient(
      NodeAddress address,
      IoResources io,
      java.util.function.Supplier<? extends dev.whack.client.protocol.Request<?>> probeRequest,
      boolean binary) {
    this.probeRequest = probeRequest;
    this.binary = binary;
    this.address = address;
    this.io = io;
    this.settings = io.settings();
    this.slots = new AtomicReferenceArray<>(settings.connectionsPerNode());
    this.reopenedAtNanos = new long[settings.connectionsPerNode()];
    Arrays.fill(reopenedAtNanos, System.nanoTime() - settings.reconnectMin().toNanos());
    synchronized (this) {
      for (int i = 0; i < slots.length(); i++) {
        open(i);
      }
    }
  }

  public String name() {
    return address.name();
  }

  public NodeAddress address() {
    return address;
  }

  public Health health() {
    return health;
  }

  public boolean isDown() {
    return health == Health.DOWN;
  }

  /** The exception a call for this node gets while it is down. */
  public NodeUnavailableException unavailable() {
    return NodeUnavailableException.down(name(), downCause);
  }

  public void send(Request<?> request) {
    send(request, nextSlot.getAndIncrement());
  }

  /**
   * Sends on the connection {@code affinity} maps to (modulo the connections), so that requests
   * with the same affinity keep their order; falls back to another connection while that one is
   * being replaced.
   */
  public void send(Request<?> request, int affinity) {
    Health h = health;
    if (h == Health.DOWN) {
      request.fail(unavailable());
      return;
    }
    if (h == Health.CLOSED) {
      request.fail(new ConnectionClosedException(name(), "the client is closed", null));
      return;
    }
    int n = slots.length();
    int start = Math.floorMod(affinity, n);
    Connection chosen = slots.get(start);
    // Prefer an open connection; one that just ended is about to be replaced.
    for (int i = 0; i < n && !chosen.isOpen(); i++) {
      chosen = slots.get((start + i) % n);
    }
    chosen.send(request);
  }

  /** Requests pending on all connections. */
  public int pending() {
    int sum = 0;
    for (int i = 0; i < slots.length(); i++) {
      sum += slots.get(i).pending();
    }
    return sum;
  }

  /** The connection in a slot, for tests. */
  Connection connection(int slot) {
    return slots.get(slot);
  }

  private void open(int slot) {
    // The slot holds the connection before it starts connecting, so that even an immediate
    // failure is recognised as this slot's.
    Connection c = Connection.open(io, address, listener, null, binary);
    slots.set(slot, c);
  }

  private synchronized void connectionEnded(
      Connection connection, Connection.Ending why, WhackException cause) {
    int slot = slotOf(connection);
    if (slot < 0 || health != Health.UP) {
      return; // a probe, a replaced connection, or the node is already down or closed
    }
    switch (why) {
      case CONNECT_FAILED, TIMED_OUT -> markDown(cause);
      case CLOSED_BY_PEER, CORRUPT_REPLY -> {
        long now = System.nanoTime();
        if (now - reopenedAtNanos[slot] < settings.reconnectMin().toNanos()) {
          // The last replacement ended as fast: a node that closes every connection (say, at
          // its connection limit) would otherwise be reconnected in a tight loop.
          markDown(cause);
        } else {
          reopenedAtNanos[slot] = now;
          open(slot);
        }
      }
      case DISCARDED -> {}
    }
  }

  private int slotOf(Connection connection) {
    for (int i = 0; i < slots.length(); i++) {
      if (slots.get(i) == connection) {
        return i;
      }
    }
    return -1;
  }

  private void markDown(WhackException cause) {
    // A failed connect already says "<node> is down: <reason>"; keep the reason only.
    downCause =
        cause instanceof NodeUnavailableException && cause.getCause() != null
            ? cause.getCause()
            : cause;
    health = Health.DOWN;
    NodeUnavailableException down = unavailable();
    for (int i = 0; i < slots.length(); i++) {
      slots.get(i).end(Connection.Ending.DISCARDED, down, down);
    }
    backoffNanos = settings.reconnectMin().toNanos();
    scheduleProbe();
  }

  private void scheduleProbe() {
    try {
      probe = io.nextLoop().schedule(this::probe, backoffNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // the client is closing: no more probes
    }
  }

  private synchronized void probe() {
    if (health != Health.DOWN) {
      return;
    }
    Connection candidate = Connection.open(io, address, listener, null, binary);
    probing = candidate;
    dev.whack.client.protocol.Request<?> ping = probeRequest.get();
    candidate.send(ping);
    ping.future().whenComplete((v, failure) -> probed(candidate, failure));
  }

  private synchronized void probed(Connection candidate, Throwable failure) {
    if (probing == candidate) {
      probing = null;
    }
    if (health != Health.DOWN) {
      discard(candidate);
      return;
    }
    if (failure != null) {
      downCause =
          failure instanceof NodeUnavailableException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      discard(candidate);
      backoffNanos = Math.min(backoffNanos * 2, settings.reconnectMax().toNanos());
      scheduleProbe();
      return;
    }
    // Up again: the probe's connection becomes slot 0 and the others reopen. If the probe's
    // connection ended already, its end was ignored (it was in no slot): reopen instead.
    slots.set(0, candidate);
    if (!candidate.isOpen()) {
      open(0);
    }
    for (int i = 1; i < slots.length(); i++) {
      open(i);
    }
    downCause = null;
    health = Health.UP;
  }

  private static void discard(Connection c) {
    ConnectionClosedException gone = new ConnectionClosedException(c.name(), "probe done", null);
    c.end(Connection.Ending.DISCARDED, gone, gone);
  }

  /**
   * Fails everything pending with "the client is closed" and closes the connections. The returned
   * future completes once every connection has ended, so that the I/O threads can stop after.
   */
  public synchronized CompletableFuture<Void> closeAsync() {
    health = Health.CLOSED;
    if (probe != null) {
      probe.cancel(false);
    }
    ConnectionClosedException closed =
        new ConnectionClosedException(name(), "the client is closed", null);
    List<CompletableFuture<Void>> ended = new ArrayList<>();
    for (int i = 0; i < slots.length(); i++) {
      slots.get(i).end(Connection.Ending.DISCARDED, closed, closed);
      ended.add(slots.get(i).ended());
    }
    if (probing != null) {
      probing.end(Connection.Ending.DISCARDED, closed, closed);
      ended.add(probing.ended());
    }
    return CompletableFuture.allOf(ended.toArray(CompletableFuture<?>[]::new));
  }

  @Override
  public void close() {
    closeAsync();
  }

  @Override
  public String toString() {
    return name() + " " + health;
  }
}

package dev.whack.client;

import dev.whack.client.protocol.PushLine;
import dev.whack.client.protocol.PushLines;
import dev.whack.client.protocol.WatchRequest;
import dev.whack.client.transport.Connection;
import dev.whack.client.transport.IoResources;
import dev.whack.client.transport.NodeAddress;
import dev.whack.client.transport.NodeClient;
import dev.whack.client.transport.PushHandler;
import io.netty.buffer.ByteBuf;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A subscription to segment changes on every node, each over a dedicated connection that sends
 * {@code watch <name>+} and then receives {@code CHANGE} and {@code MISSED} lines between replies.
 * The lines of all nodes reach one {@link WatchListener}, one call at a time.
 *
 * <p>If a node's watch connection is lost after the watch started, the listener is told ({@link
 * WatchListener#onDisconnected}) and the watch reconnects with the client's backoff until the node
 * confirms again ({@link WatchListener#onReconnected}); changes in between are not seen.
 *
 * <p>Concurrency: listener calls and {@link #close} take one lock, so after {@code close} returns
 * the listener is not called again. Per-node state is touched under the same lock.
 */
public final class Watch implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Watch.class.getName());

  private final WhackClient client;
  private final List<String> segments;
  private final WatchListener listener;
  private final List<NodeWatch> nodes = new ArrayList<>();
  private final Object lock = new Object();
  private boolean closed; // guarded by lock

  private Watch(WhackClient client, List<String> segments, WatchListener listener) {
    this.client = client;
    this.segments = segments;
    this.listener = listener;
  }

  static CompletableFuture<Watch> start(
      WhackClient client, List<String> segments, WatchListener listener) {
    List<String> down = client.downNodes();
    if (!down.isEmpty()) {
      return CompletableFuture.failedFuture(
          new NodeUnavailableException(
              down, "watch needs every node; down: " + String.join(", ", down), null));
    }
    Watch watch = new Watch(client, segments, listener);
    client.register(watch);
    List<CompletableFuture<Integer>> confirmations = new ArrayList<>();
    List<String> names = new ArrayList<>();
    synchronized (watch.lock) {
      for (NodeClient node : client.nodes()) {
        NodeWatch w = watch.new NodeWatch(node.address());
        watch.nodes.add(w);
        confirmations.add(w.subscribe());
        names.add(node.name());
      }
    }
    CompletableFuture<Watch> out = new CompletableFuture<>();
    Futures.all("watch", names, confirmations)
        .whenComplete(
            (ok, failure) -> {
              if (failure != null) {
                watch.close();
                out.completeExceptionally(failure);
              } else {
                watch.markStarted();
                out.complete(watch);
              }
            });
    return out;
  }

  /** The segments watched. */
  public List<String> segments() {
    return segments;
  }

  private void markStarted() {
    synchronized (lock) {
      for (NodeWatch w : nodes) {
        w.started = true;
        w.live = true;
      }
    }
  }

  /** Stops the watch: closes its connections. No listener call happens after this returns. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      for (NodeWatch w : nodes) {
        w.stop();
      }
    }
    client.unregister(this);
  }

  /** The watch on one node: its connection, and reconnection when it is lost. */
  private final class NodeWatch implements PushHandler, Connection.Listener {
    private final NodeAddress address;
    private final IoResources io;
    private Connection connection; // guarded by lock
    private boolean started; // guarded by lock: the whole watch was confirmed once
    private boolean live; // guarded by lock: watching now (the listener was not told otherwise)
    private long backoffNanos;

    NodeWatch(NodeAddress address) {
      this.address = address;
      this.io = client.io();
      this.backoffNanos = io.settings().reconnectMin().toNanos();
    }

    /** Opens the connection and sends {@code watch}; the future is its confirmation. Under lock. */
    CompletableFuture<Integer> subscribe() {
      connection = Connection.open(io, address, this, this);
      WatchRequest request = new WatchRequest(segments);
      connection.send(request);
      return request.future();
    }

    void stop() {
      if (connection != null) {
        ConnectionClosedException stopped =
            new ConnectionClosedException(address.name(), "the watch was closed", null);
        connection.end(Connection.Ending.DISCARDED, stopped, stopped);
      }
    }

    @Override
    public Result tryConsume(String node, ByteBuf in) {
      PushLine line = PushLines.read(in);
      if (line == null) {
        return Result.INCOMPLETE;
      }
      if (line instanceof PushLine.NotAPush) {
        return Result.NOT_A_PUSH;
      }
      synchronized (lock) {
        if (!closed) {
          try {
            if (line instanceof PushLine.Change c) {
              listener.onChange(new SegmentChange(c.segment(), c.key(), c.kind(), c.time(), node));
            } else if (line instanceof PushLine.Missed m) {
              listener.onMissed(node, m.count());
            }
          } catch (RuntimeException e) {
            // The listener's bug must not look like a corrupt stream and close the connection.
            LOG.log(Level.WARNING, "watch listener failed on " + line, e);
          }
        }
      }
      return Result.CONSUMED;
    }

    @Override
    public void ended(Connection ended, Connection.Ending why, WhackException cause) {
      synchronized (lock) {
        if (closed || ended != connection || !started || why == Connection.Ending.DISCARDED) {
          return; // stopped, stale, still starting (start() reports that), or ended on purpose
        }
        if (live) {
          live = false;
          try {
            listener.onDisconnected(address.name(), cause);
          } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "watch listener failed on disconnect", e);
          }
        }
        scheduleResubscribe();
      }
    }

    private void scheduleResubscribe() {
      long wait = backoffNanos;
      backoffNanos = Math.min(backoffNanos * 2, io.settings().reconnectMax().toNanos());
      io.schedule(this::resubscribe, wait, TimeUnit.NANOSECONDS);
    }

    private void resubscribe() {
      CompletableFuture<Integer> confirmed;
      Connection mine;
      synchronized (lock) {
        if (closed) {
          return;
        }
        confirmed = subscribe();
        mine = connection;
      }
      confirmed.whenComplete(
          (n, failure) -> {
            synchronized (lock) {
              if (closed || mine != connection) {
                return;
              }
              if (failure == null) {
                backoffNanos = io.settings().reconnectMin().toNanos();
                live = true;
                try {
                  listener.onReconnected(address.name());
                } catch (RuntimeException e) {
                  LOG.log(Level.WARNING, "watch listener failed on reconnect", e);
                }
              } else if (mine.isOpen()) {
                // Answered with an error (e.g. a segment dropped meanwhile): try again later.
                stop();
                scheduleResubscribe();
              }
              // Otherwise the connection ended and ended() has scheduled the next try.
            }
          });
    }
  }
}

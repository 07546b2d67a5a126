package dev.whack.node.observability;

import java.net.SocketAddress;
import java.util.Collection;

/**
 * The node's open connections as {@code stats} reports them ({@code reply_bytes} and the {@code
 * conns} group). The server's connection tracker is the one implementation; the report sees only
 * this, so observability does not depend on the server.
 *
 * <p>Concurrency: read from any thread while connections come and go.
 */
public interface OpenConnections {
  /** One open connection. */
  interface Connection {
    int id();

    SocketAddress remote();

    SocketAddress local();

    /** When the connection last sent something (clock millis). */
    long lastCommandMillis();

    /** Reply bytes written to this connection and not yet taken by the kernel. */
    long queuedReplyBytes();
  }

  Collection<? extends Connection> openConnections();

  /** Reply bytes queued for all open connections. */
  long queuedReplyBytes();
}

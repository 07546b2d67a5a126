package dev.whack.client.transport;

import java.time.Duration;

/**
 * Validated settings of the transport, built once by {@code WhackClient.Builder}.
 *
 * @param requestTimeout a request with no reply after this fails and closes its connection
 * @param maxInFlightPerConnection requests past this many pending on a connection fail at once
 * @param reconnectMin first wait before probing a node that is down; doubles up to {@code
 *     reconnectMax}
 */
public record TransportSettings(
    Duration connectTimeout,
    Duration requestTimeout,
    int connectionsPerNode,
    int maxInFlightPerConnection,
    Duration reconnectMin,
    Duration reconnectMax,
    int ioThreads) {

  public TransportSettings {
    positive(connectTimeout, "connect timeout");
    positive(requestTimeout, "request timeout");
    positive(reconnectMin, "reconnect backoff");
    positive(reconnectMax, "reconnect backoff");
    if (reconnectMax.compareTo(reconnectMin) < 0) {
      throw new IllegalArgumentException("the longest reconnect backoff is under the shortest");
    }
    if (connectionsPerNode < 1 || connectionsPerNode > 64) {
      throw new IllegalArgumentException(
          "connections per node is 1 to 64, got " + connectionsPerNode);
    }
    if (maxInFlightPerConnection < 1) {
      throw new IllegalArgumentException(
          "in-flight limit is positive, got " + maxInFlightPerConnection);
    }
    if (ioThreads < 1) {
      throw new IllegalArgumentException("I/O threads is positive, got " + ioThreads);
    }
  }

  private static void positive(Duration d, String what) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("the " + what + " is positive, got " + d);
    }
    if (d.toMillis() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("the " + what + " is too long: " + d);
    }
  }

  /** How often a connection looks at its oldest request's deadline. */
  long timeoutPollMillis() {
    return Math.max(1, Math.min(10, requestTimeout.toMillis() / 10));
  }
}

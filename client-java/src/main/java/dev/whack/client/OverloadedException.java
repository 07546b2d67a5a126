package dev.whack.client;

/**
 * A connection already has its limit of requests in flight; the request was not sent. Slow down (a
 * {@link BulkWriter} does this for you) or allow more in flight.
 */
public final class OverloadedException extends WhackException {
  public OverloadedException(String node, String message) {
    super(node, message);
  }
}

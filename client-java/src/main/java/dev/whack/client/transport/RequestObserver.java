package dev.whack.client.transport;

/**
 * Told of every request a {@link NodeClient} sends, when it completes: what the client's metrics
 * are made of ({@code dev.whack.client.metrics}). Called on the thread that completes the request
 * (an I/O thread, or the caller's for a request failed at once because its node is down): it must
 * be quick and must not throw.
 *
 * <p>Concurrency: called from many threads at once.
 */
public interface RequestObserver {
  /** Observes nothing, at no cost: requests are not timed. */
  RequestObserver NONE = (node, command, nanos, error) -> {};

  /**
   * A request completed.
   *
   * @param node the member it was sent to, {@code host:port}
   * @param command its command word ({@code get}, {@code update}, {@code segcount}...)
   * @param nanos from the send to the completion
   * @param error why it failed, or null when it was answered (an error reply is a failure)
   */
  void completed(String node, String command, long nanos, Throwable error);
}

package dev.whack.client;

/**
 * The root of every exception the client raises. Unchecked: the async API completes its futures
 * with it (the future's own {@code whenComplete}, {@code handle} and {@code exceptionally} see it
 * as it is; {@code join()} throws it wrapped in a {@code CompletionException} and {@code get()} in
 * an {@code ExecutionException}, as the JDK defines them), and the blocking facade ({@link
 * WhackClient#blocking()}) throws it unwrapped. {@link #unwrap} takes those wrappers off.
 */
public class WhackException extends RuntimeException {
  private final String node;

  public WhackException(String node, String message, Throwable cause) {
    super(message, cause);
    this.node = node;
  }

  public WhackException(String node, String message) {
    this(node, message, null);
  }

  /**
   * The exception under the {@link java.util.concurrent.CompletionException} and {@link
   * java.util.concurrent.ExecutionException} layers the JDK wraps a future's failure in ({@code
   * join()}, {@code get()}, a dependent stage), or {@code failure} itself when it is not wrapped.
   */
  public static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The node ({@code host:port}) the failure concerns, or null when it concerns no single node. */
  public String node() {
    return node;
  }
}

package dev.whack.node.keyspace;

/**
 * The item-changing flags of meta get ({@code mg}): bump, touch, vivify on miss, recache.
 *
 * <p>Concurrency: one instance per connection, reused, never shared.
 */
public final class MetaGetOptions {
  /** Bump the item in the LRU and mark it fetched (absent {@code u}). */
  public boolean bump = true;

  /** {@code T}: set a new expiry. */
  public boolean touch;

  public long touchExptime;

  /** {@code N}: create an empty item on a miss and hand this client the win token. */
  public boolean vivify;

  public long vivifyExptime;

  /** {@code R}: win the recache token if the remaining TTL is below this many seconds. */
  public boolean recache;

  public long recacheThresholdSeconds;

  /**
   * Whether this client may win the token (memcached's {@code W}: "you are the one to recache").
   * False for a connection whose role cannot write (docs/security.md): it cannot recache, so it
   * reads a stale item with {@code X} and leaves the win to the next client that can.
   */
  public boolean mayWin = true;

  public MetaGetOptions reset() {
    bump = true;
    touch = false;
    touchExptime = 0;
    vivify = false;
    vivifyExptime = 0;
    recache = false;
    recacheThresholdSeconds = 0;
    mayWin = true;
    return this;
  }
}

package dev.whack.node.observability;

import dev.whack.node.keyspace.Status;
import java.util.concurrent.atomic.LongAdder;

/**
 * memcached's command counters for the {@code stats} command and the metrics endpoint. One instance
 * per node; counters are LongAdders, so connections on different event loops never contend on a
 * cache line.
 *
 * <p>Concurrency: every counter may be updated from any thread; reads are sums at that moment.
 */
public final class NodeStats {
  public final LongAdder cmdGet = new LongAdder();
  public final LongAdder cmdSet = new LongAdder();
  public final LongAdder cmdFlush = new LongAdder();
  public final LongAdder cmdTouch = new LongAdder();
  public final LongAdder cmdMeta = new LongAdder();
  public final LongAdder getHits = new LongAdder();
  public final LongAdder getMisses = new LongAdder();
  public final LongAdder deleteHits = new LongAdder();
  public final LongAdder deleteMisses = new LongAdder();
  public final LongAdder incrHits = new LongAdder();
  public final LongAdder incrMisses = new LongAdder();
  public final LongAdder decrHits = new LongAdder();
  public final LongAdder decrMisses = new LongAdder();
  public final LongAdder casHits = new LongAdder();
  public final LongAdder casMisses = new LongAdder();
  public final LongAdder casBadval = new LongAdder();
  public final LongAdder touchHits = new LongAdder();
  public final LongAdder touchMisses = new LongAdder();
  public final LongAdder storeTooLarge = new LongAdder();

  /** Outcomes of storage commands (set, add, replace, append, prepend, cas; text, meta, binary). */
  public final LongAdder storeStored = new LongAdder();

  public final LongAdder storeNotStored = new LongAdder();
  public final LongAdder storeExists = new LongAdder();
  public final LongAdder storeNotFound = new LongAdder();
  public final LongAdder bytesRead = new LongAdder();
  public final LongAdder bytesWritten = new LongAdder();
  public final LongAdder totalConnections = new LongAdder();
  public final LongAdder currConnections = new LongAdder();

  /** Connections refused because --max-connections were open (memcached's rejected_connections). */
  public final LongAdder rejectedConnections = new LongAdder();

  /** Partial profile updates received, and those ignored as replays. */
  public final LongAdder profileUpdates = new LongAdder();

  public final LongAdder profileUpdatesIgnored = new LongAdder();

  /** Connections watching segment changes (goes up and down). */
  public final LongAdder watchers = new LongAdder();

  /** Change lines written to watchers, and changes they missed because they read too slowly. */
  public final LongAdder watchDelivered = new LongAdder();

  public final LongAdder watchMissed = new LongAdder();

  /** Connections closed by the idle timeout (memcached's {@code idle_kicks}). */
  public final LongAdder idleKicks = new LongAdder();

  /** Watchers disconnected because they stayed lapped for the lapped timeout. */
  public final LongAdder watchersLappedClosed = new LongAdder();

  /** Requests answered with ERROR, CLIENT_ERROR or a binary error status. */
  public final LongAdder protocolErrors = new LongAdder();

  /** Authentications tried (text {@code set} tokens, SASL) and those refused (memcached's). */
  public final LongAdder authCommands = new LongAdder();

  public final LongAdder authErrors = new LongAdder();

  /** Commands refused because their connection had not authenticated (docs/security.md). */
  public final LongAdder unauthenticatedCommands = new LongAdder();

  /** Commands refused because their user's role does not allow them. */
  public final LongAdder unauthorizedCommands = new LongAdder();

  /** {@code stats detail}: per-prefix counts, recorded only while switched on. */
  public final PrefixStats prefixes = new PrefixStats();

  private final long startedAtMillis;

  public NodeStats(long startedAtMillis) {
    this.startedAtMillis = startedAtMillis;
  }

  /** Counts the outcome of one storage command. */
  public void countStore(Status status) {
    switch (status) {
      case STORED -> storeStored.increment();
      case EXISTS -> storeExists.increment();
      case NOT_FOUND -> storeNotFound.increment();
      case TOO_LARGE -> storeTooLarge.increment();
      default -> storeNotStored.increment();
    }
  }

  public long startedAtMillis() {
    return startedAtMillis;
  }

  /** {@code stats reset}: zeroes the counters that memcached resets and forgets the prefixes. */
  public void reset() {
    prefixes.clear();
    for (LongAdder counter :
        new LongAdder[] {
          cmdGet,
          cmdSet,
          cmdFlush,
          cmdTouch,
          cmdMeta,
          getHits,
          getMisses,
          deleteHits,
          deleteMisses,
          incrHits,
          incrMisses,
          decrHits,
          decrMisses,
          casHits,
          casMisses,
          casBadval,
          touchHits,
          touchMisses,
          storeTooLarge,
          storeStored,
          storeNotStored,
          storeExists,
          storeNotFound,
          bytesRead,
          bytesWritten,
          totalConnections,
          rejectedConnections,
          protocolErrors,
          profileUpdates,
          profileUpdatesIgnored,
          watchDelivered,
          watchMissed,
          idleKicks,
          watchersLappedClosed
        }) {
      counter.reset();
    }
  }
}

package dev.whack.client;

import dev.whack.client.protocol.CountRequest;
import dev.whack.client.protocol.DumpPage;
import dev.whack.client.protocol.DumpRequest;
import dev.whack.client.protocol.Keys;
import dev.whack.client.protocol.MembersPage;
import dev.whack.client.protocol.MembersRequest;
import dev.whack.client.protocol.SegDefineRequest;
import dev.whack.client.protocol.SegDistinctRequest;
import dev.whack.client.protocol.SegDropRequest;
import dev.whack.client.protocol.SegDryRunRequest;
import dev.whack.client.protocol.SegListRequest;
import dev.whack.client.protocol.SegOfRequest;
import dev.whack.client.protocol.SegOfSinceRequest;
import dev.whack.client.protocol.WatchRequest;
import dev.whack.client.transport.NodeClient;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Segments over the whole cluster. A profile lives on one node, so every node keeps the segments'
 * memberships of its own profiles: a definition goes to every node, sizes add up, members are
 * concatenated node after node, and {@link #of} asks the key's owner. A call that needs every node
 * fails, naming the missing ones, if any is down.
 *
 * <p>Concurrency: thread-safe, like the client it belongs to.
 */
public final class Segments {
  private final WhackClient client;

  Segments(WhackClient client) {
    this.client = client;
  }

  /**
   * Defines (or redefines) a segment on every node and backfills it; the result is its size over
   * the cluster. A bad expression fails with {@link BadExpressionException}. If a node fails, the
   * segment may be defined on the others: define it again.
   */
  public CompletableFuture<Long> define(String name, String expression) {
    Objects.requireNonNull(expression, "expression");
    return Futures.attempt(
        () -> {
          Keys.segmentName(name);
          return sum(
              client.everyNode("defining " + name, n -> new SegDefineRequest(name, expression)));
        });
  }

  /**
   * How many distinct values {@code name} has across the members of {@code query} (a segment or a
   * segment query): {@code name} is a distinct dimension (its name or {@code event.property}),
   * counted over the last {@code windowDays} days (0: the node's retention), or an attribute,
   * counted now (docs/profiles.md, "Distinct counts"). Asked of one node, which answers for its
   * whole cluster by merging its members' unions (nodes started without {@code --peers} answer for
   * themselves).
   */
  public CompletableFuture<DistinctCount> distinct(String query, String name, int windowDays) {
    Objects.requireNonNull(query, "query");
    return Futures.attempt(
        () -> {
          new SegDistinctRequest(query, name, windowDays); // checks before anything is sent
          return client.oneNode(
              "distinct count of " + name, () -> new SegDistinctRequest(query, name, windowDays));
        });
  }

  /** Keys in a dry run's sample when none is asked for. */
  public static final int DEFAULT_SAMPLE = 10;

  /** {@link #dryRun(String, String, int)} with a sample of {@value #DEFAULT_SAMPLE} keys. */
  public CompletableFuture<SegmentDryRun> dryRun(String name, String expression) {
    return dryRun(name, expression, DEFAULT_SAMPLE);
  }

  /**
   * What {@link #define} would give now, defining nothing (no backfill, no change to watchers): the
   * number of profiles the expression matches over every node, and up to {@code sample} (0 to 1000)
   * of their keys, taken from each node's in turn (the first of each node, then the second...).
   * Each node checks the name and compiles the expression as a definition would, so a bad
   * expression fails with {@link BadExpressionException} as {@link #define} does.
   */
  public CompletableFuture<SegmentDryRun> dryRun(String name, String expression, int sample) {
    Objects.requireNonNull(expression, "expression");
    return Futures.attempt(
        () -> {
          new SegDryRunRequest(name, expression, sample); // checks before anything is sent
          return Futures.map(
              client.everyNode(
                  "dry run of " + name, n -> new SegDryRunRequest(name, expression, sample)),
              perNode -> merge(perNode, sample));
        });
  }

  /** Counts added; the sample taken from each node's part in turn, up to {@code sample} keys. */
  private static SegmentDryRun merge(List<SegmentDryRun> perNode, int sample) {
    long count = 0;
    int longest = 0;
    for (SegmentDryRun part : perNode) {
      count += part.count();
      longest = Math.max(longest, part.sample().size());
    }
    List<String> keys = new ArrayList<>(sample);
    for (int i = 0; i < longest && keys.size() < sample; i++) {
      for (SegmentDryRun part : perNode) {
        if (i < part.sample().size() && keys.size() < sample) {
          keys.add(part.sample().get(i));
        }
      }
    }
    return new SegmentDryRun(count, keys);
  }

  /**
   * Drops a segment on every node; true if any node had it. A segment that others read with {@code
   * in_segment} is not dropped: the future fails with the node's refusal naming them.
   */
  public CompletableFuture<Boolean> drop(String name) {
    return drop(name, false);
  }

  /**
   * Drops a segment on every node, with {@code force} the segments that read it ({@code
   * in_segment}, directly or through others) too; true if any node had it.
   */
  public CompletableFuture<Boolean> drop(String name, boolean force) {
    return Futures.attempt(
        () -> {
          Keys.segmentName(name);
          return Futures.map(
              client.everyNode("dropping " + name, n -> new SegDropRequest(name, force)),
              dropped -> dropped.contains(Boolean.TRUE));
        });
  }

  /** Every segment, by name, with its size summed over the nodes. */
  public CompletableFuture<List<SegmentInfo>> list() {
    return Futures.map(
        client.everyNode("listing segments", n -> new SegListRequest()),
        perNode -> {
          Map<String, SegmentInfo> merged = new TreeMap<>();
          for (List<SegmentInfo> segments : perNode) {
            for (SegmentInfo s : segments) {
              merged.merge(
                  s.name(),
                  s,
                  (a, b) -> new SegmentInfo(a.name(), a.size() + b.size(), a.expression()));
            }
          }
          return List.copyOf(merged.values());
        });
  }

  /** The size of a segment or a segment query ({@code dk_buyers and not churned}). */
  public CompletableFuture<Long> count(String query) {
    Objects.requireNonNull(query, "query");
    return sum(client.everyNode("segment count", n -> CountRequest.segment(query)));
  }

  /** The number of profiles matching an ad-hoc filter expression. */
  public CompletableFuture<Long> filterCount(String filter) {
    Objects.requireNonNull(filter, "filter");
    return sum(client.everyNode("filter count", n -> CountRequest.filter(filter)));
  }

  /**
   * {@link #count}, asked knowing the answer may be partial: the nodes that cannot answer now
   * (down, taking slots over, not yet in the map) and slots with no owner are left out and named
   * with the reason, instead of failing the whole count. A query the nodes refuse (a bad
   * expression, an unknown segment) still fails.
   */
  public CompletableFuture<PartialCount> countPartial(String query) {
    Objects.requireNonNull(query, "query");
    return partial(n -> CountRequest.segment(query));
  }

  /** {@link #filterCount}, asked knowing the answer may be partial (as {@link #countPartial}). */
  public CompletableFuture<PartialCount> filterCountPartial(String filter) {
    Objects.requireNonNull(filter, "filter");
    return partial(n -> CountRequest.filter(filter));
  }

  private CompletableFuture<PartialCount> partial(
      java.util.function.Function<NodeClient, CountRequest> build) {
    Map<String, String> missing = new TreeMap<>();
    return Futures.map(
        client.eachNode(build::apply, missing),
        asked -> {
          long total = 0;
          for (Map.Entry<String, CompletableFuture<Long>> part : asked.entrySet()) {
            try {
              total += part.getValue().join();
            } catch (RuntimeException e) {
              Throwable cause = Futures.unwrap(e);
              if (cause instanceof ServerErrorException s && !s.kind().equals("SERVER_ERROR")) {
                throw s; // the question itself was refused: every node would say so
              }
              missing.put(part.getKey(), String.valueOf(cause.getMessage()));
            }
          }
          return new PartialCount(total, missing);
        });
  }

  /** The segments the profile under {@code key} is in, asked of its owner. */
  public CompletableFuture<List<String>> of(String key) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          return Futures.map(client.send(k, new SegOfRequest(k)), names -> names);
        });
  }

  /**
   * The segments the profile under {@code key} is in, each with when the profile entered it, asked
   * of its owner ({@code segof <key> since}).
   */
  public CompletableFuture<List<SegmentMembership>> ofSince(String key) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          return Futures.map(client.send(k, new SegOfSinceRequest(k)), memberships -> memberships);
        });
  }

  /**
   * Every member of a segment query, node after node, fetched a page at a time as the stream is
   * consumed. Consuming it blocks for each page (never on an I/O thread); it throws the client's
   * exceptions, e.g. {@link NodeUnavailableException} if a node is down when it is reached.
   */
  public Stream<String> members(String query) {
    Objects.requireNonNull(query, "query");
    return pages(Pager.SEGMENT, query, Long.MAX_VALUE);
  }

  /** Up to {@code limit} members of a segment query, without blocking. */
  public CompletableFuture<List<String>> members(String query, int limit) {
    Objects.requireNonNull(query, "query");
    return collect(Pager.SEGMENT, query, limit);
  }

  /** Every profile matching an ad-hoc filter, paged like {@link #members(String)}. */
  public Stream<String> filterMembers(String filter) {
    Objects.requireNonNull(filter, "filter");
    return pages(Pager.FILTER, filter, Long.MAX_VALUE);
  }

  /** Up to {@code limit} profiles matching an ad-hoc filter, without blocking. */
  public CompletableFuture<List<String>> filterMembers(String filter, int limit) {
    Objects.requireNonNull(filter, "filter");
    return collect(Pager.FILTER, filter, limit);
  }

  /**
   * Subscribes to enter/leave changes of {@code segments} on every node over dedicated connections.
   * Completes when every node has confirmed ({@code WATCHING}); fails, with nothing left open, if
   * any node cannot be watched. Close the {@link Watch} to stop.
   */
  public CompletableFuture<Watch> watch(Collection<String> segments, WatchListener listener) {
    Objects.requireNonNull(listener, "listener");
    return Futures.attempt(
        () -> {
          List<String> names = List.copyOf(segments);
          new WatchRequest(names); // checks the names before anything opens
          return Watch.start(client, names, listener);
        });
  }

  /** Profiles fetched per {@code segdump} request by {@link #dump(String)}. */
  public static final int DEFAULT_DUMP_PAGE = 2000;

  /**
   * Every profile, or every member of a segment query, as whole profiles (canonical Profile JSON
   * with event series and producer marks), node after node in ring order and, within a node, in the
   * node's order. Fetched a page at a time with {@code segdump} as the stream is consumed; the next
   * page is asked for while the current one is consumed. Consuming blocks for each page (never on
   * an I/O thread) and throws the client's exceptions, e.g. {@link NodeUnavailableException} if a
   * node is down, {@link BadExpressionException} for a bad query.
   *
   * <p>A profile written while the dump runs may or may not be in it; one removed since its page
   * was read is left out. Each page is consistent as of the moment the node answered it.
   *
   * @param query a segment query, or null for every profile
   */
  public Stream<DumpedProfile> dump(String query) {
    return dump(query, DEFAULT_DUMP_PAGE);
  }

  /** As {@link #dump(String)}, with {@code pageSize} profiles per request (1 to 100000). */
  public Stream<DumpedProfile> dump(String query, int pageSize) {
    if (pageSize < 1 || pageSize > 100_000) {
      throw new IllegalArgumentException("a dump page holds 1 to 100000 profiles, got " + pageSize);
    }
    failIfAnyDown("dump");
    NodePages<DumpPage, DumpedProfile> it =
        new NodePages<>(
            client,
            cursor -> new DumpRequest(query, pageSize, cursor),
            DumpPage::profiles,
            DumpPage::nextCursor);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false);
  }

  private static CompletableFuture<Long> sum(CompletableFuture<List<Long>> perNode) {
    return Futures.map(
        perNode,
        counts -> {
          long total = 0;
          for (long c : counts) {
            total += c;
          }
          return total;
        });
  }

  private enum Pager {
    SEGMENT,
    FILTER;

    MembersRequest request(String expression, int limit, String cursor) {
      return this == SEGMENT
          ? MembersRequest.segment(expression, limit, cursor)
          : MembersRequest.filter(expression, limit, cursor);
    }

    String what() {
      return this == SEGMENT ? "segment members" : "filter members";
    }
  }

  /** As {@link #members(String)}, asking for no more than {@code limit} members in all. */
  Stream<String> members(String query, long limit) {
    Objects.requireNonNull(query, "query");
    return pages(Pager.SEGMENT, query, limit);
  }

  Stream<String> filterMembers(String filter, long limit) {
    Objects.requireNonNull(filter, "filter");
    return pages(Pager.FILTER, filter, limit);
  }

  private Stream<String> pages(Pager pager, String expression, long limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("a limit is positive, got " + limit);
    }
    failIfAnyDown(pager.what());
    MembersIterator it = new MembersIterator(pager, expression, limit);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false);
  }

  private void failIfAnyDown(String what) {
    client.failIfAnyDown(what);
  }

  private CompletableFuture<List<String>> collect(Pager pager, String expression, int limit) {
    if (limit < 1) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("a limit is positive, got " + limit));
    }
    try {
      failIfAnyDown(pager.what());
    } catch (NodeUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
    List<String> out = new ArrayList<>();
    return collectFrom(pager, expression, limit, 0, null, out);
  }

  /** Pages through node {@code node} from {@code cursor}, then the next nodes, until full. */
  private CompletableFuture<List<String>> collectFrom(
      Pager pager, String expression, int limit, int node, String cursor, List<String> out) {
    List<NodeClient> nodes = client.nodes();
    if (node >= nodes.size() || out.size() >= limit) {
      return CompletableFuture.completedFuture(List.copyOf(out));
    }
    int want = Math.min(client.membersPageSize(), limit - out.size());
    MembersRequest request = pager.request(expression, want, cursor);
    nodes.get(node).send(request);
    return Futures.flatMap(
        request.future(),
        page -> {
          checkProgress(page, cursor, nodes.get(node).name());
          for (String key : page.keys()) {
            if (out.size() < limit) {
              out.add(key);
            }
          }
          return page.nextCursor() == null
              ? collectFrom(pager, expression, limit, node + 1, null, out)
              : collectFrom(pager, expression, limit, node, page.nextCursor(), out);
        });
  }

  /** An empty page that hands back the cursor it was given would page forever. */
  private static void checkProgress(MembersPage page, String sentCursor, String node) {
    if (page.keys().isEmpty()
        && page.nextCursor() != null
        && page.nextCursor().equals(sentCursor)) {
      throw new CorruptReplyException(
          node, node + " answered an empty page with the same cursor " + sentCursor);
    }
  }

  /** Blocking page-by-page iteration over every node. */
  private final class MembersIterator implements java.util.Iterator<String> {
    private final Pager pager;
    private final String expression;
    private long remaining;
    private int node;
    private String cursor;
    private boolean nodeDone;
    private List<String> page = List.of();
    private int next;

    MembersIterator(Pager pager, String expression, long limit) {
      this.pager = pager;
      this.expression = expression;
      this.remaining = limit;
    }

    @Override
    public boolean hasNext() {
      List<NodeClient> nodes = client.nodes();
      if (remaining <= 0) {
        return false;
      }
      while (next >= page.size()) {
        if (nodeDone) {
          node++;
          cursor = null;
          nodeDone = false;
        }
        if (node >= nodes.size()) {
          return false;
        }
        int want = (int) Math.min(client.membersPageSize(), remaining);
        MembersRequest request = pager.request(expression, want, cursor);
        nodes.get(node).send(request);
        MembersPage fetched = client.blocking().await(request.future());
        checkProgress(fetched, cursor, nodes.get(node).name());
        page = fetched.keys();
        next = 0;
        cursor = fetched.nextCursor();
        nodeDone = cursor == null;
      }
      return true;
    }

    @Override
    public String next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      remaining--;
      return page.get(next++);
    }
  }
}

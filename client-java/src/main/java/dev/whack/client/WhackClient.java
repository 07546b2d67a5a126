package dev.whack.client;

import dev.whack.client.metrics.MicrometerMetrics;
import dev.whack.client.model.ProfileData;
import dev.whack.client.model.ProfileUpdate;
import dev.whack.client.protocol.BinaryRelayRequest;
import dev.whack.client.protocol.ClusterMapRequest;
import dev.whack.client.protocol.CountRequest;
import dev.whack.client.protocol.DeleteRequest;
import dev.whack.client.protocol.GetRequest;
import dev.whack.client.protocol.ItemDumpPage;
import dev.whack.client.protocol.ItemDumpRequest;
import dev.whack.client.protocol.Keys;
import dev.whack.client.protocol.RelayRequest;
import dev.whack.client.protocol.Request;
import dev.whack.client.protocol.SnapshotRequest;
import dev.whack.client.protocol.StatsRequest;
import dev.whack.client.protocol.StoreRequest;
import dev.whack.client.protocol.TenantCreateRequest;
import dev.whack.client.protocol.TenantDropRequest;
import dev.whack.client.protocol.TenantListRequest;
import dev.whack.client.protocol.UpdateRequest;
import dev.whack.client.protocol.VersionRequest;
import dev.whack.client.ring.ClusterMap;
import dev.whack.client.transport.IoResources;
import dev.whack.client.transport.NodeAddress;
import dev.whack.client.transport.NodeClient;
import dev.whack.client.transport.RequestObserver;
import dev.whack.client.transport.TransportSettings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The Java client of a Whack cluster: routes each key to its owner with the cluster's {@link
 * dev.whack.client.ring.HashRing}, pipelines requests over a few connections per node, and answers
 * segment questions by asking every node and merging.
 *
 * <pre>{@code
 * try (WhackClient client =
 *     WhackClient.builder().servers("10.0.0.1:11211,10.0.0.2:11211").build()) {
 *   client.setProfile("user:42", ProfileData.builder().set("country", "DK").set("age", 31).build())
 *       .join();
 *   client.update("user:42", ProfileUpdate.of().incr("visits", 1)).join();
 *   long size = client.segments().count("dk_buyers and not churned").join();
 * }
 * }</pre>
 *
 * <p>Every call returns a {@link CompletableFuture} that always completes: with the answer, or with
 * a {@link WhackException}, at the latest after the request timeout. The future is failed with the
 * exception itself, so {@code whenComplete}, {@code handle} and {@code exceptionally} on it see a
 * {@link WhackException}; {@code join()} throws it wrapped in a {@code CompletionException}, {@code
 * get()} in an {@code ExecutionException}, and stages derived with {@code thenApply} and the like
 * fail with a {@code CompletionException} around it, as the JDK defines them ({@link
 * WhackException#unwrap} takes the wrapper off). {@link #blocking()} is a synchronous facade that
 * throws the exception itself. Futures complete on the client's I/O threads: chain non-blocking
 * work only, or hop to your own executor with the {@code ...Async(fn, executor)} methods. Arguments
 * are checked before anything is sent; a bad one (a key over 250 bytes, a space in a key) fails the
 * future with {@link IllegalArgumentException}. docs/client.md has an example of every call.
 *
 * <p>A node that does not answer is marked down after at most the connect or request timeout; its
 * keys then fail at once with {@link NodeUnavailableException} while the others keep working, and
 * calls that need every node (segment count, members, list) fail naming the missing nodes rather
 * than answering for part of the cluster.
 *
 * <p>Concurrency: thread-safe; share one client per cluster.
 */
public final class WhackClient implements AutoCloseable {
  /** The flags that mark a value as a protobuf {@code whack.v1.Profile} (0x77680001). */
  public static final int PROFILE_PROTOBUF_FLAGS = 0x77680001;

  /**
   * The flags a profile call sends with Profile JSON (0x77680002): the node must take the value as
   * a profile and refuses it with the reason if it is not one. Without them, JSON that is not a
   * profile is stored as an ordinary memcached value.
   */
  public static final int PROFILE_JSON_FLAGS = 0x77680002;

  private static final long CLOSE_WAIT_MILLIS = 1_000;

  /** Keys per {@code get} line in a multi-get, well under the node's line limit. */
  private static final int MAX_KEYS_PER_GET = 100;

  /** How often a client that found a Kafka-managed cluster fetches its map again. */
  static final long MAP_REFRESH_MILLIS = 5_000;

  private final IoResources io;

  /** The map keys route by and a client per member, swapped whole when the map changes. */
  private volatile Routing routing;

  /** Every member's client by name, kept while it is in the map. */
  private final Map<String, NodeClient> members = new ConcurrentHashMap<>();

  /** One map and, index for index with its members, their clients. */
  private record Routing(ClusterMap map, List<NodeClient> nodes) {
    /** The key's owner; a slot with no owner yet goes to the first member, which says so. */
    int ownerIndex(byte[] key) {
      int owner = map.ownerIndex(key, 0, key.length);
      return owner == ClusterMap.NONE ? 0 : owner;
    }
  }

  private final int membersPageSize;
  private final Segments segments;
  private final Dimensions dimensions;
  private final BlockingWhackClient blocking;
  private final Set<Watch> watches = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Connections carrying the binary protocol, opened on the first binary relay to a member. */
  private final Map<String, NodeClient> binaryNodes = new ConcurrentHashMap<>();

  private WhackClient(Builder b, List<NodeAddress> addresses, TransportSettings settings) {
    this.io =
        new IoResources(
            settings,
            b.tls,
            b.credentials,
            b.meterRegistry == null ? RequestObserver.NONE : MicrometerMetrics.of(b.meterRegistry));
    Map<String, NodeAddress> byName = new LinkedHashMap<>();
    for (NodeAddress a : addresses) {
      byName.put(a.name(), a);
    }
    this.routing = routingFor(ClusterMap.ring(byName.keySet()), byName);
    this.membersPageSize = b.membersPageSize;
    this.segments = new Segments(this);
    this.dimensions = new Dimensions(this);
    this.blocking = new BlockingWhackClient(this);
  }

  /** The routing for {@code map}, reusing the clients of members it already had. */
  private Routing routingFor(ClusterMap map, Map<String, NodeAddress> known) {
    List<NodeClient> clients = new ArrayList<>(map.members().size());
    for (String member : map.members()) {
      clients.add(
          members.computeIfAbsent(
              member,
              name -> {
                NodeAddress address = known.get(name);
                return new NodeClient(address != null ? address : NodeAddress.parse(name), io);
              }));
    }
    return new Routing(map, List.copyOf(clients));
  }

  // ---- the cluster map ------------------------------------------------------------------------

  /**
   * Fetches the cluster map ({@code cluster map}) from the first member that answers and routes by
   * it from now on: a client given one node of a cluster learns every member, and a client of a
   * Kafka-managed cluster routes keys by its slots (docs/cluster.md). A node alone leaves the
   * servers given as they are (independent nodes sharded by this client, as memcached's are). A
   * node that does not know the command (memcached, an older Whack) leaves the routing as it is and
   * fails the future.
   */
  public CompletableFuture<ClusterMap> refreshMap() {
    return Futures.attempt(() -> askForMap(routing.nodes(), 0));
  }

  private CompletableFuture<ClusterMap> askForMap(List<NodeClient> candidates, int from) {
    NodeClient node = candidates.get(from);
    ClusterMapRequest request = new ClusterMapRequest();
    node.send(request);
    return request
        .future()
        .handle(
            (map, error) -> {
              if (error == null) {
                install(map);
                return CompletableFuture.completedFuture(map);
              }
              if (from + 1 < candidates.size()) {
                return askForMap(candidates, from + 1);
              }
              return CompletableFuture.<ClusterMap>failedFuture(error);
            })
        .thenCompose(f -> f);
  }

  /**
   * Routes by {@code map} from now on, unless it is no newer than the one in use or says nothing of
   * a cluster: a node alone (a ring of one) leaves the servers given as they are, so a client that
   * shards over independent nodes, as memcached clients do, keeps doing so.
   */
  private synchronized void install(ClusterMap map) {
    Routing now = routing;
    if (map.members().isEmpty()
        || (map.isRing() && map.members().size() == 1)
        || (!map.isRing() && !now.map().isRing() && map.epoch() <= now.map().epoch())
        || map.lines().equals(now.map().lines())) {
      return;
    }
    Routing next = routingFor(map, Map.of());
    routing = next;
    for (String gone : List.copyOf(members.keySet())) {
      if (!map.members().contains(gone)) {
        NodeClient left = members.remove(gone);
        NodeClient leftBinary = binaryNodes.remove(gone);
        // What was sent to it before the map changed still gets its answer or its timeout.
        long later = 2 * io.settings().requestTimeout().toMillis();
        io.schedule(left::close, later, TimeUnit.MILLISECONDS);
        if (leftBinary != null) {
          io.schedule(leftBinary::close, later, TimeUnit.MILLISECONDS);
        }
      }
    }
  }

  /** The map keys are routed by now (the servers given, as a ring, until one is fetched). */
  public ClusterMap map() {
    return routing.map();
  }

  /** While the map is a Kafka-managed cluster's, fetches it again every few seconds. */
  private void keepMapFresh() {
    if (closed.get()) {
      return;
    }
    if (!routing.map().isRing()) {
      refreshMap();
    }
    io.schedule(this::keepMapFresh, MAP_REFRESH_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** A builder with every setting at its default. */
  public static Builder builder() {
    return new Builder();
  }

  /** The synchronous facade over this client. */
  public BlockingWhackClient blocking() {
    return blocking;
  }

  /** Segment definitions, queries and change subscriptions. */
  public Segments segments() {
    return segments;
  }

  /** Preference dimension definitions: which event properties every node counts. */
  public Dimensions dimensions() {
    return dimensions;
  }

  /** The members, {@code host:port}, in the map's order (ring order for a ring). */
  public List<String> servers() {
    return routing.map().members();
  }

  /** The member that owns a key. */
  public String ownerOf(String key) {
    Routing r = routing;
    return r.map().members().get(r.ownerIndex(Keys.key(key)));
  }

  /** The members currently marked down. */
  public List<String> downNodes() {
    List<String> down = new ArrayList<>();
    for (NodeClient n : routing.nodes()) {
      if (n.isDown()) {
        down.add(n.name());
      }
    }
    return down;
  }

  // ---- opaque values -----------------------------------------------------------------------

  /** The value under {@code key}, or empty on a miss. */
  public CompletableFuture<Optional<Item>> get(String key) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          GetRequest request = new GetRequest(List.of(key), List.of(k));
          return Futures.map(send(k, request), hits -> Optional.ofNullable(hits.get(key)));
        });
  }

  /**
   * The hits among {@code keys}, in the order asked (a key asked twice appears once). Keys are
   * split by owner into one pipelined {@code get} per node (per 100 keys); if any owner is down the
   * whole call fails naming it.
   */
  public CompletableFuture<Map<String, Item>> getMulti(Collection<String> keys) {
    return Futures.attempt(() -> getMultiNow(keys));
  }

  private CompletableFuture<Map<String, Item>> getMultiNow(Collection<String> keys) {
    List<String> distinct = List.copyOf(new LinkedHashSet<>(keys));
    if (distinct.isEmpty()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    Routing r = routing;
    Map<Integer, List<String>> keysByNode = new LinkedHashMap<>();
    Map<Integer, List<byte[]>> bytesByNode = new LinkedHashMap<>();
    for (String key : distinct) {
      byte[] k = Keys.key(key);
      int owner = r.ownerIndex(k);
      keysByNode.computeIfAbsent(owner, o -> new ArrayList<>()).add(key);
      bytesByNode.computeIfAbsent(owner, o -> new ArrayList<>()).add(k);
    }
    List<CompletableFuture<Map<String, Item>>> parts = new ArrayList<>();
    List<String> partNodes = new ArrayList<>();
    for (Map.Entry<Integer, List<String>> e : keysByNode.entrySet()) {
      NodeClient node = r.nodes().get(e.getKey());
      List<String> names = e.getValue();
      List<byte[]> bytes = bytesByNode.get(e.getKey());
      for (int from = 0; from < names.size(); from += MAX_KEYS_PER_GET) {
        int to = Math.min(names.size(), from + MAX_KEYS_PER_GET);
        GetRequest request = new GetRequest(names.subList(from, to), bytes.subList(from, to));
        node.send(request);
        parts.add(request.future());
        partNodes.add(node.name());
      }
    }
    return Futures.map(
        Futures.all("get of " + distinct.size() + " keys", partNodes, parts),
        maps -> {
          Map<String, Item> all = new HashMap<>();
          maps.forEach(all::putAll);
          Map<String, Item> ordered = new LinkedHashMap<>();
          for (String key : distinct) {
            Item item = all.get(key);
            if (item != null) {
              ordered.put(key, item);
            }
          }
          return ordered;
        });
  }

  /** Stores an opaque value with flags 0 and no expiry. */
  public CompletableFuture<Void> set(String key, byte[] value) {
    return set(key, value, 0, 0);
  }

  /**
   * Stores a value ({@code set}). Expiry follows memcached: 0 never, up to 30 days relative
   * seconds, beyond an absolute Unix time. A value starting with <code>&#123;</code> that is valid
   * Profile JSON is taken by the node as a profile (docs/profiles.md, "Which writes are profiles").
   */
  public CompletableFuture<Void> set(String key, byte[] value, int flags, int expirySeconds) {
    return store(key, value, flags, expirySeconds, false);
  }

  /** As {@link #set}; with {@code inKeyOrder} the request takes its key's connection. */
  CompletableFuture<Void> store(
      String key, byte[] value, int flags, int expirySeconds, boolean inKeyOrder) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          StoreRequest request = new StoreRequest(k, flags, expirySeconds, value);
          return stored(inKeyOrder ? sendInKeyOrder(k, request) : send(k, request), key);
        });
  }

  /** Removes a key; true if it was there. */
  public CompletableFuture<Boolean> delete(String key) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          return Futures.map(send(k, new DeleteRequest(k)), Function.identity());
        });
  }

  // ---- profiles ------------------------------------------------------------------------------

  /**
   * A profile as canonical JSON, or empty if the key is absent. Fails if the key holds a protobuf
   * profile (read it with {@link #getProfileProtobuf}).
   */
  public CompletableFuture<Optional<String>> getProfile(String key) {
    return Futures.map(
        get(key),
        item -> {
          if (item.isPresent() && item.get().flags() == PROFILE_PROTOBUF_FLAGS) {
            throw new WhackException(
                ownerOf(key),
                key
                    + " holds a protobuf profile (flags 0x77680001); read it with"
                    + " getProfileProtobuf");
          }
          return item.map(Item::valueAsString);
        });
  }

  /** A profile written as protobuf ({@code whack.v1.Profile} bytes), or empty if absent. */
  public CompletableFuture<Optional<byte[]>> getProfileProtobuf(String key) {
    return Futures.map(
        get(key),
        item -> {
          if (item.isPresent() && item.get().flags() != PROFILE_PROTOBUF_FLAGS) {
            throw new WhackException(
                ownerOf(key),
                key
                    + " does not hold a protobuf profile (flags "
                    + Integer.toUnsignedString(item.get().flags())
                    + "); read it with getProfile");
          }
          return item.map(Item::value);
        });
  }

  /**
   * Replaces a profile with {@code json}, an object of attributes such as {@code
   * {"country":"DK","age":31}}, sent with {@link #PROFILE_JSON_FLAGS}. A profile that does not
   * parse is rejected by the node ({@link ServerErrorException} {@code CLIENT_ERROR bad profile:
   * ...}) and the old one stays.
   */
  public CompletableFuture<Void> setProfile(String key, String json) {
    return Futures.attempt(
        () -> {
          if (!isJsonObject(json)) {
            throw new IllegalArgumentException(
                "profile JSON is an object and starts with '{'; got: " + abbreviate(json));
          }
          return set(key, json.getBytes(StandardCharsets.UTF_8), PROFILE_JSON_FLAGS, 0);
        });
  }

  /**
   * Replaces a profile with a typed one, sent as its Profile JSON ({@link ProfileData#toJson()})
   * with {@link #PROFILE_JSON_FLAGS}: what {@link #setProfile(String, String)} would store for the
   * same JSON written by hand.
   */
  public CompletableFuture<Void> setProfile(String key, ProfileData profile) {
    return Futures.attempt(() -> set(key, profile.toJsonBytes(), PROFILE_JSON_FLAGS, 0));
  }

  /**
   * A profile read as typed values ({@link ProfileData#parse(String)} of {@link
   * #getProfile(String)}), or empty if the key is absent. Fails with {@link WhackException} if the
   * key holds a value that is not Profile JSON (a protobuf profile, an opaque value).
   */
  public CompletableFuture<Optional<ProfileData>> getProfileData(String key) {
    return Futures.map(
        getProfile(key),
        json -> {
          if (json.isEmpty()) {
            return Optional.empty();
          }
          try {
            return Optional.of(ProfileData.parse(json.get()));
          } catch (IllegalArgumentException e) {
            throw new WhackException(
                ownerOf(key), key + " does not hold Profile JSON: " + e.getMessage(), e);
          }
        });
  }

  /** Replaces a profile with a protobuf {@code whack.v1.Profile}, sent with flags 0x77680001. */
  public CompletableFuture<Void> setProfileProtobuf(String key, byte[] profile) {
    return set(key, profile, PROFILE_PROTOBUF_FLAGS, 0);
  }

  /**
   * Applies Update JSON ({@code {"set":{...},"incr":{...},"events":[...],"producer":"p","seq":1}})
   * to a profile atomically, creating it if absent. {@link UpdateResult#IGNORED} when the
   * producer's sequence was already applied.
   */
  public CompletableFuture<UpdateResult> update(String key, String updateJson) {
    return Futures.attempt(
        () -> {
          if (!isJsonObject(updateJson)) {
            throw new IllegalArgumentException(
                "update JSON is an object and starts with '{'; got: " + abbreviate(updateJson));
          }
          return updateBytes(key, updateJson.getBytes(StandardCharsets.UTF_8), false);
        });
  }

  /**
   * As {@link #update(String, String)}, the Update JSON given as UTF-8 bytes (as read from a file),
   * sent as they are.
   */
  public CompletableFuture<UpdateResult> update(String key, byte[] updateJson) {
    return Futures.attempt(() -> updateBytes(key, updateJson, false, false));
  }

  /**
   * Applies a typed update, sent as its Update JSON ({@link ProfileUpdate#toJson()}): {@code
   * client.update("user:42", ProfileUpdate.of().incr("visits", 1).event("purchase", 49.5))}.
   */
  public CompletableFuture<UpdateResult> update(String key, ProfileUpdate update) {
    return Futures.attempt(() -> updateBytes(key, update.toJsonBytes(), false, false));
  }

  /** Applies a protobuf {@code whack.v1.Update}. */
  public CompletableFuture<UpdateResult> updateProtobuf(String key, byte[] update) {
    return Futures.attempt(() -> updateBytes(key, update, true, false));
  }

  private CompletableFuture<UpdateResult> updateBytes(String key, byte[] body, boolean protobuf) {
    return updateBytes(key, body, protobuf, false);
  }

  /** Sends an update; with {@code inKeyOrder} the request takes its key's connection. */
  CompletableFuture<UpdateResult> updateBytes(
      String key, byte[] body, boolean protobuf, boolean inKeyOrder) {
    byte[] k = Keys.key(key);
    UpdateRequest request = new UpdateRequest(k, body, protobuf);
    return Futures.map(
        inKeyOrder ? sendInKeyOrder(k, request) : send(k, request), Function.identity());
  }

  /** Removes a key; with {@code inKeyOrder} the request takes its key's connection. */
  CompletableFuture<Boolean> delete(String key, boolean inKeyOrder) {
    return Futures.attempt(
        () -> {
          byte[] k = Keys.key(key);
          DeleteRequest request = new DeleteRequest(k);
          return Futures.map(
              inKeyOrder ? sendInKeyOrder(k, request) : send(k, request), Function.identity());
        });
  }

  /** Removes a profile (and so its segment memberships); true if it was there. */
  public CompletableFuture<Boolean> deleteProfile(String key) {
    return delete(key);
  }

  /** A writer that keeps up to {@code maxInFlight} stores and updates in flight, for loading. */
  public BulkWriter bulkWriter(int maxInFlight) {
    return new BulkWriter(this, maxInFlight, null);
  }

  /** As {@link #bulkWriter(int)}, telling {@code onFailure} of every record that failed. */
  public BulkWriter bulkWriter(int maxInFlight, Consumer<BulkWriter.Failure> onFailure) {
    return new BulkWriter(this, maxInFlight, onFailure);
  }

  /**
   * A writer that also keeps each key's writes in the order written: every write for a key goes on
   * the same connection of its owner, which the node serves in order. For streams that mix a
   * profile and its updates. {@code maxInFlight} must be under one connection's bound ({@link
   * Builder#maxInFlightPerConnection}), since the writes may all map to one connection.
   */
  public BulkWriter orderedBulkWriter(int maxInFlight, Consumer<BulkWriter.Failure> onFailure) {
    return new BulkWriter(this, maxInFlight, onFailure, true);
  }

  // ---- one member at a time, for tools that report per node ----------------------------------

  /**
   * A member's general statistics (memcached's {@code stats}: {@code curr_items}, {@code bytes},
   * {@code cmd_get}...), by name in the node's order. Fails with {@link NodeUnavailableException}
   * if that member is down; the others are not asked.
   *
   * @param server a member as listed by {@link #servers()}
   */
  public CompletableFuture<Map<String, String>> stats(String server) {
    return stats(server, "");
  }

  /** A group of a member's statistics: {@code settings}, {@code items}, {@code conns}... */
  public CompletableFuture<Map<String, String>> stats(String server, String group) {
    return Futures.attempt(() -> sendTo(server, new StatsRequest(group)));
  }

  /**
   * Asks one member to write a snapshot of its data directory now; completes once it is on disk
   * (which can take longer than the usual request timeout for a large node: build the client with a
   * request timeout to match). Fails with {@link ServerErrorException} from a node started without
   * {@code --data-dir}.
   */
  public CompletableFuture<SnapshotTaken> snapshot(String server) {
    return Futures.attempt(() -> sendTo(server, new SnapshotRequest()));
  }

  /**
   * A member's tenants (docs/security.md, "Tenants"), the default one first. Needs a user who is an
   * admin of no tenant when the node has an auth file.
   */
  public CompletableFuture<List<TenantInfo>> tenants(String server) {
    return Futures.attempt(() -> sendTo(server, new TenantListRequest()));
  }

  /**
   * Creates an empty tenant on a member, with its quota (segments and rate 0: no limit of its own).
   * Fails with {@link ServerErrorException} for a taken or bad name, a bad quota, memory the node
   * cannot spare, or a node that cannot have tenants (no auth file, a cluster member, a node with
   * Kafka).
   *
   * @param memoryBytes its keyspace's cap, carved out of the node's {@code --memory} (at least 1
   *     MiB)
   * @param segments how many segments it may define (0: the node's limit)
   * @param requestsPerSecond its requests a second over all its connections (0: no limit)
   */
  public CompletableFuture<Void> createTenant(
      String server, String name, long memoryBytes, int segments, long requestsPerSecond) {
    return Futures.attempt(
            () ->
                sendTo(
                    server,
                    new TenantCreateRequest(name, memoryBytes, segments, requestsPerSecond)))
        .thenApply(created -> null);
  }

  /** Drops a member's tenant: closes its connections and deletes its data. True if it was there. */
  public CompletableFuture<Boolean> dropTenant(String server, String name) {
    return Futures.attempt(() -> sendTo(server, new TenantDropRequest(name)));
  }

  /** Items fetched per {@code itemdump} request by {@link #dumpItems()}. */
  public static final int DEFAULT_ITEM_DUMP_PAGE = 1000;

  /**
   * Every opaque item of the cluster (values that are not profiles; {@link Segments#dump} has
   * those) with its flags and remaining time to live, node after node in ring order and, within a
   * node, in the node's order. Fetched a page at a time with {@code itemdump} as the stream is
   * consumed, the next page asked for while the current one is consumed. Consuming blocks for each
   * page (never on an I/O thread) and throws the client's exceptions, e.g. {@link
   * NodeUnavailableException} if a node is down.
   *
   * <p>An item present from the start of the dump to its end is in it; one written or removed
   * meanwhile may or may not be, and an item may come twice if a node was flushed meanwhile.
   */
  public Stream<DumpedItem> dumpItems() {
    return dumpItems(DEFAULT_ITEM_DUMP_PAGE);
  }

  /**
   * As {@link #dumpItems()}, with at most {@code pageSize} items per request (1 to 100000); a node
   * also ends a page at 8 MiB of values.
   */
  public Stream<DumpedItem> dumpItems(int pageSize) {
    new ItemDumpRequest(pageSize, null); // checks the size before anything is sent
    failIfAnyDown("dump");
    NodePages<ItemDumpPage, DumpedItem> pages =
        new NodePages<>(
            this,
            cursor -> new ItemDumpRequest(pageSize, cursor),
            ItemDumpPage::items,
            ItemDumpPage::nextCursor);
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(pages, Spliterator.ORDERED | Spliterator.NONNULL),
        false);
  }

  /**
   * One page of a member's opaque items ({@code itemdump}): from the start with a null cursor, then
   * from each page's {@link ItemDumpPage#nextCursor} until it is null. A page may be empty and
   * still have a cursor.
   */
  public CompletableFuture<ItemDumpPage> itemDumpPage(String server, int limit, String cursor) {
    return Futures.attempt(() -> sendTo(server, new ItemDumpRequest(limit, cursor)));
  }

  /** A member's version ({@code 1.6.18-whack-0.1.0}); also a cheap check that it answers. */
  public CompletableFuture<String> version(String server) {
    return Futures.attempt(() -> sendTo(server, new VersionRequest()));
  }

  /**
   * How many profiles a member holds (opaque items are not counted): the member's count of the
   * filter {@code true}, which every profile matches.
   */
  public CompletableFuture<Long> profileCount(String server) {
    return Futures.attempt(() -> sendTo(server, CountRequest.filter("true")));
  }

  /**
   * Passes whole commands to one member unchanged and returns its reply bytes: what a node uses to
   * forward a key it does not own (see {@link RelayRequest}).
   */
  public CompletableFuture<byte[]> relay(String server, byte[] commands) {
    return Futures.attempt(() -> sendTo(server, new RelayRequest(commands)));
  }

  /**
   * {@link #relay} on the connection to {@code server} that {@code key} maps to, so that the
   * commands relayed for one key reach the member, and are applied there, in the order they were
   * relayed (a member forwarding a pipeline of writes for its clients keeps each key's order).
   */
  public CompletableFuture<byte[]> relayInKeyOrder(String server, byte[] key, byte[] commands) {
    return Futures.attempt(
        () -> {
          RelayRequest request = new RelayRequest(commands);
          node(server).send(request, connectionAffinity(key));
          return request.future();
        });
  }

  /**
   * The binary-protocol twin of {@link #relay}: whole binary requests passed to one member
   * unchanged, its response packets back (see {@link BinaryRelayRequest}). Uses connections of
   * their own, since a node reads one protocol per connection.
   */
  public CompletableFuture<byte[]> relayBinary(String server, byte[] requests) {
    return Futures.attempt(
        () -> {
          NodeClient member = members.get(server);
          if (member == null) {
            throw new IllegalArgumentException(server + " is not a member");
          }
          NodeAddress address = member.address();
          if (closed.get()) {
            throw new ConnectionClosedException(server, "the client is closed", null);
          }
          NodeClient node =
              binaryNodes.computeIfAbsent(
                  server, s -> NodeClient.binary(address, io, BinaryRelayRequest::noop));
          BinaryRelayRequest request = new BinaryRelayRequest(requests);
          node.send(request);
          return request.future();
        });
  }

  private <T> CompletableFuture<T> sendTo(String server, Request<T> request) {
    NodeClient node = node(server);
    node.send(request);
    return request.future();
  }

  /** The member named {@code server}; IllegalArgumentException if it is not one. */
  NodeClient node(String server) {
    NodeClient n = members.get(server);
    if (n != null) {
      return n;
    }
    throw new IllegalArgumentException(
        server + " is not a member; the members are " + String.join(",", servers()));
  }

  // ---- internals shared with Segments, Watch, BulkWriter and the blocking facade --------------

  <T> CompletableFuture<T> send(byte[] key, Request<T> request) {
    Routing r = routing;
    r.nodes().get(r.ownerIndex(key)).send(request);
    return watchForStaleRoute(r, request.future());
  }

  /**
   * In a Kafka-managed cluster, a keyed request whose owner is down, or that a member answered with
   * a sign that the map moved on (its slot being taken over, no owner yet, a member gone), fetches
   * the map again at once rather than at the next periodic refresh (at most one fetch in flight).
   */
  private <T> CompletableFuture<T> watchForStaleRoute(Routing r, CompletableFuture<T> answer) {
    if (!r.map().isRing()) {
      // A listener on the side: the caller's future stays the request's own, failures unwrapped.
      answer.whenComplete(
          (value, error) -> {
            if (error != null
                && staleRoute(Futures.unwrap(error))
                && !closed.get()
                && refreshing.compareAndSet(false, true)) {
              refreshMap().whenComplete((map, e) -> refreshing.set(false));
            }
          });
    }
    return answer;
  }

  private static boolean staleRoute(Throwable error) {
    if (error instanceof NodeUnavailableException) {
      return true;
    }
    if (error instanceof ServerErrorException e) {
      String m = e.getMessage();
      return m.contains("being taken over")
          || m.contains("no member owns")
          || m.contains("no longer a member");
    }
    return false;
  }

  private final java.util.concurrent.atomic.AtomicBoolean refreshing =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Sends on the connection that {@code key} maps to, so that the requests for one key are
   * answered, and applied by the node, in the order they were sent (a node serves each connection
   * in order). While that connection is being replaced another one is used.
   */
  <T> CompletableFuture<T> sendInKeyOrder(byte[] key, Request<T> request) {
    Routing r = routing;
    r.nodes().get(r.ownerIndex(key)).send(request, connectionAffinity(key));
    return watchForStaleRoute(r, request.future());
  }

  /** A hash of the key independent of the ring's (which picked the node). */
  private static int connectionAffinity(byte[] key) {
    int h = 0x9747b28c;
    for (byte b : key) {
      h = (h ^ b) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }

  /** For a call that needs every node: fails at once, naming the nodes that are down. */
  void failIfAnyDown(String what) {
    List<String> down = downNodes();
    if (!down.isEmpty()) {
      throw new NodeUnavailableException(
          down, what + " needs every node; down: " + String.join(", ", down), null);
    }
  }

  List<NodeClient> nodes() {
    return routing.nodes();
  }

  NodeClient ownerNode(byte[] key) {
    Routing r = routing;
    return r.nodes().get(r.ownerIndex(key));
  }

  IoResources io() {
    return io;
  }

  int membersPageSize() {
    return membersPageSize;
  }

  int maxInFlightPerConnection() {
    return io.settings().maxInFlightPerConnection();
  }

  /** How many requests the bulk writer may keep in flight without hitting a connection's bound. */
  int maxInFlightPerNode() {
    return io.settings().connectionsPerNode() * io.settings().maxInFlightPerConnection();
  }

  void register(Watch watch) {
    if (closed.get()) {
      throw new IllegalStateException("the client is closed");
    }
    watches.add(watch);
  }

  void unregister(Watch watch) {
    watches.remove(watch);
  }

  /**
   * Sends one request per node that is up and collects each node's answer or failure, by node name;
   * parts with no node (a slot without an owner, a node down) are named in {@code missing} with the
   * reason. For answers the caller asked to be partial.
   */
  <T> CompletableFuture<Map<String, CompletableFuture<T>>> eachNode(
      Function<NodeClient, Request<T>> build, Map<String, String> missing) {
    Routing r = routing;
    for (int slot = 0; slot < r.map().slotCount(); slot++) {
      if (r.map().activeOf(slot) == null) {
        missing.put("slot:" + slot, "no member owns it yet");
      }
    }
    Map<String, CompletableFuture<T>> asked = new java.util.TreeMap<>();
    for (NodeClient node : r.nodes()) {
      if (node.isDown()) {
        missing.put(node.name(), "down");
        continue;
      }
      Request<T> request = build.apply(node);
      node.send(request);
      asked.put(node.name(), request.future());
    }
    return CompletableFuture.allOf(asked.values().toArray(CompletableFuture<?>[]::new))
        .handle((ignored, anyFailure) -> asked);
  }

  /**
   * Sends one request to the first node that is up, for a question any node of a cluster answers
   * for the whole of it; fails naming them all when every node is down.
   */
  <T> CompletableFuture<T> oneNode(String what, java.util.function.Supplier<Request<T>> build) {
    List<String> down = new ArrayList<>();
    NodeUnavailableException firstDown = null;
    for (NodeClient node : routing.nodes()) {
      if (!node.isDown()) {
        Request<T> request = build.get();
        node.send(request);
        return request.future();
      }
      down.add(node.name());
      firstDown = firstDown == null ? node.unavailable() : firstDown;
    }
    return CompletableFuture.failedFuture(
        new NodeUnavailableException(down, what + " needs a node; every node is down", firstDown));
  }

  /**
   * Sends one request per node and collects the answers in ring order. Fails at once, naming them,
   * if any node is down: a partial answer would be silently wrong.
   */
  <T> CompletableFuture<List<T>> everyNode(String what, Function<NodeClient, Request<T>> build) {
    Routing r = routing;
    List<NodeClient> nodes = r.nodes();
    for (int slot = 0; slot < r.map().slotCount(); slot++) {
      if (r.map().activeOf(slot) == null) {
        // A Kafka-managed cluster assigning its slots: some keys have no member to count them.
        return CompletableFuture.failedFuture(
            new NodeUnavailableException(
                List.of(),
                what + " needs every slot owned; slot " + slot + " has no owner yet (try again)",
                null));
      }
    }
    List<String> down = new ArrayList<>();
    NodeUnavailableException firstDown = null;
    for (NodeClient node : nodes) {
      if (node.isDown()) {
        down.add(node.name());
        firstDown = firstDown == null ? node.unavailable() : firstDown;
      }
    }
    if (!down.isEmpty()) {
      String verb = down.size() == 1 ? " is" : " are";
      return CompletableFuture.failedFuture(
          new NodeUnavailableException(
              down,
              what + " needs every node; " + String.join(", ", down) + verb + " down",
              firstDown));
    }
    List<CompletableFuture<T>> futures = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (NodeClient node : nodes) {
      Request<T> request = build.apply(node);
      node.send(request);
      futures.add(request.future());
      names.add(node.name());
    }
    return Futures.all(what, names, futures);
  }

  private static CompletableFuture<Void> stored(CompletableFuture<Boolean> reply, String key) {
    return Futures.map(
        reply,
        ok -> {
          if (!ok) {
            throw new WhackException(null, "the node did not store " + key + " (NOT_STORED)");
          }
          return null;
        });
  }

  static boolean isJsonObject(String text) {
    if (text == null) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{') {
        return true;
      }
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return false;
      }
    }
    return false;
  }

  private static String abbreviate(String text) {
    if (text == null) {
      return "null";
    }
    return text.length() <= 40 ? text : text.substring(0, 40) + "...";
  }

  /** Fails everything pending, stops watches and reconnects, and stops the I/O threads. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (Watch watch : List.copyOf(watches)) {
      watch.close();
    }
    List<CompletableFuture<Void>> ended = new ArrayList<>();
    for (NodeClient node : members.values()) {
      ended.add(node.closeAsync());
    }
    for (NodeClient node : binaryNodes.values()) {
      ended.add(node.closeAsync());
    }
    // Let every connection fail its requests with "the client is closed" before the I/O threads
    // stop (stopping them first would close the channels under a less telling reason).
    try {
      CompletableFuture.allOf(ended.toArray(CompletableFuture<?>[]::new))
          .get(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // stop the threads anyway
    }
    io.close();
  }

  /**
   * Settings of a client, checked once by {@link #build()} before any connection is made. Servers
   * default to the {@code WHACK_SERVERS} environment variable ({@code host:port,...}), else {@code
   * 127.0.0.1:11211}.
   */
  public static final class Builder {
    public static final String SERVERS_ENV = "WHACK_SERVERS";
    public static final String DEFAULT_SERVER = "127.0.0.1:11211";

    private List<String> servers;
    private Duration connectTimeout = Duration.ofSeconds(1);
    private Duration requestTimeout = Duration.ofSeconds(1);
    private int connectionsPerNode = 1;
    private int maxInFlightPerConnection = 1000;
    private Duration reconnectMin = Duration.ofMillis(100);
    private Duration reconnectMax = Duration.ofSeconds(5);
    private int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private int membersPageSize = 1000;
    private boolean discoverCluster = true;
    private Function<String, String> environment = System::getenv;
    private dev.whack.client.tls.ClientTls tls;
    private dev.whack.client.transport.Credentials credentials;
    private io.micrometer.core.instrument.MeterRegistry meterRegistry;

    private Builder() {}

    /** Comma-separated {@code host:port} list, e.g. {@code 10.0.0.1:11211,10.0.0.2:11211}. */
    public Builder servers(String commaSeparated) {
      this.servers = splitServers(commaSeparated);
      return this;
    }

    public Builder servers(Collection<String> servers) {
      this.servers = List.copyOf(servers);
      return this;
    }

    /** How long a connection may take to open before the node is marked down (default 1 s). */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /**
     * How long a request may wait for its reply (default 1 s). Past it the request fails with
     * {@link WhackTimeoutException}, its connection is closed and the node marked down.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    /** Pipelined connections to each node (default 1). */
    public Builder connectionsPerNode(int n) {
      this.connectionsPerNode = n;
      return this;
    }

    /**
     * Requests pending per connection before more fail at once with {@link OverloadedException}
     * (default 1000).
     */
    public Builder maxInFlightPerConnection(int n) {
      this.maxInFlightPerConnection = n;
      return this;
    }

    /** Waits between probes of a node that is down: {@code min}, doubling up to {@code max}. */
    public Builder reconnectBackoff(Duration min, Duration max) {
      this.reconnectMin = min;
      this.reconnectMax = max;
      return this;
    }

    /** Event-loop threads shared by all connections (default: cores, at most 4). */
    public Builder ioThreads(int n) {
      this.ioThreads = n;
      return this;
    }

    /** Members fetched per request while paging through a segment (default 1000). */
    public Builder membersPageSize(int n) {
      this.membersPageSize = n;
      return this;
    }

    /**
     * Whether {@link #build()} fetches the cluster map from the servers given and routes by it
     * (default true): a client given one node of a cluster then reaches every member, routes each
     * key to its owner and answers segment questions for the whole cluster; for a Kafka-managed
     * cluster it fetches the map again every few seconds. Off: the servers given are the whole
     * cluster, routed by the ring (a node's own forwarding client, tests of scripted servers).
     */
    public Builder discoverCluster(boolean discover) {
      this.discoverCluster = discover;
      return this;
    }

    /**
     * Speak TLS to every node (default: plaintext): verify their certificates as {@code tls} says
     * and present its client certificate when a node asks for one (docs/security.md). Every node of
     * the cluster must then listen with TLS; a handshake that fails marks its node down.
     */
    public Builder tls(dev.whack.client.tls.ClientTls tls) {
      this.tls = tls;
      return this;
    }

    /**
     * Authenticate every connection as {@code user} with {@code password} before its first request
     * (default: none), for nodes started with an auth file (docs/security.md): memcached's {@code
     * set}-form authentication on the text protocol, SASL PLAIN where the client speaks binary. A
     * node that checks no credentials is sent none. Refused credentials fail the connect: the node
     * is marked down and calls for it fail with {@link NodeUnavailableException} whose cause is an
     * {@link AuthenticationException} ({@code "... is down: authentication failed for alice"}).
     *
     * @throws IllegalArgumentException for a user name with a space, colon, NUL or line end, or a
     *     password with a NUL or a line end (neither protocol can carry them)
     */
    public Builder credentials(String user, String password) {
      this.credentials = new dev.whack.client.transport.Credentials(user, password);
      return this;
    }

    /**
     * Records every request in {@code registry} (default: no metrics, and Micrometer need not be on
     * the classpath): a timer {@value MicrometerMetrics#REQUESTS} and a counter {@value
     * MicrometerMetrics#ERRORS} per node and command, described in {@link MicrometerMetrics} and
     * docs/client.md.
     */
    public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
      this.meterRegistry = java.util.Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** Where {@code WHACK_SERVERS} is read from; tests replace it. */
    Builder environment(Function<String, String> environment) {
      this.environment = environment;
      return this;
    }

    /** The servers this builder would use, after applying the default. */
    List<String> resolvedServers() {
      if (servers != null) {
        return servers;
      }
      String fromEnv = environment.apply(SERVERS_ENV);
      if (fromEnv != null && !fromEnv.isBlank()) {
        return splitServers(fromEnv);
      }
      return List.of(DEFAULT_SERVER);
    }

    /** Validates everything, then starts connecting to every node; does not wait for them. */
    public WhackClient build() {
      List<String> names = resolvedServers();
      if (names.isEmpty()) {
        throw new IllegalArgumentException("no servers given");
      }
      List<NodeAddress> addresses = new ArrayList<>();
      for (String name : names) {
        addresses.add(NodeAddress.parse(name));
      }
      if (membersPageSize < 1) {
        throw new IllegalArgumentException("members page size is positive, got " + membersPageSize);
      }
      TransportSettings settings =
          new TransportSettings(
              connectTimeout,
              requestTimeout,
              connectionsPerNode,
              maxInFlightPerConnection,
              reconnectMin,
              reconnectMax,
              ioThreads);
      WhackClient client = new WhackClient(this, addresses, settings);
      if (discoverCluster) {
        try {
          // Bounded: a server that is down is marked so within the connect timeout.
          client
              .refreshMap()
              .get(
                  addresses.size() * (connectTimeout.toMillis() + requestTimeout.toMillis()),
                  TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
          // No member answered with a map (down, or not a node that has one): route by the
          // servers given, as the ring of them.
        }
        client.io.schedule(client::keepMapFresh, MAP_REFRESH_MILLIS, TimeUnit.MILLISECONDS);
      }
      return client;
    }

    private static List<String> splitServers(String text) {
      List<String> out = new ArrayList<>();
      for (String part : text.split(",")) {
        if (!part.isBlank()) {
          out.add(part.trim());
        }
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("no servers in '" + text + "'");
      }
      return out;
    }
  }
}

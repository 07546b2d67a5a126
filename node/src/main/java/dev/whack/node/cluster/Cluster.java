package dev.whack.node.cluster;

import dev.whack.client.WhackClient;
import dev.whack.client.ring.ClusterMap;
import dev.whack.client.tls.ClientTls;
import dev.whack.node.engine.segment.SegmentChange;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.observability.NodeLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * This node's view of the cluster: the members, who owns which key (a {@link ClusterMap}: the
 * consistent-hash ring of a static cluster, or the slot map of a Kafka-managed one;
 * docs/cluster.md), and a client to the other members for forwarding keys this node does not own
 * and for asking every member a segment question.
 *
 * <p>A static cluster's view is fixed at start. A Kafka-managed cluster's changes with each group
 * assignment ({@link #install}): the view (map, peers, client) is one immutable object swapped by
 * reference, so a request routes by one map from start to end, and a client to members that left is
 * closed only after a forwarded request could have finished.
 *
 * <p>Concurrency: {@link #install} is synchronized (the group's thread); everything else reads the
 * volatile view; the clients are thread-safe.
 */
public final class Cluster implements AutoCloseable {
  /** The owner {@link #ownerOf} names for a key whose slot no member owns yet. */
  public static final String NO_OWNER = "(no owner)";

  private final String self;
  private final boolean managed;
  private final Duration timeout;
  private final Duration sessionTimeout;

  /** The TLS of the clients to the other members, or null for plaintext. */
  private final ClientTls tls;

  /** What the clients to the other members authenticate with, or null for nothing. */
  private final MemberLogin login;

  /**
   * The user and password this node authenticates with to the other members, when they have an auth
   * file ({@code --member-user}, {@code --member-password-file}; docs/security.md).
   */
  public record MemberLogin(String user, String password) {
    @Override
    public String toString() {
      return "MemberLogin[" + user + "]"; // never the password
    }
  }

  private volatile View view;
  private volatile Consumer<ClusterMap> onInstalled = map -> {};
  private volatile UpdatesLog updatesLog;

  /** Slots this member owns in its map and does not hold yet; replaced whole, never changed. */
  private volatile Set<Integer> takingOver = Set.of();

  /** Slots whose warm copies are still moving into this member's keyspace; replaced whole. */
  private volatile Set<Integer> movingIn = Set.of();

  private volatile KeyMover keyMover;

  /**
   * One map, this node's place in it, and a client to its other members (null: none); in a managed
   * cluster also a client for forwarded writes through the log, which wait for the owner to apply
   * them (up to {@link #LOGGED_WRITE_TIMEOUT}) and are pipelined deep (null: none).
   */
  private record View(
      ClusterMap map, int selfIndex, List<String> peers, WhackClient client, WhackClient writes) {
    View(ClusterMap map, int selfIndex, List<String> peers, WhackClient client) {
      this(map, selfIndex, peers, client, null);
    }
  }

  /** Longer than the owner's own wait for its apply (30 s), so that its answer is what comes. */
  private static final Duration LOGGED_WRITE_TIMEOUT = Duration.ofSeconds(35);

  private Cluster(
      String self,
      boolean managed,
      Duration timeout,
      Duration sessionTimeout,
      ClientTls tls,
      MemberLogin login,
      View view) {
    this.self = self;
    this.tls = tls;
    this.login = login;
    this.managed = managed;
    this.timeout = timeout;
    this.sessionTimeout = sessionTimeout;
    this.view = view;
  }

  /** A node alone: it owns every key and asks nobody. */
  public static Cluster single(String self) {
    return new Cluster(
        self,
        false,
        null,
        null,
        null,
        null,
        new View(ClusterMap.ring(List.of(self)), 0, List.of(), null));
  }

  /**
   * The static cluster of {@code self} and {@code members} (which may include self).
   *
   * @param timeout how long a forwarded request may take before it fails
   */
  public static Cluster of(String self, List<String> members, Duration timeout) {
    return of(self, members, timeout, null);
  }

  /**
   * As {@link #of(String, List, Duration)}, speaking TLS to the other members when {@code tls} is
   * not null.
   */
  public static Cluster of(String self, List<String> members, Duration timeout, ClientTls tls) {
    return of(self, members, timeout, tls, null);
  }

  /**
   * As {@link #of(String, List, Duration, ClientTls)}, authenticating to the other members with
   * {@code login} when it is not null.
   */
  public static Cluster of(
      String self, List<String> members, Duration timeout, ClientTls tls, MemberLogin login) {
    List<String> all = new ArrayList<>(members);
    all.add(self);
    ClusterMap map = ClusterMap.ring(all);
    if (map.members().size() == 1) {
      return single(self);
    }
    return new Cluster(
        self, false, timeout, null, tls, login, view(self, map, null, timeout, false, tls, login));
  }

  /** As {@link #managed(String, Duration, Duration, ClientTls)}, in plaintext. */
  public static Cluster managed(String self, Duration timeout, Duration sessionTimeout) {
    return managed(self, timeout, sessionTimeout, null);
  }

  /**
   * A member of a Kafka-managed cluster: it owns nothing until the group's first assignment is
   * {@linkplain #install installed}.
   *
   * @param timeout how long a forwarded request may take before it fails
   * @param sessionTimeout how long the group waits for a silent member before it moves its slots
   * @param tls the TLS of the clients to the other members, or null for plaintext
   */
  public static Cluster managed(
      String self, Duration timeout, Duration sessionTimeout, ClientTls tls) {
    return managed(self, timeout, sessionTimeout, tls, null);
  }

  /**
   * As {@link #managed(String, Duration, Duration, ClientTls)}, authenticating to the other members
   * with {@code login} when it is not null.
   */
  public static Cluster managed(
      String self, Duration timeout, Duration sessionTimeout, ClientTls tls, MemberLogin login) {
    return new Cluster(
        self,
        true,
        timeout,
        sessionTimeout,
        tls,
        login,
        new View(ClusterMap.unassigned(1), ClusterMap.NONE, List.of(), null));
  }

  /** The group's session timeout (a managed cluster's failure detector), or null when static. */
  public Duration sessionTimeout() {
    return sessionTimeout;
  }

  private static View view(
      String self,
      ClusterMap map,
      View old,
      Duration timeout,
      boolean managed,
      ClientTls tls,
      MemberLogin login) {
    int selfIndex = map.members().indexOf(self);
    List<String> peers = new ArrayList<>(map.members());
    peers.remove(self);
    if (old != null && old.peers.equals(peers)) {
      return new View(map, selfIndex, old.peers, old.client, old.writes);
    }
    WhackClient client = peers.isEmpty() ? null : peerClient(peers, timeout, tls, login).build();
    WhackClient writes =
        peers.isEmpty() || !managed
            ? null
            : peerClient(peers, timeout, tls, login)
                .requestTimeout(LOGGED_WRITE_TIMEOUT)
                .connectionsPerNode(2)
                .maxInFlightPerConnection(8192)
                .build();
    return new View(map, selfIndex, List.copyOf(peers), client, writes);
  }

  private static WhackClient.Builder peerClient(
      List<String> peers, Duration timeout, ClientTls tls, MemberLogin login) {
    WhackClient.Builder builder = WhackClient.builder();
    if (login != null) {
      builder.credentials(login.user(), login.password());
    }
    return builder
        .servers(peers)
        .tls(tls)
        .requestTimeout(timeout)
        .connectTimeout(timeout)
        // A peer that was not up yet, or restarted, is back within a second.
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
        // The node routes by its own map; its client only reaches the members named.
        .discoverCluster(false);
  }

  /**
   * Makes {@code map} this node's map (a Kafka-managed cluster, on each assignment); an older epoch
   * than the one installed is ignored. A client to members that are gone is closed once what was
   * forwarded through it has had its time.
   */
  public synchronized void install(ClusterMap map) {
    if (!managed) {
      throw new IllegalStateException("a static cluster's map is fixed");
    }
    View old = view;
    if (map.epoch() < old.map.epoch()) {
      return;
    }
    View next = view(self, map, old, timeout, true, tls, login);
    // Slots this member gains are served only once taken over ({@link #tookOver}); those it lost
    // are no longer its concern.
    Set<Integer> owned = new HashSet<>(map.slotsOf(self));
    Set<Integer> taking = new HashSet<>(takingOver);
    taking.retainAll(owned);
    if (!takeOverAll) {
      owned.removeAll(old.selfIndex == ClusterMap.NONE ? Set.of() : old.map.slotsOf(self));
    }
    takeOverAll = false;
    taking.addAll(owned);
    takingOver = Set.copyOf(taking);
    Set<Integer> moving = new HashSet<>(movingIn);
    moving.retainAll(map.slotsOf(self));
    movingIn = Set.copyOf(moving);
    view = next;
    peerWatches.forEach(PeerWatch::follow); // those that follow these members already: no-op
    onInstalled.accept(map);
    if (old.client != null && old.client != next.client) {
      CompletableFuture.delayedExecutor(2 * timeout.toMillis(), TimeUnit.MILLISECONDS)
          .execute(old.client::close);
    }
    if (old.writes != null && old.writes != next.writes) {
      CompletableFuture.delayedExecutor(2 * LOGGED_WRITE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
          .execute(old.writes::close);
    }
  }

  /**
   * This member holds the keys of {@code slot} now (its warm copy promoted, or the log read up to
   * where it ended at the take-over): it serves reads of them and counts them again.
   */
  public synchronized void tookOver(int slot) {
    if (takingOver.contains(slot)) {
      Set<Integer> taking = new HashSet<>(takingOver);
      taking.remove(slot);
      takingOver = Set.copyOf(taking);
    }
  }

  /**
   * This member's warm copies of {@code slots} are moving into its keyspace (key by key, each at
   * its first use at the latest): reads are served, cluster-wide answers wait for {@link #movedIn}.
   */
  public synchronized void movingIn(java.util.Collection<Integer> slots) {
    Set<Integer> now = new HashSet<>(movingIn);
    now.addAll(slots);
    movingIn = Set.copyOf(now);
  }

  /** Every key of {@code slot}'s warm copy has moved in. */
  public synchronized void movedIn(int slot) {
    if (movingIn.contains(slot)) {
      Set<Integer> now = new HashSet<>(movingIn);
      now.remove(slot);
      movingIn = Set.copyOf(now);
    }
  }

  /**
   * Before this member reads or writes {@code key}: moves its warm copy in first if its slot's copy
   * is still moving in ({@link #movingIn}); {@code session} is the caller's own.
   */
  public void ensureLocal(byte[] key, int offset, int length, KeyspaceSession session) {
    if (!movingIn.isEmpty() && keyMover != null) {
      keyMover.moveIfMovingIn(key, offset, length, session);
    }
  }

  /** Moves a key's warm copy into this member's keyspace (the standby replicas). */
  @FunctionalInterface
  public interface KeyMover {
    void moveIfMovingIn(
        byte[] key, int offset, int length, dev.whack.node.keyspace.KeyspaceSession session);
  }

  /** Where {@link #ensureLocal} moves keys from; set once at start. */
  public void useKeyMover(KeyMover mover) {
    this.keyMover = mover;
  }

  /**
   * This member lost its slots without handing them over (fenced by the group): every slot the next
   * map gives it is read again before it is served, even one it owned before.
   */
  public synchronized void takeOverAllAgain() {
    takeOverAll = true;
  }

  private boolean takeOverAll;

  /**
   * Whether this member holds all of {@code slot} now: the map gives it the slot, and it has
   * neither a take-over nor a move in of it still going (a slot's state published from here is then
   * whole).
   */
  public boolean holdsWhole(int slot) {
    ClusterMap map = view.map;
    return slot >= 0
        && slot < map.slotCount()
        && self.equals(map.activeOf(slot))
        && !takingOver.contains(slot)
        && !movingIn.contains(slot);
  }

  /** Slots this member owns but is still taking over, in slot order (empty: none). */
  public List<Integer> takingOver() {
    return takingOver.stream().sorted().toList();
  }

  /**
   * Why this member cannot read the key now, or null: its slot is this member's in the map but it
   * is still taking it over (a read would miss what it has not read yet). Reads fail fast and
   * clearly in that window; writes go through the log and wait for it.
   */
  public String notServingBecause(byte[] key, int offset, int length) {
    Set<Integer> taking = takingOver;
    if (taking.isEmpty()) {
      return null;
    }
    int slot = view.map.slotOf(key, offset, length);
    return taking.contains(slot)
        ? "slot " + slot + " is being taken over by " + self + " (try again shortly)"
        : null;
  }

  /** Why this member's own answer about its profiles would miss some now, or null. */
  public String takingOverBecause() {
    Set<Integer> taking = new HashSet<>(takingOver);
    taking.addAll(movingIn);
    return taking.isEmpty()
        ? null
        : self
            + " is taking over slots "
            + taking.stream().sorted().toList()
            + ": an answer now would miss their keys (try again shortly)";
  }

  /** Tells {@code listener} each map installed from now on (on the group's thread). */
  public void onInstalled(Consumer<ClusterMap> listener) {
    this.onInstalled = listener;
  }

  /** Whether keys may live on other members (a static cluster of more than one, or managed). */
  public boolean isClustered() {
    return managed || view.client != null;
  }

  /** Whether the members and the map come from a Kafka consumer group. */
  public boolean isManaged() {
    return managed;
  }

  /**
   * Where this member's profile writes from memcached clients go, or null: a static cluster or a
   * node alone applies them itself.
   */
  public UpdatesLog updatesLog() {
    return updatesLog;
  }

  /** A managed member's log for profile writes, set once at start before clients connect. */
  public void useUpdatesLog(UpdatesLog log) {
    if (!managed) {
      throw new IllegalStateException("only a Kafka-managed cluster writes profiles to its log");
    }
    this.updatesLog = log;
  }

  public String self() {
    return self;
  }

  /** The map requests route by now. */
  public ClusterMap map() {
    return view.map;
  }

  /** Every member in the map, this node included once it is in it. */
  public List<String> members() {
    return view.map.members();
  }

  public List<String> peers() {
    return view.peers;
  }

  /** The member that owns the key, or {@link #NO_OWNER} while no member owns its slot. */
  public String ownerOf(byte[] key, int offset, int length) {
    String owner = view.map.ownerOf(key, offset, length);
    return owner == null ? NO_OWNER : owner;
  }

  public boolean owns(byte[] key, int offset, int length) {
    View v = view;
    if (!managed && v.client == null) {
      return true;
    }
    int owner = v.map.ownerIndex(key, offset, length);
    return owner != ClusterMap.NONE && owner == v.selfIndex;
  }

  /**
   * Where a keyed read of {@code key} is answered: null when here (a node alone, or this member
   * owning the key and serving its slot, its warm copy moved in first with {@code session}); else
   * the member that owns it. The one rule of the front ends that read keys for the cluster (gRPC,
   * HTTP).
   *
   * @throws ClusterException failed, while this member takes the key's slot over or no member owns
   *     its slot yet
   */
  public String answeredHereOrBy(byte[] key, KeyspaceSession session) {
    if (!isClustered()) {
      return null;
    }
    if (owns(key, 0, key.length)) {
      ensureLocal(key, 0, key.length, session);
      String notServing = notServingBecause(key, 0, key.length);
      if (notServing != null) {
        throw ClusterException.failed(notServing);
      }
      return null;
    }
    String owner = ownerOf(key, 0, key.length);
    if (owner.equals(NO_OWNER)) {
      throw ClusterException.failed("no member owns the key's slot yet: try again");
    }
    return owner;
  }

  /** Peers currently marked down (their keys fail fast until they answer again). */
  public List<String> downPeers() {
    WhackClient client = view.client;
    return client == null ? List.of() : client.downNodes();
  }

  /** A statistics group of another member ({@code stats <group>}). */
  public CompletableFuture<Map<String, String>> stats(String member, String group) {
    return ask(member, client -> client.stats(member, group));
  }

  /** Passes whole binary requests to a member and returns its response packets. */
  public CompletableFuture<byte[]> relayBinary(String member, byte[] requests) {
    return ask(member, client -> client.relayBinary(member, requests));
  }

  /**
   * {@link #relay} keeping each key's order: the commands for one key travel on one connection to
   * the member, so a pipeline of forwarded writes is applied there in the order it was sent.
   */
  public CompletableFuture<byte[]> relayInKeyOrder(String member, byte[] key, byte[] commands) {
    View v = view;
    if (v.writes == null || !v.peers.contains(member)) {
      return ask(member, client -> client.relayInKeyOrder(member, key, commands));
    }
    return v.writes.relayInKeyOrder(member, key, commands);
  }

  /**
   * {@link #relayBinary} for writes that go through a managed cluster's log at their owner: on the
   * client that waits as long as the owner may take to apply them ({@link #LOGGED_WRITE_TIMEOUT}).
   */
  public CompletableFuture<byte[]> relayBinaryLogged(String member, byte[] requests) {
    View v = view;
    if (v.writes == null || !v.peers.contains(member)) {
      return relayBinary(member, requests);
    }
    return v.writes.relayBinary(member, requests);
  }

  /** Passes whole commands to a member and returns its reply bytes. */
  public CompletableFuture<byte[]> relay(String member, byte[] commands) {
    return ask(member, client -> client.relay(member, commands));
  }

  private <T> CompletableFuture<T> ask(
      String member, java.util.function.Function<WhackClient, CompletableFuture<T>> call) {
    View v = view; // one view: its client reaches exactly its peers
    if (member.equals(NO_OWNER)) {
      return CompletableFuture.failedFuture(
          ClusterException.failed(
              "no member owns this key yet: the cluster's map is being made (try again)"));
    }
    if (v.client == null || !v.peers.contains(member)) {
      return CompletableFuture.failedFuture(
          ClusterException.failed(member + " is no longer a member (the map changed; try again)"));
    }
    return call.apply(v.client);
  }

  /**
   * Why a cluster-wide answer now would miss keys, or null: in a managed cluster, a slot no member
   * owns (the group is assigning) or a map this node is not in yet.
   */
  public String incompleteBecause() {
    if (!managed) {
      return null;
    }
    View v = view;
    if (v.selfIndex == ClusterMap.NONE) {
      return "this node is not in the cluster's map yet (it is joining; try again)";
    }
    String taking = takingOverBecause();
    if (taking != null) {
      return taking;
    }
    for (int slot = 0; slot < v.map.slotCount(); slot++) {
      if (v.map.activeOf(slot) == null) {
        return "slot " + slot + " has no owner yet: the cluster's map is being made (try again)";
      }
    }
    return null;
  }

  /** The {@code stats cluster} lines of a managed member: its map in short. */
  public void managedStats(BiConsumer<String, String> sink) {
    View v = view;
    sink.accept("self", self);
    sink.accept("mode", "kafka");
    sink.accept("epoch", Long.toString(v.map.epoch()));
    sink.accept("members", String.join(",", v.map.members()));
    sink.accept("slots", Integer.toString(v.map.slotCount()));
    sink.accept("slots_owned", Integer.toString(v.map.slotsOf(self).size()));
    StringBuilder moving = new StringBuilder();
    int count = 0;
    for (int slot = 0; slot < v.map.slotCount(); slot++) {
      String to = v.map.movingTo(slot);
      if (to != null) {
        moving.append(moving.isEmpty() ? "" : ",").append(slot).append(':');
        moving.append(v.map.activeOf(slot)).append('>').append(to);
        count++;
      }
    }
    sink.accept("slots_moving", Integer.toString(count));
    if (!movingIn.isEmpty()) {
      sink.accept(
          "moving_in", String.join(",", movingIn.stream().sorted().map(String::valueOf).toList()));
    }
    List<Integer> taking = takingOver();
    if (!taking.isEmpty()) {
      sink.accept("taking_over", String.join(",", taking.stream().map(String::valueOf).toList()));
    }
    if (count > 0) {
      // slot:owner>member, for each hand-off in progress (the member warms its copy up first)
      sink.accept("moving", moving.toString());
    }
  }

  /** Slots the map marks as moving to another member (hand-offs waiting for a warm copy). */
  public int slotsMoving() {
    ClusterMap map = view.map;
    int count = 0;
    for (int slot = 0; slot < map.slotCount(); slot++) {
      count += map.movingTo(slot) != null ? 1 : 0;
    }
    return count;
  }

  /** A watch of the other members' segment changes; close it to stop. */
  public interface PeerWatching extends AutoCloseable {
    /**
     * Completes once the watch is open on the members of the map installed when it started (at once
     * where there are none): a change made on them from then on reaches it.
     */
    CompletableFuture<Void> opened();

    /** Stops watching; closing the watch's connections cannot fail in a way a caller can act on. */
    @Override
    void close();
  }

  /**
   * Watches segments on every other member, handing each change (as the engine's own change type,
   * key as one char per byte) and each missed count to the given consumers; close the returned
   * handle to stop. Null when the node has no peers. A static cluster's watch is open when this
   * returns; in a managed cluster the watch follows the map (each map with other members moves it
   * to them, {@link PeerWatch}) and opens in the background ({@link PeerWatching#opened}).
   */
  public PeerWatching watchPeers(
      List<String> segments, Consumer<SegmentChange> onChange, LongConsumer onMissed) {
    if (managed) {
      PeerWatch watch = new PeerWatch(segments, listener(onChange, onMissed));
      peerWatches.add(watch);
      watch.follow();
      return watch;
    }
    WhackClient client = view.client;
    if (client == null) {
      return null;
    }
    AutoCloseable open = client.segments().watch(segments, listener(onChange, onMissed)).join();
    return new PeerWatching() {
      @Override
      public CompletableFuture<Void> opened() {
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public void close() {
        closeQuietly(open);
      }
    };
  }

  /** The cluster-wide watches open on this member (a managed cluster's), moved at each new map. */
  private final Set<PeerWatch> peerWatches = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A watch of the other members that follows the map: when a map brings other members (a join, a
   * leave, a failure), a watch of them opens, and once it is confirmed the one of the old members
   * closes. Around the switch a change can reach the watcher twice (both watches see it), never not
   * at all from a member in both maps.
   */
  private final class PeerWatch implements PeerWatching {
    private final List<String> segments;
    private final dev.whack.client.WatchListener listener;
    private final CompletableFuture<Void> opened = new CompletableFuture<>();
    private AutoCloseable current;
    private WhackClient following;
    private boolean closed;

    PeerWatch(List<String> segments, dev.whack.client.WatchListener listener) {
      this.segments = segments;
      this.listener = listener;
    }

    /**
     * Moves the watch to the members of the map installed now (none: no client); a no-op while it
     * follows them already. Read here, under this watch's lock, so a map installed meanwhile is
     * never overtaken by an older one.
     */
    synchronized void follow() {
      WhackClient client = view.client;
      if (closed || client == following) {
        return;
      }
      following = client;
      if (client == null) {
        closeQuietly(current);
        current = null;
        opened.complete(null); // no other member: nothing to wait for
        return;
      }
      client
          .segments()
          .watch(segments, listener)
          .whenComplete(
              (watch, failure) -> {
                AutoCloseable old;
                synchronized (this) {
                  if (failure != null && following == client) {
                    // Not watched: the next map, or the next watch of this map, tries again.
                    following = null;
                    NodeLog.warn(
                        "whack node: a cluster-wide watch could not follow the new map: "
                            + failure);
                  }
                  if (failure != null || closed || following != client) {
                    closeQuietly(watch); // superseded or closed meanwhile
                    return;
                  }
                  old = current;
                  current = watch;
                }
                opened.complete(null);
                closeQuietly(old);
              });
    }

    @Override
    public CompletableFuture<Void> opened() {
      return opened;
    }

    @Override
    public void close() {
      AutoCloseable last;
      synchronized (this) {
        closed = true;
        last = current;
        current = null;
      }
      peerWatches.remove(this);
      closeQuietly(last);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      // a watch's connections closing: nothing the watcher can act on
    }
  }

  private static dev.whack.client.WatchListener listener(
      Consumer<SegmentChange> onChange, LongConsumer onMissed) {
    return new dev.whack.client.WatchListener() {
      @Override
      public void onChange(dev.whack.client.SegmentChange change) {
        onChange.accept(
            new SegmentChange(
                change.segment(),
                new String(
                    change.key().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1),
                change.kind() == dev.whack.client.SegmentChange.Kind.ENTER,
                change.time().toEpochMilli()));
      }

      @Override
      public void onMissed(String node, long count) {
        onMissed.accept(count);
      }
    };
  }

  @Override
  public void close() {
    View v = view;
    if (v.client != null) {
      v.client.close();
    }
    if (v.writes != null) {
      v.writes.close();
    }
  }
}

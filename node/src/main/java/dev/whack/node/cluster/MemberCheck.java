package dev.whack.node.cluster;

import com.dynatrace.hash4j.hashing.Hashing;
import dev.whack.client.ServerErrorException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Whether the members agree on who the members are. Every node computes the ring from its own
 * {@code --peers}; two nodes with different lists route the same key to different owners, so
 * answers depend on the node asked, silently. So each node asks every peer for its member list
 * ({@code stats cluster}) when it first reaches it, and again after the peer was down, and says
 * loudly when a list differs, or when the "peer" answering is this very node under another name (a
 * random instance id tells), which would make it forward keys to itself. What it found is in {@code
 * stats cluster} and {@code whack cluster status}.
 *
 * <p>The one case that is certain before anything starts, a peer that resolves to an address this
 * node listens on, with this node's port, under a name that is not this node's, is refused at
 * start-up ({@link #aliasOfSelf}).
 *
 * <p>Concurrency: {@link #probe} runs on the node's timer thread; answers complete on the
 * forwarding client's I/O threads and replace immutable {@link View}s in a concurrent map, which
 * statistics read from any thread.
 */
public final class MemberCheck {
  /** What this node knows of one peer's member list. */
  public enum State {
    /** Not answered yet (not up, or not asked yet). */
    UNREACHED,
    AGREES,
    DISAGREES,
    /** The address answers as this very node: keys it "owns" would be forwarded here. */
    THIS_NODE,
    /** It answered without a member list (a node that does not report one). */
    UNKNOWN
  }

  /** One peer's state and, when it disagrees, its list. */
  public record View(State state, String members) {
    static final View UNREACHED = new View(State.UNREACHED, "");
  }

  private final String self;
  private final String members;
  private final String membersHash;
  private final String instance;
  private final List<String> peers;
  private final BiFunction<String, String, CompletableFuture<Map<String, String>>> stats;
  private final Supplier<List<String>> downPeers;
  private final Consumer<String> log;
  private final Map<String, View> views = new ConcurrentHashMap<>();
  private final Set<String> asking = ConcurrentHashMap.newKeySet();

  /**
   * @param members every member, this node included, in ring order
   * @param stats asks a peer for a statistics group
   * @param downPeers the peers the forwarding client holds down now
   * @param log where warnings go (one line each)
   */
  MemberCheck(
      String self,
      List<String> members,
      List<String> peers,
      BiFunction<String, String, CompletableFuture<Map<String, String>>> stats,
      Supplier<List<String>> downPeers,
      Consumer<String> log) {
    this.self = self;
    this.members = String.join(",", members);
    this.membersHash = hash(members);
    this.instance = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    this.peers = List.copyOf(peers);
    this.stats = stats;
    this.downPeers = downPeers;
    this.log = log;
    for (String peer : peers) {
      views.put(peer, View.UNREACHED);
    }
  }

  /** The check for a node's cluster; warnings go to {@code log}. */
  public static MemberCheck of(Cluster cluster, Consumer<String> log) {
    return new MemberCheck(
        cluster.self(),
        cluster.members(),
        cluster.peers(),
        cluster::stats,
        cluster::downPeers,
        log);
  }

  /** XXH3-64 of the members joined by commas, in hex: equal lists, equal hashes. */
  public static String hash(List<String> members) {
    byte[] joined = String.join(",", members).getBytes(StandardCharsets.UTF_8);
    return HexFormat.of().toHexDigits(Hashing.xxh3_64().hashBytesToLong(joined));
  }

  /**
   * Asks every peer not yet heard from for its member list; peers the forwarding client holds down
   * are asked again once they are back. Call periodically (the node does, every second).
   */
  public void probe() {
    List<String> down = downPeers.get();
    for (String peer : peers) {
      if (down.contains(peer)) {
        views.put(peer, View.UNREACHED);
        continue;
      }
      if (views.get(peer).state() != State.UNREACHED || !asking.add(peer)) {
        continue;
      }
      CompletableFuture<Map<String, String>> answer;
      try {
        answer = stats.apply(peer, "cluster");
      } catch (RuntimeException e) {
        asking.remove(peer);
        continue;
      }
      answer.whenComplete(
          (reply, error) -> {
            asking.remove(peer);
            record(peer, reply, error);
          });
    }
  }

  private void record(String peer, Map<String, String> reply, Throwable error) {
    View next;
    if (error != null) {
      Throwable cause = error.getCause() != null ? error.getCause() : error;
      // A node that does not know "stats cluster" answers an error: it will not tell.
      next = cause instanceof ServerErrorException ? new View(State.UNKNOWN, "") : View.UNREACHED;
    } else if (instance.equals(reply.get("instance"))) {
      next = new View(State.THIS_NODE, "");
    } else if (members.equals(reply.get("members"))) {
      next = new View(State.AGREES, "");
    } else if (reply.get("members") == null) {
      next = new View(State.UNKNOWN, "");
    } else {
      next = new View(State.DISAGREES, reply.get("members"));
    }
    View before = views.put(peer, next);
    if (next.equals(before)) {
      return;
    }
    switch (next.state()) {
      case THIS_NODE ->
          log.accept(
              "whack: ERROR: peer "
                  + peer
                  + " is this node itself (it answers as "
                  + self
                  + "): the keys the ring gives it are forwarded here and time out; list this node"
                  + " once, under the name given to --advertise");
      case DISAGREES ->
          log.accept(
              "whack: WARNING: peer "
                  + peer
                  + " has other members ("
                  + next.members()
                  + ") than this node "
                  + self
                  + " ("
                  + members
                  + "): the two route keys to different owners, so answers depend on the node"
                  + " asked; give every node the same --peers");
      default -> {}
    }
  }

  /** Peers whose member list differs, or that are this node under another name. */
  public int disagreements() {
    int n = 0;
    for (View v : views.values()) {
      if (v.state() == State.DISAGREES || v.state() == State.THIS_NODE) {
        n++;
      }
    }
    return n;
  }

  /** The {@code stats cluster} group, one name and value per call. */
  public void stats(BiConsumer<String, String> sink) {
    sink.accept("self", self);
    sink.accept("members", members);
    sink.accept("members_hash", membersHash);
    sink.accept("instance", instance);
    for (String peer : peers) {
      View v = views.get(peer);
      sink.accept("peer:" + peer, v.state().name().toLowerCase(Locale.ROOT));
      if (v.state() == State.DISAGREES) {
        sink.accept("peer:" + peer + ":members", v.members());
      }
    }
    sink.accept("disagreements", Integer.toString(disagreements()));
  }

  /**
   * The peer that is this node under another name, or null: one with this node's port whose host
   * resolves to an address this node listens on (any local address when it binds a wildcard). Such
   * a node would compute a ring with itself twice and forward to itself the keys the second name
   * owns. Names that do not resolve are not this node.
   *
   * @param port the port this node listens on; 0 (not yet chosen) checks nothing
   */
  public static String aliasOfSelf(String self, String bind, int port, List<String> peers) {
    if (port == 0) {
      return null;
    }
    InetAddress bound;
    try {
      bound = InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      return null;
    }
    for (String peer : peers) {
      int colon = peer.lastIndexOf(':');
      if (peer.equals(self) || !peer.substring(colon + 1).equals(Integer.toString(port))) {
        continue;
      }
      try {
        for (InetAddress address : InetAddress.getAllByName(peer.substring(0, colon))) {
          if (address.equals(bound) || (bound.isAnyLocalAddress() && isLocal(address))) {
            return peer;
          }
        }
      } catch (UnknownHostException e) {
        // not resolvable here: not this node
      }
    }
    return null;
  }

  private static boolean isLocal(InetAddress address) {
    if (address.isAnyLocalAddress() || address.isLoopbackAddress()) {
      return true;
    }
    try {
      return NetworkInterface.getByInetAddress(address) != null;
    } catch (SocketException e) {
      return false;
    }
  }
}

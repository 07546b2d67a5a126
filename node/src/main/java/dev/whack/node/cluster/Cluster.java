package dev.whack.node.cluster;

import dev.whack.client.WhackClient;
import dev.whack.client.ring.HashRing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * This node's view of the cluster: the member list, the consistent-hash ring the Java client
 * computes too (docs/cluster.md), and a client to the other members for forwarding keys this node
 * does not own and for asking every node a segment question.
 *
 * <p>Concurrency: immutable after construction; the client is thread-safe.
 */
public final class Cluster implements AutoCloseable {
  private final String self;
  private final HashRing ring;
  private final List<String> peers;
  private final WhackClient client;

  private Cluster(String self, HashRing ring, List<String> peers, WhackClient client) {
    this.self = self;
    this.ring = ring;
    this.peers = peers;
    this.client = client;
  }

  /** A node alone: it owns every key and asks nobody. */
  public static Cluster single(String self) {
    return new Cluster(self, HashRing.of(List.of(self)), List.of(), null);
  }

  /**
   * The cluster of {@code self} and {@code members} (which may include self).
   *
   * @param timeout how long a forwarded request may take before it fails
   */
  public static Cluster of(String self, List<String> members, Duration timeout) {
    TreeSet<String> all = new TreeSet<>(members);
    all.add(self);
    if (all.size() == 1) {
      return single(self);
    }
    List<String> peers = new ArrayList<>(all);
    peers.remove(self);
    WhackClient client =
        WhackClient.builder()
            .servers(peers)
            .requestTimeout(timeout)
            .connectTimeout(timeout)
            // A peer that was not up yet, or restarted, is back within a second.
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofSeconds(1))
            .build();
    return new Cluster(self, HashRing.of(all), List.copyOf(peers), client);
  }

  public boolean isClustered() {
    return client != null;
  }

  public String self() {
    return self;
  }

  /** Every member, this node included, in ring order (sorted by name). */
  public List<String> members() {
    return ring.members();
  }

  public List<String> peers() {
    return peers;
  }

  /** The member that owns the key. */
  public String ownerOf(byte[] key, int offset, int length) {
    return ring.members().get(ring.ownerIndex(key, offset, length));
  }

  public boolean owns(byte[] key, int offset, int length) {
    return client == null || ownerOf(key, offset, length).equals(self);
  }

  /** Peers currently marked down (their keys fail fast until they answer again). */
  public List<String> downPeers() {
    return client == null ? List.of() : client.downNodes();
  }

  /** A statistics group of another member ({@code stats <group>}). */
  public CompletableFuture<java.util.Map<String, String>> stats(String member, String group) {
    return client.stats(member, group);
  }

  /** Passes whole binary requests to a member and returns its response packets. */
  public CompletableFuture<byte[]> relayBinary(String member, byte[] requests) {
    return client.relayBinary(member, requests);
  }

  /** Passes whole commands to a member and returns its reply bytes. */
  public CompletableFuture<byte[]> relay(String member, byte[] commands) {
    return client.relay(member, commands);
  }

  /**
   * Watches segments on every other member, handing each change (as the engine's own change type,
   * key as one char per byte) and each missed count to the given consumers; close the returned
   * handle to stop. Null when the node is alone.
   */
  public AutoCloseable watchPeers(
      List<String> segments,
      java.util.function.Consumer<dev.whack.node.engine.segment.SegmentChange> onChange,
      java.util.function.LongConsumer onMissed) {
    if (client == null) {
      return null;
    }
    return client
        .segments()
        .watch(
            segments,
            new dev.whack.client.WatchListener() {
              @Override
              public void onChange(dev.whack.client.SegmentChange change) {
                onChange.accept(
                    new dev.whack.node.engine.segment.SegmentChange(
                        change.segment(),
                        new String(
                            change.key().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                            java.nio.charset.StandardCharsets.ISO_8859_1),
                        change.kind() == dev.whack.client.SegmentChange.Kind.ENTER,
                        change.time().toEpochMilli()));
              }

              @Override
              public void onMissed(String node, long count) {
                onMissed.accept(count);
              }
            })
        .join();
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
  }
}

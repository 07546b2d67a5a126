package dev.whack.node.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.engine.EngineException;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.dimension.DimensionSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Dimension definitions for the whole cluster (docs/cluster.md, "Segments"), as segment definitions
 * are: a definition or drop goes to every member (this node directly, the others through {@code
 * local dimdef} and {@code local dimdrop}), since each member counts the events of the profiles it
 * holds; a listing merges every member's by name. The categories a member learns are its own (ids
 * are node-local), so only the definitions travel.
 *
 * <p>Futures fail as {@link ClusterSegments}' do: refused when this node or a member refused the
 * definition, failed when a member could not answer; every member is asked even when this node
 * refused.
 *
 * <p>Concurrency: stateless apart from its wiring; futures complete on the cluster client's
 * threads.
 */
public final class ClusterDimensions {
  private final Cluster cluster;
  private final ProfileEngine engine;
  private final ClusterSegments fanOut;

  public ClusterDimensions(Cluster cluster, ProfileEngine engine) {
    this.cluster = cluster;
    this.engine = engine;
    this.fanOut = new ClusterSegments(cluster, engine, null);
  }

  /**
   * The name as every member's command line carries it, or a refusal: gRPC strings may hold
   * anything, a space or a line break among it.
   */
  private static ClusterException badName(String name) {
    try {
      DimensionSpec.checkName(name);
      return null;
    } catch (EngineException e) {
      return ClusterException.refused(e.getMessage());
    }
  }

  /** Defines the dimension on every member; its canonical definition (this node's reading). */
  public CompletableFuture<DimensionSpec> define(String name, byte[] definition) {
    ClusterException bad = badName(name);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    byte[] request =
        ClusterSegments.concat(
            ("local dimdef " + name + " " + definition.length + "\r\n").getBytes(UTF_8),
            definition,
            "\r\n".getBytes(UTF_8));
    return fanOut.gather(
        () -> engine.defineDimension(name, definition),
        request,
        (member, reply) -> {
          String line = ClusterSegments.firstLine(member, reply);
          if (!line.equals("DEFINED")) {
            throw ClusterSegments.unexpected(member, line, "DEFINED");
          }
          return null;
        },
        parts -> parts.get(0));
  }

  /** Drops the dimension on every member; true if any member had it. */
  public CompletableFuture<Boolean> drop(String name) {
    ClusterException bad = badName(name);
    if (bad != null) {
      return CompletableFuture.failedFuture(bad);
    }
    return fanOut.gather(
        () -> engine.dropDimension(name),
        ("local dimdrop " + name + "\r\n").getBytes(UTF_8),
        (member, reply) -> {
          String line = ClusterSegments.firstLine(member, reply);
          if (line.equals("DROPPED") || line.equals("NOT_FOUND")) {
            return line.equals("DROPPED");
          }
          throw ClusterSegments.unexpected(member, line, "DROPPED or NOT_FOUND");
        },
        dropped -> dropped.contains(Boolean.TRUE));
  }

  /**
   * Every dimension once, in this node's definition order and then as the members list the ones it
   * lacks; a name defined differently on two members shows the first one's definition.
   */
  public CompletableFuture<List<DimensionSpec>> list() {
    return fanOut.gather(
        engine::dimensions,
        "local dimlist\r\n".getBytes(UTF_8),
        ClusterDimensions::parseList,
        lists -> {
          Map<String, DimensionSpec> merged = new LinkedHashMap<>();
          for (List<DimensionSpec> list : lists) {
            for (DimensionSpec d : list) {
              merged.putIfAbsent(d.name(), d);
            }
          }
          return List.copyOf(merged.values());
        });
  }

  /**
   * Defines here every dimension a peer has and this node lacks (a member that joined after they
   * were defined), in the peers' order; before the segments are adopted, as segments may read
   * dimensions.
   *
   * @return how many definitions this node took
   */
  public CompletableFuture<Integer> adoptDefinitions() {
    List<String> peers = cluster.peers();
    List<CompletableFuture<byte[]>> asks = new ArrayList<>(peers.size());
    for (String peer : peers) {
      asks.add(cluster.relay(peer, "local dimlist\r\n".getBytes(UTF_8)));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(
            ignored -> {
              int adopted = 0;
              for (int i = 0; i < asks.size(); i++) {
                for (DimensionSpec d :
                    ClusterSegments.read(
                        ClusterDimensions::parseList, peers.get(i), asks.get(i).join())) {
                  if (engine.dimensions().stream().noneMatch(m -> m.name().equals(d.name()))) {
                    engine.defineDimension(d.name(), d.toJson().getBytes(UTF_8));
                    adopted++;
                  }
                }
              }
              return adopted;
            });
  }

  /** "DIMENSION <name> <definition JSON>" each, then "END". */
  static List<DimensionSpec> parseList(String member, byte[] reply) {
    List<DimensionSpec> dimensions = new ArrayList<>();
    int pos = 0;
    while (true) {
      int eol = ClusterSegments.lineEnd(member, reply, pos);
      String line = new String(reply, pos, eol - pos, UTF_8);
      if (line.equals("END")) {
        return dimensions;
      }
      int nameEnd = line.indexOf(' ', "DIMENSION ".length());
      if (!line.startsWith("DIMENSION ") || nameEnd < 0) {
        throw ClusterSegments.errorOrUnexpected(member, line, "DIMENSION or END");
      }
      dimensions.add(
          DimensionSpec.parse(
              line.substring("DIMENSION ".length(), nameEnd),
              line.substring(nameEnd + 1).getBytes(UTF_8)));
      pos = eol + 2;
    }
  }
}

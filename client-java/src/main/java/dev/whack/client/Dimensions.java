package dev.whack.client;

import dev.whack.client.protocol.DimDefineRequest;
import dev.whack.client.protocol.DimDropRequest;
import dev.whack.client.protocol.DimListRequest;
import dev.whack.client.protocol.Keys;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Preference dimensions over the whole cluster: which event properties every node counts per
 * profile and day (docs/protocol.md, "Dimensions"). Each node counts the events of its own
 * profiles, so a definition or drop goes to every node, as a segment's does ({@link Segments}); a
 * call that needs every node fails, naming the missing ones, if any is down.
 *
 * <pre>{@code
 * client.dimensions().define("color", "{\"property\":\"color\",\"event\":\"view\"}").join();
 * client.dimensions().define("price", "{\"property\":\"price\",\"bounds\":[10000,20000]}").join();
 * }</pre>
 *
 * <p>Concurrency: thread-safe, like the client it belongs to.
 */
public final class Dimensions {
  private final WhackClient client;

  Dimensions(WhackClient client) {
    this.client = client;
  }

  /**
   * Defines (or redefines) a dimension on every node from its JSON definition. A refused definition
   * (bad JSON, an unknown field, a bad name, too many dimensions, a redefinition of one that
   * segments read) fails with {@link ServerErrorException} carrying the node's reason. If a node
   * fails, the dimension may be defined on the others: define it again.
   */
  public CompletableFuture<Void> define(String name, String definition) {
    Objects.requireNonNull(definition, "definition");
    return Futures.attempt(
        () -> {
          Keys.dimensionName(name);
          return Futures.map(
              client.everyNode(
                  "defining dimension " + name, n -> new DimDefineRequest(name, definition)),
              defined -> null);
        });
  }

  /**
   * Drops a dimension on every node; true if any node had it. One that segments read is not
   * dropped: the future fails with the node's refusal naming them.
   */
  public CompletableFuture<Boolean> drop(String name) {
    return Futures.attempt(
        () -> {
          Keys.dimensionName(name);
          return Futures.map(
              client.everyNode("dropping dimension " + name, n -> new DimDropRequest(name)),
              dropped -> dropped.contains(Boolean.TRUE));
        });
  }

  /**
   * Every dimension once, in the first node's definition order and then as the others list the ones
   * it lacks.
   */
  public CompletableFuture<List<DimensionInfo>> list() {
    return Futures.map(
        client.everyNode("listing dimensions", n -> new DimListRequest()),
        perNode -> {
          Map<String, DimensionInfo> merged = new LinkedHashMap<>();
          for (List<DimensionInfo> dimensions : perNode) {
            for (DimensionInfo d : dimensions) {
              merged.putIfAbsent(d.name(), d);
            }
          }
          return List.copyOf(merged.values());
        });
  }
}

package dev.whack.node.tenant;

import dev.whack.node.observability.OpenConnections;
import io.netty.channel.Channel;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The node's open connections seen from one tenant ({@code stats conns}, {@code reply_bytes}): only
 * those working in it, so one tenant never learns another's clients' addresses.
 *
 * <p>Concurrency: a snapshot per call, from the node's tracker and the tenant's channel group.
 */
public final class TenantConnections implements OpenConnections {
  private final OpenConnections all;
  private final Supplier<Tenant> tenant;

  /**
   * @param tenant the tenant, asked per call (it is made after its statistics report)
   */
  public TenantConnections(OpenConnections all, Supplier<Tenant> tenant) {
    this.all = all;
    this.tenant = tenant;
  }

  @Override
  public Collection<? extends Connection> openConnections() {
    Tenant t = tenant.get();
    if (t == null) {
      return List.of();
    }
    Set<SocketAddress> remotes = new HashSet<>();
    for (Channel c : t.connections()) {
      remotes.add(c.remoteAddress());
    }
    return all.openConnections().stream().filter(c -> remotes.contains(c.remote())).toList();
  }

  @Override
  public long queuedReplyBytes() {
    long sum = 0;
    for (Connection c : openConnections()) {
      sum += c.queuedReplyBytes();
    }
    return sum;
  }
}

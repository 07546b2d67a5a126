package dev.whack.node.grpc;

import dev.whack.node.tenant.Tenant;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.ServerCall;

/**
 * A call's listener that adds the time its work takes on the server's executor to its tenant's, the
 * measure of the fair share (docs/security.md, "Fair share"), as the memcached port's decoder adds
 * each read batch's. The work is in two callbacks: a message (an Ingest request's items are written
 * as it comes) and the half-close (a unary call is answered then, whole when the node answers it
 * alone). The clock is read only while the node has other tenants than the default one ({@link
 * Tenant#metered}).
 *
 * <p>Concurrency: gRPC calls a listener one callback at a time; the tenant's counter is shared.
 */
final class MeteredListener<Q> extends SimpleForwardingServerCallListener<Q> {
  private final Tenant tenant;

  MeteredListener(ServerCall.Listener<Q> call, Tenant tenant) {
    super(call);
    this.tenant = tenant;
  }

  @Override
  public void onMessage(Q message) {
    if (!tenant.metered()) {
      super.onMessage(message);
      return;
    }
    long start = System.nanoTime();
    try {
      super.onMessage(message);
    } finally {
      tenant.addBusyNanos(System.nanoTime() - start);
    }
  }

  @Override
  public void onHalfClose() {
    if (!tenant.metered()) {
      super.onHalfClose();
      return;
    }
    long start = System.nanoTime();
    try {
      super.onHalfClose();
    } finally {
      tenant.addBusyNanos(System.nanoTime() - start);
    }
  }
}

package dev.whack.node.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ports free a moment ago, for nodes that must know each other's ports before they start.
 *
 * <p>Chosen below Linux's ephemeral range (32768 and up by default): a port the kernel hands out
 * for {@code bind(0)} is also the one it hands to the next outgoing connection, so a port chosen
 * that way could be taken by some client's socket between the choice and the node's own bind (seen
 * in full runs: "address already in use" for a gRPC port). Ports from a range the kernel never
 * picks by itself can only be taken by another explicit bind. Each JVM walks the range from a
 * random start, so test JVMs running side by side rarely meet, and never hands out a port twice.
 */
public final class FreePorts {
  private static final int FIRST = 20_000;
  private static final int LAST = 32_000;
  private static final AtomicInteger NEXT =
      new AtomicInteger(ThreadLocalRandom.current().nextInt(LAST - FIRST));

  private FreePorts() {}

  /** {@code n} distinct ports, each free on loopback when chosen. */
  public static int[] take(int n) {
    int[] ports = new int[n];
    for (int i = 0; i < n; i++) {
      ports[i] = next();
    }
    return ports;
  }

  private static int next() {
    for (int tries = 0; tries < LAST - FIRST; tries++) {
      int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), LAST - FIRST);
      if (isFree(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port between " + FIRST + " and " + LAST);
  }

  private static boolean isFree(int port) {
    List<ServerSocket> probes = new ArrayList<>(2);
    try {
      // Both the loopback address and the wildcard: a node may bind either.
      for (InetAddress address : new InetAddress[] {InetAddress.getLoopbackAddress(), null}) {
        ServerSocket probe = new ServerSocket();
        probes.add(probe);
        probe.setReuseAddress(false);
        probe.bind(new InetSocketAddress(address, port));
        probe.close();
      }
      return true;
    } catch (IOException taken) {
      return false;
    } finally {
      for (ServerSocket probe : probes) {
        try {
          probe.close();
        } catch (IOException ignored) {
          // released either way
        }
      }
    }
  }
}

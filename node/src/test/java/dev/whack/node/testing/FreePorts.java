package dev.whack.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/** Ports free a moment ago, for nodes that must know each other's ports before they start. */
public final class FreePorts {
  private FreePorts() {}

  /** {@code n} distinct ports, all held open at once while chosen, then released. */
  public static int[] take(int n) {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // released either way
        }
      }
    }
    return ports;
  }
}

package dev.whack.client.transport;

/**
 * A node's address as the ring names it ({@code host:port}, or {@code [v6]:port}). The name is kept
 * exactly as given, since the ring hashes it and the nodes must advertise the same string.
 */
public record NodeAddress(String name, String host, int port) {
  public static NodeAddress parse(String text) {
    String name = text.trim();
    int colon = name.lastIndexOf(':');
    if (colon <= 0 || colon == name.length() - 1) {
      throw new IllegalArgumentException("a server is host:port, got '" + text + "'");
    }
    String host = name.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      throw new IllegalArgumentException("an IPv6 server is [address]:port, got '" + text + "'");
    }
    int port;
    try {
      port = Integer.parseInt(name.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a server's port is a number, got '" + text + "'", e);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("a port is 1 to 65535, got '" + text + "'");
    }
    return new NodeAddress(name, host, port);
  }

  @Override
  public String toString() {
    return name;
  }
}

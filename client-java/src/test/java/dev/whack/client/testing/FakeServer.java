package dev.whack.client.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted text-protocol server on a loopback port, for tests of how the client copes with
 * whatever a server says. Each connection gets a thread that reads one command at a time (the line
 * and, for commands that carry one, the data block) and hands it to a {@link Responder}, which
 * writes whatever bytes the test wants, or nothing, or closes.
 */
public final class FakeServer implements AutoCloseable {
  /** Answers one command. */
  @FunctionalInterface
  public interface Responder {
    void respond(Command command, Reply reply) throws IOException, InterruptedException;
  }

  /** A command as received: its line (without CRLF), tokens, and data block if any. */
  public record Command(String line, String[] tokens, byte[] block, int connection) {
    public String verb() {
      return tokens[0];
    }

    public String blockText() {
      return block == null ? null : new String(block, StandardCharsets.UTF_8);
    }
  }

  /** The reply side of one connection. */
  public static final class Reply {
    private final Socket socket;
    private final OutputStream out;

    Reply(Socket socket) throws IOException {
      this.socket = socket;
      this.out = socket.getOutputStream();
    }

    public Reply write(String text) throws IOException {
      return write(text.getBytes(StandardCharsets.UTF_8));
    }

    public Reply write(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
      return this;
    }

    /** Closes this connection (the client sees end of stream). */
    public void close() throws IOException {
      socket.close();
    }
  }

  private final ServerSocket listener;
  private final Responder responder;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();
  private final Thread acceptor;
  private volatile boolean closed;
  private volatile boolean closeOnAccept;

  private FakeServer(int port, Responder responder) {
    this.responder = responder;
    try {
      listener = new ServerSocket();
      listener.setReuseAddress(true);
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    acceptor = new Thread(this::accept, "fake-server-accept-" + port());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public static FakeServer start(Responder responder) {
    return new FakeServer(0, responder);
  }

  /** On a given port, e.g. to come back where a stopped server was. */
  public static FakeServer start(int port, Responder responder) {
    return new FakeServer(port, responder);
  }

  public int port() {
    return listener.getLocalPort();
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  /** Connections accepted so far. */
  public int connections() {
    return connections.get();
  }

  /** A server that accepts every connection and closes it at once, like a node at its limit. */
  public static FakeServer closingEveryConnection() {
    FakeServer server = new FakeServer(0, (c, r) -> {});
    server.closeOnAccept = true;
    return server;
  }

  /** Connections open now. */
  public int openConnections() {
    return sockets.size();
  }

  /** Every command line received, in order of arrival. */
  public List<String> received() {
    return List.copyOf(received);
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket socket = listener.accept();
        if (closed) {
          // Accepted while closing: a stopped server must not serve anyone.
          socket.close();
          return;
        }
        if (closeOnAccept) {
          connections.incrementAndGet();
          socket.close();
          continue;
        }
        socket.setTcpNoDelay(true);
        sockets.add(socket);
        int id = connections.incrementAndGet();
        Thread t = new Thread(() -> serve(socket, id), "fake-server-conn-" + id);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket, int id) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      Reply reply = new Reply(socket);
      while (true) {
        String line = readLine(in);
        if (line == null) {
          return;
        }
        received.add(line);
        // A node answers "local <command>" as <command> for itself alone; so does this one.
        String command = line.startsWith("local ") ? line.substring("local ".length()) : line;
        String[] tokens = command.split(" ");
        int blockLength = blockLength(tokens);
        byte[] block = null;
        if (blockLength >= 0) {
          block = in.readNBytes(blockLength);
          in.readNBytes(2);
        }
        responder.respond(new Command(command, tokens, block, id), reply);
      }
    } catch (SocketException e) {
      // closed by the test or by the client
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      sockets.remove(socket);
    }
  }

  /** Where the data block's length is, per command of docs/protocol.md; -1 if none. */
  private static int blockLength(String[] t) {
    int at =
        switch (t[0]) {
          case "set", "add", "replace", "append", "prepend", "cas" -> 4;
          case "update", "segdef" -> 2;
          case "segcount", "filtercount", "segmembers", "filtermembers" -> 1;
          default -> -1;
        };
    return at < 0 || at >= t.length ? -1 : Integer.parseInt(t[at]);
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int n =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
      }
      line.write(b);
    }
  }

  /** Stops listening and closes every connection, so that the port refuses connections. */
  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing a test socket
    }
    try {
      acceptor.join(2_000); // no connection is added after this
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing a test socket
      }
    }
    for (Thread t : threads) {
      try {
        t.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * A memcached-like responder over a shared map: {@code get}, {@code set}, {@code delete}, {@code
   * version}. Anything else is {@code ERROR}.
   */
  public static Responder memcached() {
    Map<String, byte[]> store = new ConcurrentHashMap<>();
    Map<String, Integer> flags = new ConcurrentHashMap<>();
    return (c, reply) -> {
      switch (c.verb()) {
        case "get" -> {
          StringBuilder out = new StringBuilder();
          List<byte[]> parts = new ArrayList<>();
          for (int i = 1; i < c.tokens().length; i++) {
            byte[] v = store.get(c.tokens()[i]);
            if (v != null) {
              parts.add(
                  ("VALUE "
                          + c.tokens()[i]
                          + " "
                          + Integer.toUnsignedString(flags.get(c.tokens()[i]))
                          + " "
                          + v.length
                          + "\r\n")
                      .getBytes(StandardCharsets.UTF_8));
              parts.add(v);
              parts.add("\r\n".getBytes(StandardCharsets.UTF_8));
            }
          }
          ByteArrayOutputStream all = new ByteArrayOutputStream();
          for (byte[] p : parts) {
            all.write(p);
          }
          all.write(out.append("END\r\n").toString().getBytes(StandardCharsets.UTF_8));
          reply.write(all.toByteArray());
        }
        case "set" -> {
          store.put(c.tokens()[1], c.block());
          flags.put(c.tokens()[1], Integer.parseUnsignedInt(c.tokens()[2]));
          reply.write("STORED\r\n");
        }
        case "delete" ->
            reply.write(store.remove(c.tokens()[1]) != null ? "DELETED\r\n" : "NOT_FOUND\r\n");
        case "version" -> reply.write("VERSION 1.6.18-fake\r\n");
        default -> reply.write("ERROR\r\n");
      }
    };
  }
}

package dev.whack.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A plain socket to a node, for tests that assert exact bytes on the wire. */
public final class RawConnection implements AutoCloseable {
  private static final int TIMEOUT_MILLIS = 5_000;

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawConnection(String host, int port) {
    this(host, port, 0);
  }

  /**
   * A connection whose receive buffer is set before connecting (0 keeps the system's), so that a
   * client that stops reading fills its window after a few kilobytes instead of megabytes.
   */
  public RawConnection(String host, int port, int receiveBufferBytes) {
    try {
      socket = new Socket();
      if (receiveBufferBytes > 0) {
        socket.setReceiveBufferSize(receiveBufferBytes);
      }
      socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
      socket.setSoTimeout(TIMEOUT_MILLIS);
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The client's port: the node's {@code stats conns} shows it as the connection's address. */
  public int localPort() {
    return socket.getLocalPort();
  }

  public RawConnection send(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends text as ISO-8859-1 bytes, so "\r\n" and any byte value can be written literally. */
  public RawConnection send(String text) {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Reads exactly {@code n} bytes, failing on timeout or end of stream. */
  public byte[] read(int n) {
    byte[] buf = new byte[n];
    int off = 0;
    try {
      while (off < n) {
        int r = in.read(buf, off, n - off);
        if (r < 0) {
          throw new IllegalStateException(
              "connection closed after " + off + " of " + n + " bytes: " + latin1(buf, off));
        }
        off += r;
      }
      return buf;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "after " + off + " of " + n + " bytes: " + latin1(buf, off), e);
    }
  }

  /** Reads as many bytes as {@code expected} has, as text. */
  public String readText(String expected) {
    return latin1(read(expected.length()), expected.length());
  }

  /** Reads one line including its "\r\n". */
  public String readLine() {
    StringBuilder line = new StringBuilder();
    try {
      while (true) {
        int b = in.read();
        if (b < 0) {
          throw new IllegalStateException("connection closed mid-line: " + line);
        }
        line.append((char) b);
        if (b == '\n') {
          return line.toString();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("while reading a line, got: " + line, e);
    }
  }

  /**
   * Half-closes the sending side and reads everything until the node closes or goes quiet for
   * {@code quietMillis}: the whole conversation's answer, as memcached's tests capture it.
   */
  public byte[] finishAndReadAll(int quietMillis) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try {
      socket.shutdownOutput();
      socket.setSoTimeout(quietMillis);
      byte[] buf = new byte[8192];
      while (true) {
        int r;
        try {
          r = in.read(buf);
        } catch (SocketTimeoutException e) {
          return all.toByteArray();
        }
        if (r < 0) {
          return all.toByteArray();
        }
        all.write(buf, 0, r);
      }
    } catch (IOException e) {
      return all.toByteArray();
    }
  }

  /** Half-closes the connection: the node reads end of input after what was sent. */
  public RawConnection endInput() {
    try {
      out.flush();
      socket.shutdownOutput();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /**
   * Reads until the node closes the connection and returns what came before the end; fails if the
   * node stays silent for the read timeout without closing.
   */
  public String readToEnd() {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      for (int r; (r = in.read(buf)) >= 0; ) {
        all.write(buf, 0, r);
      }
    } catch (SocketTimeoutException e) {
      throw new IllegalStateException(
          "the node neither answered nor closed; got: " + all.toString(StandardCharsets.ISO_8859_1),
          e);
    } catch (IOException e) {
      // a reset ends the stream too
    }
    return all.toString(StandardCharsets.ISO_8859_1);
  }

  /** True if the node closed the connection: a read sees end of stream (or a reset). */
  public boolean isClosedByPeer() {
    try {
      socket.setSoTimeout(TIMEOUT_MILLIS);
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing a test socket cannot fail in a way that matters
    }
  }

  public static String latin1(byte[] bytes, int length) {
    return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
  }
}

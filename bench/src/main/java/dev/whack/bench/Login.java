package dev.whack.bench;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The user every memcached-port connection of this load logs in as ({@code --user}, the password
 * from {@code WHACK_PASSWORD}), with memcached's text authentication; none by default. One per
 * process: a load of two tenants runs one {@code whack bench} per tenant.
 */
final class Login {
  private static volatile byte[] request;

  private static final byte[] STORED = "STORED\r\n".getBytes(StandardCharsets.US_ASCII);

  private Login() {}

  /** Logs every connection opened from now on in as {@code user}. */
  static void as(String user, String password) {
    String token = user + " " + password;
    request =
        ("set auth 0 0 " + token.getBytes(StandardCharsets.UTF_8).length + "\r\n" + token + "\r\n")
            .getBytes(StandardCharsets.UTF_8);
  }

  /** A connection to the memcached port, logged in when a user is set. */
  static Socket socket(String host, int port) throws IOException {
    Socket s = new Socket(host, port);
    byte[] login = request;
    if (login != null) {
      s.getOutputStream().write(login);
      InputStream in = s.getInputStream();
      byte[] reply = in.readNBytes(STORED.length);
      if (!java.util.Arrays.equals(reply, STORED)) {
        s.close();
        throw new IOException(
            "login refused: " + new String(reply, StandardCharsets.US_ASCII).strip());
      }
    }
    return s;
  }

  /** A blocking channel to the memcached port, logged in when a user is set. */
  static SocketChannel channel(String host, int port) throws IOException {
    SocketChannel ch = SocketChannel.open(new InetSocketAddress(host, port));
    byte[] login = request;
    if (login != null) {
      ch.write(ByteBuffer.wrap(login));
      ByteBuffer reply = ByteBuffer.allocate(STORED.length);
      while (reply.hasRemaining() && ch.read(reply) >= 0) {
        // until the whole answer is here
      }
      if (!java.util.Arrays.equals(reply.array(), STORED)) {
        ch.close();
        throw new IOException(
            "login refused: " + new String(reply.array(), StandardCharsets.US_ASCII).strip());
      }
    }
    return ch;
  }
}

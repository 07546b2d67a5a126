package dev.whack.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.whack.client.ring.HashRing;
import dev.whack.node.testing.EmbeddedNode;
import dev.whack.node.testing.RawConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An owner that refuses a forwarded read (a managed member taking its slot over answers {@code
 * SERVER_ERROR slot N is being taken over ...}) is heard by the client as that error, never as a
 * miss: a get through another member once answered {@code END} there, so a client read a profile as
 * absent while it was only moving.
 */
class ForwardedRefusalTest {
  private static final String REFUSAL =
      "SERVER_ERROR slot 3 is being taken over by the owner (try again shortly)";

  @Test
  void shouldPassAnOwnersRefusalOfAForwardedGetOnToTheClient() throws Exception {
    try (ServerSocket owner = new ServerSocket(0)) {
      Thread refusing = new Thread(() -> refuseEveryGet(owner), "refusing-owner");
      refusing.setDaemon(true);
      refusing.start();
      int[] ports = ForwardingTest.freePorts(1);
      List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + owner.getLocalPort());
      try (EmbeddedNode node = EmbeddedNode.start(c -> c.port(ports[0]).peers(members))) {
        String remote = keyOwnedBy(members, members.get(1));
        String local = keyOwnedBy(members, members.get(0));
        try (RawConnection c = node.connect()) {
          c.send("set " + local + " 0 0 1\r\nx\r\n");
          assertEquals("STORED\r\n", c.readLine());
          c.send("get " + remote + "\r\n");
          assertEquals(REFUSAL + "\r\n", c.readLine());
          // A multi-get with a key of the refusing owner is refused whole, as on the owner.
          c.send("get " + local + " " + remote + "\r\n");
          assertEquals(REFUSAL + "\r\n", c.readLine());
          c.send("get " + local + "\r\n"); // and the connection goes on
          assertEquals("VALUE " + local + " 0 1\r\n", c.readLine());
          assertEquals("x\r\n", c.readLine());
          assertEquals("END\r\n", c.readLine());
        }
      }
    }
  }

  private static String keyOwnedBy(List<String> members, String member) {
    HashRing ring = HashRing.of(members);
    for (int i = 0; ; i++) {
      if (ring.owner("k" + i).equals(member)) {
        return "k" + i;
      }
    }
  }

  /** A stand-in owner: answers each get with {@link #REFUSAL}, as a member taking it over. */
  private static void refuseEveryGet(ServerSocket server) {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        Thread t =
            new Thread(
                () -> {
                  try (s;
                      BufferedReader in =
                          new BufferedReader(
                              new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                    OutputStream out = s.getOutputStream();
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                      String reply =
                          switch (line.split(" ")[0]) {
                            case "get" -> REFUSAL;
                            case "mn" -> "MN"; // the end of a relayed reply
                            case "version" -> "VERSION 1.6.18";
                            default -> "ERROR";
                          };
                      out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
                      out.flush();
                    }
                  } catch (IOException e) {
                    // the node closed the connection
                  }
                });
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }
}

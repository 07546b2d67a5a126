package dev.whack.node.conformance;

import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HexFormat;
import net.spy.memcached.AddrUtil;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.Test;

class ScratchTest {
  @Test
  void probe() throws Exception {
    try (ServerSocket server = new ServerSocket(0)) {
      MemcachedClient client = new MemcachedClient(new ConnectionFactoryBuilder().setProtocol(ConnectionFactoryBuilder.Protocol.BINARY).build(),
          AddrUtil.getAddresses("127.0.0.1:" + server.getLocalPort()));
      try (Socket s = server.accept()) {
        client.flush(30);
        s.setSoTimeout(1000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[100];
        int n = in.read(buf);
        System.out.println("SPY: " + HexFormat.of().formatHex(buf, 0, n));
      }
      client.shutdown();
    }
  }
}

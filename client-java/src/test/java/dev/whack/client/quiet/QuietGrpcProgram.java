package dev.whack.client.quiet;

import dev.whack.client.NodeUnavailableException;
import dev.whack.client.grpc.GrpcBulkWriter;
import dev.whack.client.tls.ClientTls;
import dev.whack.proto.Increment;
import dev.whack.proto.Update;
import java.time.Duration;

/**
 * An application that uses the Java client's gRPC bulk writer and nothing else, run by {@link
 * JvmWarningsTest} in a JVM of its own with no options: it writes ten updates to the gRPC port it
 * is given and prints how many were acknowledged; or, with the argument {@code tls}, opens the
 * writer with TLS to that (plaintext) port and prints whether the open failed with the handshake.
 */
public final class QuietGrpcProgram {
  private QuietGrpcProgram() {}

  public static void main(String[] args) {
    if (args.length > 1 && args[1].equals("tls")) {
      // TLS to a plaintext port: the whole client side of a handshake, which then fails.
      try (GrpcBulkWriter writer =
          GrpcBulkWriter.builder(args[0])
              .tls(ClientTls.systemTrust())
              .connectTimeout(Duration.ofSeconds(30))
              .open()) {
        System.out.println("open over TLS to a plaintext port: " + writer);
      } catch (NodeUnavailableException e) {
        System.out.println("refused: " + e.getMessage().contains("TLS handshake failed"));
      }
      return;
    }
    // Generous timeouts, as QuietClientProgram's: a cold JVM on a busy build machine.
    try (GrpcBulkWriter writer =
        GrpcBulkWriter.builder(args[0])
            .connectTimeout(Duration.ofSeconds(30))
            .answerTimeout(Duration.ofSeconds(30))
            .open()) {
      for (int i = 0; i < 10; i++) {
        writer.update(
            Update.newBuilder()
                .setKey("key" + i)
                .addIncr(Increment.newBuilder().setName("n").setIntDelta(1))
                .build());
      }
      writer.flush();
      System.out.println("acknowledged " + writer.succeeded());
    }
  }
}

package dev.whack.client.quiet;

import dev.whack.client.WhackClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * An application that uses the Java client and nothing else, run by {@link JvmWarningsTest} in a
 * JVM of its own with no options: it writes and reads keys spread over the servers it is given (so
 * the ring hashes them) and prints what it read.
 */
public final class QuietClientProgram {
  private QuietClientProgram() {}

  public static void main(String[] args) throws Exception {
    // Generous timeouts: a cold JVM on a busy build machine took over a second for its first set.
    try (WhackClient client =
        WhackClient.builder()
            .servers(args[0])
            .connectTimeout(Duration.ofSeconds(30))
            .requestTimeout(Duration.ofSeconds(30))
            .discoverCluster(false) // a scripted server
            .build()) {
      for (int i = 0; i < 10; i++) {
        client.set("key" + i, ("value" + i).getBytes(StandardCharsets.UTF_8)).get();
      }
      StringBuilder read = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        read.append(client.get("key" + i).get().orElseThrow().valueAsString()).append(' ');
      }
      System.out.println(read.toString().trim());
    }
  }
}

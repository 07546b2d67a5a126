package dev.whack.cli;

import dev.whack.client.WhackClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What one member said about itself: its memcached statistics and its profile count, or why it
 * could not be asked. Every member is asked at once; a member that is down does not hide the
 * others.
 */
record NodeReport(String server, Map<String, String> stats, long profiles, Throwable failure) {
  boolean up() {
    return failure == null;
  }

  long stat(String name) {
    if (stats == null) {
      return 0;
    }
    String v = stats.get(name);
    if (v == null) {
      return 0;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  String text(String name) {
    return stats == null ? null : stats.get(name);
  }

  /** Asks every member of the client's cluster, waiting at most {@code boundMillis} in all. */
  static List<NodeReport> ask(WhackClient client, long boundMillis) {
    List<String> servers = client.servers();
    List<CompletableFuture<Map<String, String>>> stats = new ArrayList<>();
    List<CompletableFuture<Long>> profiles = new ArrayList<>();
    for (String s : servers) {
      stats.add(client.stats(s));
      profiles.add(client.profileCount(s));
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundMillis);
    List<NodeReport> reports = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      try {
        Map<String, String> st = await(stats.get(i), deadline);
        long count = await(profiles.get(i), deadline);
        reports.add(new NodeReport(servers.get(i), st, count, null));
      } catch (Throwable t) {
        reports.add(new NodeReport(servers.get(i), null, 0, t));
      }
    }
    return reports;
  }

  private static <T> T await(CompletableFuture<T> f, long deadlineNanos) throws Throwable {
    try {
      return f.get(Math.max(1, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (ExecutionException | CompletionException e) {
      throw e.getCause() == null ? e : e.getCause();
    } catch (TimeoutException e) {
      throw new dev.whack.client.WhackTimeoutException(null, "no answer in time");
    }
  }

  /** 0 when every member answered, 3 when none did, 1 when some did not. */
  static int exitCode(List<NodeReport> reports) {
    long down = reports.stream().filter(r -> !r.up()).count();
    if (down == 0) {
      return Whack.EXIT_OK;
    }
    return down == reports.size() ? Whack.EXIT_UNREACHABLE : Whack.EXIT_FAILED;
  }

  /** Why a member is down, in a few words. */
  String reason() {
    if (failure == null) {
      return "";
    }
    String m = Failures.message(failure);
    String prefix = "cannot reach the cluster: ";
    if (m.startsWith(prefix)) {
      m = m.substring(prefix.length());
    }
    String self = server + " is down: ";
    if (m.startsWith(self)) {
      m = m.substring(self.length());
    }
    return m;
  }
}

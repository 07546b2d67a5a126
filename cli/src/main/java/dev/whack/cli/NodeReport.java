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
 * What one member said about itself: its memcached statistics, its profile count and its view of
 * the members ({@code stats cluster}, null from a node that does not report one), or why it could
 * not be asked. Every member is asked at once; a member that is down does not hide the others.
 */
record NodeReport(
    String server,
    Map<String, String> stats,
    long profiles,
    Map<String, String> cluster,
    Throwable failure) {
  boolean up() {
    return failure == null;
  }

  long stat(String name) {
    return stats == null ? 0 : parse(stats.get(name));
  }

  String text(String name) {
    return stats == null ? null : stats.get(name);
  }

  /** Asks every member of the client's cluster, waiting at most {@code boundMillis} in all. */
  static List<NodeReport> ask(WhackClient client, long boundMillis) {
    List<String> servers = client.servers();
    List<CompletableFuture<Map<String, String>>> stats = new ArrayList<>();
    List<CompletableFuture<Long>> profiles = new ArrayList<>();
    List<CompletableFuture<Map<String, String>>> clusters = new ArrayList<>();
    for (String s : servers) {
      stats.add(client.stats(s));
      profiles.add(client.profileCount(s));
      clusters.add(client.stats(s, "cluster"));
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundMillis);
    List<NodeReport> reports = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      try {
        Map<String, String> st = await(stats.get(i), deadline);
        long count = await(profiles.get(i), deadline);
        Map<String, String> cluster;
        try {
          cluster = await(clusters.get(i), deadline);
        } catch (Throwable doesNotReportMembers) {
          cluster = null;
        }
        reports.add(new NodeReport(servers.get(i), st, count, cluster, null));
      } catch (Throwable t) {
        reports.add(new NodeReport(servers.get(i), null, 0, null, t));
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

  /**
   * Peers whose member list differs from this member's, or that are this member under another name,
   * as the member found when it reached them; 0 when it does not say.
   */
  long disagreements() {
    return cluster == null ? 0 : parse(cluster.get("disagreements"));
  }

  /**
   * The member's view of the cluster in a few words: {@code alone}, {@code 3 agree}, {@code 3, 1
   * differs}, {@code 3, 1 unchecked} (a peer not reached yet), for a managed cluster's member
   * {@code 3 in map 7, owns 4/12 slots}, or {@code -} when not reported.
   */
  String membersSummary() {
    if (cluster == null || cluster.get("members") == null) {
      return "-";
    }
    int count = cluster.get("members").split(",").length;
    if ("kafka".equals(cluster.get("mode"))) {
      // A managed member: the group's map is the member list, so there is nothing to disagree on.
      String summary =
          count
              + " in map "
              + cluster.get("epoch")
              + ", owns "
              + cluster.get("slots_owned")
              + "/"
              + cluster.get("slots")
              + " slots";
      if (cluster.get("standby_slots") != null) {
        summary +=
            ", copies of "
                + cluster.get("standby_slots")
                + " ("
                + cluster.get("standby_lag")
                + " behind)";
      }
      return summary;
    }
    if (count == 1) {
      return "alone";
    }
    long unchecked =
        cluster.entrySet().stream()
            .filter(e -> e.getKey().startsWith("peer:") && e.getValue().equals("unreached"))
            .count();
    long differ = disagreements();
    if (differ > 0) {
      return count + ", " + differ + (differ == 1 ? " differs" : " differ");
    }
    return unchecked > 0 ? count + ", " + unchecked + " unchecked" : count + " agree";
  }

  /**
   * A managed member's hand-offs in progress as its map marks them: per slot, "owner>member" (the
   * member warms its copy up, then the slot moves); empty for a static cluster or none.
   */
  java.util.Map<Integer, String> moving() {
    java.util.Map<Integer, String> out = new java.util.TreeMap<>();
    String moving = cluster == null ? null : cluster.get("moving");
    if (moving != null) {
      for (String entry : moving.split(",")) {
        int colon = entry.indexOf(':');
        out.put(Integer.parseInt(entry.substring(0, colon)), entry.substring(colon + 1));
      }
    }
    return out;
  }

  /**
   * Records behind the end of the slot of this member's warm copy of it, or -1 if it keeps none.
   */
  long copyLag(int slot) {
    String lags = cluster == null ? null : cluster.get("standby_lags");
    if (lags != null) {
      for (String entry : lags.split(",")) {
        int colon = entry.indexOf(':');
        if (Integer.parseInt(entry.substring(0, colon)) == slot) {
          return Long.parseLong(entry.substring(colon + 1));
        }
      }
    }
    return -1;
  }

  private static long parse(String value) {
    try {
      return value == null ? 0 : Long.parseLong(value);
    } catch (NumberFormatException e) {
      return 0;
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

package dev.whack.node.tenant;

import dev.whack.node.protocol.ProtocolContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The node's tenants (docs/security.md, "Tenants"): the default one, which is the node as it always
 * was, and the ones {@code tenant create} made. With {@code --data-dir} each other tenant lives in
 * {@code tenants/<name>/} of it: a {@code quota} file, and its own log and snapshots, opened again
 * at the next start.
 *
 * <p>Concurrency: lookups read a concurrent map; create and drop are synchronized, so two of them
 * never race on one name or directory.
 */
public final class Tenants implements AutoCloseable {
  /** At most this many tenants besides the default one: each has an engine and keyspace. */
  public static final int MAX_TENANTS = 256;

  private static final int MAX_NAME_CHARS = 64;
  private static final String QUOTA_FILE = "quota";

  /** Makes and closes what a tenant is made of; the node's wiring. */
  public interface Opener {
    /**
     * Opens a tenant's parts: an empty keyspace and engine, recovered from {@code dir} when it is
     * not null.
     */
    Tenant.Parts open(String name, TenantQuota quota, Path dir) throws IOException;

    /**
     * Closes them: with {@code keep}, after a last snapshot (the node stops); without, the data is
     * about to be deleted (the tenant was dropped).
     */
    void close(Tenant tenant, boolean keep);
  }

  private final ProtocolContext node;
  private final Opener opener;
  private final Path root;
  private final String refusal;
  private final Tenant defaultTenant;
  private final ConcurrentHashMap<String, Tenant> byName = new ConcurrentHashMap<>();

  /** Told of each tenant dropped, after its connections were closed: the ports' own holdings. */
  private final List<java.util.function.Consumer<Tenant>> dropListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * How long a drop waits for the dropped tenant's connections to close before closing its data.
   */
  private static final long DROP_CLOSE_WAIT_MILLIS = 5_000;

  /** Set by {@link #close}: the node is stopping; guarded by this. */
  private boolean closed;

  /** The node's {@code --memory}: the caps of all tenants together, the default one's included. */
  private final long nodeMemoryBytes;

  /** The other tenants' caps together; the default tenant's cap is what is left. */
  private long carvedBytes;

  /**
   * @param node the node-wide parts of every tenant's context
   * @param defaults the default tenant's parts (the node's own keyspace and engine), its keyspace
   *     capped at the node's whole {@code --memory} until other tenants take their part of it
   * @param root where other tenants' data lives ({@code <data-dir>/tenants}), or null in memory
   * @param refusal why this node cannot have other tenants (no auth file, a cluster, Kafka), or
   *     null
   */
  public Tenants(
      ProtocolContext node, Tenant.Parts defaults, Opener opener, Path root, String refusal) {
    this.node = node;
    this.opener = opener;
    this.root = root;
    this.refusal = refusal;
    this.nodeMemoryBytes = defaults.keyspace().maxBytes();
    this.defaultTenant = new Tenant(Tenant.DEFAULT, TenantQuota.NONE, defaults, node, this);
    byName.put(Tenant.DEFAULT, defaultTenant);
  }

  /**
   * Takes {@code quota}'s memory out of what the default tenant keeps.
   *
   * @throws IllegalArgumentException when it does not fit
   */
  private void carve(String name, TenantQuota quota) {
    long left = nodeMemoryBytes - carvedBytes - quota.memoryBytes();
    if (quota.memoryBytes() == 0) {
      throw new IllegalArgumentException(
          "tenant "
              + name
              + " needs memory=<bytes>: a tenant's cap is carved out of the node's --memory ("
              + nodeMemoryBytes
              + " bytes), the default tenant keeps the rest");
    }
    if (left < TenantQuota.MIN_MEMORY_BYTES) {
      throw new IllegalArgumentException(
          "memory="
              + quota.memoryBytes()
              + " for tenant "
              + name
              + " does not fit: the node's --memory is "
              + nodeMemoryBytes
              + " bytes, other tenants have "
              + carvedBytes
              + " of it and the default tenant keeps at least "
              + TenantQuota.MIN_MEMORY_BYTES);
    }
  }

  /**
   * Books {@code bytes} more (or, negative, fewer) for other tenants; the default's cap follows.
   */
  private void carved(long bytes) {
    carvedBytes += bytes;
    defaultTenant.parts().keyspace().resize(nodeMemoryBytes - carvedBytes);
  }

  /**
   * Opens the tenants a data directory holds (before the node serves).
   *
   * @return how many were opened
   */
  public synchronized int openSaved() throws IOException {
    if (root == null || !Files.isDirectory(root)) {
      return 0;
    }
    List<Path> dirs;
    try (Stream<Path> list = Files.list(root)) {
      dirs = list.filter(Files::isDirectory).sorted().toList();
    }
    int opened = 0;
    for (Path dir : dirs) {
      Path quotaFile = dir.resolve(QUOTA_FILE);
      String name = dir.getFileName().toString();
      if (badName(name) != null || Tenant.DEFAULT.equals(name) || !Files.exists(quotaFile)) {
        continue; // not a tenant's, or one whose creation never finished: left as it is
      }
      if (refusal != null) {
        throw new IOException(
            "the data directory holds tenant "
                + name
                + " ("
                + dir
                + ") but "
                + refusal
                + ": start the node as it was (a single node with --auth-file), or move the"
                + " tenant's directory away");
      }
      if (byName.size() > MAX_TENANTS) {
        throw new IOException("more than " + MAX_TENANTS + " tenants in " + root);
      }
      TenantQuota quota;
      try {
        quota =
            TenantQuota.parse(
                List.of(Files.readString(quotaFile, StandardCharsets.UTF_8).strip().split(" +")));
        carve(name, quota);
      } catch (IllegalArgumentException e) {
        throw new IOException(quotaFile + ": " + e.getMessage(), e);
      }
      byName.put(name, new Tenant(name, quota, opener.open(name, quota, dir), node, this));
      carved(quota.memoryBytes());
      opened++;
    }
    return opened;
  }

  public Tenant defaultTenant() {
    return defaultTenant;
  }

  /** The tenant named {@code name}, or null. */
  public Tenant get(String name) {
    return byName.get(name);
  }

  /**
   * The tenant an authenticated user works in, given the tenant the auth file puts them in: that
   * one, or the default one for a user of no tenant; null when their tenant does not exist (not
   * created yet, or dropped).
   */
  public Tenant ofUser(String userTenant) {
    return userTenant == null ? defaultTenant : byName.get(userTenant);
  }

  /** Whether there are tenants besides the default one: only then is engine time metered. */
  boolean several() {
    return byName.size() > 1;
  }

  /**
   * How often {@link #balance} runs: a flood is held back within this long of starting to crowd the
   * others out.
   */
  public static final long BALANCE_PERIOD_MILLIS = 10;

  /**
   * Decides each tenant's fair share for the next period from the last one (docs/security.md, "Fair
   * share"): when two or more tenants worked, one whose requests took more time (on every port,
   * {@link Tenant#addBusyNanos}) than an equal split of what all took is over its share, and its
   * memcached-port connections run only a few requests a turn, yielding to the others, until a
   * period finds it within its share. A tenant alone, or within its share, runs as fast as it can.
   * Runs on the node's timer thread.
   */
  public void balance() {
    List<Tenant> all = list();
    long[] busy = new long[all.size()];
    long total = 0;
    int working = 0;
    for (int i = 0; i < busy.length; i++) {
      busy[i] = all.get(i).busySinceLastPeriod();
      total += busy[i];
      if (busy[i] > 0) {
        working++;
      }
    }
    for (int i = 0; i < busy.length; i++) {
      all.get(i).overShare(working > 1 && busy[i] > total / working);
    }
  }

  /**
   * Tells {@code listener} of every tenant dropped from now on, so that a port lets go of what it
   * holds of it (the gRPC port's subscriptions, the HTTP port's API).
   */
  public void onDrop(java.util.function.Consumer<Tenant> listener) {
    dropListeners.add(listener);
  }

  /** Every tenant, the default one first, then by name. */
  public List<Tenant> list() {
    List<Tenant> all = new ArrayList<>(byName.values());
    all.sort(Comparator.comparing((Tenant t) -> !t.isDefault()).thenComparing(Tenant::name));
    return all;
  }

  /** The tenants besides the default one. */
  public List<Tenant> others() {
    List<Tenant> all = list();
    return all.subList(1, all.size());
  }

  /**
   * Creates an empty tenant.
   *
   * @throws IllegalArgumentException for a bad or taken name, or too many tenants
   * @throws IllegalStateException when this node cannot have tenants ({@link #refusal})
   */
  public synchronized Tenant create(String name, TenantQuota quota) throws IOException {
    if (refusal != null) {
      throw new IllegalStateException(refusal);
    }
    if (closed) {
      throw new IllegalStateException("the node is stopping");
    }
    String bad = badName(name);
    if (bad != null) {
      throw new IllegalArgumentException(bad);
    }
    if (byName.containsKey(name)) {
      throw new IllegalArgumentException("tenant " + name + " exists");
    }
    if (byName.size() > MAX_TENANTS) {
      throw new IllegalArgumentException("a node has at most " + MAX_TENANTS + " tenants");
    }
    carve(name, quota);
    Path dir = null;
    if (root != null) {
      dir = root.resolve(name);
      if (Files.exists(dir)) {
        deleteTree(dir); // an unfinished creation or drop of that name: nothing of it is live
      }
      Files.createDirectories(dir);
    }
    Tenant tenant = new Tenant(name, quota, opener.open(name, quota, dir), node, this);
    if (dir != null) {
      try {
        // Last: only a directory with its quota file is a tenant at the next start.
        writeAtomically(dir.resolve(QUOTA_FILE), quota.settings() + "\n");
      } catch (IOException | RuntimeException e) {
        opener.close(tenant, false);
        throw e;
      }
    }
    byName.put(name, tenant);
    carved(quota.memoryBytes());
    return tenant;
  }

  /**
   * Drops a tenant: closes its connections and deletes its data.
   *
   * @return false when there is no such tenant
   * @throws IllegalArgumentException for the default tenant, which cannot be dropped
   */
  public synchronized boolean drop(String name) throws IOException {
    if (Tenant.DEFAULT.equals(name)) {
      throw new IllegalArgumentException("the default tenant cannot be dropped");
    }
    if (closed) {
      throw new IllegalStateException("the node is stopping");
    }
    Tenant tenant = byName.remove(name);
    if (tenant == null) {
      return false;
    }
    io.netty.channel.group.ChannelGroupFuture closing = tenant.markDropped();
    for (java.util.function.Consumer<Tenant> listener : dropListeners) {
      listener.accept(tenant);
    }
    // Its connections may be in the middle of a command (the drop runs on a thread of its own):
    // their data is closed once they are, or after a while whatever they do.
    closing.awaitUninterruptibly(DROP_CLOSE_WAIT_MILLIS);
    opener.close(tenant, false);
    carved(-tenant.quota().memoryBytes());
    if (root != null) {
      Path dir = root.resolve(name);
      Files.deleteIfExists(dir.resolve(QUOTA_FILE)); // first: a half-deleted one never comes back
      deleteTree(dir);
    }
    return true;
  }

  /**
   * Why a tenant name is refused, or null for a good one. Lower case only: a name is a directory
   * too, and on a file system that ignores case two names differing only in case would be one.
   */
  public static String badName(String name) {
    if (name.isEmpty() || name.length() > MAX_NAME_CHARS) {
      return "a tenant name is 1 to " + MAX_NAME_CHARS + " characters";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) {
        return "a tenant name is lower-case letters, digits, '-', '_' and '.', starting with a"
            + " letter or digit: "
            + name;
      }
    }
    return null;
  }

  /**
   * Closes every tenant but the default one (the node closes its own), keeping their data; a create
   * or a drop that comes after is refused.
   */
  @Override
  public synchronized void close() {
    closed = true;
    for (Tenant tenant : others()) {
      opener.close(tenant, true);
    }
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(dir)) {
      paths = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path p : paths) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
      }
    }
  }
}

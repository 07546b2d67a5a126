package dev.whack.node.tls;

import dev.whack.client.tls.ClientTls;
import dev.whack.client.tls.TlsProvider;
import dev.whack.node.config.TlsOptions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The node's TLS: the server context every TLS port's new connections take their {@code SslHandler}
 * from, the client TLS its connections to the other members use, and the reload of both from the
 * files without a restart (on SIGHUP, or when a file changes: {@link #reloadIfChanged}).
 *
 * <p>A reload reads and checks every file, then builds every context (this one's, each {@link
 * Reloadable}'s such as the gRPC port's, the members' client) before it installs any: a bad new
 * file (unreadable, not PEM, a key that is not the certificate's) keeps every old context and the
 * log says why. A connection keeps the context it was made with: existing connections go on, new
 * ones see the new certificate.
 *
 * <p>Concurrency: the current server context is a volatile reference, read on every accepted
 * connection; reloads are synchronized (the signal thread and the timer may both ask).
 */
public final class ServerTls {
  /** Something else that builds a context from the same files, such as the gRPC port. */
  public interface Reloadable {
    /**
     * Builds from {@code material} what will be installed, without installing it; throws if it
     * cannot. The returned action installs it and must not fail.
     */
    Runnable prepare(TlsMaterial material) throws IOException;
  }

  private final TlsOptions options;
  private final SslProvider provider;
  private final Consumer<String> log;
  private final List<Reloadable> reloadables = new CopyOnWriteArrayList<>();
  private final ClientTls peers;
  private volatile SslContext server;
  private volatile TlsMaterial material;

  /** The files as last read (modified time, size, identity), to see a change. */
  private List<Object> stamps;

  private ServerTls(TlsOptions options, Consumer<String> log) throws IOException {
    this.options = options;
    this.log = log;
    this.provider = TlsProvider.choose();
    this.stamps = stamps();
    TlsMaterial first = TlsMaterial.read(options);
    this.server = serverContext(first);
    this.material = first;
    ClientTls.Builder client =
        ClientTls.builder().certificate(options.certificate(), options.key());
    if (options.ca() != null) {
      client.trustCa(options.ca());
    }
    this.peers = client.build();
  }

  /**
   * Reads the files and builds the first contexts.
   *
   * @throws UncheckedIOException when a file is missing or wrong: the node does not start
   */
  public static ServerTls start(TlsOptions options, Consumer<String> log) {
    rejectClientRenegotiation();
    try {
      return new ServerTls(options, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start TLS: " + e.getMessage(), e);
    }
  }

  /**
   * The JDK's switch for TLS 1.2 renegotiation a client starts: read once, when the JVM's first
   * server handshake begins.
   */
  static final String REJECT_CLIENT_RENEGOTIATION = "jdk.tls.rejectClientInitiatedRenegotiation";

  /**
   * Makes the JDK's TLS refuse a renegotiation the client starts, unless the JVM was told otherwise
   * ({@code -Djdk.tls.rejectClientInitiatedRenegotiation=false}). The JDK allows it by default, so
   * a TLS 1.2 client could make the node run one full handshake after another on one connection,
   * for the cost of a few bytes each (a review finding). It matters wherever the JDK's TLS serves a
   * port: all of them when netty-tcnative does not load, the gRPC port when grpc's own BoringSSL
   * does not; BoringSSL never renegotiates as a server, and TLS 1.3 has no renegotiation. Set
   * before the first context is built, so before any handshake of this JVM reads it.
   */
  private static void rejectClientRenegotiation() {
    if (System.getProperty(REJECT_CLIENT_RENEGOTIATION) == null) {
      System.setProperty(REJECT_CLIENT_RENEGOTIATION, "true");
    }
  }

  /** The longest a client may take over its TLS handshake before the node closes it. */
  public static final long HANDSHAKE_TIMEOUT_MILLIS = 5_000;

  /** A handler for one accepted connection, from the current context. */
  public SslHandler newHandler(ByteBufAllocator alloc) {
    SslHandler handler = server.newHandler(alloc);
    // Netty's default is 10 s; a client that opens and never finishes a handshake holds a
    // connection (and a --max-connections slot) until this, so it is kept short.
    handler.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS);
    return handler;
  }

  /** The TLS the node's client to the other members speaks: the same CA, its own certificate. */
  public ClientTls peers() {
    return peers;
  }

  /** The files as last read successfully. */
  public TlsMaterial material() {
    return material;
  }

  public TlsOptions options() {
    return options;
  }

  /** The provider in words, for the start-up line. */
  public String provider() {
    return TlsProvider.describe(provider);
  }

  /** Whether Netty runs OpenSSL (BoringSSL) rather than the JDK's TLS. */
  public boolean openSsl() {
    return provider != SslProvider.JDK;
  }

  /**
   * Adds something that is built from the same files and reloaded with them; it is prepared from
   * the current files now and installed.
   */
  public synchronized void register(Reloadable reloadable) throws IOException {
    reloadable.prepare(material).run();
    reloadables.add(reloadable);
  }

  public void unregister(Reloadable reloadable) {
    reloadables.remove(reloadable);
  }

  /**
   * Reads the files and, if every context builds, installs them all; otherwise keeps the old ones.
   * Says which in the log, with {@code why} (SIGHUP, a changed file).
   *
   * @return whether the new files are in use
   */
  public synchronized boolean reload(String why) {
    stamps = stamps();
    try {
      TlsMaterial next = TlsMaterial.read(options);
      SslContext nextServer = serverContext(next);
      List<Runnable> installs = new ArrayList<>();
      for (Reloadable r : reloadables) {
        installs.add(r.prepare(next));
      }
      peers.reload();
      server = nextServer;
      material = next;
      installs.forEach(Runnable::run);
      log.accept("TLS: reloaded (" + why + "): " + next.describe());
      return true;
    } catch (IOException | RuntimeException e) {
      log.accept(
          "TLS: reload ("
              + why
              + ") failed, new connections keep the certificate in use ("
              + material.describe()
              + "): "
              + e.getMessage());
      return false;
    }
  }

  /**
   * Reloads if a file changed since it was last read (its modified time, size or identity: a file
   * replaced by a rename may keep an older time). The node's timer calls it every few seconds.
   */
  public synchronized void reloadIfChanged() {
    if (!Objects.equals(stamps, stamps())) {
      reload("a file changed");
    }
  }

  private List<Object> stamps() {
    List<Object> all = new ArrayList<>(3);
    for (Path file : new Path[] {options.certificate(), options.key(), options.ca()}) {
      if (file == null) {
        continue;
      }
      try {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        FileTime modified = a.lastModifiedTime();
        all.add(List.of(modified, a.size(), String.valueOf(a.fileKey())));
      } catch (IOException e) {
        all.add("missing"); // a reload then says why
      }
    }
    return all;
  }

  private SslContext serverContext(TlsMaterial m) throws IOException {
    SslContextBuilder builder =
        SslContextBuilder.forServer(m.key(), m.chain())
            .sslProvider(provider)
            .clientAuth(
                switch (m.clientAuth()) {
                  case NONE -> ClientAuth.NONE;
                  case OPTIONAL -> ClientAuth.OPTIONAL;
                  case REQUIRE -> ClientAuth.REQUIRE;
                });
    if (m.ca() != null) {
      builder.trustManager(m.ca());
    }
    return builder.build();
  }
}

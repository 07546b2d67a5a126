package dev.whack.node.grpc;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.UpdatesLog;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.engine.EngineException;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.keyspace.KeyspaceSession;
import dev.whack.node.keyspace.KeyspaceSession.SourcedKind;
import dev.whack.node.keyspace.Outcome;
import dev.whack.node.keyspace.ProfileRejectedException;
import dev.whack.node.keyspace.Status;
import dev.whack.node.keyspace.StoreMode;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.protocol.WritesThroughLog;
import dev.whack.proto.IngestError;
import io.grpc.Status.Code;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

/**
 * Writes one {@code Ingest} item where the memcached port would write it (docs/grpc.md): here when
 * this node owns the key; through the updates log when this member of a Kafka-managed cluster must
 * write it there (the rule of {@link WritesThroughLog}); to its owner otherwise, as the text {@code
 * update}/{@code set} a memcached client's would be forwarded, in key order. Under {@code --fsync
 * always} a local write is answered once the log is forced up to it.
 *
 * <p>Concurrency: one per stream, used under the stream's monitor; answers complete on any thread.
 */
final class ItemWriter {
  /** What writing an item leads to: its answer (null: applied), maybe later. */
  record Written(CompletableFuture<IngestError> answer, boolean keyOrdered) {
    static Written now(IngestError error) {
      return new Written(CompletableFuture.completedFuture(error), false);
    }
  }

  private final KeyspaceSession session;
  private final Cluster cluster;
  private final NodeStats stats;
  private final DurableLog forcedLog;
  private final Outcome outcome = new Outcome();

  /**
   * @param forcedLog the node's log when every write waits until it is forced ({@code --fsync
   *     always}), else null
   */
  ItemWriter(
      KeyspaceSession session,
      Cluster cluster,
      NodeStats stats,
      DurableLog forcedLog,
      dev.whack.node.tenant.Tenant tenant) {
    this.session = session;
    this.cluster = cluster;
    this.stats = stats;
    this.forcedLog = forcedLog;
    this.tenant = tenant;
  }

  /** The tenant whose rate quota each item takes one request of, or null. */
  private final dev.whack.node.tenant.Tenant tenant;

  /**
   * Writes the item. {@link Written#keyOrdered} says the answer comes from elsewhere (the owner,
   * the log), so the stream's next item of the same key must wait for it to stay in order.
   */
  Written write(IngestItem request) {
    if (tenant != null && tenant.dropped()) {
      // Nothing more goes into a dropped tenant's keyspace, whose log is closed.
      return Written.now(
          error(request, Code.UNAVAILABLE, "tenant " + tenant.name() + " was dropped"));
    }
    if (tenant != null && !tenant.admitRequest()) {
      return Written.now(error(request, Code.RESOURCE_EXHAUSTED, tenant.overRateReason()));
    }
    byte[] key = request.key();
    if (request.kind() == IngestItem.Kind.NONE) {
      return Written.now(
          error(request, Code.INVALID_ARGUMENT, "an item is an update or a profile"));
    }
    String bad = Keyspace.badKey(key);
    if (bad != null) {
      return Written.now(error(request, Code.INVALID_ARGUMENT, bad));
    }
    boolean update = request.kind() == IngestItem.Kind.UPDATE;
    if (cluster.isClustered() && !Keyspace.isReserved(key, 0, key.length)) {
      if (!cluster.owns(key, 0, key.length)) {
        return forward(request, key, update, request.body());
      }
      cluster.ensureLocal(key, 0, key.length, session); // a warm copy moving in: this key first
      UpdatesLog log = cluster.updatesLog();
      if (log != null) {
        byte[] body = request.body();
        SourcedKind kind =
            update
                ? (WritesThroughLog.ofUpdate(cluster, session, key, 0, key.length)
                    ? SourcedKind.UPDATE_PROTOBUF
                    : null)
                : WritesThroughLog.ofSet(
                    cluster, session, key, 0, key.length, Keyspace.PROTOBUF_PROFILE_FLAGS, body);
        if (kind != null) {
          return throughLog(request, log, key, kind, body);
        }
      }
      String notServing = cluster.notServingBecause(key, 0, key.length);
      if (notServing != null) {
        return Written.now(error(request, Code.UNAVAILABLE, notServing));
      }
    }
    long loggedBefore = forcedLog == null ? 0 : forcedLog.lastSequenceOfThisThread();
    IngestError error = applyHere(request, key, update);
    if (forcedLog == null || error != null) {
      return Written.now(error);
    }
    // Answered once the log is forced up to this write; a write that logged nothing (a repeat
    // ignored by its producer's seq) up to the log's end, so that what it repeats is durable too.
    long logged = forcedLog.lastSequenceOfThisThread();
    long upTo = logged != loggedBefore ? logged : forcedLog.upcomingSequence() - 1;
    if (upTo < forcedLog.durableBelow()) {
      return Written.now(null);
    }
    CompletableFuture<IngestError> durable = new CompletableFuture<>();
    try {
      forcedLog.whenDurable(
          upTo,
          () ->
              durable.complete(
                  forcedLog.failure() == null
                      ? null
                      : error(
                          request,
                          Code.UNAVAILABLE,
                          "applied, but the log cannot be written: "
                              + forcedLog.failure().getMessage())));
    } catch (RuntimeException e) {
      return Written.now(error(request, Code.UNAVAILABLE, "the log cannot be written: " + e));
    }
    return new Written(durable, false);
  }

  private IngestError applyHere(IngestItem request, byte[] key, boolean update) {
    Status status;
    try {
      if (update) {
        stats.profileUpdates.increment();
        status =
            session.update(
                key,
                0,
                key.length,
                request.message(),
                request.offset(),
                request.length(),
                true,
                outcome);
        if (status == Status.IGNORED) {
          stats.profileUpdatesIgnored.increment();
        }
      } else {
        status =
            session.store(
                StoreMode.SET,
                key,
                0,
                key.length,
                Keyspace.PROTOBUF_PROFILE_FLAGS,
                0,
                request.body(),
                0,
                false,
                false,
                outcome);
      }
    } catch (ProfileRejectedException e) {
      return error(
          request,
          e.notProfile() ? Code.FAILED_PRECONDITION : Code.INVALID_ARGUMENT,
          e.getMessage());
    } catch (EngineException | IllegalArgumentException e) {
      return error(request, Code.INVALID_ARGUMENT, e.getMessage());
    }
    return switch (status) {
      case STORED, IGNORED -> null;
      case TOO_LARGE -> tooLarge(request);
      case RESERVED -> error(request, Code.INVALID_ARGUMENT, "keys under _whack/ are reserved");
      case NOT_PROFILE -> error(request, Code.FAILED_PRECONDITION, "the key holds no profile");
      default -> error(request, Code.INTERNAL, "not applied: " + status);
    };
  }

  /** A managed member's write through its updates log, answered once applied. */
  private Written throughLog(
      IngestItem request, UpdatesLog log, byte[] key, SourcedKind kind, byte[] body) {
    int flags = kind == SourcedKind.UPDATE_PROTOBUF ? 0 : Keyspace.PROTOBUF_PROFILE_FLAGS;
    if (kind == SourcedKind.UPDATE_PROTOBUF) {
      stats.profileUpdates.increment();
    }
    return new Written(
        log.append(key, 0, key.length, kind, body, flags, 0)
            .handle(
                (applied, failure) -> {
                  if (failure != null) {
                    return error(request, Code.UNAVAILABLE, reason(failure));
                  }
                  if (applied.rejected() != null) {
                    return error(
                        request,
                        applied.rejected().startsWith("not a profile")
                            ? Code.FAILED_PRECONDITION
                            : Code.INVALID_ARGUMENT,
                        applied.rejected());
                  }
                  return switch (applied.status()) {
                    case STORED, IGNORED -> null;
                    case NOT_PROFILE ->
                        error(request, Code.FAILED_PRECONDITION, "the key holds no profile");
                    case TOO_LARGE -> tooLarge(request);
                    default -> error(request, Code.INTERNAL, "not applied: " + applied.status());
                  };
                }),
        true);
  }

  /**
   * The item as the text command a memcached client's would be ({@code update <key> <n> proto}, or
   * a {@code set} of the protobuf profile), sent to the owner in key order and answered by its
   * reply.
   */
  private Written forward(IngestItem request, byte[] key, boolean update, byte[] body) {
    String owner = cluster.ownerOf(key, 0, key.length);
    if (owner.equals(Cluster.NO_OWNER)) {
      return Written.now(
          error(request, Code.UNAVAILABLE, "no member owns the key's slot yet: try again"));
    }
    String keyText = new String(key, ISO_8859_1);
    String line =
        update
            ? "update " + keyText + " " + body.length + " proto\r\n"
            : "set "
                + keyText
                + " "
                + Integer.toUnsignedString(Keyspace.PROTOBUF_PROFILE_FLAGS)
                + " 0 "
                + body.length
                + "\r\n";
    ByteArrayOutputStream command = new ByteArrayOutputStream(line.length() + body.length + 2);
    command.writeBytes(line.getBytes(ISO_8859_1));
    command.writeBytes(body);
    command.writeBytes(new byte[] {'\r', '\n'});
    return new Written(
        cluster
            .relayInKeyOrder(owner, key, command.toByteArray())
            .handle(
                (reply, failure) ->
                    failure != null
                        ? error(
                            request,
                            Code.UNAVAILABLE,
                            ClusterException.unreachableReason(owner, failure))
                        : ownersAnswer(request, owner, reply)),
        true);
  }

  /** The owner's text reply to a forwarded item, as this item's answer. */
  private static IngestError ownersAnswer(IngestItem request, String owner, byte[] reply) {
    String line = new String(reply, ISO_8859_1).strip();
    if (line.equals("UPDATED") || line.equals("IGNORED") || line.equals("STORED")) {
      return null;
    }
    if (line.equals("SERVER_ERROR object too large for cache")) {
      return tooLarge(request);
    }
    if (line.startsWith("CLIENT_ERROR ")) {
      String reason = line.substring("CLIENT_ERROR ".length());
      // "not a profile" (binary and older text replies) or "not a profile: <why>" (text)
      return reason.startsWith("not a profile")
          ? error(request, Code.FAILED_PRECONDITION, reason)
          : error(request, Code.INVALID_ARGUMENT, reason);
    }
    if (line.startsWith("SERVER_ERROR ")) {
      return error(
          request, Code.UNAVAILABLE, owner + ": " + line.substring("SERVER_ERROR ".length()));
    }
    return error(request, Code.INTERNAL, owner + " answered '" + line + "'");
  }

  private static String reason(Throwable failure) {
    Throwable cause = GrpcErrors.cause(failure);
    return cause.getMessage() == null ? cause.toString() : cause.getMessage();
  }

  /** The profile, updated or whole, would render to more than {@code --max-item-size}. */
  private static IngestError tooLarge(IngestItem request) {
    return error(request, Code.RESOURCE_EXHAUSTED, "the profile would exceed the item size limit");
  }

  static IngestError error(IngestItem request, Code code, String message) {
    return IngestError.newBuilder()
        .setId(request.id())
        .setCode(code.name())
        .setMessage(String.valueOf(message))
        .build();
  }
}

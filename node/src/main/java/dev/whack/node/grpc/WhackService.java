package dev.whack.node.grpc;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.whack.node.cluster.Cluster;
import dev.whack.node.cluster.ClusterException;
import dev.whack.node.cluster.ClusterSegments;
import dev.whack.node.durability.DurableLog;
import dev.whack.node.engine.ProfileEngine;
import dev.whack.node.engine.SegmentDryRun;
import dev.whack.node.engine.json.ProfileJson;
import dev.whack.node.engine.segment.SegmentException;
import dev.whack.node.keyspace.Keyspace;
import dev.whack.node.protocol.ProtocolContext;
import dev.whack.node.tenant.Tenant;
import dev.whack.proto.CountReply;
import dev.whack.proto.CountRequest;
import dev.whack.proto.DefineSegmentReply;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.DropSegmentReply;
import dev.whack.proto.DropSegmentRequest;
import dev.whack.proto.GetProfilesReply;
import dev.whack.proto.GetProfilesRequest;
import dev.whack.proto.IngestReply;
import dev.whack.proto.ListSegmentsReply;
import dev.whack.proto.ListSegmentsRequest;
import dev.whack.proto.MembersReply;
import dev.whack.proto.MembersRequest;
import dev.whack.proto.Profile;
import dev.whack.proto.ProfileFormat;
import dev.whack.proto.ProfileResult;
import dev.whack.proto.SegmentMembership;
import dev.whack.proto.SegmentSummary;
import dev.whack.proto.SegmentsOfReply;
import dev.whack.proto.SegmentsOfRequest;
import dev.whack.proto.SubscribeReply;
import dev.whack.proto.SubscribeRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The gRPC service's calls (docs/grpc.md), on the calls the memcached commands use, so that a node
 * answers gRPC for the whole cluster as its memcached port does: keyed calls go to the key's owner
 * ({@link ItemWriter} for writes; reads as a forwarded {@code get} or {@code segof}), segment
 * questions to every member through {@link ClusterSegments} (on a node alone, to this one).
 *
 * <p>Concurrency: gRPC calls each stream's observer one message at a time, on the server's
 * executor; each call takes a keyspace session of its own; cluster answers complete on the cluster
 * client's threads and are handed back to the executor.
 */
final class WhackService extends WhackGrpc.WhackImplBase {
  /** Keys per {@code Members} reply when the request names no page size. */
  static final int DEFAULT_PAGE = 1000;

  private static final int MAX_PAGE = 100_000;

  /** The default tenant's context: every call's when the node has no auth file. */
  private final ProtocolContext base;

  private final Cluster cluster;
  private final Executor executor;

  /**
   * Subscribe calls open now, each with its tenant (the default one's: {@link #base}), to end when
   * the node stops or their tenant is dropped.
   */
  private final java.util.Map<SubscribeStream, Object> subscriptions =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Ingest calls open now in a tenant that can be dropped (not the default one), each with its
   * tenant: a dropped tenant's are ended, so that none holds on to its keyspace.
   */
  private final java.util.Map<IngestStream, Tenant> ingests =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Subscribe calls so far, to name each in the watchers' metrics. */
  private final java.util.concurrent.atomic.AtomicLong subscribers =
      new java.util.concurrent.atomic.AtomicLong();

  WhackService(ProtocolContext node, Executor executor) {
    this.base = node;
    this.cluster = node.cluster();
    this.executor = executor;
  }

  /**
   * The context of the call running now: its user's tenant ({@link GrpcAuth#TENANT}), else the
   * default one. Asked as a call starts, on the thread grpc runs it on with its context attached.
   */
  private ProtocolContext node() {
    Tenant tenant = GrpcAuth.TENANT.get();
    return tenant == null ? base : tenant.context();
  }

  private Keyspace keyspace() {
    return node().keyspace();
  }

  private ProfileEngine engine() {
    return node().engine();
  }

  private ClusterSegments segments() {
    return new ClusterSegments(cluster, engine(), keyspace().session());
  }

  /**
   * The Ingest call, bound by {@link GrpcServer} with requests read as {@link IngestItem}s (its
   * generated form, taking protobuf objects, is not served).
   */
  StreamObserver<List<IngestItem>> ingestItems(StreamObserver<IngestReply> replies) {
    Tenant tenant = GrpcAuth.TENANT.get();
    DurableLog log = node().log();
    IngestStream stream =
        new IngestStream(
            (ServerCallStreamObserver<IngestReply>) replies,
            new ItemWriter(
                keyspace().session(),
                cluster,
                node().stats(),
                log != null && log.fsync() == DurableLog.Fsync.ALWAYS ? log : null,
                tenant),
            log,
            executor);
    if (tenant != null && !tenant.isDefault()) {
      ingests.put(stream, tenant);
      stream.onEnd(() -> ingests.remove(stream));
    }
    stream.start();
    if (tenant != null && tenant.dropped()) {
      stream.endNow(dropped(tenant)); // dropped after the call was admitted, before it was listed
    }
    return stream;
  }

  @Override
  public void subscribe(SubscribeRequest request, StreamObserver<SubscribeReply> replies) {
    List<String> names = new ArrayList<>(new java.util.LinkedHashSet<>(request.getSegmentsList()));
    if (names.isEmpty()) {
      engine().segments().forEach(s -> names.add(s.name()));
      if (names.isEmpty()) {
        replies.onError(
            Status.FAILED_PRECONDITION
                .withDescription("no segment is defined: define one, or name those to follow")
                .asRuntimeException());
        return;
      }
    }
    for (String name : names) {
      if (engine().segment(name) == null) {
        replies.onError(
            Status.NOT_FOUND.withDescription("unknown segment " + name).asRuntimeException());
        return;
      }
    }
    ServerCallStreamObserver<SubscribeReply> call =
        (ServerCallStreamObserver<SubscribeReply>) replies;
    SubscribeStream stream =
        new SubscribeStream(
            call,
            engine(),
            segments(),
            cluster,
            node().stats(),
            node().watchers(),
            executor,
            List.copyOf(names));
    Tenant tenant = GrpcAuth.TENANT.get();
    subscriptions.put(stream, tenant == null ? base : tenant);
    stream.onEnd(() -> subscriptions.remove(stream));
    try {
      stream.start(request.getSnapshot(), "grpc subscriber " + subscribers.incrementAndGet());
      if (tenant != null && tenant.dropped()) {
        stream.endNow(dropped(tenant)); // dropped after the call was admitted, before it was listed
      }
    } catch (SegmentException e) {
      stream.close();
      replies.onError(
          Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException());
    } catch (StatusRuntimeException e) {
      stream.close();
      replies.onError(e); // the other members' changes cannot be watched: nothing subscribed
    }
  }

  /** Ends every open subscription with UNAVAILABLE: the node is stopping. */
  void endSubscriptions() {
    for (SubscribeStream s : List.copyOf(subscriptions.keySet())) {
      s.endNow(Status.UNAVAILABLE.withDescription("the node is stopping"));
    }
  }

  /**
   * Ends the calls of a tenant just dropped, with UNAVAILABLE: its subscriptions (its engine is not
   * followed any more) and its Ingest streams (its keyspace takes no more items, and the items they
   * hold for a key or for the log are let go).
   */
  void endCallsOf(Tenant dropped) {
    Status status = dropped(dropped);
    subscriptions.forEach(
        (s, tenant) -> {
          if (tenant == dropped) {
            s.endNow(status);
          }
        });
    ingests.forEach(
        (s, tenant) -> {
          if (tenant == dropped) {
            s.endNow(status);
          }
        });
  }

  private static Status dropped(Tenant tenant) {
    return Status.UNAVAILABLE.withDescription("tenant " + tenant.name() + " was dropped");
  }

  /** Keys one GetProfiles may ask for. */
  static final int MAX_KEYS = 10_000;

  /** Bytes of profiles one GetProfiles reply may carry (gRPC clients take 4 MiB by default). */
  static final int MAX_REPLY_BYTES = 16 << 20;

  /** Keys read at once, so that a reply past its limit is refused before much more is read. */
  private static final int KEYS_AT_ONCE = 64;

  @Override
  public void getProfiles(GetProfilesRequest request, StreamObserver<GetProfilesReply> replies) {
    if (request.getKeysCount() > MAX_KEYS) {
      replies.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(
                  request.getKeysCount() + " keys: ask for at most " + MAX_KEYS + " at a time")
              .asRuntimeException());
      return;
    }
    boolean protobuf = request.getFormat() == ProfileFormat.PROFILE_FORMAT_PROTOBUF;
    // The tenant's keyspace, taken now: later batches may run on threads without the call's
    // context.
    Keyspace keys = keyspace();
    answer(replies, readFrom(request, 0, GetProfilesReply.newBuilder(), 0, protobuf, keys));
  }

  /** The profiles of the keys from {@code from} on, {@link #KEYS_AT_ONCE} at a time. */
  private CompletableFuture<GetProfilesReply> readFrom(
      GetProfilesRequest request,
      int from,
      GetProfilesReply.Builder reply,
      long bytes,
      boolean protobuf,
      Keyspace keys) {
    if (from >= request.getKeysCount()) {
      return CompletableFuture.completedFuture(reply.build());
    }
    int to = Math.min(request.getKeysCount(), from + KEYS_AT_ONCE);
    List<CompletableFuture<ProfileResult>> results = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      results.add(profile(request.getKeys(i), protobuf, keys));
    }
    return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
        .thenCompose(
            done -> {
              long total = bytes;
              for (CompletableFuture<ProfileResult> r : results) {
                reply.addProfiles(r.join());
                total += r.join().getSerializedSize();
              }
              if (total > MAX_REPLY_BYTES) {
                throw Status.RESOURCE_EXHAUSTED
                    .withDescription(
                        "the profiles asked for come to more than "
                            + (MAX_REPLY_BYTES >> 20)
                            + " MiB: ask for fewer keys at a time")
                    .asRuntimeException();
              }
              return readFrom(request, to, reply, total, protobuf, keys);
            });
  }

  /** One key's profile: read here when this node owns it, else asked of its owner. */
  private CompletableFuture<ProfileResult> profile(String key, boolean protobuf, Keyspace keys) {
    byte[] k = key.getBytes(UTF_8);
    String bad = Keyspace.badKey(k);
    if (bad != null) {
      return CompletableFuture.failedFuture(
          Status.INVALID_ARGUMENT.withDescription(key + ": " + bad).asRuntimeException());
    }
    ProfileResult.Builder result = ProfileResult.newBuilder().setKey(key);
    if (Keyspace.isReserved(k, 0, k.length)) {
      return CompletableFuture.completedFuture(result.build());
    }
    String owner;
    try {
      owner = servedHereOrOwner(k, keys);
    } catch (StatusRuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (owner == null) {
      Profile profile = keys.profile(k, 0, k.length);
      return CompletableFuture.completedFuture(found(result, profile, protobuf));
    }
    return cluster
        .relay(owner, ("get " + new String(k, ISO_8859_1) + "\r\n").getBytes(ISO_8859_1))
        .handle(
            (reply, failure) -> {
              if (failure != null) {
                throw unavailable(owner, failure);
              }
              return found(result, OwnersValue.profile(owner, reply), protobuf);
            });
  }

  private static ProfileResult found(
      ProfileResult.Builder result, Profile profile, boolean protobuf) {
    if (profile == null) {
      return result.build();
    }
    result.setFound(true);
    if (protobuf) {
      result.setProfile(profile);
    } else {
      result.setJson(new String(ProfileJson.write(profile), UTF_8));
    }
    return result.build();
  }

  @Override
  public void segmentsOf(SegmentsOfRequest request, StreamObserver<SegmentsOfReply> replies) {
    byte[] key = request.getKey().getBytes(UTF_8);
    String bad = Keyspace.badKey(key);
    if (bad != null) {
      replies.onError(Status.INVALID_ARGUMENT.withDescription(bad).asRuntimeException());
      return;
    }
    String owner;
    try {
      owner = servedHereOrOwner(key, keyspace());
    } catch (StatusRuntimeException e) {
      replies.onError(e);
      return;
    }
    if (owner == null) {
      List<SegmentMembership> memberships = new ArrayList<>();
      for (var m : keyspace().membershipsOf(key, 0, key.length)) {
        memberships.add(
            SegmentMembership.newBuilder()
                .setSegment(m.segment())
                .setEnteredMillis(m.enteredMillis())
                .build());
      }
      replies.onNext(segmentsOfReply(memberships));
      replies.onCompleted();
      return;
    }
    answer(
        replies,
        cluster
            .relay(
                owner, ("segof " + new String(key, ISO_8859_1) + " since\r\n").getBytes(ISO_8859_1))
            .handle(
                (reply, failure) -> {
                  if (failure != null) {
                    throw unavailable(owner, failure);
                  }
                  return segmentsOfReply(OwnersValue.memberships(owner, reply));
                }));
  }

  /** Names and memberships, in the same order (the names for clients of the first version). */
  private static SegmentsOfReply segmentsOfReply(List<SegmentMembership> memberships) {
    SegmentsOfReply.Builder b = SegmentsOfReply.newBuilder().addAllMemberships(memberships);
    for (SegmentMembership m : memberships) {
      b.addSegments(m.getSegment());
    }
    return b.build();
  }

  /**
   * Null when this node answers for the key itself; else the member that owns it ({@link
   * Cluster#answeredHereOrBy}).
   *
   * @throws StatusRuntimeException UNAVAILABLE while this member takes the key's slot over
   */
  private String servedHereOrOwner(byte[] key, Keyspace keys) {
    try {
      return cluster.answeredHereOrBy(key, keys.session());
    } catch (ClusterException e) {
      throw Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
    }
  }

  private static StatusRuntimeException unavailable(String owner, Throwable failure) {
    return Status.UNAVAILABLE
        .withDescription(ClusterException.unreachableReason(owner, failure))
        .asRuntimeException();
  }

  @Override
  public void count(CountRequest request, StreamObserver<CountReply> replies) {
    ClusterSegments segments = segments();
    if (request.getPartial()) {
      answer(
          replies,
          segments
              .countPartial(request.getFilter(), request.getExpression())
              .thenApply(
                  c ->
                      CountReply.newBuilder()
                          .setCount(c.count())
                          .putAllMissing(c.missing())
                          .build()));
      return;
    }
    answer(
        replies,
        segments
            .count(request.getFilter(), request.getExpression())
            .thenApply(n -> CountReply.newBuilder().setCount(n).build()));
  }

  /**
   * Streams every page, each sent once the call can take it (the client's reading paces the
   * listing); each reply's cursor resumes after it in a new call.
   */
  @Override
  public void members(MembersRequest request, StreamObserver<MembersReply> replies) {
    long limit =
        request.getPageSize() == 0 ? DEFAULT_PAGE : Integer.toUnsignedLong(request.getPageSize());
    if (limit > MAX_PAGE) {
      replies.onError(
          Status.INVALID_ARGUMENT
              .withDescription("page_size is 1 to " + MAX_PAGE + ": " + limit)
              .asRuntimeException());
      return;
    }
    boolean everyProfile = request.getExpression().isBlank();
    new MembersStream(
            (ServerCallStreamObserver<MembersReply>) replies,
            segments(),
            request.getFilter() && !everyProfile
                ? ClusterSegments.Listing.FILTER_MEMBERS
                : ClusterSegments.Listing.SEGMENT_MEMBERS, // an empty query: every profile
            request.getExpression(),
            request.getCursor().isEmpty() ? null : request.getCursor(),
            (int) limit,
            executor)
        .start();
  }

  @Override
  public void defineSegment(
      DefineSegmentRequest request, StreamObserver<DefineSegmentReply> replies) {
    String name = request.getSegment().getName();
    String expression = request.getSegment().getExpression();
    if (!request.getDryRun()) {
      answer(
          replies,
          segments()
              .define(name, expression)
              .thenApply(size -> DefineSegmentReply.newBuilder().setSize(size).build()));
      return;
    }
    // Past an int, the sample is refused as one (as over 1000 is) rather than wrapped into range.
    long asked =
        request.hasSample()
            ? Integer.toUnsignedLong(request.getSample())
            : SegmentDryRun.DEFAULT_SAMPLE;
    int sample = (int) Math.min(asked, Integer.MAX_VALUE);
    answer(
        replies,
        segments()
            .dryRun(name, expression, sample)
            .thenApply(
                dryRun -> {
                  DefineSegmentReply.Builder reply =
                      DefineSegmentReply.newBuilder().setSize(dryRun.count());
                  for (String key : dryRun.sample()) {
                    reply.addSample(MembersStream.asText(key));
                  }
                  return reply.build();
                }));
  }

  @Override
  public void dropSegment(DropSegmentRequest request, StreamObserver<DropSegmentReply> replies) {
    answer(
        replies,
        segments()
            .drop(request.getName(), request.getForce())
            .thenApply(
                dropped -> {
                  if (!dropped) {
                    throw Status.NOT_FOUND
                        .withDescription("no segment named " + request.getName())
                        .asRuntimeException();
                  }
                  return DropSegmentReply.getDefaultInstance();
                }));
  }

  @Override
  public void listSegments(ListSegmentsRequest request, StreamObserver<ListSegmentsReply> replies) {
    answer(
        replies,
        segments()
            .list()
            .thenApply(
                list -> {
                  ListSegmentsReply.Builder reply = ListSegmentsReply.newBuilder();
                  for (ClusterSegments.Segment s : list) {
                    reply.addSegments(
                        SegmentSummary.newBuilder()
                            .setName(s.name())
                            .setExpression(s.expression())
                            .setSize(s.size()));
                  }
                  return reply.build();
                }));
  }

  /** Answers with what {@code answer} completes with, or with the status its failure maps to. */
  private <T> void answer(StreamObserver<T> replies, CompletableFuture<T> answer) {
    answer.whenCompleteAsync(
        (reply, failure) -> {
          if (failure != null) {
            replies.onError(GrpcErrors.statusOf(failure));
          } else {
            replies.onNext(reply);
            replies.onCompleted();
          }
        },
        executor);
  }
}

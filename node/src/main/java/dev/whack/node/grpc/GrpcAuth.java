package dev.whack.node.grpc;

import dev.whack.node.observability.NodeStats;
import dev.whack.node.security.Authenticator;
import dev.whack.node.security.BasicCredentials;
import dev.whack.node.security.Role;
import dev.whack.node.security.User;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.Tenants;
import dev.whack.proto.DefineSegmentRequest;
import dev.whack.proto.WhackGrpc;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Authentication and roles for the Whack service when the node has an auth file (docs/security.md):
 * every call carries {@code authorization: Basic base64(user:password)} metadata, checked with the
 * node's {@link Authenticator} before the call reaches the service. No credentials, or bad ones,
 * end the call with {@code UNAUTHENTICATED}; a role below the method's ({@link #ROLES}) with {@code
 * PERMISSION_DENIED}, before anything is looked up. Health checking and reflection are not behind
 * it: they tell only that the node serves and what the schema is.
 *
 * <p>A password check is at once when the password is the one last verified for the user (a client
 * sends the same credentials on every call), else on the node's auth thread; meanwhile the call
 * waits in a {@link Deferred} listener that holds what the client sent (nothing is asked of it
 * before the service starts), and the call starts on the server's executor once the check is done.
 * So neither grpc's event loops nor its executor threads wait for PBKDF2.
 *
 * <p>Concurrency: shared by every call; holds only the wiring. A {@link Deferred} is touched by
 * grpc's serialized callbacks of its call and once by the thread that starts it.
 */
final class GrpcAuth implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * The role each method needs: reads {@code read}, Ingest {@code write}, a segment's definition
   * and drop {@code admin} ({@code read} for a dry run, as {@code segdef ... dryrun}). A method not
   * listed needs {@code admin}.
   */
  static final Map<String, Role> ROLES =
      Map.of(
          WhackGrpc.getIngestMethod().getFullMethodName(), Role.WRITE,
          WhackGrpc.getGetProfilesMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getCountMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getMembersMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getSubscribeMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getSegmentsOfMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getListSegmentsMethod().getFullMethodName(), Role.READ,
          WhackGrpc.getDefineSegmentMethod().getFullMethodName(), Role.ADMIN,
          WhackGrpc.getDropSegmentMethod().getFullMethodName(), Role.ADMIN);

  private static final String DEFINE_SEGMENT =
      WhackGrpc.getDefineSegmentMethod().getFullMethodName();

  /**
   * The tenant a call works in, the authenticated user's ({@link WhackService} reads it); absent
   * when the node has no auth file (the default tenant, as every call then).
   */
  static final Context.Key<Tenant> TENANT = Context.key("whack-tenant");

  private final Authenticator auth;
  private final NodeStats stats;
  private final Executor executor;
  private final Tenants tenants;

  /**
   * @param executor where a call whose password was checked on the auth thread starts
   * @param tenants the node's tenants (null outside a node: every call in the one context)
   */
  GrpcAuth(Authenticator auth, NodeStats stats, Executor executor, Tenants tenants) {
    this.auth = auth;
    this.stats = stats;
    this.executor = executor;
    this.tenants = tenants;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String authorization = headers.get(AUTHORIZATION);
    BasicCredentials credentials = BasicCredentials.parse(authorization);
    if (credentials == null) {
      stats.unauthenticatedCommands.increment();
      return refuse(
          call,
          Status.UNAUTHENTICATED.withDescription(
              authorization == null
                  ? "this node requires authentication: send the metadata authorization: Basic"
                      + " base64(user:password) of a user of its auth file (docs/security.md)"
                  : "the authorization metadata is not Basic credentials (Basic"
                      + " base64(user:password))"));
    }
    stats.authCommands.increment();
    CompletableFuture<User> check = auth.check(credentials.user(), credentials.password());
    // The call's own context (its deadline and cancellation), to start it in whichever thread
    // the check completes on.
    Context callContext = Context.current();
    if (check.isDone()) {
      return admit(
          call, headers, next, check.isCompletedExceptionally() ? null : check.join(), callContext);
    }
    Deferred<Q> deferred = new Deferred<>();
    check.whenCompleteAsync(
        (user, failure) ->
            deferred.start(admit(call, headers, next, failure == null ? user : null, callContext)),
        executor);
    return deferred;
  }

  /**
   * Starts the call for {@code user} (null: the password check failed) in the user's tenant, its
   * work metered against the tenant's fair share ({@link MeteredListener}), or ends it: for a role
   * below the method's, then for a request over the tenant's rate.
   */
  private <Q, A> ServerCall.Listener<Q> admit(
      ServerCall<Q, A> call,
      Metadata headers,
      ServerCallHandler<Q, A> next,
      User user,
      Context callContext) {
    Tenant tenant = user == null || tenants == null ? null : tenants.ofUser(user.tenant());
    if (user == null || (tenants != null && tenant == null)) {
      stats.authErrors.increment(); // a user whose tenant is gone cannot log in either
      return refuse(call, Status.UNAUTHENTICATED.withDescription("authentication failed"));
    }
    Role role = user.role();
    String method = call.getMethodDescriptor().getFullMethodName();
    Role needed = ROLES.getOrDefault(method, Role.ADMIN);
    boolean dryRunOnly = !role.allows(needed);
    if (dryRunOnly && !(method.equals(DEFINE_SEGMENT) && role.allows(Role.READ))) {
      return deny(call, needed);
    }
    if (tenant != null && !tenant.admitRequest()) {
      return refuse(call, Status.RESOURCE_EXHAUSTED.withDescription(tenant.overRateReason()));
    }
    Context inTenant = tenant == null ? callContext : callContext.withValue(TENANT, tenant);
    ServerCall.Listener<Q> started = Contexts.interceptCall(inTenant, call, headers, next);
    if (tenant != null) {
      started = new MeteredListener<>(started, tenant);
    }
    // A reader's DefineSegment: whether it is a dry run is in the request, decided when it comes.
    return dryRunOnly ? new DryRunOnly<>(call, started) : started;
  }

  private <Q, A> ServerCall.Listener<Q> deny(ServerCall<Q, A> call, Role needed) {
    stats.unauthorizedCommands.increment();
    return refuse(
        call,
        Status.PERMISSION_DENIED.withDescription(
            "unauthorized: the " + needed.word() + " role is required"));
  }

  private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }

  /**
   * A DefineSegment call of a user who may only read: passed on if its request is a dry run, ended
   * with {@code PERMISSION_DENIED} otherwise (and nothing after it reaches the service, which would
   * otherwise answer a call already closed).
   */
  private final class DryRunOnly<Q, A> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, A> call;
    private final ServerCall.Listener<Q> service;
    private boolean refused;

    DryRunOnly(ServerCall<Q, A> call, ServerCall.Listener<Q> service) {
      this.call = call;
      this.service = service;
    }

    @Override
    public void onMessage(Q message) {
      if (refused) {
        return;
      }
      if (message instanceof DefineSegmentRequest request && request.getDryRun()) {
        service.onMessage(message);
        return;
      }
      refused = true;
      deny(call, Role.ADMIN);
    }

    @Override
    public void onHalfClose() {
      if (!refused) {
        service.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      service.onCancel();
    }

    @Override
    public void onComplete() {
      service.onComplete();
    }

    @Override
    public void onReady() {
      if (!refused) {
        service.onReady();
      }
    }
  }

  /**
   * The listener of a call whose password is being checked: keeps the call's events (at most a
   * cancel, or readiness: no message comes before the service asks for one) and passes them on, in
   * order, to the listener the call gets once {@link #start started}.
   */
  static final class Deferred<Q> extends ServerCall.Listener<Q> {
    private final List<Consumer<ServerCall.Listener<Q>>> held = new ArrayList<>();
    private volatile ServerCall.Listener<Q> started;

    synchronized void start(ServerCall.Listener<Q> listener) {
      for (Consumer<ServerCall.Listener<Q>> event : held) {
        event.accept(listener);
      }
      held.clear();
      started = listener;
    }

    private void on(Consumer<ServerCall.Listener<Q>> event) {
      ServerCall.Listener<Q> now = started;
      if (now == null) {
        synchronized (this) {
          now = started;
          if (now == null) {
            held.add(event);
            return;
          }
        }
      }
      event.accept(now);
    }

    @Override
    public void onMessage(Q message) {
      on(l -> l.onMessage(message));
    }

    @Override
    public void onHalfClose() {
      on(ServerCall.Listener::onHalfClose);
    }

    @Override
    public void onCancel() {
      on(ServerCall.Listener::onCancel);
    }

    @Override
    public void onComplete() {
      on(ServerCall.Listener::onComplete);
    }

    @Override
    public void onReady() {
      on(ServerCall.Listener::onReady);
    }
  }
}

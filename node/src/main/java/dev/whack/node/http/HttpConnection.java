package dev.whack.node.http;

import dev.whack.node.observability.HttpRequestMeters;
import dev.whack.node.observability.NodeStats;
import dev.whack.node.security.Authenticator;
import dev.whack.node.security.BasicCredentials;
import dev.whack.node.security.Role;
import dev.whack.node.security.User;
import dev.whack.node.tenant.Tenant;
import dev.whack.node.tenant.Tenants;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * One HTTP connection, after Netty's codec: each request becomes an {@link Exchange} in a FIFO,
 * answered by {@link HttpApi} and written strictly in request order (HTTP/1.1 pipelining: a client
 * may send many requests before reading, and reads the answers in the order it asked). Answers that
 * are ready at once (a local profile, an error) are written as the request is read and flushed once
 * per read batch (written in {@code channelRead}, flushed in {@code channelReadComplete}); one that
 * waits for another member completes on the cluster client's thread and is handed back to this
 * connection's event loop, which writes it (and any answered behind it) as soon as everything
 * before it is written. The event loop never waits.
 *
 * <p>Bounds: at most {@link #MAX_STARTED} answers are being made at once; a request behind them
 * waits in the FIFO, as does every request while the client is not reading its answers (the channel
 * is unwritable past its high water mark), so a connection holds at most that many answers beside
 * its outbound buffer. Past {@link #PAUSE_AT} waiting requests the connection stops reading until
 * they are down to {@link #RESUME_AT}; the codec itself closes a connection with more than {@link
 * HttpApiServer#MAX_PIPELINE_DEPTH} unanswered requests.
 *
 * <p>With an auth file (docs/security.md) each request carries HTTP Basic credentials, checked
 * before the request is routed or answered: none or bad ones get 401 with {@code WWW-Authenticate:
 * Basic realm="whack"}, a role below the route's 403. The check is the {@link Authenticator}'s: at
 * once when the password is the one last verified for the user, else on the node's auth thread,
 * whose answer is handed back to this event loop like a member's; the requests behind it wait in
 * the FIFO. The last credentials verified on the connection are remembered with their role, so a
 * client that sends the same header on every request is checked once per connection (and keeps its
 * role until it reconnects, as a memcached connection does after a reload).
 *
 * <p>Concurrency: every field belongs to the connection's event loop.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
  static final int MAX_STARTED = 16;
  static final int PAUSE_AT = 64;
  static final int RESUME_AT = 16;

  private static final String JSON = "application/json";
  private static final String ALLOWED = "GET, HEAD";
  private static final String CHALLENGE = "Basic realm=\"whack\"";

  private final java.util.function.Function<Tenant, HttpApi> apis;

  /** The session of the tenant the last request was answered in ({@link #sessionTenant}). */
  private HttpApi.Session session;

  private Tenant sessionTenant;
  private final HttpRequestMeters meters;

  /** The node's users, or null when authentication is off. */
  private final Authenticator auth;

  /** The node's tenants, or null outside a node. */
  private final Tenants tenants;

  private final NodeStats stats;

  /** The {@code Authorization} value last verified on this connection, and its user. */
  private String verifiedAuthorization;

  private User verifiedUser;

  /**
   * The check under way for an {@code Authorization} value, shared by the pipelined requests that
   * carry the same one: one PBKDF2 per connection, not one per request.
   */
  private String checkingAuthorization;

  private CompletableFuture<User> checking;

  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private ChannelHandlerContext ctx;

  /** Exchanges started (asked of the API) and not yet written. */
  private int started;

  /** No request after this point is answered: one asked to close, or the input cannot be read. */
  private boolean closing;

  /** Close once every exchange is written (the input ended, or the codec gave up on it). */
  private boolean closeWhenDone;

  /** One request and, once made, its answer. */
  private static final class Exchange {
    final Route route;
    final RequestTarget target;
    final HttpVersion version;
    final boolean keepAlive;
    final long startNanos;

    /** The request's {@code Authorization} header, or null. */
    String authorization;

    /** The answer when the request is refused as it is read (405, 400), given once authorized. */
    Answer refusal;

    boolean asked;
    Answer answer;

    Exchange(Route route, RequestTarget target, HttpVersion version, boolean keepAlive, long at) {
      this.route = route;
      this.target = target;
      this.version = version;
      this.keepAlive = keepAlive;
      this.startNanos = at;
    }
  }

  /**
   * @param auth the node's users, or null when authentication is off
   */
  HttpConnection(
      HttpApi api,
      java.util.function.Function<Tenant, HttpApi> apis,
      HttpRequestMeters meters,
      Authenticator auth,
      NodeStats stats,
      Tenants tenants) {
    this.apis = apis;
    this.session = api.session();
    this.meters = meters;
    this.auth = auth;
    this.stats = stats;
    this.tenants = tenants;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        received(request);
      } else if (msg instanceof HttpObject content && content.decoderResult().isFailure()) {
        // A body the codec could not frame: nothing after it can be read.
        closing = true;
        closeWhenDone = true;
        pump();
      }
      // Other content (a GET's body) is not read: released below.
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      pump();
      ctx.flush();
    } else {
      ctx.channel().config().setAutoRead(false);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof ChannelInputShutdownEvent) {
      // The client sent all it will: answer what it asked, then close.
      closing = true;
      closeWhenDone = true;
      pump();
      ctx.flush();
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A reset by the peer, or the codec's pipelining limit: nothing more can be answered in order.
    ctx.close();
  }

  private void received(HttpRequest request) {
    if (closing) {
      return;
    }
    long now = System.nanoTime();
    DecoderResult decoded = request.decoderResult();
    if (decoded.isFailure()) {
      closing = true;
      Exchange refused = new Exchange(Route.NONE, null, HttpVersion.HTTP_1_1, false, now);
      refused.answer = unreadable(decoded.cause()).closing();
      exchanges.add(refused);
      pump();
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    closing = !keepAlive;
    HttpVersion version = request.protocolVersion();
    HttpMethod method = request.method();
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      Exchange refused = new Exchange(Route.NONE, null, version, keepAlive, now);
      refused.authorization = authorization;
      refused.refusal =
          Answer.error(
              Answer.METHOD_NOT_ALLOWED,
              "method_not_allowed",
              "the API only reads: " + method.name() + " is not served (GET and HEAD are)",
              "method",
              method.name());
      exchanges.add(refused);
      pump();
      return;
    }
    RequestTarget target;
    try {
      target = RequestTarget.parse(request.uri());
    } catch (RequestTarget.BadTarget e) {
      Exchange refused = new Exchange(Route.NONE, null, version, keepAlive, now);
      refused.authorization = authorization;
      refused.refusal = Answer.error(Answer.BAD_REQUEST, "bad_request", e.getMessage());
      exchanges.add(refused);
      pump();
      return;
    }
    Exchange x = new Exchange(Route.of(target.segments()), target, version, keepAlive, now);
    x.authorization = authorization;
    exchanges.add(x);
    pump();
  }

  /** What the codec could not read, as the status that says so. */
  private static Answer unreadable(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return Answer.error(
          Answer.URI_TOO_LONG,
          "uri_too_long",
          "the request line is over "
              + HttpApiServer.MAX_REQUEST_LINE_BYTES
              + " bytes (a key is at most 250 bytes, 750 percent-encoded)");
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return Answer.error(
          Answer.HEADERS_TOO_LARGE,
          "headers_too_large",
          "the request's headers are over " + HttpApiServer.MAX_HEADER_BYTES + " bytes");
    }
    return Answer.error(
        Answer.BAD_REQUEST, "bad_request", "not an HTTP/1.1 request: " + cause.getMessage());
  }

  /**
   * Writes every answered exchange at the head of the FIFO, asks the API for the next ones while
   * the channel can take their answers, and reads on or pauses by what is left.
   */
  private void pump() {
    boolean progress = true;
    while (progress) {
      progress = false;
      while (!exchanges.isEmpty() && exchanges.peek().answer != null) {
        Exchange head = exchanges.poll();
        if (head.asked) {
          started--;
        }
        write(head);
        if (head.answer.close() || !head.keepAlive) {
          exchanges.clear();
          started = 0;
          return;
        }
      }
      for (Exchange x : exchanges) {
        if (started >= MAX_STARTED || !ctx.channel().isWritable()) {
          break;
        }
        if (!x.asked && x.answer == null) {
          ask(x);
          progress |= x == exchanges.peek() && x.answer != null;
        }
      }
    }
    if (exchanges.isEmpty() && closeWhenDone) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    boolean read = !closing && exchanges.size() <= RESUME_AT && ctx.channel().isWritable();
    boolean pause = exchanges.size() >= PAUSE_AT || !ctx.channel().isWritable();
    if (pause) {
      ctx.channel().config().setAutoRead(false);
    } else if (read) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  private void ask(Exchange x) {
    x.asked = true;
    started++;
    if (auth == null) {
      answerAs(x, null);
      return;
    }
    String authorization = x.authorization;
    if (authorization != null && authorization.equals(verifiedAuthorization)) {
      answerAs(x, verifiedUser);
      return;
    }
    BasicCredentials credentials = BasicCredentials.parse(authorization);
    if (credentials == null) {
      stats.unauthenticatedCommands.increment();
      x.answer =
          unauthenticated(
              authorization == null
                  ? "this node requires authentication: send HTTP Basic credentials of a user of"
                      + " its auth file (docs/security.md)"
                  : "the Authorization header is not HTTP Basic credentials (Basic"
                      + " base64(user:password))");
      return;
    }
    CompletableFuture<User> check;
    if (authorization.equals(checkingAuthorization)) {
      check = checking;
    } else {
      stats.authCommands.increment();
      check = auth.check(credentials.user(), credentials.password());
      checkingAuthorization = authorization;
      checking = check;
    }
    User now = check.isDone() && !check.isCompletedExceptionally() ? check.join() : null;
    if (check.isDone()) {
      authenticated(x, authorization, now);
      return;
    }
    check.whenComplete(
        (user, failure) ->
            ctx.executor()
                .execute(
                    () -> {
                      authenticated(x, authorization, failure == null ? user : null);
                      if (x.answer != null && ctx.channel().isActive()) {
                        pump();
                        ctx.flush();
                      }
                    }));
  }

  /** Takes a password check's outcome for {@code x} ({@code user} null: it failed). */
  private void authenticated(Exchange x, String authorization, User user) {
    boolean first = authorization.equals(checkingAuthorization); // the others shared its check
    if (first) {
      checkingAuthorization = null;
      checking = null;
    }
    if (user == null) {
      if (first) {
        stats.authErrors.increment();
      }
      x.answer = unauthenticated("authentication failed");
      return;
    }
    verifiedAuthorization = authorization;
    verifiedUser = user;
    answerAs(x, user);
  }

  private static Answer unauthenticated(String message) {
    return Answer.error(Answer.UNAUTHORIZED, "unauthenticated", message);
  }

  /**
   * Answers {@code x} for {@code user} (null: authentication is off), in the user's tenant: a user
   * whose tenant does not exist (dropped) is refused as one with a wrong password.
   */
  private void answerAs(Exchange x, User user) {
    Role role = user == null ? null : user.role();
    Tenant tenant = null;
    if (user != null && tenants != null) {
      tenant = tenants.ofUser(user.tenant());
      if (tenant == null) {
        verifiedAuthorization = null;
        x.answer = unauthenticated("authentication failed");
        return;
      }
    }
    if (role != null && !role.allows(x.route.role)) {
      stats.unauthorizedCommands.increment();
      x.answer =
          Answer.error(
              Answer.FORBIDDEN,
              "unauthorized",
              "the " + x.route.role.word() + " role is required",
              "role",
              x.route.role.word());
      return;
    }
    if (x.refusal != null) {
      x.answer = x.refusal;
      return;
    }
    if (tenant != null && !tenant.admitRequest()) {
      x.answer = Answer.error(Answer.TOO_MANY_REQUESTS, "over_rate", tenant.overRateReason());
      return;
    }
    if (tenant != sessionTenant) {
      if (sessionTenant != null) {
        sessionTenant.leave(ctx.channel());
      }
      session = apis.apply(tenant).session();
      sessionTenant = tenant;
      if (tenant != null) {
        tenant.join(ctx.channel()); // closed with the others of its tenant if it is dropped
      }
    }
    CompletableFuture<Answer> answer;
    // The answer's time counts against its tenant's fair share (docs/security.md, "Fair share"),
    // as a memcached read batch's does; the clock is read only while the node has other tenants.
    boolean metered = tenant != null && tenant.metered();
    long start = metered ? System.nanoTime() : 0;
    try {
      answer = session.answer(x.route, x.target);
    } catch (RuntimeException e) {
      answer = CompletableFuture.completedFuture(internal(e));
    } finally {
      if (metered) {
        tenant.addBusyNanos(System.nanoTime() - start);
      }
    }
    Answer now = answer.getNow(null);
    if (now != null) {
      x.answer = now;
      return;
    }
    answer.whenComplete(
        (a, failure) ->
            ctx.executor()
                .execute(
                    () -> {
                      x.answer = failure != null ? internal(failure) : a;
                      if (ctx.channel().isActive()) {
                        pump();
                        ctx.flush();
                      }
                    }));
  }

  private static Answer internal(Throwable failure) {
    return Answer.error(Answer.INTERNAL, "internal", String.valueOf(failure));
  }

  private void write(Exchange x) {
    Answer a = x.answer;
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            x.version, HttpResponseStatus.valueOf(a.status()), Unpooled.wrappedBuffer(a.body()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON);
    HttpUtil.setContentLength(response, a.body().length);
    if (a.status() == Answer.METHOD_NOT_ALLOWED) {
      response.headers().set(HttpHeaderNames.ALLOW, ALLOWED);
    } else if (a.status() == Answer.UNAUTHORIZED) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, CHALLENGE);
    }
    boolean keepAlive = x.keepAlive && !a.close();
    HttpUtil.setKeepAlive(response, keepAlive);
    if (!keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.write(response, ctx.voidPromise());
    }
    meters.record(x.route.ordinal(), a.status(), System.nanoTime() - x.startNanos);
  }
}

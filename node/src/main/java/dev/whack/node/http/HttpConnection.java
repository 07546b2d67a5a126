package dev.whack.node.http;

import dev.whack.node.observability.HttpRequestMeters;
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
 * <p>Concurrency: every field belongs to the connection's event loop.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {
  static final int MAX_STARTED = 16;
  static final int PAUSE_AT = 64;
  static final int RESUME_AT = 16;

  private static final String JSON = "application/json";
  private static final String ALLOWED = "GET, HEAD";

  private final HttpApi api;
  private final HttpApi.Session session;
  private final HttpRequestMeters meters;
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

  HttpConnection(HttpApi api, HttpRequestMeters meters) {
    this.api = api;
    this.session = api.session();
    this.meters = meters;
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
    if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
      Exchange refused = new Exchange(Route.NONE, null, version, keepAlive, now);
      refused.answer =
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
      refused.answer = Answer.error(Answer.BAD_REQUEST, "bad_request", e.getMessage());
      exchanges.add(refused);
      pump();
      return;
    }
    exchanges.add(new Exchange(Route.of(target.segments()), target, version, keepAlive, now));
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
    CompletableFuture<Answer> answer;
    try {
      answer = api.answer(x.route, x.target, session);
    } catch (RuntimeException e) {
      answer = CompletableFuture.completedFuture(internal(e));
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

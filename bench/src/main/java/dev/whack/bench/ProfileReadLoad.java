package dev.whack.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reads of the profiles workload's profiles ({@link ProfileWorkload}: {@code user:<i>}, every key
 * equally likely), over the REST read API ({@code GET /profiles/user:<i>}, docs/http.md) or, as the
 * baseline, the memcached port ({@code get user:<i>}): the same profile's JSON either way. Every
 * answer must be a hit: an HTTP status other than 200, or a memcached miss, is counted.
 */
final class ProfileReadLoad implements PipelinedLoad.Protocol {
  /** Which port is asked. */
  enum Target {
    HTTP,
    MEMCACHED
  }

  private static final byte[] GET_HTTP = "GET /profiles/user:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GET_TEXT = "get user:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};

  private final Target target;
  private final int profiles;
  private final byte[] httpTail;
  private final LongAdder misses = new LongAdder();

  ProfileReadLoad(Target target, int profiles, String host) {
    this.target = target;
    this.profiles = profiles;
    this.httpTail = (" HTTP/1.1\r\nHost: " + host + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** Answers that were not the profile: an HTTP status other than 200, or a memcached miss. */
  long misses() {
    return misses.sum();
  }

  @Override
  public void writeRequest(ByteBuffer out, SplittableRandom random, int worker, long[] slot) {
    int i = random.nextInt(profiles);
    if (target == Target.HTTP) {
      out.put(GET_HTTP);
      PipelinedLoad.putDecimal(out, i);
      out.put(httpTail);
    } else {
      out.put(GET_TEXT);
      PipelinedLoad.putDecimal(out, i);
      out.put(CRLF);
    }
  }

  @Override
  public boolean readReply(ByteBuffer in, long[] slot, long nowNanos) throws IOException {
    return target == Target.HTTP ? readHttp(in) : readText(in);
  }

  /** "HTTP/1.1 <status> ...", headers, an empty line, then Content-Length bytes of body. */
  private boolean readHttp(ByteBuffer in) throws IOException {
    int start = in.position();
    int end = headEnd(in, start);
    if (end < 0) {
      return false;
    }
    int status =
        (in.get(start + 9) - '0') * 100
            + (in.get(start + 10) - '0') * 10
            + in.get(start + 11)
            - '0';
    long length = contentLength(in, start, end);
    if (length < 0) {
      throw new IOException("a response without Content-Length");
    }
    if (in.limit() < end + length) {
      return false;
    }
    if (status != 200) {
      misses.increment();
    }
    in.position((int) (end + length));
    return true;
  }

  /** Just past the "\r\n\r\n" that ends the head, or -1 while it is not all there. */
  private static int headEnd(ByteBuffer in, int from) {
    for (int i = from; i + 3 < in.limit(); i++) {
      if (in.get(i) == '\r'
          && in.get(i + 1) == '\n'
          && in.get(i + 2) == '\r'
          && in.get(i + 3) == '\n') {
        return i + 4;
      }
    }
    return -1;
  }

  private static final byte[] CONTENT_LENGTH =
      "\ncontent-length:".getBytes(StandardCharsets.US_ASCII);

  private static long contentLength(ByteBuffer in, int from, int to) {
    outer:
    for (int i = from; i + CONTENT_LENGTH.length < to; i++) {
      for (int j = 0; j < CONTENT_LENGTH.length; j++) {
        if (Character.toLowerCase(in.get(i + j)) != CONTENT_LENGTH[j]) {
          continue outer;
        }
      }
      long n = 0;
      for (int k = i + CONTENT_LENGTH.length; k < to; k++) {
        byte b = in.get(k);
        if (b >= '0' && b <= '9') {
          n = n * 10 + (b - '0');
        } else if (b != ' ') {
          return n;
        }
      }
    }
    return -1;
  }

  /** "VALUE <key> <flags> <bytes>" + data + "END", or "END" for a miss. */
  private boolean readText(ByteBuffer in) throws IOException {
    int lineEnd = PipelinedLoad.findLf(in);
    if (lineEnd < 0) {
      return false;
    }
    int start = in.position();
    if (in.get(start) == 'E') {
      misses.increment();
      in.position(lineEnd + 1);
      return true;
    }
    if (in.get(start) != 'V') {
      throw new IOException(
          "unexpected reply: " + StandardCharsets.US_ASCII.decode(in.duplicate().limit(lineEnd)));
    }
    int bytes = 0;
    int mul = 1;
    for (int i = lineEnd - 2; in.get(i) != ' '; i--) {
      bytes += (in.get(i) - '0') * mul;
      mul *= 10;
    }
    int needed = lineEnd + 1 + bytes + 2 + "END\r\n".length();
    if (in.limit() < needed) {
      return false;
    }
    in.position(needed);
    return true;
  }
}

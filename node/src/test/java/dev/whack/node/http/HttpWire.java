package dev.whack.node.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.whack.node.testing.RawConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** HTTP for the tests: java.net.http for ordinary calls, a raw reader for what it hides. */
final class HttpWire {
  static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  private HttpWire() {}

  /** A GET of {@code path} (already percent-encoded) on the port. */
  static HttpResponse<String> get(int port, String path) {
    return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET());
  }

  static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return CLIENT.send(
          request.timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** One response as read off a raw socket. */
  record Response(String statusLine, Map<String, String> headers, String body) {
    int status() {
      return Integer.parseInt(statusLine.split(" ")[1]);
    }

    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** Reads one response: status line, headers, and the body its Content-Length announces. */
  static Response read(RawConnection c) {
    return read(c, true);
  }

  static Response read(RawConnection c, boolean body) {
    String status = c.readLine().strip();
    assertTrue(status.startsWith("HTTP/1."), status);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String line = c.readLine(); !line.equals("\r\n"); line = c.readLine()) {
      int colon = line.indexOf(':');
      headers.put(
          line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    String text = body ? new String(c.read(length), StandardCharsets.UTF_8) : "";
    return new Response(status, headers, text);
  }
}
